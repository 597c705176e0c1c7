// Webhook authentication: Meta's X-Hub-Signature-256, Twilio's X-Twilio-Signature, and the
// constant-time comparison of shared tokens (verify token, X-Vapi-Secret).
//
// Every comparison of something derived from a secret runs in constant time (CRYPTO_memcmp);
// only lengths, which are public, may end a comparison early.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace convo::sidecar::webhooks {

using FormParams = std::vector<std::pair<std::string, std::string>>;

// Equality of two secrets-or-guesses without a data-dependent early exit (compares their
// SHA-256 digests, so unequal lengths are no shortcut either).
bool secret_equals(std::string_view a, std::string_view b);

// Lowercase hex HMAC-SHA256(key, message).
std::string hmac_sha256_hex(std::string_view key, std::string_view message);

// True if `header` is "sha256=<hex HMAC-SHA256(app_secret, body)>" (hex in either case).
bool meta_signature_valid(std::string_view header, std::string_view app_secret, std::string_view body);

// Base64 HMAC-SHA1(auth_token, url + sorted name/value pairs) as Twilio computes it.
std::string twilio_signature(std::string_view auth_token, std::string_view url, const FormParams& params);

// The two URLs Twilio's validator accepts for `url`: with its port (the scheme's default added
// when none is given) and without any port.
std::pair<std::string, std::string> twilio_url_variants(std::string_view url);

// True if `header` is the Twilio signature of `url` and the form `params`, for either port
// variant of `url`. If the URL's query carries bodySHA256 (JSON webhooks), pass the raw body and
// its value: the body's SHA-256 must match it and the URL alone is signed (params ignored).
bool twilio_signature_valid(std::string_view header, std::string_view auth_token, std::string_view url,
                            const FormParams& params, const std::string* body_sha256 = nullptr,
                            std::string_view raw_body = {});

}  // namespace convo::sidecar::webhooks
