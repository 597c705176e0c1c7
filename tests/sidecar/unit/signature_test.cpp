// Webhook signatures against the published vectors (Meta, Twilio) and bad headers.
#include "webhooks/signature.hpp"

#include <gtest/gtest.h>

using namespace convo::sidecar::webhooks;

namespace {

const FormParams twilio_params = {{"CallSid", "CA1234567890ABCDE"},
                                  {"Caller", "+14158675309"},
                                  {"Digits", "1234"},
                                  {"From", "+14158675309"},
                                  {"To", "+18005551212"}};
const std::string twilio_url = "https://mycompany.com/myapp.php?foo=1&bar=2";

}  // namespace

TEST(MetaSignature, KnownVector) {
    EXPECT_EQ(hmac_sha256_hex("secret", "test"), "0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914");
}

TEST(MetaSignature, AcceptsTheRightHeaderInEitherCase) {
    EXPECT_TRUE(meta_signature_valid("sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914",
                                     "secret", "test"));
    EXPECT_TRUE(meta_signature_valid("sha256=0329A06B62CD16B33EB6792BE8C60B158D89A2EE3A876FCE9A881EBB488C0914",
                                     "secret", "test"));
}

TEST(MetaSignature, RejectsWrongMissingAndMalformed) {
    const std::string good = "0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914";
    EXPECT_FALSE(meta_signature_valid("sha256=" + good, "secret", "test "));        // other body
    EXPECT_FALSE(meta_signature_valid("sha256=" + good, "other", "test"));          // other secret
    EXPECT_FALSE(meta_signature_valid("sha256=" + good, "", "test"));               // no secret configured
    EXPECT_FALSE(meta_signature_valid("", "secret", "test"));                       // missing
    EXPECT_FALSE(meta_signature_valid(good, "secret", "test"));                     // no prefix
    EXPECT_FALSE(meta_signature_valid("sha1=" + good, "secret", "test"));           // wrong algorithm
    EXPECT_FALSE(meta_signature_valid("SHA256=" + good, "secret", "test"));         // prefix is lowercase
    EXPECT_FALSE(meta_signature_valid("sha256=" + good.substr(1), "secret", "test"));  // short
    EXPECT_FALSE(meta_signature_valid("sha256=" + good + "0", "secret", "test"));      // long
    std::string not_hex = good;
    not_hex[10] = 'g';
    EXPECT_FALSE(meta_signature_valid("sha256=" + not_hex, "secret", "test"));
    std::string flipped = good;
    flipped[63] = '5';
    EXPECT_FALSE(meta_signature_valid("sha256=" + flipped, "secret", "test"));
}

TEST(TwilioSignature, PublishedVector) {
    EXPECT_EQ(twilio_signature("12345", twilio_url, twilio_params), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
    EXPECT_TRUE(twilio_signature_valid("RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345", twilio_url, twilio_params));
}

TEST(TwilioSignature, ParameterOrderDoesNotMatter) {
    FormParams reversed(twilio_params.rbegin(), twilio_params.rend());
    EXPECT_TRUE(twilio_signature_valid("RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345", twilio_url, reversed));
}

TEST(TwilioSignature, PortVariants) {
    // Signed with :443 -> accepted on the URL without a port (the default port is added).
    EXPECT_EQ(twilio_signature("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", twilio_params),
              "kvajT1Ptam85bY51eRf/AJRuM3w=");
    EXPECT_TRUE(twilio_signature_valid("kvajT1Ptam85bY51eRf/AJRuM3w=", "12345", twilio_url, twilio_params));
    // Signed without a port -> accepted on the URL with :443.
    EXPECT_TRUE(twilio_signature_valid("RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345",
                                       "https://mycompany.com:443/myapp.php?foo=1&bar=2", twilio_params));
    // http with :1234, signed with the port stripped.
    EXPECT_TRUE(twilio_signature_valid("Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", "12345",
                                       "http://mycompany.com:1234/myapp.php?foo=1&bar=2", twilio_params));
    EXPECT_FALSE(twilio_signature_valid("Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", "12345", twilio_url, twilio_params));
}

TEST(TwilioSignature, UrlVariants) {
    auto [with, without] = twilio_url_variants("https://a.example/x?y=1");
    EXPECT_EQ(with, "https://a.example:443/x?y=1");
    EXPECT_EQ(without, "https://a.example/x?y=1");
    std::tie(with, without) = twilio_url_variants("http://u:p@a.example:8080");
    EXPECT_EQ(with, "http://u:p@a.example:8080");
    EXPECT_EQ(without, "http://u:p@a.example");
    std::tie(with, without) = twilio_url_variants("http://[::1]/x");
    EXPECT_EQ(with, "http://[::1]:80/x");
    EXPECT_EQ(without, "http://[::1]/x");
    std::tie(with, without) = twilio_url_variants("http://[::1]:9/x");
    EXPECT_EQ(without, "http://[::1]/x");
}

TEST(TwilioSignature, MultiValueSortedAndDeduplicated) {
    const FormParams params = {{"Sid", "CA123"}, {"SidAccount", "AC123"}, {"Digits", "5678"},
                               {"Digits", "1234"}, {"Digits", "1234"}};
    EXPECT_TRUE(twilio_signature_valid("IK+Dwps556ElfBT0I3Rgjkr1wJU=", "12345", twilio_url, params));
}

TEST(TwilioSignature, JsonBodyHash) {
    const std::string body = R"({"property": "value", "boolean": true})";
    const std::string hash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
    const std::string url = twilio_url + "&bodySHA256=" + hash;
    EXPECT_TRUE(twilio_signature_valid("a9nBmqA0ju/hNViExpshrM61xv4=", "12345", url, {}, &hash, body));
    EXPECT_FALSE(twilio_signature_valid("a9nBmqA0ju/hNViExpshrM61xv4=", "12345", url, {}, &hash, body + " "));
    const std::string other_hash = std::string(64, '0');
    EXPECT_FALSE(twilio_signature_valid("a9nBmqA0ju/hNViExpshrM61xv4=", "12345", url, {}, &other_hash, body));
}

TEST(TwilioSignature, RejectsWrongMissingAndMalformed) {
    EXPECT_FALSE(twilio_signature_valid("", "12345", twilio_url, twilio_params));
    EXPECT_FALSE(twilio_signature_valid("RSOYDt4T1cUTdK1PDd93/VVr8B8", "12345", twilio_url, twilio_params));
    EXPECT_FALSE(twilio_signature_valid("RSOYDt4T1cUTdK1PDd93/VVr8B8==", "12345", twilio_url, twilio_params));
    EXPECT_FALSE(twilio_signature_valid("RSOYDt4T1cUTdK1PDd93/VVr8B9=", "12345", twilio_url, twilio_params));
    EXPECT_FALSE(twilio_signature_valid("RSOYDt4T1cUTdK1PDd93/VVr8B8=", "54321", twilio_url, twilio_params));
    EXPECT_FALSE(twilio_signature_valid("RSOYDt4T1cUTdK1PDd93/VVr8B8=", "", twilio_url, twilio_params));
    EXPECT_FALSE(twilio_signature_valid("RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345", twilio_url + "&x=1", twilio_params));
    FormParams extra = twilio_params;
    extra.emplace_back("Body", "hi");
    EXPECT_FALSE(twilio_signature_valid("RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345", twilio_url, extra));
}

TEST(SecretEquals, ComparesWholeValues) {
    EXPECT_TRUE(secret_equals("token", "token"));
    EXPECT_FALSE(secret_equals("token", "tokem"));
    EXPECT_FALSE(secret_equals("token", "token2"));
    EXPECT_FALSE(secret_equals("token", ""));
    EXPECT_TRUE(secret_equals("", ""));
}
