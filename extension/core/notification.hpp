// A webhook notification reduced to what convo stores: inbound messages, messages the business
// sent from the WhatsApp Business app (echoes), edits and deletions of earlier messages, status
// events, and the events kept aside (Meta's errors, group messages, events that cannot be
// applied), grouped by the business number they concern. Parsers (whatsapp_notification,
// twilio_notification) produce it; api/ingest.cpp writes it to the tables.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/time.hpp"

namespace convo {

using OptionalString = std::optional<std::string>;

// The customer: the business-scoped user id (BSUID) when Meta sends one, the phone otherwise.
struct Sender {
    OptionalString user_id;
    OptionalString parent_user_id;
    OptionalString wa_id;
    OptionalString username;
    OptionalString profile_name;
};

// What a message does to the conversation.
enum class MessageKind {
    inbound,  // the customer wrote: opens the window, may await a reply
    echo,     // the business wrote from the WhatsApp Business app: an outbound message
    edit,     // changes an earlier message (target_wamid); no new row
    revoke,   // deletes an earlier message (target_wamid) for everyone; no new row
};

struct InboundMessage {
    MessageKind kind = MessageKind::inbound;
    bool from_business = false;    // an echo, or an edit or revoke the business made in the app
    std::string wamid;
    Sender sender;                 // for an echo, the customer it was sent to
    std::string type;
    OptionalString body;           // what a reader sees: text, caption, button title, ...
    std::string payload_json;      // the original message object
    Micros sent_at = 0;
    OptionalString reply_to_wamid;
    OptionalString media_id;
    OptionalString media_mime;
    OptionalString media_sha256;
    // A system message re-keys the contact: new phone number or new BSUID.
    OptionalString new_wa_id;
    OptionalString new_user_id;
    OptionalString target_wamid;   // edit and revoke: the message they change
    std::string edit_content_json; // edit: the new content (edit.message), shaped like a message
};

struct StatusEvent {
    std::string wamid;
    // On convo's ladder (accepted, sent, failed, delivered, read, played), or one of the
    // events that leave the ladder alone: deleted, warning.
    std::string status;
    Micros at = 0;
    std::optional<int> error_code;
    std::string payload_json;      // the original status object
};

// An event kept in convo.webhook_events instead of being applied.
struct KeptEvent {
    std::string kind;              // see webhook_events.kind in sql/tables.sql
    std::string reason;            // what a reader needs to know, in one sentence
    OptionalString wamid;          // the message it is about, if any (also its idempotency key)
    OptionalString key_suffix;     // told apart from other events of the same message
    std::optional<Micros> occurred_at;
    std::optional<int> error_code;
    OptionalString error_title;
    OptionalString error_message;
    OptionalString error_details;
    std::string payload_json;      // the original object, whole
};

// How a batch names its business number.
enum class AddressKind { phone_number_id, phone_number };

// The events sent to one business number (one `changes[].value` of a Meta notification).
struct Batch {
    AddressKind address_kind = AddressKind::phone_number_id;
    std::string address;
    std::vector<InboundMessage> messages;  // inbound, echoes, edits and revokes, in payload order
    std::vector<StatusEvent> statuses;
    std::vector<KeptEvent> kept;           // errors, group messages, flagged events
    std::string raw_json;                  // kept as is when the batch cannot be routed
};

struct Notification {
    std::vector<Batch> batches;
    int ignored = 0;               // changes of fields convo does not store (account_update, ...)
};

// Kinds of kept events.
namespace kept {
inline constexpr const char* error = "error";                    // value.errors[]: Meta's error
inline constexpr const char* group_message = "group_message";    // a message in a group
inline constexpr const char* unknown_status = "unknown_status";  // a status value convo does not know
inline constexpr const char* invalid_sender = "invalid_sender";  // an identity that is not a phone or BSUID
inline constexpr const char* unknown_target = "unknown_target";  // edit or revoke of a message convo never saw
inline constexpr const char* sms = "sms";                        // a Twilio SMS, not a WhatsApp message
}  // namespace kept

}  // namespace convo
