// A webhook notification reduced to what convo stores: inbound messages and status events,
// grouped by the business number they were sent to. Parsers (whatsapp_notification,
// twilio_notification) produce it; api/ingest.cpp writes it to the tables.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/time.hpp"

namespace convo {

using OptionalString = std::optional<std::string>;

// Who wrote: the business-scoped user id (BSUID) when Meta sends one, the phone otherwise.
struct Sender {
    OptionalString user_id;
    OptionalString parent_user_id;
    OptionalString wa_id;
    OptionalString username;
    OptionalString profile_name;
};

struct InboundMessage {
    std::string wamid;
    Sender sender;
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
};

struct StatusEvent {
    std::string wamid;
    std::string status;            // on convo's ladder: accepted, sent, failed, delivered, read, played
    Micros at = 0;
    std::optional<int> error_code;
    std::string payload_json;      // the original status object
};

// How a batch names its business number.
enum class AddressKind { phone_number_id, phone_number };

// The events sent to one business number (one `changes[].value` of a Meta notification).
struct Batch {
    AddressKind address_kind = AddressKind::phone_number_id;
    std::string address;
    std::vector<InboundMessage> messages;
    std::vector<StatusEvent> statuses;
    std::string raw_json;          // kept as is when the batch cannot be routed
};

struct Notification {
    std::vector<Batch> batches;
    int ignored = 0;               // changes of fields convo does not store (account_update, ...)
};

}  // namespace convo
