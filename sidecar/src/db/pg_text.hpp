// What PostgreSQL accepts as a text value in a UTF-8 database: valid UTF-8 without NUL.
// One body that is not would make the whole group's statement fail, so puts are checked first.
#pragma once

#include <string_view>

namespace convo::sidecar::db {

bool is_pg_text(std::string_view s);

}  // namespace convo::sidecar::db
