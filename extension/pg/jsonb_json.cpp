// jsonb → nlohmann::json (see jsonb_json.hpp).
#include "pg/jsonb_json.hpp"

#include <charconv>
#include <cstdlib>
#include <string>
#include <vector>

#include "pg/guard.hpp"

extern "C" {
#include "utils/numeric.h"
}

namespace convo::pg {
namespace {

using nlohmann::json;

// A jsonb numeric as JSON: an integer when it is one and fits, else a double (maybe infinite).
json number_from_text(const std::string& text) {
    std::int64_t i = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
    if (ec == std::errc() && end == text.data() + text.size()) return i;
    return std::strtod(text.c_str(), nullptr);
}

json numeric_value(Numeric n) {
    char* text = nullptr;
    guarded([&]() noexcept { text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(n))); });
    std::string copy(text);
    guarded([&]() noexcept { pfree(text); });
    return number_from_text(copy);
}

json scalar(const JsonbValue& v) {
    switch (v.type) {
        case jbvString: return std::string(v.val.string.val, v.val.string.len);
        case jbvBool: return static_cast<bool>(v.val.boolean);
        case jbvNumeric: return numeric_value(v.val.numeric);
        default: return nullptr;
    }
}

}  // namespace

// Walks the document iteratively: jsonb nests deeper than a C++ recursion should follow.
json jsonb_to_json(Datum doc) {
    json root;
    std::vector<json*> open;  // containers being filled, innermost last
    std::string key;
    JsonbIterator* it = nullptr;
    guarded([&]() noexcept { it = JsonbIteratorInit(&DatumGetJsonbP(doc)->root); });
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
        guarded([&]() noexcept {
            CHECK_FOR_INTERRUPTS();  // a document may hold millions of values
            token = JsonbIteratorNext(&it, &v, false);
        });
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

std::optional<json> arg_jsonb(FunctionCallInfo fcinfo, int n) {
    if (PG_ARGISNULL(n)) return std::nullopt;
    return jsonb_to_json(PG_GETARG_DATUM(n));
}

}  // namespace convo::pg
