// Structured logs: one JSON object per line on stderr, {"ts", "level", "event", ...fields}.
//
// Call sites name an event and attach fields; nothing formats free text. Secrets never go
// into fields: log the account name or a secret's presence, not its value.
#pragma once

#include <nlohmann/json.hpp>
#include <spdlog/common.h>

#include <string_view>

namespace convo::sidecar::log {

// Sets up the process-wide logger: JSON lines on stderr at `level` (trace, debug, info, warn,
// error). Unknown levels raise std::invalid_argument naming the value.
void init(std::string_view level);

void event(spdlog::level::level_enum level, std::string_view name, const nlohmann::json& fields = {});

inline void debug(std::string_view name, const nlohmann::json& fields = {}) { event(spdlog::level::debug, name, fields); }
inline void info(std::string_view name, const nlohmann::json& fields = {}) { event(spdlog::level::info, name, fields); }
inline void warn(std::string_view name, const nlohmann::json& fields = {}) { event(spdlog::level::warn, name, fields); }
inline void error(std::string_view name, const nlohmann::json& fields = {}) { event(spdlog::level::err, name, fields); }

}  // namespace convo::sidecar::log
