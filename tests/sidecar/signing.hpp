// Webhook signatures as the senders compute them (header-only, OpenSSL): Meta's
// X-Hub-Signature-256 and Twilio's X-Twilio-Signature. Used by the load generator and the
// HTTP tests to sign what they send, never to check what they receive.
#pragma once

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace convo::sidecar_tests {

inline std::string hmac(const EVP_MD* md, std::string_view key, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
         data.size(), out, &len);
    return std::string(reinterpret_cast<const char*>(out), len);
}

// "sha256=" + lowercase hex HMAC-SHA256(app secret, body): the X-Hub-Signature-256 value.
inline std::string meta_signature(std::string_view app_secret, std::string_view body) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string mac = hmac(EVP_sha256(), app_secret, body);
    std::string out = "sha256=";
    for (unsigned char c : mac) {
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 15]);
    }
    return out;
}

inline std::string base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

// X-Twilio-Signature: base64 HMAC-SHA1(auth token, url + each name+value, sorted by name then value).
inline std::string twilio_signature(std::string_view auth_token, std::string url,
                                    std::vector<std::pair<std::string, std::string>> params) {
    std::sort(params.begin(), params.end());
    params.erase(std::unique(params.begin(), params.end()), params.end());
    for (const auto& [name, value] : params) url += name + value;
    return base64(hmac(EVP_sha1(), auth_token, url));
}

// application/x-www-form-urlencoded encoding of one name or value.
inline std::string form_encode(std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else if (c == ' ') {
            out.push_back('+');
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

inline std::string form_body(const std::vector<std::pair<std::string, std::string>>& params) {
    std::string out;
    for (const auto& [name, value] : params) {
        if (!out.empty()) out.push_back('&');
        out += form_encode(name) + "=" + form_encode(value);
    }
    return out;
}

}  // namespace convo::sidecar_tests
