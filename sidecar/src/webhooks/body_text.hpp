// Webhook bodies go into a PostgreSQL text column: they must be valid UTF-8 without NUL bytes.
// A body that is not is still kept (as a dead inbox row), base64-encoded so no byte is lost.
#pragma once

#include <string>
#include <string_view>

namespace convo::sidecar::webhooks {

// Empty if `body` is valid UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF, no
// truncated sequence) and holds no NUL byte; otherwise why not, with the byte offset.
std::string body_text_problem(std::string_view body);

// Standard base64 with padding.
std::string base64_encode(std::string_view data);

}  // namespace convo::sidecar::webhooks
