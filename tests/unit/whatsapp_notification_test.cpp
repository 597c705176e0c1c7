// Parsing Meta Cloud API notifications into events.
#include "core/whatsapp_notification.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/json_input.hpp"

namespace convo {
namespace {

using nlohmann::json;

json notification(json value, std::string field = "messages") {
    value["metadata"] = {{"display_phone_number", "15557654321"}, {"phone_number_id", "118800223344556"}};
    return {{"object", "whatsapp_business_account"},
            {"entry", {{{"id", "301"}, {"changes", {{{"field", field}, {"value", value}}}}}}}};
}

std::string sqlstate_of(const json& doc) {
    try {
        parse_whatsapp_notification(doc);
    } catch (const Error& e) {
        return e.sqlstate() + " " + e.what();
    }
    return "no error";
}

TEST(WhatsappNotification, TextMessageWithContact) {
    json doc = notification({{"contacts", {{{"profile", {{"name", "Ana Ruiz"}}}, {"wa_id", "5491122334455"}, {"user_id", "AR.1"}}}},
                             {"messages", {{{"from", "5491122334455"}, {"id", "wamid.1"}, {"timestamp", "1761742800"},
                                            {"type", "text"}, {"text", {{"body", "Hola"}}}}}}});
    Notification n = parse_whatsapp_notification(doc);
    ASSERT_EQ(n.batches.size(), 1u);
    const Batch& b = n.batches[0];
    EXPECT_EQ(b.address, "118800223344556");
    EXPECT_EQ(b.address_kind, AddressKind::phone_number_id);
    ASSERT_EQ(b.messages.size(), 1u);
    const InboundMessage& m = b.messages[0];
    EXPECT_EQ(m.wamid, "wamid.1");
    EXPECT_EQ(m.type, "text");
    EXPECT_EQ(m.body, "Hola");
    EXPECT_EQ(m.sent_at, 1761742800LL * 1000000);
    EXPECT_EQ(m.sender.wa_id, "5491122334455");
    EXPECT_EQ(m.sender.user_id, "AR.1");  // taken from contacts[] when the message lacks it
    EXPECT_EQ(m.sender.profile_name, "Ana Ruiz");
    EXPECT_EQ(json::parse(m.payload_json)["text"]["body"], "Hola");
}

TEST(WhatsappNotification, EveryEntryChangeAndMessageIsRead) {
    json value = {{"messages", json::array()}};
    for (int i = 0; i < 3; ++i)
        value["messages"].push_back({{"from", "1"}, {"id", "w" + std::to_string(i)}, {"timestamp", 1}, {"type", "text"}});
    json doc = notification(value);
    doc["entry"].push_back(doc["entry"][0]);
    doc["entry"][1]["changes"].push_back({{"field", "account_update"}, {"value", json::object()}});
    Notification n = parse_whatsapp_notification(doc);
    ASSERT_EQ(n.batches.size(), 2u);
    EXPECT_EQ(n.batches[0].messages.size() + n.batches[1].messages.size(), 6u);
    EXPECT_EQ(n.ignored, 1);
}

TEST(WhatsappNotification, BodiesPerType) {
    auto body_of = [](json message) {
        message["from"] = "1";
        message["id"] = "w";
        message["timestamp"] = "2";
        return parse_whatsapp_notification(notification({{"messages", {message}}})).batches[0].messages[0];
    };
    EXPECT_EQ(body_of({{"type", "image"}, {"image", {{"id", "m"}, {"caption", "c"}, {"mime_type", "image/png"}}}}).body, "c");
    EXPECT_EQ(body_of({{"type", "image"}, {"image", {{"id", "m"}}}}).media_id, "m");
    EXPECT_FALSE(body_of({{"type", "audio"}, {"audio", {{"id", "a"}}}}).body.has_value());
    EXPECT_EQ(body_of({{"type", "interactive"}, {"interactive", {{"type", "list_reply"}, {"list_reply", {{"title", "M"}}}}}}).body, "M");
    EXPECT_EQ(body_of({{"type", "button"}, {"button", {{"text", "Yes"}, {"payload", "y"}}}}).body, "Yes");
    EXPECT_EQ(body_of({{"type", "location"}, {"location", {{"latitude", 1.5}, {"longitude", -2}}}}).body, "1.5,-2");
    EXPECT_EQ(body_of({{"type", "reaction"}, {"reaction", {{"message_id", "x"}, {"emoji", "👍"}}}}).body, "👍");
    EXPECT_EQ(body_of({{"type", "text"}, {"text", {{"body", "r"}}}, {"context", {{"id", "wamid.prev"}}}}).reply_to_wamid,
              "wamid.prev");
    auto sys = body_of({{"type", "system"}, {"system", {{"type", "user_changed_user_id"}, {"user_id", "US.2"}}}});
    EXPECT_EQ(sys.new_user_id, "US.2");
    EXPECT_EQ(body_of({{"type", "brand_new_type"}}).type, "brand_new_type");
}

TEST(WhatsappNotification, StatusesMapToTheLadder) {
    json doc = notification({{"statuses", {{{"id", "wamid.o"}, {"status", "failed"}, {"timestamp", "10"},
                                             {"errors", {{{"code", 131047}, {"title", "Re-engagement"}}}}},
                                            {{"id", "wamid.o"}, {"status", "read"}, {"timestamp", 11}}}}});
    Notification n = parse_whatsapp_notification(doc);
    ASSERT_EQ(n.batches[0].statuses.size(), 2u);
    EXPECT_EQ(n.batches[0].statuses[0].status, "failed");
    EXPECT_EQ(n.batches[0].statuses[0].error_code, 131047);
    EXPECT_EQ(n.batches[0].statuses[1].at, 11 * 1000000LL);
    doc["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] = "exploded";
    EXPECT_EQ(sqlstate_of(doc).substr(0, 5), "22023");
}

TEST(WhatsappNotification, WhatIsMissingIsSaid) {
    EXPECT_EQ(sqlstate_of(json::array()), "22023 convo.ingest: not a WhatsApp notification: the payload is not a JSON object");
    EXPECT_EQ(sqlstate_of({{"entry", json::array()}}), "22023 convo.ingest: not a WhatsApp notification: \"object\" is missing");
    EXPECT_EQ(sqlstate_of({{"object", "whatsapp_business_account"}}),
              "22023 convo.ingest: not a WhatsApp notification: \"entry\" array is missing");
    json no_pnid = notification({{"messages", json::array()}});
    no_pnid["entry"][0]["changes"][0]["value"].erase("metadata");
    EXPECT_EQ(sqlstate_of(no_pnid),
              "22023 convo.ingest: not a WhatsApp notification: entry[0].changes[0].value.metadata.phone_number_id is missing");
    json no_sender = notification({{"messages", {{{"id", "w"}, {"timestamp", "1"}, {"type", "text"}}}}});
    EXPECT_NE(sqlstate_of(no_sender).find("has neither from nor from_user_id"), std::string::npos);
}

TEST(WhatsappNotification, TimestampsAreUnixSeconds) {
    EXPECT_EQ(parse_unix_seconds("1761742800", "t"), 1761742800LL * 1000000);
    EXPECT_EQ(parse_unix_seconds(0, "t"), 0);
    EXPECT_THROW(parse_unix_seconds("1761742800.5", "t"), Error);
    EXPECT_THROW(parse_unix_seconds("", "t"), Error);
    EXPECT_THROW(parse_unix_seconds(-5, "t"), Error);
    EXPECT_THROW(parse_unix_seconds("99999999999999999999999", "t"), Error);
    EXPECT_THROW(parse_unix_seconds(json(), "t"), Error);
}

}  // namespace
}  // namespace convo
