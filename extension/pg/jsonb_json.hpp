// jsonb → nlohmann::json, walking the stored document with PostgreSQL's jsonb iterator (no
// text round trip). Every number is kept: a jsonb numeric beyond what a double holds becomes
// infinity, an integer that fits std::int64_t stays an integer.
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "pg/declarations.hpp"

namespace convo::pg {

// The jsonb datum doc (detoasted here) as JSON. Checks for a cancel as it goes.
nlohmann::json jsonb_to_json(Datum doc);

// Function argument n as JSON; nullopt for SQL NULL.
std::optional<nlohmann::json> arg_jsonb(FunctionCallInfo fcinfo, int n);

}  // namespace convo::pg
