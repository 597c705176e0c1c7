// What PostgreSQL accepts as a text value in a UTF-8 database: valid UTF-8 (no overlong form,
// no UTF-16 surrogate, nothing above U+10FFFF) without NUL. The one check of it in the sidecar:
// the webhook handlers use it to store a bad body dead instead of losing it, and the writer
// refuses such a put alone, since one bad value would fail the statement of its whole group.
#pragma once

#include <string>
#include <string_view>

namespace convo::sidecar::db {

// Empty if `s` is such text; otherwise why not, with the byte offset ("NUL byte at byte 2").
std::string pg_text_problem(std::string_view s);

inline bool is_pg_text(std::string_view s) { return pg_text_problem(s).empty(); }

}  // namespace convo::sidecar::db
