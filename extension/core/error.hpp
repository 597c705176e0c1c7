// Errors raised by convo's C++ code. Each carries the SQLSTATE the caller will see, so a bad
// payload is a 22023 and not an anonymous internal error.
#pragma once

#include <stdexcept>
#include <string>

namespace convo {

// An error convo itself raises: invalid input, unknown id, ...
class Error : public std::runtime_error {
public:
    Error(std::string sqlstate, const std::string& message, std::string detail = {},
          std::string hint = {})
        : std::runtime_error(message),
          sqlstate_(std::move(sqlstate)),
          detail_(std::move(detail)),
          hint_(std::move(hint)) {}

    const std::string& sqlstate() const { return sqlstate_; }
    const std::string& detail() const { return detail_; }
    const std::string& hint() const { return hint_; }

private:
    std::string sqlstate_;
    std::string detail_;
    std::string hint_;
};

// SQLSTATEs convo uses, named.
namespace sqlstate {
inline constexpr const char* invalid_parameter = "22023";       // invalid_parameter_value
inline constexpr const char* invalid_text = "22P02";            // invalid_text_representation
inline constexpr const char* null_value = "22004";              // null_value_not_allowed
inline constexpr const char* no_data_found = "P0002";           // no_data_found
inline constexpr const char* not_supported = "0A000";           // feature_not_supported
inline constexpr const char* internal = "XX000";                // internal_error
}  // namespace sqlstate

}  // namespace convo
