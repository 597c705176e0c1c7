// build_context's options (see context_options.hpp).
#include "core/context_options.hpp"

#include <nlohmann/json.hpp>

#include "core/cpp_only.hpp"
#include "core/error.hpp"

namespace convo {
namespace {

using nlohmann::json;

[[noreturn]] void bad_options(const std::string& what, const ContextLimits& l) {
    throw Error(sqlstate::invalid_parameter, "convo.build_context: " + what, {},
                "options: {\"history\": " + std::to_string(l.history_min) + ".." + std::to_string(l.history_max) +
                    ", \"max_tokens\": " + std::to_string(l.budget_min) + ".." + std::to_string(l.budget_max) +
                    ", \"include_orders\": true|false}");
}

int int_option(const json& v, const char* name, int lo, int hi, const ContextLimits& l) {
    if (!v.is_number_integer()) bad_options(std::string("options.") + name + " must be an integer", l);
    long long n = v.get<long long>();
    if (n < lo || n > hi)
        bad_options(std::string("options.") + name + " must be between " + std::to_string(lo) + " and " +
                        std::to_string(hi) + ", got " + std::to_string(n),
                    l);
    return static_cast<int>(n);
}

}  // namespace

std::string ContextOptions::cache_key() const {
    return "h=" + (history ? std::to_string(*history) : std::string("-")) +
           ";t=" + (max_tokens ? std::to_string(*max_tokens) : std::string("-")) +
           ";o=" + (include_orders ? "1" : "0");
}

ContextOptions parse_context_options(const std::optional<std::string>& json_text, const ContextLimits& l) {
    ContextOptions o;
    if (!json_text) return o;
    json doc = json::parse(*json_text);
    if (!doc.is_object()) bad_options("options must be a JSON object, got " + std::string(doc.type_name()), l);
    for (auto it = doc.begin(); it != doc.end(); ++it) {
        if (it.key() == "history")
            o.history = int_option(it.value(), "history", l.history_min, l.history_max, l);
        else if (it.key() == "max_tokens")
            o.max_tokens = int_option(it.value(), "max_tokens", l.budget_min, l.budget_max, l);
        else if (it.key() == "include_orders") {
            if (!it.value().is_boolean()) bad_options("options.include_orders must be true or false", l);
            o.include_orders = it.value().get<bool>();
        } else {
            bad_options("unknown option \"" + it.key() + "\"", l);
        }
    }
    return o;
}

}  // namespace convo
