// What a customer identity may look like. A webhook's sender becomes a contact key, so a value
// that is neither a phone number nor a BSUID is refused rather than stored.
#pragma once

#include <string>

namespace convo {

// A phone number as WhatsApp gives it (wa_id): 7 to 15 digits and nothing else (E.164
// without the +; the shortest numbers in use have 7 digits with their country code).
bool is_wa_id(const std::string& s);

// A phone number as people write it, without the punctuation: "+1 (650) 555-1234" →
// "16505551234". Not checked: is_wa_id says whether the result is a phone number.
std::string phone_without_punctuation(const std::string& s);

// A business-scoped user id: two capital letters, a dot, optionally "ENT." (a parent BSUID),
// then 1 to 128 letters and digits: US.13491208655302741918, US.ENT.11815799212886844830.
bool is_bsuid(const std::string& s);

}  // namespace convo
