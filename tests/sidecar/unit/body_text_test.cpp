// UTF-8 and NUL checks of webhook bodies.
#include "webhooks/body_text.hpp"

#include <gtest/gtest.h>

using convo::sidecar::webhooks::base64_encode;
using convo::sidecar::webhooks::body_text_problem;

TEST(BodyText, AcceptsValidText) {
    EXPECT_EQ(body_text_problem(""), "");
    EXPECT_EQ(body_text_problem(R"({"entry":[{"id":"1"}]})"), "");
    EXPECT_EQ(body_text_problem("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF"), "");  // é € 😀 U+10FFFF
    EXPECT_EQ(body_text_problem("\xED\x9F\xBF\xEE\x80\x80"), "");  // U+D7FF, U+E000 either side of surrogates
    EXPECT_EQ(body_text_problem(std::string(1000, 'a') + "\xC2\x80" + std::string(13, 'b')), "");
}

TEST(BodyText, RejectsNul) {
    EXPECT_EQ(body_text_problem(std::string("ab\0c", 4)), "NUL byte at byte 2");
    EXPECT_EQ(body_text_problem(std::string("0123456789\0", 11)), "NUL byte at byte 10");
    EXPECT_EQ(body_text_problem(std::string("\0", 1)), "NUL byte at byte 0");
}

TEST(BodyText, RejectsOverlongForms) {
    EXPECT_EQ(body_text_problem("\xC0\xAF"), "overlong UTF-8 sequence at byte 0");   // '/' in two bytes
    EXPECT_EQ(body_text_problem("x\xC1\xBF"), "overlong UTF-8 sequence at byte 1");
    EXPECT_EQ(body_text_problem("\xE0\x80\xAF"), "overlong UTF-8 sequence at byte 0");
    EXPECT_EQ(body_text_problem("\xF0\x80\x80\xAF"), "overlong UTF-8 sequence at byte 0");
    EXPECT_EQ(body_text_problem("\xC0\x80"), "overlong UTF-8 sequence at byte 0");   // "modified UTF-8" NUL
}

TEST(BodyText, RejectsSurrogatesAndOutOfRange) {
    EXPECT_EQ(body_text_problem("\xED\xA0\x80"), "UTF-16 surrogate in UTF-8 at byte 0");
    EXPECT_EQ(body_text_problem("ab\xED\xBF\xBF"), "UTF-16 surrogate in UTF-8 at byte 2");
    EXPECT_EQ(body_text_problem("\xF4\x90\x80\x80"), "UTF-8 code point above U+10FFFF at byte 0");
    EXPECT_EQ(body_text_problem("\xF8\x88\x80\x80\x80"), "invalid UTF-8 lead byte at byte 0");
    EXPECT_EQ(body_text_problem("\xFF"), "invalid UTF-8 lead byte at byte 0");
}

TEST(BodyText, RejectsTruncatedAndBrokenSequences) {
    EXPECT_EQ(body_text_problem("abc\xE2\x82"), "truncated UTF-8 sequence at byte 3");
    EXPECT_EQ(body_text_problem("\xF0\x9F\x98"), "truncated UTF-8 sequence at byte 0");
    EXPECT_EQ(body_text_problem("\xC3"), "truncated UTF-8 sequence at byte 0");
    EXPECT_EQ(body_text_problem("\xE2\x28\xA1"), "invalid UTF-8 continuation byte at byte 1");
    EXPECT_EQ(body_text_problem("\x80"), "invalid UTF-8 lead byte at byte 0");  // lone continuation
    EXPECT_EQ(body_text_problem(std::string(16, 'a') + "\xA9"), "invalid UTF-8 lead byte at byte 16");
}

TEST(BodyText, Base64KeepsEveryByte) {
    EXPECT_EQ(base64_encode(""), "");
    EXPECT_EQ(base64_encode("f"), "Zg==");
    EXPECT_EQ(base64_encode("fo"), "Zm8=");
    EXPECT_EQ(base64_encode("foo"), "Zm9v");
    EXPECT_EQ(base64_encode(std::string("\0\xff", 2)), "AP8=");
}
