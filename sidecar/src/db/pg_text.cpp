#include "db/pg_text.hpp"

#include <boost/locale/utf.hpp>

namespace convo::sidecar::db {

bool is_pg_text(std::string_view s) {
    using traits = boost::locale::utf::utf_traits<char>;
    const char* p = s.data();
    const char* const end = p + s.size();
    while (p != end) {
        // ASCII fast path: most webhook bodies are JSON or form text.
        if (static_cast<unsigned char>(*p) < 0x80) {
            if (*p == '\0') return false;
            ++p;
            continue;
        }
        const auto c = traits::decode(p, end);
        if (c == boost::locale::utf::illegal || c == boost::locale::utf::incomplete) return false;
    }
    return true;
}

}  // namespace convo::sidecar::db
