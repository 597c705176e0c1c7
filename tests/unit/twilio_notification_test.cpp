// Parsing Twilio webhooks (inbound messages and status callbacks) into events.
#include "core/twilio_notification.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/sender_identity.hpp"

namespace convo {
namespace {

using nlohmann::json;

constexpr Micros kNow = 1765000000LL * 1000000;

Batch parse(json fields) { return parse_twilio_notification(fields, kNow).batches.at(0); }

json inbound(json extra) {
    json f = {{"MessageSid", "SM1"}, {"To", "whatsapp:+15557654321"}, {"SmsStatus", "received"}};
    f.update(extra);
    return f;
}

TEST(TwilioNotification, PhoneSender) {
    Batch b = parse(inbound({{"From", "whatsapp:+5491122334455"}, {"WaId", "5491122334455"}, {"Body", "Hola"}}));
    EXPECT_EQ(b.address, "15557654321");
    ASSERT_EQ(b.messages.size(), 1u);
    EXPECT_EQ(b.messages[0].sender.wa_id, "5491122334455");
    EXPECT_FALSE(b.messages[0].sender.user_id.has_value());
    EXPECT_EQ(b.messages[0].type, "text");
    EXPECT_EQ(b.messages[0].sent_at, kNow);
}

TEST(TwilioNotification, BsuidSenderIsNeverAPhone) {
    Batch b = parse(inbound({{"From", "whatsapp:US.1234"}, {"Body", "hi"}}));
    ASSERT_EQ(b.messages.size(), 1u);
    EXPECT_EQ(b.messages[0].sender.user_id, "US.1234");
    EXPECT_FALSE(b.messages[0].sender.wa_id.has_value());
    Batch external = parse(inbound({{"From", "whatsapp:+5491122334455"}, {"ExternalUserId", "AR.77"}}));
    EXPECT_EQ(external.messages[0].sender.user_id, "AR.77");
    EXPECT_EQ(external.messages[0].sender.wa_id, "5491122334455");
    Batch other = parse(inbound({{"From", "whatsapp:+5491122334455"}, {"ExternalUserId", "user-77"}}));
    ASSERT_EQ(other.messages.size(), 1u);
    EXPECT_FALSE(other.messages[0].sender.user_id.has_value());
}

TEST(TwilioNotification, MalformedSenderIsKeptAside) {
    Batch b = parse(inbound({{"From", "whatsapp:+12ab"}}));
    EXPECT_TRUE(b.messages.empty());
    ASSERT_EQ(b.kept.size(), 1u);
    EXPECT_EQ(b.kept[0].kind, kept::invalid_sender);
    EXPECT_EQ(b.kept[0].wamid, "SM1");
}

TEST(TwilioNotification, EveryMediaIsKept) {
    Batch b = parse(inbound({{"From", "whatsapp:+5491122334455"}, {"NumMedia", "2"},
                             {"MediaUrl0", "https://m/0"}, {"MediaContentType0", "audio/ogg"},
                             {"MediaUrl1", "https://m/1"}, {"MediaContentType1", "image/jpeg"}}));
    const InboundMessage& m = b.messages.at(0);
    EXPECT_EQ(m.type, "audio");
    EXPECT_EQ(m.media_id, "https://m/0");
    json payload = json::parse(m.payload_json);
    ASSERT_EQ(payload["media"].size(), 2u);
    EXPECT_EQ(payload["media"][1]["url"], "https://m/1");
    EXPECT_EQ(payload["media"][1]["content_type"], "image/jpeg");
}

TEST(TwilioNotification, MediaWithoutNumMediaAreCounted) {
    Batch b = parse(inbound({{"From", "whatsapp:+5491122334455"}, {"MediaUrl0", "https://m/0"},
                             {"MediaContentType0", "video/mp4"}, {"MediaUrl1", "https://m/1"}}));
    EXPECT_EQ(b.messages.at(0).type, "video");
    EXPECT_EQ(json::parse(b.messages.at(0).payload_json)["media"].size(), 2u);
}

TEST(TwilioNotification, LocationAndButton) {
    Batch loc = parse(inbound({{"From", "whatsapp:+5491122334455"}, {"Latitude", "-34.6"}, {"Longitude", "-58.4"},
                               {"Label", "Oficina"}}));
    EXPECT_EQ(loc.messages.at(0).type, "location");
    EXPECT_EQ(loc.messages.at(0).body, "Oficina");
    Batch button = parse(inbound({{"From", "whatsapp:+5491122334455"}, {"ButtonText", "Yes"}, {"ButtonPayload", "y"}}));
    EXPECT_EQ(button.messages.at(0).type, "button");
    EXPECT_EQ(button.messages.at(0).body, "Yes");
    Batch list = parse(inbound({{"From", "whatsapp:+5491122334455"}, {"Body", "Talle M"}, {"ListId", "size_m"},
                                {"ListTitle", "Talle M"}}));
    EXPECT_EQ(list.messages.at(0).type, "interactive");
    EXPECT_EQ(list.messages.at(0).body, "Talle M");
}

TEST(TwilioNotification, SmsIsNotWhatsapp) {
    Batch b = parse({{"MessageSid", "SM2"}, {"From", "+5491122334455"}, {"To", "+15557654321"}, {"Body", "sms"}});
    EXPECT_TRUE(b.messages.empty());
    ASSERT_EQ(b.kept.size(), 1u);
    EXPECT_EQ(b.kept[0].kind, kept::sms);
    EXPECT_EQ(b.address, "15557654321");
}

TEST(TwilioNotification, StatusCallbacks) {
    json f = {{"MessageSid", "SM3"}, {"From", "whatsapp:+15557654321"}, {"To", "whatsapp:+5491122334455"},
              {"MessageStatus", "undelivered"}, {"ErrorCode", "63016"}};
    Batch b = parse(f);
    ASSERT_EQ(b.statuses.size(), 1u);
    EXPECT_EQ(b.statuses[0].status, "failed");
    EXPECT_EQ(b.statuses[0].error_code, 63016);
    EXPECT_EQ(b.address, "15557654321");
    f["MessageStatus"] = "teleported";
    Batch unknown = parse(f);
    EXPECT_TRUE(unknown.statuses.empty());
    ASSERT_EQ(unknown.kept.size(), 1u);
    EXPECT_EQ(unknown.kept[0].kind, kept::unknown_status);
}

TEST(TwilioNotification, WhatIsMissingIsSaid) {
    EXPECT_THROW(parse({{"From", "whatsapp:+1"}}), Error);
    EXPECT_THROW(parse(inbound({{"From", "whatsapp:+5491122334455"}, {"To", "whatsapp:business"}})), Error);
}

TEST(SenderIdentity, Shapes) {
    EXPECT_TRUE(is_wa_id("5491122334455"));
    EXPECT_TRUE(is_wa_id("2901234"));
    EXPECT_FALSE(is_wa_id("123456"));
    EXPECT_FALSE(is_wa_id("1234567890123456"));
    EXPECT_FALSE(is_wa_id("+5491122334455"));
    EXPECT_FALSE(is_wa_id("549 1122334455"));
    EXPECT_TRUE(is_bsuid("US.13491208655302741918"));
    EXPECT_TRUE(is_bsuid("US.ENT.11815799212886844830"));
    EXPECT_TRUE(is_bsuid("US.1234"));
    EXPECT_FALSE(is_bsuid("us.1234"));
    EXPECT_FALSE(is_bsuid("US."));
    EXPECT_FALSE(is_bsuid("US.12-34"));
    EXPECT_FALSE(is_bsuid("US.ENT."));
    EXPECT_FALSE(is_bsuid("US." + std::string(129, '1')));
}

}  // namespace
}  // namespace convo
