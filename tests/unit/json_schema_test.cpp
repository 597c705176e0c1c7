// The JSON Schema subset (core/json_schema.hpp): what conforms, the first problem found and its
// wording, and schemas outside the subset.
#include "core/json_schema.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "core/error.hpp"

namespace convo {
namespace {

using nlohmann::json;

// The shape of the add_to_cart tool's parameters.
const json kCart = json::parse(R"({
    "type": "object",
    "properties": {
        "product_id": {"type": "string", "minLength": 1, "description": "from search_products"},
        "quantity": {"type": "integer", "minimum": 1, "maximum": 100}
    },
    "required": ["product_id"],
    "additionalProperties": false
})");

std::string problem(const json& schema, const json& value, std::string_view name = "arguments") {
    auto p = json_schema_error(schema, value, name);
    return p ? *p : "(valid)";
}

std::string schema_error(const json& schema) {
    try {
        check_json_schema(schema);
    } catch (const Error& e) {
        EXPECT_EQ(e.sqlstate(), "22023");
        return e.what();
    }
    return "(valid schema)";
}

TEST(JsonSchema, ConformingValuesHaveNoProblem) {
    EXPECT_EQ(problem(kCart, {{"product_id", "p1"}}), "(valid)");
    EXPECT_EQ(problem(kCart, {{"product_id", "p1"}, {"quantity", 100}}), "(valid)");
    EXPECT_EQ(problem(json::object(), json::array()), "(valid)") << "an empty schema accepts anything";
}

TEST(JsonSchema, TypeMismatchNamesTheKeyAndWhatCame) {
    EXPECT_EQ(problem(kCart, {{"product_id", "p"}, {"quantity", "2"}}),
              R"(quantity must be an integer, got "2")");
    EXPECT_EQ(problem(kCart, {{"product_id", 7}}), "product_id must be a string, got 7");
    EXPECT_EQ(problem(kCart, {{"product_id", json::object()}}),
              "product_id must be a string, got an object");
    EXPECT_EQ(problem(kCart, json::array()), "arguments must be an object, got an array");
    EXPECT_EQ(problem(kCart, nullptr), "arguments must be an object, got null");
    EXPECT_EQ(problem(kCart, true, "profile"), "profile must be an object, got true");
}

TEST(JsonSchema, IntegersAreValuesNotSpellings) {
    EXPECT_EQ(problem(kCart, {{"product_id", "p"}, {"quantity", 2.0}}), "(valid)");
    EXPECT_EQ(problem(kCart, {{"product_id", "p"}, {"quantity", 2.5}}),
              "quantity must be an integer, got 2.5");
    EXPECT_EQ(problem(kCart, {{"product_id", "p"}, {"quantity", json(std::uint64_t{1} << 63)}}),
              "quantity must be an integer between 1 and 100, got 9223372036854775808");
    double huge = std::numeric_limits<double>::infinity();
    EXPECT_EQ(problem(kCart, {{"product_id", "p"}, {"quantity", huge}}),
              "quantity must be an integer, got a number too large");
    EXPECT_EQ(problem(json{{"type", "number"}, {"maximum", 10}}, huge, "price"),
              "price must be a number <= 10, got a number too large");
}

TEST(JsonSchema, BoundsSayTheRange) {
    EXPECT_EQ(problem(kCart, {{"product_id", "p"}, {"quantity", 0}}),
              "quantity must be an integer between 1 and 100, got 0");
    EXPECT_EQ(problem(kCart, {{"product_id", "p"}, {"quantity", -3}}),
              "quantity must be an integer between 1 and 100, got -3");
    json price = {{"type", "number"}, {"minimum", 0}};
    EXPECT_EQ(problem(price, -0.5, "price"), "price must be a number >= 0, got -0.5");
    EXPECT_EQ(problem(price, 0, "price"), "(valid)");
    json capped = {{"type", "number"}, {"maximum", 9999999999.99}};
    EXPECT_EQ(problem(capped, 1e12, "price"), "price must be a number <= 9999999999.99, got 1e+12");
}

TEST(JsonSchema, MissingAndUnknownKeys) {
    EXPECT_EQ(problem(kCart, json::object()), "product_id is required");
    EXPECT_EQ(problem(kCart, {{"productId", "p"}}),
              "unknown key productId; expected one of: product_id, quantity")
        << "a misspelt key is reported as unknown before the real one is reported missing";
    json none = {{"type", "object"}, {"properties", json::object()}, {"additionalProperties", false}};
    EXPECT_EQ(problem(none, {{"x", 1}}), "unknown key x; no keys are expected");
    EXPECT_EQ(problem(none, {{"'; DROP TABLE x; --", 1}}),
              R"(unknown key "'; DROP TABLE x; --"; no keys are expected)");
    EXPECT_EQ(problem(none, json::object()), "(valid)");
}

TEST(JsonSchema, AdditionalPropertiesAsASchema) {
    json info = {{"type", "object"},
                 {"additionalProperties", {{"type", "string"}, {"maxLength", 5}}}};
    EXPECT_EQ(problem(info, {{"hours", "9-18"}}, "business_info"), "(valid)");
    EXPECT_EQ(problem(info, {{"hours", 9}}, "business_info"), "hours must be a string, got 9");
    json nested = {{"type", "object"}, {"properties", {{"business_info", info}}}};
    EXPECT_EQ(problem(nested, {{"business_info", {{"opening hours", 9}}}}, "profile"),
              R"(business_info["opening hours"] must be a string, got 9)");
    EXPECT_EQ(problem(nested, {{"business_info", {{"hours", "9 to 18"}}}}, "profile"),
              "business_info.hours must have at most 5 characters, got 7");
}

TEST(JsonSchema, StringLengthsCountCodePoints) {
    json name = {{"type", "string"}, {"minLength", 1}, {"maxLength", 3}};
    EXPECT_EQ(problem(name, "", "name"), "name must not be empty");
    EXPECT_EQ(problem(name, "🙂🙂🙂", "name"), "(valid)") << "three 4-byte emoji are three characters";
    EXPECT_EQ(problem(name, "añb🙂", "name"), "name must have 1 to 3 characters, got 4");
    json at_least = {{"type", "string"}, {"minLength", 2}};
    EXPECT_EQ(problem(at_least, "a", "code"), "code must have at least 2 characters, got 1");
    json exactly = {{"type", "string"}, {"minLength", 3}, {"maxLength", 3}};
    EXPECT_EQ(problem(exactly, "ab", "code"), "code must have 3 characters, got 2");
    json one = {{"type", "string"}, {"maxLength", 1}};
    EXPECT_EQ(problem(one, "ab", "c"), "c must have at most 1 character, got 2");
}

TEST(JsonSchema, LongStringsAreCutInMessagesWithoutSplittingCharacters) {
    std::string emoji;
    for (int i = 0; i < 50; ++i) emoji += "🙂";
    json step = {{"enum", {"greet"}}};
    std::string p = problem(step, emoji, "step");
    std::string shown;
    for (int i = 0; i < 40; ++i) shown += "🙂";
    EXPECT_EQ(p, R"(step must be "greet", got ")" + shown + R"(…")");
    EXPECT_EQ(utf8_length(p), utf8_length(R"(step must be "greet", got "")") + 41);
    EXPECT_EQ(problem(step, "a\"b\n", "step"), R"(step must be "greet", got "a\"b\n")");
}

TEST(JsonSchema, EnumListsTheChoices) {
    json step = {{"type", "string"}, {"enum", {"greet", "qualify", "checkout"}}};
    EXPECT_EQ(problem(step, "pay", "step"), R"(step must be one of "greet", "qualify", "checkout", got "pay")");
    EXPECT_EQ(problem(step, "qualify", "step"), "(valid)");
    EXPECT_EQ(problem(json{{"enum", {1, 2}}}, 2.0, "n"), "(valid)") << "2.0 equals 2";
    EXPECT_EQ(problem(json{{"enum", {1, 2}}}, "1", "n"), R"(n must be one of 1, 2, got "1")");
}

TEST(JsonSchema, ArraysAndTheirItems) {
    json steps = json::parse(R"({"type": "array", "maxItems": 2, "items": {
        "type": "object", "required": ["name"], "additionalProperties": false,
        "properties": {"name": {"type": "string", "minLength": 1}, "instruction": {"type": "string"}}}})");
    json profile = {{"type", "object"}, {"properties", {{"steps", steps}}}};
    EXPECT_EQ(problem(profile, json::parse(R"({"steps": [{"name": "a"}, {"name": ""}]})"), "profile"),
              "steps[1].name must not be empty");
    EXPECT_EQ(problem(profile, json::parse(R"({"steps": [{"name": "a"}, {"instruction": "x"}]})"), "profile"),
              "steps[1].name is required");
    EXPECT_EQ(problem(profile, json::parse(R"({"steps": [{"name": "a", "why": 1}]})"), "profile"),
              "unknown key steps[0].why; expected one of: instruction, name");
    EXPECT_EQ(problem(profile, json::parse(R"({"steps": [{"name": "a"}, {"name": "b"}, {"name": "c"}]})"), "profile"),
              "steps must have at most 2 items, got 3");
    EXPECT_EQ(problem(steps, json::parse(R"([{"name": 1}])"), "steps"), "steps[0].name must be a string, got 1");
    json nonempty = {{"type", "array"}, {"minItems", 1}};
    EXPECT_EQ(problem(nonempty, json::array(), "tools"), "tools must not be empty");
}

TEST(JsonSchema, TypeLists) {
    json nullable = {{"type", {"string", "null"}}, {"maxLength", 2}};
    EXPECT_EQ(problem(nullable, nullptr, "fallback_text"), "(valid)");
    EXPECT_EQ(problem(nullable, "abc", "fallback_text"), "fallback_text must have at most 2 characters, got 3");
    EXPECT_EQ(problem(nullable, 1, "fallback_text"), "fallback_text must be a string or null, got 1");
    json three = {{"type", {"string", "number", "boolean"}}};
    EXPECT_EQ(problem(three, json::array(), "v"), "v must be a string, a number or a boolean, got an array");
}

TEST(JsonSchema, SchemasOutsideTheSubsetAreRefused) {
    EXPECT_EQ(schema_error(kCart), "(valid schema)");
    EXPECT_EQ(schema_error(json::parse(R"({"type": "string", "pattern": "^a"})")),
              R"(schema: unsupported keyword "pattern")");
    EXPECT_EQ(schema_error(json::parse(R"({"properties": {"a": {"format": "date"}}})")),
              R"(schema at properties.a: unsupported keyword "format")");
    EXPECT_EQ(schema_error(json::parse(R"({"type": "text"})")),
              "schema: type must be one of object, array, string, integer, number, boolean, null, or a list of them");
    EXPECT_EQ(schema_error(json::parse(R"({"items": {"minLength": -1}})")),
              "schema at items: minLength must be a non-negative integer");
    EXPECT_EQ(schema_error(json::parse(R"({"enum": []})")), "schema: enum must be a non-empty array");
    EXPECT_EQ(schema_error(json::parse(R"({"required": "a"})")), "schema: required must be an array of key names");
    EXPECT_EQ(schema_error(json::parse(R"({"maximum": "10"})")), "schema: maximum must be a finite number");
    EXPECT_EQ(schema_error(json::array()), "schema: a schema must be a JSON object, got an array");
    EXPECT_THROW(json_schema_error(json::parse(R"({"oneOf": []})"), 1), Error)
        << "validating against a bad schema raises instead of passing";
}

TEST(JsonSchema, DeepSchemasAreRefusedNotRecursedInto) {
    json deep = json::object();
    for (int i = 0; i < 1000; ++i) deep = json{{"items", deep}};
    EXPECT_NE(schema_error(deep).find("nested too deeply"), std::string::npos);
    json deep_enum = 1;
    for (int i = 0; i < 1000; ++i) deep_enum = json::array({deep_enum});
    EXPECT_EQ(schema_error(json{{"enum", json::array({deep_enum})}}), "schema: enum values are nested too deeply");
    json ok = json::object();
    for (int i = 0; i < kMaxSchemaDepth; ++i) ok = json{{"items", ok}};
    EXPECT_EQ(schema_error(ok), "(valid schema)");
}

TEST(JsonSchema, DeepValuesAreFineWhereTheSchemaDoesNotLook) {
    // Built and handed over by moving: nlohmann copies recursively, the validator must not.
    json deep = 1;
    for (int i = 0; i < 100000; ++i) {
        json outer = json::array();
        outer.push_back(std::move(deep));
        deep = std::move(outer);
    }
    json args = {{"product_id", "p"}};
    args["quantity"] = std::move(deep);
    EXPECT_EQ(problem(kCart, args), "quantity must be an integer, got an array");
}

}  // namespace
}  // namespace convo
