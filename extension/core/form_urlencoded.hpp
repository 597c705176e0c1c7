// application/x-www-form-urlencoded bodies (Twilio webhooks).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace convo {

// Decodes `a=1&b=x+y%21` into pairs, in order; repeated names stay repeated.
// Malformed percent escapes raise convo::Error 22P02.
std::vector<std::pair<std::string, std::string>> parse_form_urlencoded(std::string_view body);

}  // namespace convo
