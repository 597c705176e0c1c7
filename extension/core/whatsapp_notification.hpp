// Meta WhatsApp Cloud API webhook notifications → Notification.
#pragma once

#include <nlohmann/json.hpp>

#include "core/notification.hpp"

namespace convo {

// Reads every entry, change, message and status (never only the first). A document that is
// not a WhatsApp notification raises convo::Error 22023 saying what is missing.
Notification parse_whatsapp_notification(const nlohmann::json& doc);

// "1761742800" or 1761742800 (Unix seconds) → microseconds; 22023 otherwise.
Micros parse_unix_seconds(const nlohmann::json& value, const std::string& where);

}  // namespace convo
