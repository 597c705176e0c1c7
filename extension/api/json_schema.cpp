// SQL API: convo.json_schema_error(schema jsonb, value jsonb, name text).
//
// The validator is pure C++ (core/json_schema); the two jsonb arguments are read into
// nlohmann::json by pg/jsonb_json, which keeps every number (a jsonb numeric may exceed what a
// double holds: it becomes infinity and fails any bound).
#include <string>

#include "core/json_schema.hpp"
#include "pg/entry.hpp"
#include "pg/jsonb_json.hpp"
#include "pg/values.hpp"

#include "pg/api_only.hpp"  // last

using namespace convo;

CONVO_FUNCTION(convo_json_schema_error) {
    const std::string fn = "convo.json_schema_error";
    if (pg::arg_is_null(fcinfo, 0)) throw Error(sqlstate::null_value, fn + ": schema must not be NULL");
    if (pg::arg_is_null(fcinfo, 1))
        throw Error(sqlstate::null_value, fn + ": value must not be NULL",
                    {}, "pass 'null'::jsonb for a JSON null");
    std::string name = pg::arg_text(fcinfo, 2).value_or("value");
    nlohmann::json schema = *pg::arg_jsonb(fcinfo, 0);
    nlohmann::json value = *pg::arg_jsonb(fcinfo, 1);
    std::optional<std::string> problem;
    try {
        problem = json_schema_error(schema, value, name);
    } catch (const Error& e) {
        throw Error(e.sqlstate(), fn + ": " + e.what(), e.detail(), e.hint());
    }
    if (!problem) return pg::null_result(fcinfo);
    return pg::text_datum(*problem);
}
