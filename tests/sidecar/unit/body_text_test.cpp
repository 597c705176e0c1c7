// How a body that is not text is kept: base64, every byte.
#include "webhooks/body_text.hpp"

#include <gtest/gtest.h>

using convo::sidecar::webhooks::base64_encode;

TEST(BodyText, Base64KeepsEveryByte) {
    EXPECT_EQ(base64_encode(""), "");
    EXPECT_EQ(base64_encode("f"), "Zg==");
    EXPECT_EQ(base64_encode("fo"), "Zm8=");
    EXPECT_EQ(base64_encode("foo"), "Zm9v");
    EXPECT_EQ(base64_encode(std::string("\0\xff", 2)), "AP8=");
}
