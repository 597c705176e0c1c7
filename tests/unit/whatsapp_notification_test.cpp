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
        value["messages"].push_back({{"from", "15550000001"}, {"id", "w" + std::to_string(i)}, {"timestamp", 1}, {"type", "text"}});
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
        message["from"] = "15550000001";
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
    // An unknown value is kept aside; the other statuses of the webhook are still read.
    doc["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] = "exploded";
    Notification flagged = parse_whatsapp_notification(doc);
    ASSERT_EQ(flagged.batches[0].statuses.size(), 1u);
    ASSERT_EQ(flagged.batches[0].kept.size(), 1u);
    EXPECT_EQ(flagged.batches[0].kept[0].kind, kept::unknown_status);
    EXPECT_EQ(flagged.batches[0].kept[0].key_suffix, "exploded");
    EXPECT_EQ(flagged.batches[0].kept[0].wamid, "wamid.o");
}

TEST(WhatsappNotification, DeletedAndWarningAreEventsOfTheirOwn) {
    json doc = notification({{"statuses", {{{"id", "wamid.o"}, {"status", "deleted"}, {"timestamp", "10"}},
                                            {{"id", "wamid.o"}, {"status", "warning"}, {"timestamp", "11"}}}}});
    Notification n = parse_whatsapp_notification(doc);
    ASSERT_EQ(n.batches[0].statuses.size(), 2u);
    EXPECT_EQ(n.batches[0].statuses[0].status, "deleted");
    EXPECT_EQ(n.batches[0].statuses[1].status, "warning");
}

TEST(WhatsappNotification, SystemChangesNameTheNewIdentity) {
    auto system = [](json sys, json extra = json::object()) {
        json m = {{"id", "w"}, {"timestamp", "2"}, {"type", "system"}, {"system", sys}};
        m.update(extra);
        return parse_whatsapp_notification(notification({{"messages", {m}}})).batches[0];
    };
    Batch number = system({{"type", "user_changed_number"}, {"wa_id", "15550000002"}}, {{"from", "15550000001"}});
    ASSERT_EQ(number.messages.size(), 1u);
    EXPECT_EQ(number.messages[0].new_wa_id, "15550000002");
    EXPECT_EQ(number.messages[0].sender.wa_id, "15550000001");
    Batch legacy = system({{"type", "customer_changed_number"}, {"new_wa_id", "15550000003"}}, {{"from", "15550000001"}});
    EXPECT_EQ(legacy.messages[0].new_wa_id, "15550000003");
    // A BSUID change may come without from: the previous BSUID names the contact.
    Batch user = system({{"type", "user_changed_user_id"}, {"user_id", "MX.2"}, {"previous_user_id", "CO.1"}});
    ASSERT_EQ(user.messages.size(), 1u);
    EXPECT_EQ(user.messages[0].sender.user_id, "CO.1");
    EXPECT_EQ(user.messages[0].new_user_id, "MX.2");
    Batch bad = system({{"type", "user_changed_number"}, {"wa_id", "not-a-number"}}, {{"from", "15550000001"}});
    EXPECT_TRUE(bad.messages.empty());
    ASSERT_EQ(bad.kept.size(), 1u);
    EXPECT_EQ(bad.kept[0].kind, kept::invalid_sender);
}

TEST(WhatsappNotification, SendersThatAreNotPhonesAreKeptAside) {
    json doc = notification({{"messages", {{{"from", "<WHATSAPP_USER_PHONE_NUMBER>"}, {"id", "w1"}, {"timestamp", "1"}, {"type", "text"}},
                                           {{"from", "123"}, {"id", "w2"}, {"timestamp", "1"}, {"type", "text"}},
                                           {{"from_user_id", "not a bsuid"}, {"id", "w3"}, {"timestamp", "1"}, {"type", "text"}},
                                           {{"id", "w4"}, {"timestamp", "1"}, {"type", "text"}},
                                           {{"from", "15550000001"}, {"id", "w5"}, {"timestamp", "1"}, {"type", "text"}}}}});
    const Batch b = parse_whatsapp_notification(doc).batches[0];
    ASSERT_EQ(b.messages.size(), 1u);
    EXPECT_EQ(b.messages[0].wamid, "w5");
    ASSERT_EQ(b.kept.size(), 4u);
    for (const KeptEvent& k : b.kept) EXPECT_EQ(k.kind, kept::invalid_sender);
    EXPECT_NE(b.kept[3].reason.find("neither a phone number nor a BSUID"), std::string::npos);
}

TEST(WhatsappNotification, EchoesEditsRevokesGroupsAndErrors) {
    json value = {{"message_echoes", {{{"from", "15557654321"}, {"to", "+1 650 555 1234"}, {"id", "e1"}, {"timestamp", "5"},
                                       {"type", "text"}, {"text", {{"body", "from the app"}}}},
                                      // Some senders swap from and to: the business's own number is the business.
                                      {{"from", "16505551235"}, {"to", "15557654321"}, {"id", "e2"}, {"timestamp", "6"},
                                       {"type", "edit"}, {"edit", {{"original_message_id", "e1"},
                                                                   {"message", {{"type", "text"}, {"text", {{"body", "edited"}}}}}}}}}},
                  {"messages", {{{"from", "16505551234"}, {"id", "r1"}, {"timestamp", "7"}, {"type", "revoke"},
                                 {"revoke", {{"original_message_id", "m0"}}}},
                                {{"from", "16505551234"}, {"group_id", "G1"}, {"id", "g1"}, {"timestamp", "8"}, {"type", "text"}}}},
                  {"errors", {{{"code", 130429}, {"title", "Rate limit hit"}, {"message", "m"}, {"error_data", {{"details", "d"}}}}}}};
    json doc = notification(value, "smb_message_echoes");
    const Batch b = parse_whatsapp_notification(doc).batches[0];
    ASSERT_EQ(b.messages.size(), 3u);
    EXPECT_EQ(b.messages[0].kind, MessageKind::revoke);
    EXPECT_EQ(b.messages[0].target_wamid, "m0");
    EXPECT_FALSE(b.messages[0].from_business);
    EXPECT_EQ(b.messages[1].kind, MessageKind::echo);
    EXPECT_EQ(b.messages[1].sender.wa_id, "16505551234");
    EXPECT_EQ(b.messages[1].body, "from the app");
    EXPECT_EQ(b.messages[2].kind, MessageKind::edit);
    EXPECT_TRUE(b.messages[2].from_business);
    EXPECT_EQ(b.messages[2].sender.wa_id, "16505551235");
    EXPECT_EQ(b.messages[2].body, "edited");
    ASSERT_EQ(b.kept.size(), 2u);
    EXPECT_EQ(b.kept[0].kind, kept::group_message);
    EXPECT_EQ(b.kept[1].kind, kept::error);
    EXPECT_EQ(b.kept[1].error_code, 130429);
    EXPECT_EQ(b.kept[1].error_details, "d");
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
    json no_id = notification({{"messages", {{{"from", "15550000001"}, {"timestamp", "1"}, {"type", "text"}}}}});
    EXPECT_EQ(sqlstate_of(no_id),
              "22023 convo.ingest: not a WhatsApp notification: entry[0].changes[0].value.messages[0].id is missing");
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
