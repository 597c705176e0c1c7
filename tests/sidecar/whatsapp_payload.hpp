// A WhatsApp Cloud API inbound text notification, as Meta delivers it: one entry, one change,
// one contact, one text message. Built by hand (no JSON library) so the load generator can make
// thousands a second; `text_json` is inserted as is and must already be a JSON string's content
// (escaped). Non-ASCII goes as \uXXXX escapes, as on Meta's wire.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace convo::sidecar_tests {

struct TextMessage {
    std::string phone_number_id;
    std::string display_phone_number = "15550100200";
    std::string wa_id;            // the customer's number, digits
    std::string profile_name;     // plain ASCII
    std::string wamid;
    std::int64_t timestamp = 0;   // Unix seconds
    std::string text_json;        // escaped JSON string content
};

inline std::string whatsapp_text_notification(const TextMessage& m) {
    std::string out;
    out.reserve(640 + m.text_json.size());
    out += R"({"object":"whatsapp_business_account","entry":[{"id":"301234567890123","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":")";
    out += m.display_phone_number;
    out += R"(","phone_number_id":")";
    out += m.phone_number_id;
    out += R"("},"contacts":[{"profile":{"name":")";
    out += m.profile_name;
    out += R"("},"wa_id":")";
    out += m.wa_id;
    out += R"("}],"messages":[{"from":")";
    out += m.wa_id;
    out += R"(","id":")";
    out += m.wamid;
    out += R"(","timestamp":")";
    out += std::to_string(m.timestamp);
    out += R"(","type":"text","text":{"body":")";
    out += m.text_json;
    out += R"("}}]}}]}]})";
    return out;
}

}  // namespace convo::sidecar_tests
