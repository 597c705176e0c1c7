// UTF-8 validation of webhook bodies (see body_text.hpp). Hand-written: a short loop, and no
// Debian-packaged library for it is linked here; ASCII runs are skipped eight bytes at a time.
#include "webhooks/body_text.hpp"

#include <openssl/evp.h>

#include <cstdint>
#include <cstring>

namespace convo::sidecar::webhooks {
namespace {

std::string at(const char* what, std::size_t offset) {
    return std::string(what) + " at byte " + std::to_string(offset);
}

}  // namespace

std::string body_text_problem(std::string_view body) {
    const auto* p = reinterpret_cast<const unsigned char*>(body.data());
    const std::size_t n = body.size();
    std::size_t i = 0;
    while (i < n) {
        // Fast path: eight ASCII bytes, none of them NUL.
        if (i + 8 <= n) {
            std::uint64_t word;
            std::memcpy(&word, p + i, 8);
            constexpr std::uint64_t high = 0x8080808080808080ULL, low = 0x0101010101010101ULL;
            bool ascii = (word & high) == 0;
            bool has_zero = ((word - low) & ~word & high) != 0;
            if (ascii && !has_zero) {
                i += 8;
                continue;
            }
        }
        unsigned char c = p[i];
        if (c == 0) return at("NUL byte", i);
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t length;
        std::uint32_t min, code;
        if ((c & 0xE0) == 0xC0) {
            length = 2, min = 0x80, code = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            length = 3, min = 0x800, code = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            length = 4, min = 0x10000, code = c & 0x07;
        } else {
            return at("invalid UTF-8 lead byte", i);
        }
        if (i + length > n) return at("truncated UTF-8 sequence", i);
        for (std::size_t k = 1; k < length; ++k) {
            if ((p[i + k] & 0xC0) != 0x80) return at("invalid UTF-8 continuation byte", i + k);
            code = (code << 6) | (p[i + k] & 0x3F);
        }
        if (code < min) return at("overlong UTF-8 sequence", i);
        if (code >= 0xD800 && code <= 0xDFFF) return at("UTF-16 surrogate in UTF-8", i);
        if (code > 0x10FFFF) return at("UTF-8 code point above U+10FFFF", i);
        i += length;
    }
    return {};
}

std::string base64_encode(std::string_view data) {
    std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');  // EVP_EncodeBlock adds a NUL
    int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
    out.resize(static_cast<std::size_t>(written));
    return out;
}

}  // namespace convo::sidecar::webhooks
