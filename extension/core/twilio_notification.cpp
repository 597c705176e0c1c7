// Twilio webhook parsing (see twilio_notification.hpp). Field names: Twilio's Messaging
// webhook (MessageSid, From, To, Body, NumMedia, MediaUrlN, MediaContentTypeN, WaId,
// ProfileName, Latitude, Longitude, ButtonText, ListTitle, ...) and status callback (MessageStatus,
// ErrorCode).
//
// Addresses: WhatsApp senders are "whatsapp:+<E.164>", or "whatsapp:<BSUID>" for a user Twilio
// names by business-scoped user id (letters, a dot, digits): that is a user_id, never a phone
// with its letters stripped. An address without the "whatsapp:" prefix is SMS or MMS.
#include "core/twilio_notification.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/form_urlencoded.hpp"
#include "core/json_input.hpp"
#include "core/sender_identity.hpp"
#include "core/cpp_only.hpp"

namespace convo {
namespace {

using nlohmann::json;

constexpr std::string_view kWhatsappPrefix = "whatsapp:";
constexpr int kMaxMedia = 10;  // Twilio delivers at most 10 media per message

[[noreturn]] void not_a_webhook(const std::string& what) {
    throw Error(sqlstate::invalid_parameter, "convo.ingest: not a Twilio WhatsApp webhook: " + what);
}

OptionalString field(const json& f, const std::string& name) {
    auto it = f.find(name);
    if (it == f.end() || !it->is_string()) return std::nullopt;
    const auto& s = it->get_ref<const std::string&>();
    if (s.empty()) return std::nullopt;
    return s;
}

bool is_whatsapp_address(const OptionalString& a) {
    return a && a->compare(0, kWhatsappPrefix.size(), kWhatsappPrefix) == 0;
}

// An address without its channel prefix: "whatsapp:+5491122334455" → "+5491122334455".
std::string without_channel(const std::string& address) {
    auto colon = address.find(':');
    return colon == std::string::npos ? address : address.substr(colon + 1);
}

// "whatsapp:+5491122334455" → "5491122334455"; empty when it is not a phone number.
std::string phone_digits(const std::string& address) {
    std::string digits = phone_without_punctuation(without_channel(address));
    return is_wa_id(digits) ? digits : std::string();
}

// Twilio's MessageStatus on convo's ladder. Inbound webhooks say received (or receiving).
std::optional<std::string> ladder_status(const std::string& s) {
    if (s == "queued" || s == "accepted" || s == "scheduled") return "accepted";
    if (s == "sending" || s == "sent") return "sent";
    if (s == "delivered" || s == "read") return s;
    if (s == "failed" || s == "undelivered" || s == "canceled") return "failed";
    return std::nullopt;
}

std::string media_type(const std::string& mime) {
    if (mime.rfind("image/webp", 0) == 0) return "sticker";
    if (mime.rfind("image/", 0) == 0) return "image";
    if (mime.rfind("audio/", 0) == 0) return "audio";
    if (mime.rfind("video/", 0) == 0) return "video";
    return "document";
}

// NumMedia, or, when it is missing or not a number, as many MediaUrlN as there are.
int media_count(const json& f) {
    if (auto nm = field(f, "NumMedia")) {
        try {
            return std::clamp(std::stoi(*nm), 0, kMaxMedia);
        } catch (const std::exception&) {
            // counted below
        }
    }
    int n = 0;
    while (n < kMaxMedia && field(f, "MediaUrl" + std::to_string(n))) ++n;
    return n;
}

// The customer of an inbound message: From is "whatsapp:+<phone>" or "whatsapp:<BSUID>";
// WaId carries the phone and ExternalUserId the BSUID when Twilio knows them.
Sender customer_of(const json& f, const OptionalString& from, std::string& problem) {
    Sender s;
    s.profile_name = field(f, "ProfileName");
    std::string bare = from ? without_channel(*from) : std::string();
    if (is_bsuid(bare)) {
        s.user_id = bare;
    } else if (!bare.empty()) {
        std::string digits = phone_digits(bare);
        if (digits.empty()) problem = "From \"" + *from + "\" is neither a phone number nor a BSUID";
        else s.wa_id = digits;
    }
    if (auto wa = field(f, "WaId")) {
        if (is_wa_id(*wa)) s.wa_id = *wa;
        else if (is_bsuid(*wa) && !s.user_id) s.user_id = *wa;
        else problem = "WaId \"" + *wa + "\" is not a phone number";
    }
    // Any other shape of ExternalUserId stays in the payload only: the sender is still known.
    if (auto external = field(f, "ExternalUserId"); external && is_bsuid(*external)) s.user_id = *external;
    if (problem.empty() && !s.wa_id && !s.user_id) problem = "From is missing";
    return s;
}

// An inbound WhatsApp message. Every MediaUrlN/MediaContentTypeN is kept, in the payload's
// "media" array; the first one also fills the media columns.
InboundMessage inbound_message(const json& f, const std::string& sid, Sender sender, Micros received_at) {
    InboundMessage m;
    m.wamid = sid;
    m.sent_at = received_at;
    m.sender = std::move(sender);
    m.body = field(f, "Body");
    m.reply_to_wamid = field(f, "OriginalRepliedMessageSid");
    json payload = f;
    json media = json::array();
    for (int i = 0; i < media_count(f); ++i) {
        auto url = field(f, "MediaUrl" + std::to_string(i));
        if (!url) continue;
        auto mime = field(f, "MediaContentType" + std::to_string(i));
        media.push_back({{"url", *url}, {"content_type", mime ? json(*mime) : json()}});
        if (!m.media_id) {
            m.media_id = url;
            m.media_mime = mime;
        }
    }
    if (!media.empty()) {
        payload["media"] = media;
        m.type = media_type(m.media_mime.value_or(""));
    } else if (field(f, "Latitude") && field(f, "Longitude")) {
        m.type = "location";
        if (!m.body) m.body = field(f, "Label");
        if (!m.body) m.body = field(f, "Address");
        if (!m.body) m.body = *field(f, "Latitude") + "," + *field(f, "Longitude");
    } else if (field(f, "ButtonPayload") || field(f, "ButtonText")) {
        m.type = "button";
        if (auto t = field(f, "ButtonText")) m.body = t;
    } else if (field(f, "ListId") || field(f, "ListTitle")) {
        // A list picker choice (Content API twilio/list-picker), like Meta's list_reply.
        m.type = "interactive";
        if (auto t = field(f, "ListTitle")) m.body = t;
    } else {
        m.type = "text";
    }
    // Click-to-WhatsApp referrals arrive as Referral* fields; keep them under "referral"
    // like Meta's payload so one trigger handles both.
    json referral = json::object();
    for (auto it = f.begin(); it != f.end(); ++it)
        if (it.key().rfind("Referral", 0) == 0 && it.key() != "ReferralNumMedia")
            referral[it.key().substr(8)] = it.value();
    if (!referral.empty()) {
        if (!referral.contains("source_type")) referral["source_type"] = "ad";
        payload["referral"] = referral;
    }
    m.payload_json = to_json_text(payload);
    return m;
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
    bool callback = status && *status != "received" && *status != "receiving";
    // A status callback is about a message the business sent: From is the business.
    const OptionalString& business = callback ? from : to;
    const OptionalString& customer = callback ? to : from;
    if (!business) not_a_webhook(callback ? "From is missing" : "To is missing");
    batch.address = phone_digits(*business);
    if (batch.address.empty()) not_a_webhook("the business number is not a phone number");

    bool whatsapp = is_whatsapp_address(from) || is_whatsapp_address(to) ||
                    field(f, "ChannelPrefix") == std::string("whatsapp");
    if (!whatsapp) {
        // SMS and MMS reach the same number but are not WhatsApp: no conversation, no window.
        KeptEvent k;
        k.kind = kept::sms;
        k.reason = callback ? "an SMS status callback (no whatsapp: address)" : "an SMS message (no whatsapp: address)";
        k.wamid = sid;
        k.key_suffix = status.value_or("");
        k.occurred_at = received_at;
        k.payload_json = batch.raw_json;
        batch.kept.push_back(std::move(k));
    } else if (callback) {
        auto ladder = ladder_status(*status);
        if (!ladder) {
            KeptEvent k;
            k.kind = kept::unknown_status;
            k.reason = "unknown MessageStatus \"" + *status + "\"";
            k.wamid = sid;
            k.key_suffix = *status;
            k.occurred_at = received_at;
            k.payload_json = batch.raw_json;
            batch.kept.push_back(std::move(k));
        } else {
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
        }
    } else {
        std::string problem;
        Sender sender = customer_of(f, customer, problem);
        if (!problem.empty()) {
            KeptEvent k;
            k.kind = kept::invalid_sender;
            k.reason = problem;
            k.wamid = sid;
            k.occurred_at = received_at;
            k.payload_json = batch.raw_json;
            batch.kept.push_back(std::move(k));
        } else {
            batch.messages.push_back(inbound_message(f, *sid, std::move(sender), received_at));
        }
    }
    n.batches.push_back(std::move(batch));
    return n;
}

}  // namespace convo
