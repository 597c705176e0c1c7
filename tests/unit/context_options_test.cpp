// build_context's options: parsed against the bounds convo.limits() states.
#include "core/context_options.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"

namespace convo {
namespace {

const ContextLimits kLimits{0, 100, 50, 200000};

std::string refusal(const std::string& json) {
    try {
        parse_context_options(json, kLimits);
    } catch (const Error& e) {
        EXPECT_EQ(e.sqlstate(), sqlstate::invalid_parameter);
        EXPECT_EQ(e.hint(), R"(options: {"history": 0..100, "max_tokens": 50..200000, "include_orders": true|false})");
        return e.what();
    }
    return "accepted";
}

TEST(ContextOptions, NoneAndDefaults) {
    ContextOptions o = parse_context_options(std::nullopt, kLimits);
    EXPECT_FALSE(o.history);
    EXPECT_FALSE(o.max_tokens);
    EXPECT_FALSE(o.include_orders);
    EXPECT_EQ(o.cache_key(), "h=-;t=-;o=0");
    EXPECT_EQ(parse_context_options("{}", kLimits).cache_key(), "h=-;t=-;o=0");
}

TEST(ContextOptions, ValuesAndKey) {
    ContextOptions o = parse_context_options(R"({"history": 0, "max_tokens": 200000, "include_orders": true})", kLimits);
    EXPECT_EQ(o.history, 0);
    EXPECT_EQ(o.max_tokens, 200000);
    EXPECT_TRUE(o.include_orders);
    EXPECT_EQ(o.cache_key(), "h=0;t=200000;o=1");
}

TEST(ContextOptions, BoundsComeFromTheLimits) {
    EXPECT_EQ(refusal(R"({"history": 101})"), "convo.build_context: options.history must be between 0 and 100, got 101");
    EXPECT_EQ(refusal(R"({"max_tokens": 49})"),
              "convo.build_context: options.max_tokens must be between 50 and 200000, got 49");
    ContextLimits narrow{1, 3, 100, 200};
    EXPECT_THROW(parse_context_options(R"({"history": 0})", narrow), Error);
    EXPECT_EQ(parse_context_options(R"({"max_tokens": 200})", narrow).max_tokens, 200);
}

TEST(ContextOptions, BadInput) {
    EXPECT_EQ(refusal("[1]"), "convo.build_context: options must be a JSON object, got array");
    EXPECT_EQ(refusal(R"({"history": "5"})"), "convo.build_context: options.history must be an integer");
    EXPECT_EQ(refusal(R"({"history": 2.5})"), "convo.build_context: options.history must be an integer");
    EXPECT_EQ(refusal(R"({"history": 1e30})"), "convo.build_context: options.history must be an integer");
    EXPECT_EQ(refusal(R"({"include_orders": 1})"), "convo.build_context: options.include_orders must be true or false");
    EXPECT_EQ(refusal(R"({"histroy": 5})"), "convo.build_context: unknown option \"histroy\"");
    EXPECT_EQ(refusal(R"({"x'; DROP TABLE t; --": 1})"), "convo.build_context: unknown option \"x'; DROP TABLE t; --\"");
}

}  // namespace
}  // namespace convo
