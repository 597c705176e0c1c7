#include "log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <stdexcept>
#include <string>

namespace convo::sidecar::log {

void init(std::string_view level) {
    auto parsed = spdlog::level::from_str(std::string(level));
    // from_str answers "off" for anything it does not know; only an explicit "off" means that.
    if (parsed == spdlog::level::off && level != "off") {
        throw std::invalid_argument("unknown log level '" + std::string(level) + "'");
    }
    auto logger = spdlog::stderr_logger_mt("convo-sidecar");
    // The message is the rest of a JSON object (see event()); spdlog adds time and level.
    logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",%v})", spdlog::pattern_time_type::utc);
    logger->set_level(parsed);
    logger->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(logger);
}

void event(spdlog::level::level_enum level, std::string_view name, const nlohmann::json& fields) {
    auto logger = spdlog::default_logger_raw();
    if (!logger->should_log(level)) return;
    nlohmann::json line = nlohmann::json::object();
    line["event"] = name;
    if (fields.is_object()) {
        for (const auto& [key, value] : fields.items()) line[key] = value;
    }
    // Invalid UTF-8 in a field (a client's bytes) is replaced rather than thrown on.
    std::string body = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    // Drop the outer braces: the pattern supplies them around ts and level.
    logger->log(level, "{}", std::string_view(body).substr(1, body.size() - 2));
}

}  // namespace convo::sidecar::log
