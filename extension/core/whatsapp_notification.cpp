// Meta Cloud API notification parsing (see whatsapp_notification.hpp).
//
// Shapes read, per Meta's webhook reference: field "messages" (value.messages[], statuses[],
// errors[]) and field "smb_message_echoes" (value.message_echoes[]). A message may be a new
// customer message, an edit or a revoke of an earlier one, or a message in a group; an event
// that cannot be applied (unknown status value, malformed sender) is kept aside with its
// payload instead of failing the webhook, so one bad event does not cost the others.
#include "core/whatsapp_notification.hpp"

#include <charconv>
#include <cstdint>

#include "core/error.hpp"
#include "core/json_input.hpp"
#include "core/sender_identity.hpp"
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

// The contact entry describing this customer, if the change has one.
const json* find_contact(const json& contacts, const OptionalString& wa_id, const OptionalString& user_id) {
    if (!contacts.is_array()) return nullptr;
    for (const auto& c : contacts) {
        if (user_id && string_at(c, "user_id") == user_id) return &c;
        if (wa_id && string_at(c, "wa_id") == wa_id) return &c;
    }
    return contacts.size() == 1 ? &contacts[0] : nullptr;
}

// Fills what the contacts[] entry knows and the message did not say.
void complete_from_contacts(Sender& s, const json& contacts) {
    const json* c = find_contact(contacts, s.wa_id, s.user_id);
    if (!c) return;
    if (!s.wa_id) s.wa_id = string_at(*c, "wa_id");
    if (!s.user_id) s.user_id = string_at(*c, "user_id");
    if (!s.parent_user_id) s.parent_user_id = string_at(*c, "parent_user_id");
    s.profile_name = string_at(object_at(*c, "profile"), "name");
    s.username = string_at(object_at(*c, "profile"), "username");
}

// Why this identity cannot key a contact, or nothing when it can.
OptionalString identity_problem(const Sender& s, const std::string& where) {
    if (!s.wa_id && !s.user_id) return where + " has neither a phone number nor a BSUID";
    if (s.wa_id && !is_wa_id(*s.wa_id)) return where + ": \"" + *s.wa_id + "\" is not a phone number";
    if (s.user_id && !is_bsuid(*s.user_id)) return where + ": \"" + *s.user_id + "\" is not a BSUID";
    if (s.parent_user_id && !is_bsuid(*s.parent_user_id))
        return where + ": \"" + *s.parent_user_id + "\" is not a parent BSUID";
    return std::nullopt;
}

KeptEvent kept_event(const char* kind, std::string reason, const json& object, const OptionalString& wamid) {
    KeptEvent k;
    k.kind = kind;
    k.reason = std::move(reason);
    k.wamid = wamid;
    k.payload_json = to_json_text(object);
    return k;
}

// Keeps a message aside (a group message, a sender that cannot key a contact) at its own time.
void keep_message(Batch& batch, const char* kind, std::string reason, const json& m, const InboundMessage& msg) {
    KeptEvent k = kept_event(kind, std::move(reason), m, msg.wamid);
    k.occurred_at = msg.sent_at;
    batch.kept.push_back(std::move(k));
}

// Reads the parts every message has: id, type, timestamp, body, reply, media.
InboundMessage read_common(const json& m, const std::string& where) {
    InboundMessage msg;
    auto id = string_at(m, "id");
    if (!id) not_a_notification(where + ".id is missing");
    msg.wamid = *id;
    msg.type = string_at(m, "type").value_or("unknown");
    auto ts = m.find("timestamp");
    if (ts == m.end()) not_a_notification(where + ".timestamp is missing");
    msg.sent_at = parse_unix_seconds(*ts, where + ".timestamp");

    if (msg.type == "edit") {
        // The new content sits in edit.message, shaped like a message of its own type.
        const json& edit = object_at(m, "edit");
        msg.kind = MessageKind::edit;
        msg.target_wamid = string_at(edit, "original_message_id");
        const json& content = object_at(edit, "message");
        msg.body = visible_text(content, string_at(content, "type").value_or(""));
        msg.edit_content_json = to_json_text(content);
        msg.payload_json = to_json_text(m);
        return msg;
    }
    if (msg.type == "revoke") {
        msg.kind = MessageKind::revoke;
        msg.target_wamid = string_at(object_at(m, "revoke"), "original_message_id");
        msg.payload_json = to_json_text(m);
        return msg;
    }
    msg.body = visible_text(m, msg.type);
    msg.reply_to_wamid = string_at(object_at(m, "context"), "id");
    if (is_media(msg.type)) {
        const json& media = object_at(m, msg.type.c_str());
        msg.media_id = string_at(media, "id");
        msg.media_mime = string_at(media, "mime_type");
        msg.media_sha256 = string_at(media, "sha256");
    }
    msg.payload_json = to_json_text(m);
    return msg;
}

// A system message's new identity, per its type (Meta's system messages reference):
// user_changed_number and customer_changed_number carry the new phone in system.wa_id
// (new_wa_id before v12), user_changed_user_id the new BSUID in system.user_id.
void read_system_change(InboundMessage& msg, const json& m) {
    const json& sys = object_at(m, "system");
    auto type = string_at(sys, "type").value_or("");
    msg.new_wa_id = string_at(sys, "new_wa_id");
    if (!msg.new_wa_id && (type == "user_changed_number" || type == "customer_changed_number"))
        msg.new_wa_id = string_at(sys, "wa_id");
    msg.new_user_id = string_at(sys, "new_user_id");
    if (!msg.new_user_id && type == "user_changed_user_id") msg.new_user_id = string_at(sys, "user_id");
    // Meta sends no contacts[] with system messages, and a BSUID change may come without
    // `from`: the previous identity names the contact.
    if (!msg.sender.user_id && !msg.sender.wa_id) {
        msg.sender.user_id = string_at(sys, "previous_user_id");
        msg.sender.wa_id = string_at(sys, "customer");
    }
}

// One value.messages[] entry: a customer message, an edit, a revoke, or a group message.
void read_message(Batch& batch, const json& m, const json& contacts, const std::string& where) {
    if (!m.is_object()) not_a_notification(where + " is not an object");
    InboundMessage msg = read_common(m, where);
    if (auto group = string_at(m, "group_id"))
        return keep_message(batch, kept::group_message, "a message in group " + *group, m, msg);
    msg.sender.wa_id = string_at(m, "from");
    msg.sender.user_id = string_at(m, "from_user_id");
    msg.sender.parent_user_id = string_at(m, "from_parent_user_id");
    if (msg.type == "system") read_system_change(msg, m);
    complete_from_contacts(msg.sender, contacts);

    auto problem = identity_problem(msg.sender, where);
    if (!problem && msg.new_wa_id && !is_wa_id(*msg.new_wa_id))
        problem = where + ".system: the new number \"" + *msg.new_wa_id + "\" is not a phone number";
    if (!problem && msg.new_user_id && !is_bsuid(*msg.new_user_id))
        problem = where + ".system: the new user id \"" + *msg.new_user_id + "\" is not a BSUID";
    if (problem) return keep_message(batch, kept::invalid_sender, *problem, m, msg);
    batch.messages.push_back(std::move(msg));
}

// One value.message_echoes[] entry: a message the business sent from the WhatsApp Business
// app. `from` is the business and `to` the customer; some senders swap them, so the side that
// is the business's own number is the business.
void read_echo(Batch& batch, const json& m, const json& contacts, const std::string& business_number,
               const std::string& where) {
    if (!m.is_object()) not_a_notification(where + " is not an object");
    InboundMessage msg = read_common(m, where);
    if (msg.kind == MessageKind::inbound) msg.kind = MessageKind::echo;
    msg.from_business = true;
    if (auto group = string_at(m, "group_id"))
        return keep_message(batch, kept::group_message, "a message the business sent in group " + *group, m, msg);
    auto from = string_at(m, "from");
    auto to = string_at(m, "to");
    if (to && from && phone_without_punctuation(*to) == business_number &&
        phone_without_punctuation(*from) != business_number)
        std::swap(to, from);
    if (to) msg.sender.wa_id = phone_without_punctuation(*to);
    msg.sender.user_id = string_at(m, "to_user_id");
    msg.sender.parent_user_id = string_at(m, "to_parent_user_id");
    complete_from_contacts(msg.sender, contacts);
    if (auto problem = identity_problem(msg.sender, where + " (the customer)"))
        return keep_message(batch, kept::invalid_sender, *problem, m, msg);
    batch.messages.push_back(std::move(msg));
}

// Statuses with a place on convo's ladder, and those recorded without moving it: `deleted`
// (the message was deleted) and `warning` (Meta warns about its content, e.g. a catalog item
// that is not available).
bool known_status(const std::string& s) {
    return s == "sent" || s == "delivered" || s == "read" || s == "failed" || s == "played" ||
           s == "deleted" || s == "warning";
}

void read_status(Batch& batch, const json& s, const std::string& where) {
    if (!s.is_object()) not_a_notification(where + " is not an object");
    auto id = string_at(s, "id");
    if (!id) not_a_notification(where + ".id is missing");
    auto ts = s.find("timestamp");
    if (ts == s.end()) not_a_notification(where + ".timestamp is missing");
    Micros at = parse_unix_seconds(*ts, where + ".timestamp");
    auto status = string_at(s, "status");
    if (!status || !known_status(*status)) {
        KeptEvent k = kept_event(kept::unknown_status,
                                 status ? where + ": unknown status \"" + *status + "\"" : where + ".status is missing",
                                 s, id);
        k.key_suffix = status.value_or("");
        k.occurred_at = at;
        batch.kept.push_back(std::move(k));
        return;
    }
    StatusEvent st;
    st.wamid = *id;
    st.status = *status;
    st.at = at;
    auto errors = s.find("errors");
    if (errors != s.end() && errors->is_array() && !errors->empty()) {
        const json& code = (*errors)[0].is_object() ? (*errors)[0].value("code", json()) : json();
        if (code.is_number_integer()) st.error_code = code.get<int>();
    }
    st.payload_json = to_json_text(s);
    batch.statuses.push_back(std::move(st));
}

// value.errors[]: a system, app or account problem Meta reports outside any message.
void read_error(Batch& batch, const json& e, const std::string& where) {
    KeptEvent k = kept_event(kept::error, "Meta reported an error at " + where, e, std::nullopt);
    if (e.is_object()) {
        const json code = e.value("code", json());
        if (code.is_number_integer() && code.get<long long>() >= INT32_MIN && code.get<long long>() <= INT32_MAX)
            k.error_code = static_cast<int>(code.get<long long>());
        k.error_title = string_at(e, "title");
        k.error_message = string_at(e, "message");
        k.error_details = string_at(object_at(e, "error_data"), "details");
    }
    batch.kept.push_back(std::move(k));
}

// Calls read(element, where) for each element of value[key], if it is there.
template <typename Read>
void each_of(const json& value, const char* key, const std::string& cwhere, Read read) {
    const json* items = array_at(value, key);
    if (!items) return;
    if (!items->is_array()) not_a_notification(cwhere + ".value." + key + " is not an array");
    for (size_t i = 0; i < items->size(); ++i)
        read((*items)[i], cwhere + ".value." + key + "[" + std::to_string(i) + "]");
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
            auto field = string_at(change, "field").value_or("");
            // Other fields (account_update, templates, calls, history, ...) are not stored.
            if (field != "messages" && field != "smb_message_echoes") {
                ++n.ignored;
                continue;
            }
            const json& value = object_at(change, "value");
            const json& metadata = object_at(value, "metadata");
            auto phone_number_id = string_at(metadata, "phone_number_id");
            if (!phone_number_id) not_a_notification(cwhere + ".value.metadata.phone_number_id is missing");
            std::string business_number = phone_without_punctuation(string_at(metadata, "display_phone_number").value_or(""));

            Batch batch;
            batch.address_kind = AddressKind::phone_number_id;
            batch.address = *phone_number_id;
            const json contacts = value.value("contacts", json::array());
            each_of(value, "messages", cwhere, [&](const json& m, const std::string& where) {
                read_message(batch, m, contacts, where);
            });
            each_of(value, "message_echoes", cwhere, [&](const json& m, const std::string& where) {
                read_echo(batch, m, contacts, business_number, where);
            });
            each_of(value, "statuses", cwhere, [&](const json& s, const std::string& where) {
                read_status(batch, s, where);
            });
            each_of(value, "errors", cwhere, [&](const json& err, const std::string& where) {
                read_error(batch, err, where);
            });
            batch.raw_json = to_json_text(value);
            n.batches.push_back(std::move(batch));
        }
    }
    return n;
}

}  // namespace convo
