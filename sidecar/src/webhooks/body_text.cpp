// Base64 of bodies that cannot be stored as text (see body_text.hpp), by OpenSSL.
#include "webhooks/body_text.hpp"

#include <openssl/evp.h>

namespace convo::sidecar::webhooks {

std::string base64_encode(std::string_view data) {
    std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');  // EVP_EncodeBlock adds a NUL
    int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
    out.resize(static_cast<std::size_t>(written));
    return out;
}

}  // namespace convo::sidecar::webhooks
