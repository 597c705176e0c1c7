// Reading webhook JSON safely: parse errors and NUL characters.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace convo {

// Parses a webhook body. Malformed JSON raises convo::Error 22P02 saying where.
// Strings may carry the escape \u0000, which PostgreSQL text and jsonb cannot hold: NUL
// characters are dropped from every string and key (documented in the README).
nlohmann::json parse_webhook_json(std::string_view body);

// Drops NUL characters from every string and key of a parsed document.
void strip_nul_characters(nlohmann::json& doc);

// Serialises for a jsonb parameter; invalid UTF-8 (impossible from PostgreSQL text) is replaced.
std::string to_json_text(const nlohmann::json& doc);

}  // namespace convo
