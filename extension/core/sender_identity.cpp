// Customer identity shapes (see sender_identity.hpp).
#include "core/sender_identity.hpp"

#include "core/cpp_only.hpp"

namespace convo {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_alnum(char c) { return is_digit(c) || is_upper(c) || (c >= 'a' && c <= 'z'); }

}  // namespace

bool is_wa_id(const std::string& s) {
    if (s.size() < 7 || s.size() > 15) return false;
    for (char c : s)
        if (!is_digit(c)) return false;
    return true;
}

std::string phone_without_punctuation(const std::string& s) {
    std::string out;
    for (char c : s)
        if (c != '+' && c != ' ' && c != '-' && c != '(' && c != ')' && c != '.') out.push_back(c);
    return out;
}

bool is_bsuid(const std::string& s) {
    if (s.size() < 4 || !is_upper(s[0]) || !is_upper(s[1]) || s[2] != '.') return false;
    std::size_t start = s.compare(3, 4, "ENT.") == 0 ? 7 : 3;
    std::size_t length = s.size() - start;
    if (length < 1 || length > 128) return false;
    for (std::size_t i = start; i < s.size(); ++i)
        if (!is_alnum(s[i])) return false;
    return true;
}

}  // namespace convo
