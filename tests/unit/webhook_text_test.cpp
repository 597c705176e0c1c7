// Raw webhook text: JSON with NUL escapes, form bodies, Twilio fields.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/form_urlencoded.hpp"
#include "core/json_input.hpp"
#include "core/twilio_notification.hpp"

namespace convo {
namespace {

using nlohmann::json;

TEST(WebhookJson, NulEscapesAreDroppedEverywhere) {
    json doc = parse_webhook_json(R"({"a\u0000b": ["x\u0000y", {"k": "\u0000"}]})");
    EXPECT_TRUE(doc.contains("ab"));
    EXPECT_EQ(doc["ab"][0], "xy");
    EXPECT_EQ(doc["ab"][1]["k"], "");
}

TEST(WebhookJson, MalformedJsonIs22P02) {
    for (const char* bad : {"", "{", "{\"a\": }", "[1,2", "nul", "{\"a\": \"\\ud800\"}"}) {
        try {
            parse_webhook_json(bad);
            ADD_FAILURE() << "accepted: " << bad;
        } catch (const Error& e) {
            EXPECT_EQ(e.sqlstate(), "22P02") << bad;
        }
    }
}

TEST(WebhookJson, InvalidUtf8IsReplacedOnOutput) {
    json doc = std::string("ok\xff");
    EXPECT_EQ(to_json_text(doc), "\"ok\xEF\xBF\xBD\"");
}

TEST(FormUrlencoded, DecodesPlusPercentAndRepeats) {
    auto f = parse_form_urlencoded("To=whatsapp%3A%2B1555&Body=hola+mundo%21&Body=2&Empty=&Flag");
    ASSERT_EQ(f.size(), 5u);
    EXPECT_EQ(f[0], (std::pair<std::string, std::string>{"To", "whatsapp:+1555"}));
    EXPECT_EQ(f[1].second, "hola mundo!");
    EXPECT_EQ(f[2].second, "2");
    EXPECT_EQ(f[3].second, "");
    EXPECT_EQ(f[4].first, "Flag");
    EXPECT_TRUE(parse_form_urlencoded("").empty());
    EXPECT_THROW(parse_form_urlencoded("a=%G1"), Error);
    EXPECT_THROW(parse_form_urlencoded("a=%4"), Error);
}

TEST(Twilio, InboundTextAndMedia) {
    json f = twilio_form_to_json(
        "MessageSid=SM1&SmsStatus=received&From=whatsapp%3A%2B5491100000001&To=whatsapp%3A%2B15550001"
        "&Body=hi%00there&WaId=5491100000001&ProfileName=Bo&NumMedia=0");
    Notification n = parse_twilio_notification(f, 42);
    ASSERT_EQ(n.batches.size(), 1u);
    EXPECT_EQ(n.batches[0].address, "15550001");
    EXPECT_EQ(n.batches[0].address_kind, AddressKind::phone_number);
    const InboundMessage& m = n.batches[0].messages.at(0);
    EXPECT_EQ(m.wamid, "SM1");
    EXPECT_EQ(m.type, "text");
    EXPECT_EQ(m.body, "hithere");  // %00 dropped like \u0000
    EXPECT_EQ(m.sent_at, 42);
    EXPECT_EQ(m.sender.wa_id, "5491100000001");
    EXPECT_EQ(m.sender.profile_name, "Bo");

    json media = {{"MessageSid", "MM2"}, {"From", "whatsapp:+15550000001"}, {"To", "whatsapp:+15550000002"}, {"NumMedia", "1"},
                  {"MediaContentType0", "audio/ogg"}, {"MediaUrl0", "https://x/y"}};
    EXPECT_EQ(parse_twilio_notification(media, 0).batches[0].messages[0].type, "audio");
}

TEST(Twilio, StatusCallbackRoutesByTheBusinessNumber) {
    json f = {{"MessageSid", "SM3"}, {"MessageStatus", "undelivered"}, {"ErrorCode", "63016"},
              {"From", "whatsapp:+15550001"}, {"To", "whatsapp:+5491100000001"}};
    Notification n = parse_twilio_notification(f, 0);
    EXPECT_EQ(n.batches[0].address, "15550001");
    ASSERT_EQ(n.batches[0].statuses.size(), 1u);
    EXPECT_EQ(n.batches[0].statuses[0].status, "failed");
    EXPECT_EQ(n.batches[0].statuses[0].error_code, 63016);
}

TEST(Twilio, ReferralFieldsBecomeAReferral) {
    json f = {{"MessageSid", "SM4"}, {"From", "whatsapp:+15550000001"}, {"To", "whatsapp:+15550000002"}, {"Body", "ad"},
              {"ReferralSourceId", "ad-1"}, {"ReferralNumMedia", "0"}};
    json payload = json::parse(parse_twilio_notification(f, 0).batches[0].messages[0].payload_json);
    EXPECT_EQ(payload["referral"]["SourceId"], "ad-1");
    EXPECT_EQ(payload["referral"]["source_type"], "ad");
}

TEST(Twilio, MissingFieldsAreErrors) {
    EXPECT_THROW(parse_twilio_notification(json{{"From", "whatsapp:+1"}, {"To", "whatsapp:+2"}}, 0), Error);
    EXPECT_THROW(parse_twilio_notification(json{{"MessageSid", "SM"}, {"From", "whatsapp:+1"}}, 0), Error);
    EXPECT_THROW(parse_twilio_notification(json{{"MessageSid", "SM"}, {"From", "x"}, {"To", "whatsapp:"}}, 0), Error);
    EXPECT_THROW(parse_twilio_notification(json::array(), 0), Error);
}

}  // namespace
}  // namespace convo
