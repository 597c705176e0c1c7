// The pure parts of the database layer: text[] literals and the backoff.
#include "db/backoff.hpp"
#include "db/pg_array.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

using namespace convo::sidecar::db;
using std::chrono::milliseconds;

namespace {
std::string literal(std::vector<std::optional<std::string_view>> v) { return text_array_literal(v); }
}  // namespace

TEST(TextArrayLiteral, EmptyIsEmptyBraces) { EXPECT_EQ(literal({}), "{}"); }

TEST(TextArrayLiteral, EveryElementIsQuoted) {
    EXPECT_EQ(literal({"whatsapp", "twilio"}), R"({"whatsapp","twilio"})");
    EXPECT_EQ(literal({""}), R"({""})");
}

TEST(TextArrayLiteral, NulloptIsNullAndTheWordNullIsText) {
    EXPECT_EQ(literal({std::nullopt, "NULL", "null"}), R"({NULL,"NULL","null"})");
}

TEST(TextArrayLiteral, QuotesAndBackslashesAreEscaped) {
    EXPECT_EQ(literal({R"(say "hi")"}), R"({"say \"hi\""})");
    EXPECT_EQ(literal({R"(back\slash)"}), R"({"back\\slash"})");
    EXPECT_EQ(literal({R"(\")"}), R"({"\\\""})");
    EXPECT_EQ(literal({R"(\u0000)"}), R"({"\\u0000"})");
}

TEST(TextArrayLiteral, DelimitersAndWhitespaceNeedNoEscapeInsideQuotes) {
    EXPECT_EQ(literal({"{a,b}", " x ", "line\nbreak\ttab", "'); DROP TABLE convo.inbox; --"}),
              "{\"{a,b}\",\" x \",\"line\nbreak\ttab\",\"'); DROP TABLE convo.inbox; --\"}");
}

TEST(TextArrayLiteral, LargeBodyIsKeptWhole) {
    const std::string big(65536, 'x');
    const auto out = literal({big, "\"" + big});
    EXPECT_EQ(out.size(), 2 + (65536 + 2) + 1 + (65536 + 4));
    EXPECT_EQ(out.substr(0, 4), "{\"xx");
    EXPECT_EQ(out.substr(out.size() - 3), "x\"}");
}

TEST(Backoff, DoublesUpToTheCapAndResets) {
    Backoff b(milliseconds(50), milliseconds(300));
    EXPECT_EQ(b.next(), milliseconds(50));
    EXPECT_EQ(b.next(), milliseconds(100));
    EXPECT_EQ(b.next(), milliseconds(200));
    EXPECT_EQ(b.next(), milliseconds(300));
    EXPECT_EQ(b.next(), milliseconds(300));
    b.reset();
    EXPECT_EQ(b.next(), milliseconds(50));
}

TEST(Backoff, CapBelowFirstDelayIsTheFirstDelay) {
    Backoff b(milliseconds(100), milliseconds(10));
    EXPECT_EQ(b.next(), milliseconds(100));
    EXPECT_EQ(b.next(), milliseconds(100));
}
