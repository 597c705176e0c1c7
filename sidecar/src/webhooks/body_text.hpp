// A webhook body that is not PostgreSQL text (db/pg_text.hpp: bad UTF-8 or a NUL byte) is still
// kept, as a dead inbox row, base64-encoded so that no byte of it is lost.
#pragma once

#include <string>
#include <string_view>

namespace convo::sidecar::webhooks {

// Standard base64 with padding.
std::string base64_encode(std::string_view data);

}  // namespace convo::sidecar::webhooks
