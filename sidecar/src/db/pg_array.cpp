#include "db/pg_array.hpp"

namespace convo::sidecar::db {

void append_array_element(std::string& out, std::string_view element) {
    out.push_back('"');
    std::size_t start = 0;
    for (std::size_t i = 0; i < element.size(); ++i) {
        const char c = element[i];
        if (c == '"' || c == '\\') {
            out.append(element.substr(start, i - start));
            out.push_back('\\');
            out.push_back(c);
            start = i + 1;
        }
    }
    out.append(element.substr(start));
    out.push_back('"');
}

std::string text_array_literal(const std::vector<std::optional<std::string_view>>& elements) {
    std::size_t size = 2;
    for (const auto& e : elements) size += (e ? e->size() + 3 : 5);
    std::string out;
    out.reserve(size + size / 16);
    out.push_back('{');
    bool first = true;
    for (const auto& e : elements) {
        if (!first) out.push_back(',');
        first = false;
        if (e) {
            append_array_element(out, *e);
        } else {
            out.append("NULL");
        }
    }
    out.push_back('}');
    return out;
}

}  // namespace convo::sidecar::db
