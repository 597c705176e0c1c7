// JSON Schema subset validation (see json_schema.hpp).
#include "core/json_schema.hpp"

#include <charconv>
#include <cmath>
#include <set>

#include "core/error.hpp"
#include "core/cpp_only.hpp"

namespace convo {
namespace {

using nlohmann::json;

// Longest string or key quoted back in a message, in code points.
constexpr std::size_t kQuotedMax = 40;

const std::set<std::string, std::less<>> kKeywords = {
    "type",      "properties", "required",  "additionalProperties", "items",
    "minItems",  "maxItems",   "enum",      "minimum",              "maximum",
    "minLength", "maxLength",  "description", "title",              "default"};

const std::set<std::string, std::less<>> kTypes = {"object",  "array",   "string", "integer",
                                                   "number",  "boolean", "null"};

// ---- Text for messages -------------------------------------------------------------------------

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// At most `max` code points of s, with an ellipsis when cut; never splits a character.
std::string truncated(std::string_view s, std::size_t max) {
    std::size_t points = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (is_continuation(static_cast<unsigned char>(s[i]))) continue;
        if (points == max) return std::string(s.substr(0, i)) + "…";
        ++points;
    }
    return std::string(s);
}

// A string as JSON writes it (quotes and escapes), shortened.
std::string quote_text(std::string_view s) {
    return json(truncated(s, kQuotedMax)).dump(-1, ' ', false, json::error_handler_t::replace);
}

// Integers as they are; doubles in their shortest form that reads back the same (1e+23).
std::string number_text(const json& n) {
    if (!n.is_number_float()) return n.dump();
    double d = n.get<double>();
    if (!std::isfinite(d)) return "a number too large";
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
    return ec == std::errc() ? std::string(buf, end) : n.dump();
}

// What a value is, for "got ...": scalars themselves, containers by kind.
std::string shown(const json& v) {
    switch (v.type()) {
        case json::value_t::string: return quote_text(v.get_ref<const std::string&>());
        case json::value_t::object: return "an object";
        case json::value_t::array: return "an array";
        case json::value_t::number_integer:
        case json::value_t::number_unsigned:
        case json::value_t::number_float: return number_text(v);
        default: return v.dump();  // true, false, null
    }
}

std::string type_noun(const std::string& type) {
    if (type == "integer" || type == "object" || type == "array") return "an " + type;
    if (type == "null") return "null";
    return "a " + type;
}

std::string plural(std::size_t n, const char* word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

bool is_identifier(std::string_view key) {
    if (key.empty() || key.size() > kQuotedMax) return false;
    for (std::size_t i = 0; i < key.size(); ++i) {
        char c = key[i];
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
    }
    return true;
}

// ---- The schema itself -------------------------------------------------------------------------

[[noreturn]] void bad_schema(const std::string& where, const std::string& what) {
    throw Error(sqlstate::invalid_parameter,
                "schema" + (where.empty() ? std::string() : " at " + where) + ": " + what,
                {}, "convo schemas use type, properties, required, additionalProperties, items, "
                    "minItems, maxItems, enum, minimum, maximum, minLength, maxLength");
}

std::string schema_path(const std::string& where, const std::string& step) {
    return where.empty() ? step : where + "." + step;
}

// Nesting depth of a value, counted up to limit + 1 (enough to refuse it).
int depth_of(const json& v, int limit) {
    if (!v.is_structured() || limit < 0) return 0;
    int deepest = 0;
    for (const auto& child : v) {
        deepest = std::max(deepest, depth_of(child, limit - 1));
        if (deepest > limit) break;
    }
    return deepest + 1;
}

void check_count(const json& s, const char* keyword, const std::string& where) {
    if (!s.contains(keyword)) return;
    const json& n = s[keyword];
    if (!n.is_number_unsigned() && !(n.is_number_integer() && n.get<std::int64_t>() >= 0))
        bad_schema(where, std::string(keyword) + " must be a non-negative integer");
}

void check_bound(const json& s, const char* keyword, const std::string& where) {
    if (!s.contains(keyword)) return;
    const json& n = s[keyword];
    if (!n.is_number() || !std::isfinite(n.get<double>()))
        bad_schema(where, std::string(keyword) + " must be a finite number");
}

void check_schema(const json& s, const std::string& where, int depth) {
    if (depth > kMaxSchemaDepth) bad_schema(where, "nested too deeply");
    if (!s.is_object()) bad_schema(where, "a schema must be a JSON object, got " + shown(s));
    for (auto it = s.begin(); it != s.end(); ++it)
        if (!kKeywords.count(it.key()))
            bad_schema(where, "unsupported keyword " + quote_text(it.key()));

    if (s.contains("type")) {
        const json& t = s["type"];
        bool ok = t.is_string() ? kTypes.count(t.get_ref<const std::string&>()) > 0
                                : t.is_array() && !t.empty();
        if (ok && t.is_array())
            for (const auto& one : t)
                ok = ok && one.is_string() && kTypes.count(one.get_ref<const std::string&>());
        if (!ok) bad_schema(where, "type must be one of object, array, string, integer, number, "
                                   "boolean, null, or a list of them");
    }
    if (s.contains("properties")) {
        const json& props = s["properties"];
        if (!props.is_object()) bad_schema(where, "properties must be an object");
        for (auto it = props.begin(); it != props.end(); ++it)
            check_schema(it.value(), schema_path(where, "properties." + it.key()), depth + 1);
    }
    if (s.contains("required")) {
        const json& req = s["required"];
        if (!req.is_array()) bad_schema(where, "required must be an array of key names");
        for (const auto& k : req)
            if (!k.is_string()) bad_schema(where, "required must be an array of key names");
    }
    if (s.contains("additionalProperties")) {
        const json& extra = s["additionalProperties"];
        if (!extra.is_boolean())
            check_schema(extra, schema_path(where, "additionalProperties"), depth + 1);
    }
    if (s.contains("items")) check_schema(s["items"], schema_path(where, "items"), depth + 1);
    if (s.contains("enum")) {
        const json& values = s["enum"];
        if (!values.is_array() || values.empty()) bad_schema(where, "enum must be a non-empty array");
        if (depth_of(values, kMaxSchemaDepth) > kMaxSchemaDepth)
            bad_schema(where, "enum values are nested too deeply");
    }
    check_bound(s, "minimum", where);
    check_bound(s, "maximum", where);
    for (const char* k : {"minLength", "maxLength", "minItems", "maxItems"}) check_count(s, k, where);
}

// ---- Values ------------------------------------------------------------------------------------

using Problem = std::optional<std::string>;

bool type_matches(const std::string& type, const json& v) {
    if (type == "object") return v.is_object();
    if (type == "array") return v.is_array();
    if (type == "string") return v.is_string();
    if (type == "boolean") return v.is_boolean();
    if (type == "null") return v.is_null();
    if (type == "number") return v.is_number();
    // integer: 2.0 is an integer (JSON Schema counts values, not spellings); infinity is not.
    if (v.is_number_integer()) return true;
    if (!v.is_number_float()) return false;
    double d = v.get<double>();
    return std::isfinite(d) && std::trunc(d) == d;
}

class Validator {
public:
    explicit Validator(std::string root) : root_(std::move(root)) {}

    Problem check(const json& s, const json& v, const std::string& path) const {
        if (auto p = check_type(s, v, path)) return p;
        if (auto p = check_enum(s, v, path)) return p;
        if (v.is_number()) return check_number(s, v, path);
        if (v.is_string()) return check_string(s, v, path);
        if (v.is_array()) return check_array(s, v, path);
        if (v.is_object()) return check_object(s, v, path);
        return std::nullopt;
    }

private:
    std::string name(const std::string& path) const { return path.empty() ? root_ : path; }

    // The path of a key: bare under the root, dotted below; odd keys quoted.
    static std::string key_path(const std::string& path, std::string_view key) {
        if (is_identifier(key)) return path.empty() ? std::string(key) : path + "." + std::string(key);
        return path.empty() ? quote_text(key) : path + "[" + quote_text(key) + "]";
    }

    std::string index_path(const std::string& path, std::size_t i) const {
        return name(path) + "[" + std::to_string(i) + "]";
    }

    Problem check_type(const json& s, const json& v, const std::string& path) const {
        if (!s.contains("type")) return std::nullopt;
        const json& t = s["type"];
        std::vector<std::string> types;
        if (t.is_string()) types.push_back(t.get<std::string>());
        else for (const auto& one : t) types.push_back(one.get<std::string>());
        for (const auto& type : types)
            if (type_matches(type, v)) return std::nullopt;
        std::string expected;
        for (std::size_t i = 0; i < types.size(); ++i) {
            if (i > 0) expected += i + 1 == types.size() ? " or " : ", ";
            expected += type_noun(types[i]);
        }
        return name(path) + " must be " + expected + ", got " + shown(v);
    }

    Problem check_enum(const json& s, const json& v, const std::string& path) const {
        if (!s.contains("enum")) return std::nullopt;
        const json& values = s["enum"];
        for (const auto& allowed : values)
            if (allowed == v) return std::nullopt;
        std::string list;
        for (std::size_t i = 0; i < values.size(); ++i) list += (i ? ", " : "") + shown(values[i]);
        return name(path) + " must be " + (values.size() == 1 ? "" : "one of ") + list + ", got " +
               shown(v);
    }

    Problem check_number(const json& s, const json& v, const std::string& path) const {
        double d = v.get<double>();
        bool low = s.contains("minimum") && d < s["minimum"].get<double>();
        bool high = s.contains("maximum") && d > s["maximum"].get<double>();
        if (!low && !high) return std::nullopt;
        std::string noun = s.contains("type") && s["type"] == "integer" ? "an integer" : "a number";
        std::string range;
        if (s.contains("minimum") && s.contains("maximum"))
            range = " between " + number_text(s["minimum"]) + " and " + number_text(s["maximum"]);
        else if (s.contains("minimum"))
            range = " >= " + number_text(s["minimum"]);
        else
            range = " <= " + number_text(s["maximum"]);
        return name(path) + " must be " + noun + range + ", got " + shown(v);
    }

    // minLength/maxLength and minItems/maxItems share their wording.
    Problem check_size(const json& s, std::size_t size, const char* min_key, const char* max_key,
                       const std::string& path, const char* unit, const char* verb) const {
        bool has_min = s.contains(min_key), has_max = s.contains(max_key);
        std::size_t min = has_min ? s[min_key].get<std::size_t>() : 0;
        std::size_t max = has_max ? s[max_key].get<std::size_t>() : 0;
        bool low = has_min && size < min, high = has_max && size > max;
        if (!low && !high) return std::nullopt;
        std::string got = ", got " + std::to_string(size);
        if (low && size == 0) return name(path) + " must not be empty";
        if (has_min && has_max && min > 0)
            return name(path) + " must " + verb + " " +
                   (min == max ? plural(min, unit)
                               : std::to_string(min) + " to " + plural(max, unit)) + got;
        if (low) return name(path) + " must " + verb + " at least " + plural(min, unit) + got;
        return name(path) + " must " + verb + " at most " + plural(max, unit) + got;
    }

    Problem check_string(const json& s, const json& v, const std::string& path) const {
        std::size_t length = utf8_length(v.get_ref<const std::string&>());
        return check_size(s, length, "minLength", "maxLength", path, "character", "have");
    }

    Problem check_array(const json& s, const json& v, const std::string& path) const {
        if (auto p = check_size(s, v.size(), "minItems", "maxItems", path, "item", "have")) return p;
        if (!s.contains("items")) return std::nullopt;
        for (std::size_t i = 0; i < v.size(); ++i)
            if (auto p = check(s["items"], v[i], index_path(path, i))) return p;
        return std::nullopt;
    }

    Problem check_object(const json& s, const json& v, const std::string& path) const {
        static const json kNone = json::object();
        const json& props = s.contains("properties") ? s["properties"] : kNone;
        const json* extra = s.contains("additionalProperties") ? &s["additionalProperties"] : nullptr;
        // Unknown keys first: a misspelt key then reads as such, not as a missing one.
        if (extra && extra->is_boolean() && !extra->get<bool>()) {
            for (auto it = v.begin(); it != v.end(); ++it) {
                if (props.contains(it.key())) continue;
                std::string known;
                for (auto p = props.begin(); p != props.end(); ++p)
                    known += (known.empty() ? "" : ", ") + p.key();
                return "unknown key " + key_path(path, it.key()) + "; " +
                       (known.empty() ? std::string("no keys are expected")
                                      : "expected one of: " + known);
            }
        }
        if (s.contains("required"))
            for (const auto& k : s["required"])
                if (!v.contains(k.get_ref<const std::string&>()))
                    return key_path(path, k.get_ref<const std::string&>()) + " is required";
        for (auto it = v.begin(); it != v.end(); ++it) {
            const json* sub = props.contains(it.key()) ? &props[it.key()]
                              : extra && extra->is_object() ? extra
                                                            : nullptr;
            if (sub)
                if (auto p = check(*sub, it.value(), key_path(path, it.key()))) return p;
        }
        return std::nullopt;
    }

    std::string root_;
};

}  // namespace

std::size_t utf8_length(std::string_view s) {
    std::size_t n = 0;
    for (char c : s) n += !is_continuation(static_cast<unsigned char>(c));
    return n;
}

void check_json_schema(const json& schema) { check_schema(schema, "", 0); }

std::optional<std::string> json_schema_error(const json& schema, const json& value,
                                             std::string_view name) {
    check_json_schema(schema);
    return Validator(std::string(name)).check(schema, value, "");
}

}  // namespace convo
