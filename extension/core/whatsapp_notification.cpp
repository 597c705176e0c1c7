// Meta Cloud API notification parsing (see whatsapp_notification.hpp).
#include "core/whatsapp_notification.hpp"

#include <charconv>

#include "core/error.hpp"
#include "core/json_input.hpp"
#include "core/cpp_only.hpp"

namespace convo {
namespace {

using nlohmann::json;

[[noreturn]] void not_a_notification(const std::string& what) {
    throw Error(sqlstate::invalid_parameter, "convo.ingest: not a WhatsApp notification: " + what,
                {}, "expected {\"object\": \"whatsapp_business_account\", \"entry\": [...]}");
}

// The string at key, if it is a non-empty string (numbers are accepted and printed).
OptionalString string_at(const json& obj, const char* key) {
    if (!obj.is_object()) return std::nullopt;
    auto it = obj.find(key);
    if (it == obj.end()) return std::nullopt;
    if (it->is_string()) {
        const auto& s = it->get_ref<const std::string&>();
        if (s.empty()) return std::nullopt;
        return s;
    }
    if (it->is_number()) return it->dump();
    return std::nullopt;
}

const json& object_at(const json& obj, const char* key) {
    static const json empty = json::object();
    if (!obj.is_object()) return empty;
    auto it = obj.find(key);
    return it != obj.end() && it->is_object() ? *it : empty;
}

const json* array_at(const json& obj, const char* key) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
}

// What a reader sees of the message, per type.
OptionalString visible_text(const json& m, const std::string& type) {
    const json& content = object_at(m, type.c_str());
    if (type == "text") return string_at(content, "body");
    if (type == "image" || type == "video" || type == "document") return string_at(content, "caption");
    if (type == "button") return string_at(content, "text");
    if (type == "reaction") return string_at(content, "emoji");
    if (type == "system") return string_at(content, "body");
    if (type == "order") return string_at(content, "text");
    if (type == "interactive") {
        for (const char* reply : {"button_reply", "list_reply"}) {
            auto title = string_at(object_at(content, reply), "title");
            if (title) return title;
        }
        return string_at(object_at(content, "nfm_reply"), "body");
    }
    if (type == "location") {
        auto name = string_at(content, "name");
        auto address = string_at(content, "address");
        if (name && address) return *name + ", " + *address;
        if (name || address) return name ? name : address;
        auto lat = string_at(content, "latitude");
        auto lon = string_at(content, "longitude");
        if (lat && lon) return *lat + "," + *lon;
        return std::nullopt;
    }
    if (type == "contacts") {  // an array, unlike the other types' objects
        auto it = m.find("contacts");
        if (it == m.end() || !it->is_array()) return std::nullopt;
        std::string names;
        for (const auto& c : *it) {
            auto n = string_at(object_at(c, "name"), "formatted_name");
            if (!n) continue;
            if (!names.empty()) names += ", ";
            names += *n;
        }
        if (names.empty()) return std::nullopt;
        return names;
    }
    return std::nullopt;
}

bool is_media(const std::string& type) {
    return type == "image" || type == "audio" || type == "video" || type == "document" ||
           type == "sticker";
}

// The contact entry describing this sender, if the change has one.
const json* find_contact(const json& contacts, const OptionalString& wa_id, const OptionalString& user_id) {
    if (!contacts.is_array()) return nullptr;
    for (const auto& c : contacts) {
        if (user_id && string_at(c, "user_id") == user_id) return &c;
        if (wa_id && string_at(c, "wa_id") == wa_id) return &c;
    }
    return contacts.size() == 1 ? &contacts[0] : nullptr;
}

InboundMessage read_message(const json& m, const json& contacts, const std::string& where) {
    if (!m.is_object()) not_a_notification(where + " is not an object");
    InboundMessage msg;
    auto id = string_at(m, "id");
    if (!id) not_a_notification(where + ".id is missing");
    msg.wamid = *id;
    msg.type = string_at(m, "type").value_or("unknown");

    auto ts = m.find("timestamp");
    if (ts == m.end()) not_a_notification(where + ".timestamp is missing");
    msg.sent_at = parse_unix_seconds(*ts, where + ".timestamp");

    msg.sender.wa_id = string_at(m, "from");
    msg.sender.user_id = string_at(m, "from_user_id");
    msg.sender.parent_user_id = string_at(m, "from_parent_user_id");
    if (const json* c = find_contact(contacts, msg.sender.wa_id, msg.sender.user_id)) {
        if (!msg.sender.wa_id) msg.sender.wa_id = string_at(*c, "wa_id");
        if (!msg.sender.user_id) msg.sender.user_id = string_at(*c, "user_id");
        if (!msg.sender.parent_user_id) msg.sender.parent_user_id = string_at(*c, "parent_user_id");
        msg.sender.profile_name = string_at(object_at(*c, "profile"), "name");
        msg.sender.username = string_at(object_at(*c, "profile"), "username");
    }
    if (!msg.sender.wa_id && !msg.sender.user_id)
        not_a_notification(where + " has neither from nor from_user_id");

    msg.body = visible_text(m, msg.type);
    msg.reply_to_wamid = string_at(object_at(m, "context"), "id");
    if (is_media(msg.type)) {
        const json& media = object_at(m, msg.type.c_str());
        msg.media_id = string_at(media, "id");
        msg.media_mime = string_at(media, "mime_type");
        msg.media_sha256 = string_at(media, "sha256");
    }
    if (msg.type == "system") {
        const json& sys = object_at(m, "system");
        msg.new_wa_id = string_at(sys, "new_wa_id");
        if (!msg.new_wa_id && string_at(sys, "type") == std::string("customer_changed_number"))
            msg.new_wa_id = string_at(sys, "wa_id");
        msg.new_user_id = string_at(sys, "new_user_id");
        if (!msg.new_user_id && string_at(sys, "type") == std::string("user_changed_user_id"))
            msg.new_user_id = string_at(sys, "user_id");
    }
    msg.payload_json = to_json_text(m);
    return msg;
}

// Meta's status names on convo's ladder; unknown names are kept out (22023).
std::string ladder_status(const std::string& s, const std::string& where) {
    if (s == "sent" || s == "delivered" || s == "read" || s == "failed" || s == "played") return s;
    if (s == "deleted" || s == "warning") return "sent";
    throw Error(sqlstate::invalid_parameter, "convo.ingest: unknown status \"" + s + "\" at " + where);
}

StatusEvent read_status(const json& s, const std::string& where) {
    if (!s.is_object()) not_a_notification(where + " is not an object");
    StatusEvent st;
    auto id = string_at(s, "id");
    auto status = string_at(s, "status");
    if (!id) not_a_notification(where + ".id is missing");
    if (!status) not_a_notification(where + ".status is missing");
    st.wamid = *id;
    st.status = ladder_status(*status, where);
    auto ts = s.find("timestamp");
    if (ts == s.end()) not_a_notification(where + ".timestamp is missing");
    st.at = parse_unix_seconds(*ts, where + ".timestamp");
    auto errors = s.find("errors");
    if (errors != s.end() && errors->is_array() && !errors->empty()) {
        const json& code = (*errors)[0].is_object() ? (*errors)[0].value("code", json()) : json();
        if (code.is_number_integer()) st.error_code = code.get<int>();
    }
    st.payload_json = to_json_text(s);
    return st;
}

}  // namespace

Micros parse_unix_seconds(const json& value, const std::string& where) {
    long long seconds = 0;
    bool ok = false;
    if (value.is_number_integer()) {
        seconds = value.get<long long>();
        ok = true;
    } else if (value.is_string()) {
        const auto& s = value.get_ref<const std::string&>();
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), seconds);
        ok = ec == std::errc() && end == s.data() + s.size() && !s.empty();
    }
    // Between 1970 and 2200: anything else is not a WhatsApp timestamp.
    if (!ok || seconds < 0 || seconds > 7'258'118'400LL)
        throw Error(sqlstate::invalid_parameter,
                    "convo.ingest: " + where + " is not a Unix timestamp in seconds: " + value.dump());
    return seconds * kMicrosPerSecond;
}

Notification parse_whatsapp_notification(const json& doc) {
    if (!doc.is_object()) not_a_notification("the payload is not a JSON object");
    auto object = string_at(doc, "object");
    if (!object) not_a_notification("\"object\" is missing");
    if (*object != "whatsapp_business_account")
        not_a_notification("\"object\" is \"" + *object + "\", not \"whatsapp_business_account\"");
    const json* entries = array_at(doc, "entry");
    if (!entries || !entries->is_array()) not_a_notification("\"entry\" array is missing");

    Notification n;
    for (size_t e = 0; e < entries->size(); ++e) {
        const json& entry = (*entries)[e];
        std::string ewhere = "entry[" + std::to_string(e) + "]";
        const json* changes = entry.is_object() ? array_at(entry, "changes") : nullptr;
        if (!changes || !changes->is_array()) not_a_notification(ewhere + ".changes array is missing");
        for (size_t c = 0; c < changes->size(); ++c) {
            const json& change = (*changes)[c];
            std::string cwhere = ewhere + ".changes[" + std::to_string(c) + "]";
            if (!change.is_object()) not_a_notification(cwhere + " is not an object");
            if (string_at(change, "field") != std::string("messages")) {
                ++n.ignored;
                continue;
            }
            const json& value = object_at(change, "value");
            auto phone_number_id = string_at(object_at(value, "metadata"), "phone_number_id");
            if (!phone_number_id) not_a_notification(cwhere + ".value.metadata.phone_number_id is missing");

            Batch batch;
            batch.address_kind = AddressKind::phone_number_id;
            batch.address = *phone_number_id;
            const json contacts = value.value("contacts", json::array());
            if (const json* messages = array_at(value, "messages")) {
                if (!messages->is_array()) not_a_notification(cwhere + ".value.messages is not an array");
                for (size_t i = 0; i < messages->size(); ++i)
                    batch.messages.push_back(read_message((*messages)[i], contacts,
                                                          cwhere + ".value.messages[" + std::to_string(i) + "]"));
            }
            if (const json* statuses = array_at(value, "statuses")) {
                if (!statuses->is_array()) not_a_notification(cwhere + ".value.statuses is not an array");
                for (size_t i = 0; i < statuses->size(); ++i)
                    batch.statuses.push_back(
                        read_status((*statuses)[i], cwhere + ".value.statuses[" + std::to_string(i) + "]"));
            }
            batch.raw_json = to_json_text(value);
            n.batches.push_back(std::move(batch));
        }
    }
    return n;
}

}  // namespace convo
