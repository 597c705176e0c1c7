// Form decoding (see form_urlencoded.hpp). Hand-written: a dozen lines, and the extension
// should not link an HTTP library for it.
#include "core/form_urlencoded.hpp"

#include "core/error.hpp"
#include "core/cpp_only.hpp"

namespace convo {
namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string decode_component(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '+') {
            out.push_back(' ');
        } else if (c == '%') {
            int hi = i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
            int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                throw Error(sqlstate::invalid_text, "convo: malformed percent escape in form body");
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> parse_form_urlencoded(std::string_view body) {
    std::vector<std::pair<std::string, std::string>> fields;
    size_t start = 0;
    while (start <= body.size()) {
        size_t end = body.find('&', start);
        if (end == std::string_view::npos) end = body.size();
        std::string_view part = body.substr(start, end - start);
        if (!part.empty()) {
            size_t eq = part.find('=');
            std::string_view name = part.substr(0, eq);
            std::string_view value = eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1);
            fields.emplace_back(decode_component(name), decode_component(value));
        }
        start = end + 1;
    }
    return fields;
}

}  // namespace convo
