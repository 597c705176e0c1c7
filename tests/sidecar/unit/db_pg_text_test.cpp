// The sidecar's one check of what a PostgreSQL text value may hold: valid UTF-8, no NUL.
#include "db/pg_text.hpp"

#include <gtest/gtest.h>

#include <string>

using convo::sidecar::db::is_pg_text;
using convo::sidecar::db::pg_text_problem;

TEST(PgText, AcceptsValidText) {
    EXPECT_EQ(pg_text_problem(""), "");
    EXPECT_EQ(pg_text_problem(R"({"entry":[{"id":"1"}]})"), "");
    EXPECT_EQ(pg_text_problem("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF"), "");  // é € 😀 U+10FFFF
    EXPECT_EQ(pg_text_problem("\xED\x9F\xBF\xEE\x80\x80"), "");  // U+D7FF, U+E000 either side of surrogates
    EXPECT_EQ(pg_text_problem(std::string(1000, 'a') + "\xC2\x80" + std::string(13, 'b')), "");
    EXPECT_EQ(pg_text_problem("\\u0000 as escape text"), "");  // JSON's escape is six characters
    EXPECT_TRUE(is_pg_text("ñandú 👋🏽 \u4e2d"));
}

TEST(PgText, RejectsNul) {
    EXPECT_EQ(pg_text_problem(std::string("ab\0c", 4)), "NUL byte at byte 2");
    EXPECT_EQ(pg_text_problem(std::string("0123456789\0", 11)), "NUL byte at byte 10");
    EXPECT_EQ(pg_text_problem(std::string("\0", 1)), "NUL byte at byte 0");
    EXPECT_EQ(pg_text_problem(std::string("\xC3\xB1\0", 3)), "NUL byte at byte 2");
    EXPECT_FALSE(is_pg_text(std::string("a\0b", 3)));
}

TEST(PgText, RejectsOverlongForms) {
    EXPECT_EQ(pg_text_problem("\xC0\xAF"), "invalid UTF-8 sequence at byte 0");  // '/' in two bytes
    EXPECT_EQ(pg_text_problem("x\xC1\xBF"), "invalid UTF-8 sequence at byte 1");
    EXPECT_EQ(pg_text_problem("\xE0\x80\xAF"), "invalid UTF-8 sequence at byte 0");
    EXPECT_EQ(pg_text_problem("\xF0\x80\x80\xAF"), "invalid UTF-8 sequence at byte 0");
    EXPECT_EQ(pg_text_problem("\xC0\x80"), "invalid UTF-8 sequence at byte 0");  // "modified UTF-8" NUL
}

TEST(PgText, RejectsSurrogatesAndOutOfRange) {
    EXPECT_EQ(pg_text_problem("\xED\xA0\x80"), "invalid UTF-8 sequence at byte 0");
    EXPECT_EQ(pg_text_problem("ab\xED\xBF\xBF"), "invalid UTF-8 sequence at byte 2");
    EXPECT_EQ(pg_text_problem("\xF4\x90\x80\x80"), "invalid UTF-8 sequence at byte 0");  // above U+10FFFF
    EXPECT_EQ(pg_text_problem("\xF8\x88\x80\x80\x80"), "invalid UTF-8 sequence at byte 0");
    EXPECT_EQ(pg_text_problem("\xFF"), "invalid UTF-8 sequence at byte 0");
}

TEST(PgText, RejectsTruncatedAndBrokenSequences) {
    EXPECT_EQ(pg_text_problem("abc\xE2\x82"), "truncated UTF-8 sequence at byte 3");
    EXPECT_EQ(pg_text_problem("\xF0\x9F\x98"), "truncated UTF-8 sequence at byte 0");
    EXPECT_EQ(pg_text_problem("\xC3"), "truncated UTF-8 sequence at byte 0");
    EXPECT_EQ(pg_text_problem("\xE2\x28\xA1"), "invalid UTF-8 sequence at byte 0");
    EXPECT_EQ(pg_text_problem("\x80"), "invalid UTF-8 sequence at byte 0");  // lone continuation byte
    EXPECT_EQ(pg_text_problem(std::string(16, 'a') + "\xA9"), "invalid UTF-8 sequence at byte 16");
    // A bad sequence after good multi-byte ones is found at its own offset.
    EXPECT_EQ(pg_text_problem("\xC3\xA9\xF0\x9F\x98\x80z\xC3("), "invalid UTF-8 sequence at byte 7");
}
