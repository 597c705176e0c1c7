// SQL API: convo.json_schema_error(schema jsonb, value jsonb, name text).
//
// The validator is pure C++ (core/json_schema); this file reads the two jsonb arguments into
// nlohmann::json by walking them with PostgreSQL's jsonb iterator, which keeps every number
// (a jsonb numeric may exceed what a double holds: it becomes infinity and fails any bound).
#include <charconv>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/json_schema.hpp"
#include "pg/function.hpp"
#include "pg/values.hpp"

extern "C" {
#include "utils/numeric.h"
}

namespace convo::api {
namespace {

using nlohmann::json;

// A jsonb numeric as JSON: an integer when it is one and fits, else a double (maybe infinite).
json number_from_text(const std::string& text) {
    std::int64_t i = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
    if (ec == std::errc() && end == text.data() + text.size()) return i;
    return std::strtod(text.c_str(), nullptr);
}

json scalar(const JsonbValue& v) {
    switch (v.type) {
        case jbvString: return std::string(v.val.string.val, v.val.string.len);
        case jbvBool: return static_cast<bool>(v.val.boolean);
        case jbvNumeric: {
            char* text = nullptr;
            Numeric n = v.val.numeric;
            pg::guarded([&] { text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(n))); });
            std::string copy(text);
            pg::guarded([&] { pfree(text); });
            return number_from_text(copy);
        }
        default: return nullptr;
    }
}

// Walks the document iteratively: jsonb nests deeper than a C++ recursion should follow.
json jsonb_to_json(Jsonb* jb) {
    json root;
    std::vector<json*> open;  // containers being filled, innermost last
    std::string key;
    JsonbIterator* it = nullptr;
    pg::guarded([&] { it = JsonbIteratorInit(&jb->root); });
    // A new value goes into the innermost open container (under the last key), or is the root.
    auto place = [&](json value) -> json* {
        if (open.empty()) {
            root = std::move(value);
            return &root;
        }
        json& parent = *open.back();
        if (parent.is_array()) {
            parent.push_back(std::move(value));
            return &parent.back();
        }
        return &(parent[key] = std::move(value));
    };
    for (;;) {
        JsonbValue v;
        JsonbIteratorToken token = WJB_DONE;
        pg::guarded([&] { token = JsonbIteratorNext(&it, &v, false); });
        switch (token) {
            case WJB_DONE: return root;
            case WJB_BEGIN_ARRAY:
                // A scalar document is stored as a one-element "raw scalar" array.
                if (v.val.array.rawScalar) break;
                open.push_back(place(json::array()));
                break;
            case WJB_BEGIN_OBJECT: open.push_back(place(json::object())); break;
            case WJB_KEY: key.assign(v.val.string.val, v.val.string.len); break;
            case WJB_VALUE:
            case WJB_ELEM: place(scalar(v)); break;
            case WJB_END_ARRAY:
            case WJB_END_OBJECT:
                if (!open.empty()) open.pop_back();
                break;
        }
    }
}

json jsonb_arg(FunctionCallInfo fcinfo, int n) {
    Jsonb* jb = nullptr;
    pg::guarded([&] { jb = PG_GETARG_JSONB_P(n); });
    return jsonb_to_json(jb);
}

}  // namespace
}  // namespace convo::api

using namespace convo;

CONVO_FUNCTION(convo_json_schema_error) {
    const std::string fn = "convo.json_schema_error";
    if (PG_ARGISNULL(0)) throw Error(sqlstate::null_value, fn + ": schema must not be NULL");
    if (PG_ARGISNULL(1))
        throw Error(sqlstate::null_value, fn + ": value must not be NULL",
                    {}, "pass 'null'::jsonb for a JSON null");
    std::string name = pg::arg_text(fcinfo, 2).value_or("value");
    nlohmann::json schema = api::jsonb_arg(fcinfo, 0);
    nlohmann::json value = api::jsonb_arg(fcinfo, 1);
    std::optional<std::string> problem;
    try {
        problem = json_schema_error(schema, value, name);
    } catch (const Error& e) {
        throw Error(e.sqlstate(), fn + ": " + e.what(), e.detail(), e.hint());
    }
    if (!problem) PG_RETURN_NULL();
    return pg::text_datum(*problem);
}
