// Twilio WhatsApp webhooks (inbound messages and status callbacks) → Notification.
#pragma once

#include <nlohmann/json.hpp>

#include "core/notification.hpp"

namespace convo {

// fields: the webhook's form fields as a JSON object of strings. Twilio sends no timestamp:
// received_at stands in. Raises convo::Error 22023 when MessageSid or the numbers are missing.
Notification parse_twilio_notification(const nlohmann::json& fields, Micros received_at);

// The form body Twilio posts, as the JSON object parse_twilio_notification reads.
nlohmann::json twilio_form_to_json(std::string_view body);

}  // namespace convo
