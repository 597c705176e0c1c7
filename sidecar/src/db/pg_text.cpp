#include "db/pg_text.hpp"

#include <boost/locale/utf.hpp>

namespace convo::sidecar::db {

std::string pg_text_problem(std::string_view s) {
    namespace utf = boost::locale::utf;
    const char* const begin = s.data();
    const char* const end = begin + s.size();
    const char* p = begin;
    const auto at = [begin](const char* what, const char* where) {
        return std::string(what) + " at byte " + std::to_string(where - begin);
    };
    while (p != end) {
        // ASCII fast path: most webhook bodies are JSON or form text.
        if (static_cast<unsigned char>(*p) < 0x80) {
            if (*p == '\0') return at("NUL byte", p);
            ++p;
            continue;
        }
        const char* const start = p;
        const utf::code_point c = utf::utf_traits<char>::decode(p, end);
        if (c == utf::incomplete) return at("truncated UTF-8 sequence", start);
        if (c == utf::illegal) return at("invalid UTF-8 sequence", start);
    }
    return {};
}

}  // namespace convo::sidecar::db
