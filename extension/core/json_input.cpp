// Webhook JSON parsing (see json_input.hpp).
#include "core/json_input.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/cpp_only.hpp"

namespace convo {
namespace {

bool has_nul(const std::string& s) { return s.find('\0') != std::string::npos; }

std::string without_nul(std::string s) {
    s.erase(std::remove(s.begin(), s.end(), '\0'), s.end());
    return s;
}

}  // namespace

void strip_nul_characters(nlohmann::json& doc) {
    if (doc.is_string()) {
        auto& s = doc.get_ref<std::string&>();
        if (has_nul(s)) s = without_nul(std::move(s));
    } else if (doc.is_array()) {
        for (auto& v : doc) strip_nul_characters(v);
    } else if (doc.is_object()) {
        bool keys_dirty = false;
        for (auto it = doc.begin(); it != doc.end(); ++it) {
            keys_dirty = keys_dirty || has_nul(it.key());
            strip_nul_characters(it.value());
        }
        if (keys_dirty) {
            nlohmann::json clean = nlohmann::json::object();
            for (auto it = doc.begin(); it != doc.end(); ++it)
                clean[without_nul(it.key())] = std::move(it.value());
            doc = std::move(clean);
        }
    }
}

nlohmann::json parse_webhook_json(std::string_view body) {
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(body.begin(), body.end());
    } catch (const nlohmann::json::parse_error& e) {
        throw Error(sqlstate::invalid_text, "convo: webhook body is not valid JSON",
                    std::string("at byte ") + std::to_string(e.byte) + ": " + e.what());
    }
    strip_nul_characters(doc);
    return doc;
}

std::string to_json_text(const nlohmann::json& doc) {
    return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace convo
