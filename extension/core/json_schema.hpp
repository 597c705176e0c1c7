// A JSON Schema validator for the small subset convo's own schemas use (tool parameters, bot
// profiles, products). Its messages are meant to be read by a language model or a person and
// acted on: they name the offending key and say what was expected.
//
// Supported keywords
//   type                  "object" "array" "string" "integer" "number" "boolean" "null", or a list
//   properties, required, additionalProperties (false, true or a schema)
//   items, minItems, maxItems
//   enum, minimum, maximum, minLength, maxLength (lengths in Unicode code points)
//   description, title, default (annotations, not checked)
// Any other keyword makes the schema invalid rather than half-enforced.
//
// Paths in messages: the value itself is called by the name the caller gives ("arguments"); its
// keys are named bare (`quantity`), deeper ones with dots and indexes (`steps[1].name`).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace convo {

// Deepest schema (and enum value) accepted: the validator recurses along the schema.
inline constexpr int kMaxSchemaDepth = 32;

// Raises convo::Error 22023 saying where when `schema` is not a schema of the subset above.
void check_json_schema(const nlohmann::json& schema);

// The first way `value` breaks `schema`, as one sentence; nullopt when it conforms. Checks
// the schema first (check_json_schema). Infinite numbers stand for values too large for a
// double; they are numbers but never integers.
std::optional<std::string> json_schema_error(const nlohmann::json& schema,
                                             const nlohmann::json& value,
                                             std::string_view name = "value");

// Length of UTF-8 text in code points, as minLength/maxLength and PostgreSQL's length() count.
std::size_t utf8_length(std::string_view s);

}  // namespace convo
