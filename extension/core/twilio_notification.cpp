// Twilio webhook parsing (see twilio_notification.hpp). Field names: Twilio's Messaging
// webhook (MessageSid, From, To, Body, NumMedia, MediaUrlN, WaId, ProfileName, ...).
#include "core/twilio_notification.hpp"

#include "core/error.hpp"
#include "core/form_urlencoded.hpp"
#include "core/json_input.hpp"
#include "core/cpp_only.hpp"

namespace convo {
namespace {

using nlohmann::json;

[[noreturn]] void not_a_webhook(const std::string& what) {
    throw Error(sqlstate::invalid_parameter, "convo.ingest: not a Twilio WhatsApp webhook: " + what);
}

OptionalString field(const json& f, const char* name) {
    auto it = f.find(name);
    if (it == f.end() || !it->is_string()) return std::nullopt;
    const auto& s = it->get_ref<const std::string&>();
    if (s.empty()) return std::nullopt;
    return s;
}

// "whatsapp:+5491122334455" → "5491122334455".
std::string digits(const std::string& address) {
    std::string out;
    for (char c : address.substr(address.rfind(':') == std::string::npos ? 0 : address.rfind(':') + 1))
        if (c >= '0' && c <= '9') out.push_back(c);
    return out;
}

std::optional<std::string> ladder_status(const std::string& s) {
    if (s == "queued" || s == "accepted" || s == "scheduled") return "accepted";
    if (s == "sending" || s == "sent") return "sent";
    if (s == "delivered" || s == "read") return s;
    if (s == "failed" || s == "undelivered") return "failed";
    return std::nullopt;  // receiving/received/canceled: not an outbound delivery status
}

std::string media_type(const std::string& mime) {
    if (mime.rfind("image/webp", 0) == 0) return "sticker";
    if (mime.rfind("image/", 0) == 0) return "image";
    if (mime.rfind("audio/", 0) == 0) return "audio";
    if (mime.rfind("video/", 0) == 0) return "video";
    return "document";
}

}  // namespace

json twilio_form_to_json(std::string_view body) {
    json f = json::object();
    for (auto& [name, value] : parse_form_urlencoded(body)) f[name] = value;  // last wins
    // Round trip through text: percent escapes may have produced invalid UTF-8, replaced here.
    json clean = json::parse(to_json_text(f));
    strip_nul_characters(clean);
    return clean;
}

Notification parse_twilio_notification(const json& f, Micros received_at) {
    if (!f.is_object()) not_a_webhook("the payload is not an object of form fields");
    auto sid = field(f, "MessageSid");
    if (!sid) sid = field(f, "SmsMessageSid");
    if (!sid) not_a_webhook("MessageSid is missing");
    auto from = field(f, "From");
    auto to = field(f, "To");

    Notification n;
    Batch batch;
    batch.address_kind = AddressKind::phone_number;
    batch.raw_json = to_json_text(f);

    auto status = field(f, "MessageStatus");
    if (!status) status = field(f, "SmsStatus");
    auto ladder = status ? ladder_status(*status) : std::nullopt;
    if (ladder) {
        // A status callback about a message the business sent: From is the business.
        if (!from) not_a_webhook("From is missing");
        batch.address = digits(*from);
        StatusEvent st;
        st.wamid = *sid;
        st.status = *ladder;
        st.at = received_at;
        if (auto code = field(f, "ErrorCode")) {
            try {
                st.error_code = std::stoi(*code);
            } catch (const std::exception&) {
                // A non-numeric code stays in the payload only.
            }
        }
        st.payload_json = batch.raw_json;
        batch.statuses.push_back(std::move(st));
    } else {
        if (!to) not_a_webhook("To is missing");
        if (!from && !field(f, "WaId")) not_a_webhook("From is missing");
        batch.address = digits(*to);
        InboundMessage m;
        m.wamid = *sid;
        m.sent_at = received_at;
        m.sender.wa_id = field(f, "WaId");
        if (!m.sender.wa_id) m.sender.wa_id = digits(*from);
        m.sender.profile_name = field(f, "ProfileName");
        m.body = field(f, "Body");
        m.reply_to_wamid = field(f, "OriginalRepliedMessageSid");
        int num_media = 0;
        if (auto nm = field(f, "NumMedia")) {
            try {
                num_media = std::stoi(*nm);
            } catch (const std::exception&) {
                num_media = 0;
            }
        }
        if (num_media > 0) {
            m.media_mime = field(f, "MediaContentType0");
            m.media_id = field(f, "MediaUrl0");
            m.type = media_type(m.media_mime.value_or(""));
        } else if (field(f, "Latitude") && field(f, "Longitude")) {
            m.type = "location";
            if (!m.body) m.body = *field(f, "Latitude") + "," + *field(f, "Longitude");
        } else if (field(f, "ButtonPayload") || field(f, "ButtonText")) {
            m.type = "button";
            if (auto t = field(f, "ButtonText")) m.body = t;
        } else {
            m.type = "text";
        }
        // Click-to-WhatsApp referrals arrive as Referral* fields; keep them under "referral"
        // like Meta's payload so one trigger handles both.
        json payload = f;
        json referral = json::object();
        for (auto it = f.begin(); it != f.end(); ++it)
            if (it.key().rfind("Referral", 0) == 0 && it.key() != "ReferralNumMedia")
                referral[it.key().substr(8)] = it.value();
        if (!referral.empty()) {
            if (!referral.contains("source_type")) referral["source_type"] = "ad";
            payload["referral"] = referral;
        }
        m.payload_json = to_json_text(payload);
        batch.messages.push_back(std::move(m));
    }
    if (batch.address.empty()) not_a_webhook("the business number is not a phone number");
    n.batches.push_back(std::move(batch));
    return n;
}

}  // namespace convo
