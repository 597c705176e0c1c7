// Webhook signatures with OpenSSL's HMAC, SHA and base64 (see signature.hpp).
#include "webhooks/signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>

namespace convo::sidecar::webhooks {
namespace {

using Sha256 = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

Sha256 sha256(std::string_view data) {
    Sha256 digest{};
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
    return digest;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string to_hex(const unsigned char* data, std::size_t size) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(size * 2, '\0');
    for (std::size_t i = 0; i < size; ++i) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 0xf];
    }
    return out;
}

// HMAC with OpenSSL's one-shot HMAC() (not deprecated in OpenSSL 3, unlike HMAC_CTX).
template <std::size_t N>
std::array<unsigned char, N> hmac(const EVP_MD* md, std::string_view key, std::string_view message) {
    std::array<unsigned char, N> out{};
    unsigned int length = 0;
    HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
         message.size(), out.data(), &length);
    return out;
}

}  // namespace

bool secret_equals(std::string_view a, std::string_view b) {
    Sha256 da = sha256(a);
    Sha256 db = sha256(b);
    return CRYPTO_memcmp(da.data(), db.data(), da.size()) == 0;
}

std::string hmac_sha256_hex(std::string_view key, std::string_view message) {
    auto digest = hmac<32>(EVP_sha256(), key, message);
    return to_hex(digest.data(), digest.size());
}

bool meta_signature_valid(std::string_view header, std::string_view app_secret, std::string_view body) {
    constexpr std::string_view prefix = "sha256=";
    if (app_secret.empty() || header.size() != prefix.size() + 64 || header.substr(0, prefix.size()) != prefix) {
        return false;
    }
    std::array<unsigned char, 32> given{};
    for (std::size_t i = 0; i < given.size(); ++i) {
        int hi = hex_digit(header[prefix.size() + 2 * i]);
        int lo = hex_digit(header[prefix.size() + 2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        given[i] = static_cast<unsigned char>(hi * 16 + lo);
    }
    auto expected = hmac<32>(EVP_sha256(), app_secret, body);
    return CRYPTO_memcmp(given.data(), expected.data(), expected.size()) == 0;
}

std::string twilio_signature(std::string_view auth_token, std::string_view url, const FormParams& params) {
    // Names sorted by bytes; a repeated name contributes each distinct value once, sorted.
    std::vector<std::pair<std::string_view, std::string_view>> sorted;
    sorted.reserve(params.size());
    for (const auto& [name, value] : params) sorted.emplace_back(name, value);
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());

    std::string message(url);
    for (const auto& [name, value] : sorted) {
        message.append(name);
        message.append(value);
    }
    auto digest = hmac<20>(EVP_sha1(), auth_token, message);
    std::array<unsigned char, 4 * ((20 + 2) / 3) + 1> base64{};
    int length = EVP_EncodeBlock(base64.data(), digest.data(), static_cast<int>(digest.size()));
    return std::string(reinterpret_cast<const char*>(base64.data()), static_cast<std::size_t>(length));
}

std::pair<std::string, std::string> twilio_url_variants(std::string_view url) {
    auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) return {std::string(url), std::string(url)};
    std::string_view scheme = url.substr(0, scheme_end);
    std::size_t authority_start = scheme_end + 3;
    std::size_t authority_end = url.find_first_of("/?#", authority_start);
    if (authority_end == std::string_view::npos) authority_end = url.size();
    std::string_view authority = url.substr(authority_start, authority_end - authority_start);
    // The port follows the last ':' after any userinfo and any IPv6 brackets.
    std::size_t host_start = authority.rfind('@');
    host_start = host_start == std::string_view::npos ? 0 : host_start + 1;
    std::size_t bracket = authority.rfind(']');
    std::size_t search_from = bracket == std::string_view::npos || bracket < host_start ? host_start : bracket;
    std::size_t colon = authority.find(':', search_from);
    std::string_view host_part = colon == std::string_view::npos ? authority : authority.substr(0, colon);

    std::string prefix(url.substr(0, authority_start));
    std::string rest(url.substr(authority_end));
    std::string without_port = prefix + std::string(host_part) + rest;
    std::string with_port;
    if (colon != std::string_view::npos) {
        with_port = std::string(url);
    } else {
        std::string_view port = scheme == "https" ? ":443" : ":80";
        with_port = prefix + std::string(authority) + std::string(port) + rest;
    }
    return {with_port, without_port};
}

bool twilio_signature_valid(std::string_view header, std::string_view auth_token, std::string_view url,
                            const FormParams& params, const std::string* body_sha256, std::string_view raw_body) {
    if (auth_token.empty() || header.size() != 28) return false;  // base64 of 20 bytes
    static const FormParams none;
    const FormParams* signed_params = &params;
    bool body_ok = true;
    if (body_sha256) {
        Sha256 digest = sha256(raw_body);
        std::string hex = to_hex(digest.data(), digest.size());
        body_ok = body_sha256->size() == hex.size() &&
                  CRYPTO_memcmp(body_sha256->data(), hex.data(), hex.size()) == 0;
        signed_params = &none;
    }
    auto [with_port, without_port] = twilio_url_variants(url);
    std::string a = twilio_signature(auth_token, with_port, *signed_params);
    std::string b = twilio_signature(auth_token, without_port, *signed_params);
    bool match_a = CRYPTO_memcmp(a.data(), header.data(), a.size()) == 0;
    bool match_b = CRYPTO_memcmp(b.data(), header.data(), b.size()) == 0;
    return body_ok && (match_a || match_b);
}

}  // namespace convo::sidecar::webhooks
