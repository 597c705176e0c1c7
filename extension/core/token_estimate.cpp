// Token count estimate (see token_estimate.hpp).
//
// o200k_base first cuts text into pieces with a regular expression, then encodes each piece on
// its own with byte-pair merges. The cut is reproduced here; the merges are not (that needs the
// 200k-entry vocabulary), so each piece's cost is estimated from what it is made of:
//
//   word         one optional leading character that is not a letter, digit or line break
//                (usually the space), letters, then an optional English contraction ('s 't
//                're 've 'm 'll 'd). Words split where lowercase turns to uppercase: "NKAir" is
//                one, "helloWorld" two. Common words with their leading space are one token, so
//                the cost grows with the length past a few letters, faster for accented Latin,
//                capitals and codes; letters of other scripts cost by the letter.
//   number       up to three digits: always exactly one token.
//   punctuation  a run of punctuation and symbols (emoji included) with an optional leading
//                space, and the line breaks that follow it. Symbols cost what the vocabulary
//                says (tables below): one token, or two or three by block.
//   white space  up to the last line break of a run; a run of spaces leaves its last space to
//                the word or punctuation after it.
//
// Costs are fractional expectations, summed over the text and rounded once at the end.
#include "core/token_estimate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <string_view>

#include "core/cpp_only.hpp"

namespace convo {
namespace {

// ---- Costs ----------------------------------------------------------------------------------
//
// Calibrated against the real o200k_base tokenizer (npm gpt-tokenizer, tests/tokenizer) on
// tests/tokenizer/corpus.jsonl. The Latin-script values were fitted together by coordinate
// descent (steps of 0.25 to 0.5), minimising the 95th percentile of |estimate - real| /
// max(real, 20) over the corpus items plus their mean relative error and the error of the
// corpus total; the other scripts' values are their tokens per letter in the corpus. `make
// tokenizer-check` prints the resulting error distribution. Lengths count letters (code points).
struct Rates {
    // Latin-script words (English, French, Spanish...): letters that still make one token,
    // then each further token covers `letters_per_token` letters.
    double free_letters_spaced;  // " hola", " Hola"; also after ASCII punctuation: "'accord"
    double free_letters_bare;    // "hola", "Hola" at the start of a line, "¿Hola"
    double letters_per_token;
    double accent_letters;     // each accented letter (é, ñ, ç) counts as this many letters
    double code_free_letters;  // words of several capitals ("BLK", "IBAN", "NKAir")
    double code_letters_per_token;
    double punct_prefix_cost;  // a word glued to ASCII punctuation: "'accord", "-AIR", ".com"
    double mark_cost;          // a variation selector or mark with no letter: ☀️, 1️⃣

    // Letters of other scripts, per letter, at least one token a word. Rough: the corpus has
    // only two or three sentences of each.
    double cyrillic_letter_cost;
    double alphabet_letter_cost;  // Greek, Armenian, Hebrew, Arabic...
    double abugida_letter_cost;   // Indic scripts, Thai, Lao, Myanmar, Khmer...
    double cjk_char_cost;         // Han, kana
    double hangul_char_cost;

    double spaces_per_token;  // long runs of spaces or line breaks (100 spaces are 2 tokens)
};

constexpr Rates kO200k{
    .free_letters_spaced = 8,
    .free_letters_bare = 3.5,
    .letters_per_token = 5,
    .accent_letters = 4,
    .code_free_letters = 3.5,
    .code_letters_per_token = 2,
    .punct_prefix_cost = 0.3,
    .mark_cost = 1.2,

    .cyrillic_letter_cost = 0.25,
    .alphabet_letter_cost = 0.45,
    .abugida_letter_cost = 0.45,
    .cjk_char_cost = 0.55,
    .hangul_char_cost = 0.65,

    .spaces_per_token = 80,
};

// ---- Characters -----------------------------------------------------------------------------

// What a code point is, for cutting (letter case, digit, white space) and for costing.
enum class Kind : std::uint8_t {
    ascii_lower,
    ascii_upper,
    latin_lower,  // accented and extended Latin letters
    latin_upper,
    latin_pair,  // Latin Extended-A/B, Vietnamese: pairs, even code point upper, odd lower
    mark,        // combining marks, variation selectors, modifier letters: letters of no case
    alphabet_lower,
    alphabet_upper,
    alphabet_pair,      // Greek and Cyrillic beyond the basic letters: pairs like latin_pair
    alphabet_caseless,  // Hebrew, Arabic, Georgian, Ethiopic...
    abugida,            // Indic scripts, Thai, Lao, Myanmar, Khmer...
    cjk,                // Han, kana
    hangul,
    digit,
    newline,  // \r and \n, the only line breaks of the pre-tokenizer
    space,    // other white space
    ascii_punct,
    symbol,  // everything else: punctuation, symbols, emoji, controls, invalid bytes
    end,     // past the end of the text
};

// Non-ASCII code points by range: each entry holds from `first` up to the next entry's first.
// Coarse on purpose: the common scripts and symbols are right, rare ones fall into a neighbour,
// and the combining vowel signs of Indic scripts, Thai or Arabic count as letters (the cut then
// differs only where one directly follows punctuation).
struct Range {
    std::uint32_t first;
    Kind kind;
};

// clang-format off
constexpr Range kRanges[] = {
    {0x80, Kind::symbol},  // C1 controls
    {0x85, Kind::space},
    {0x86, Kind::symbol},
    {0xA0, Kind::space},  // no-break space
    {0xA1, Kind::symbol},
    {0xAA, Kind::latin_lower},  // ª
    {0xAB, Kind::symbol},
    {0xB2, Kind::digit},  // ² ³
    {0xB4, Kind::symbol},
    {0xB5, Kind::latin_lower},  // µ
    {0xB6, Kind::symbol},
    {0xB9, Kind::digit},        // ¹
    {0xBA, Kind::latin_lower},  // º
    {0xBB, Kind::symbol},
    {0xBC, Kind::digit},  // ¼ ½ ¾
    {0xBF, Kind::symbol},
    {0xC0, Kind::latin_upper},  // À to Þ
    {0xD7, Kind::symbol},       // ×
    {0xD8, Kind::latin_upper},
    {0xDF, Kind::latin_lower},  // ß to ÿ
    {0xF7, Kind::symbol},       // ÷
    {0xF8, Kind::latin_lower},
    {0x100, Kind::latin_pair},
    {0x250, Kind::latin_lower},     // IPA
    {0x2B0, Kind::mark},            // modifier letters, combining diacritics
    {0x370, Kind::alphabet_upper},  // Greek
    {0x3AC, Kind::alphabet_lower},
    {0x3CF, Kind::alphabet_pair},
    {0x400, Kind::alphabet_upper},  // Cyrillic
    {0x430, Kind::alphabet_lower},
    {0x460, Kind::alphabet_pair},
    {0x531, Kind::alphabet_upper},  // Armenian
    {0x561, Kind::alphabet_lower},
    {0x58A, Kind::alphabet_caseless},  // Hebrew, Arabic, Syriac, Thaana
    {0x60C, Kind::symbol},             // Arabic comma
    {0x60D, Kind::alphabet_caseless},
    {0x61F, Kind::symbol},  // Arabic question mark
    {0x620, Kind::alphabet_caseless},
    {0x660, Kind::digit},  // Arabic-Indic digits
    {0x66A, Kind::alphabet_caseless},
    {0x6F0, Kind::digit},
    {0x6FA, Kind::alphabet_caseless},
    {0x900, Kind::abugida},  // Indic scripts to Tibetan
    {0x964, Kind::symbol},   // danda
    {0x966, Kind::digit},    // Devanagari digits
    {0x970, Kind::abugida},
    {0xE50, Kind::digit},  // Thai digits
    {0xE5A, Kind::abugida},
    {0x10A0, Kind::alphabet_caseless},  // Georgian
    {0x1100, Kind::hangul},             // jamo
    {0x1200, Kind::alphabet_caseless},  // Ethiopic, Cherokee, Canadian syllabics
    {0x1680, Kind::space},
    {0x1681, Kind::alphabet_caseless},
    {0x1780, Kind::abugida},  // Khmer
    {0x1800, Kind::alphabet_caseless},
    {0x1E00, Kind::latin_pair},      // Latin Extended Additional (Vietnamese)
    {0x1F00, Kind::alphabet_lower},  // Greek Extended
    {0x2000, Kind::space},
    {0x200B, Kind::symbol},  // zero-width characters, dashes, quotes, bullets
    {0x2028, Kind::space},
    {0x202A, Kind::symbol},
    {0x202F, Kind::space},
    {0x2030, Kind::symbol},
    {0x205F, Kind::space},
    {0x2060, Kind::symbol},
    {0x2070, Kind::digit},   // superscripts and subscripts (roughly)
    {0x20A0, Kind::symbol},  // currency
    {0x20D0, Kind::mark},    // combining marks for symbols, the keycap of 1️⃣
    {0x2100, Kind::symbol},  // letterlike symbols
    {0x2150, Kind::digit},   // number forms
    {0x2190, Kind::symbol},  // arrows, maths, shapes, dingbats
    {0x2460, Kind::digit},   // circled numbers
    {0x249C, Kind::symbol},
    {0x2C00, Kind::alphabet_caseless},  // Glagolitic, Coptic, Tifinagh...
    {0x2E00, Kind::symbol},             // supplemental punctuation
    {0x2E80, Kind::cjk},                // radicals
    {0x3000, Kind::space},
    {0x3001, Kind::symbol},  // CJK punctuation
    {0x3005, Kind::cjk},
    {0x3008, Kind::symbol},
    {0x3041, Kind::cjk},  // kana, bopomofo
    {0x30FB, Kind::symbol},
    {0x30FC, Kind::cjk},
    {0x3130, Kind::hangul},
    {0x3190, Kind::cjk},
    {0x3200, Kind::symbol},  // enclosed CJK, compatibility
    {0x3400, Kind::cjk},     // extension A
    {0x4DC0, Kind::symbol},  // hexagrams
    {0x4E00, Kind::cjk},     // unified ideographs, Yi
    {0xA4D0, Kind::alphabet_caseless},
    {0xA720, Kind::latin_pair},  // Latin Extended-D
    {0xA800, Kind::abugida},
    {0xAC00, Kind::hangul},  // syllables
    {0xE000, Kind::symbol},  // private use
    {0xF900, Kind::cjk},
    {0xFB00, Kind::alphabet_caseless},  // presentation forms
    {0xFE00, Kind::mark},               // variation selectors, as in ❤️
    {0xFE10, Kind::symbol},
    {0xFE20, Kind::mark},
    {0xFE30, Kind::symbol},
    {0xFE70, Kind::alphabet_caseless},  // Arabic presentation forms B
    {0xFEFF, Kind::symbol},             // byte order mark, fullwidth forms
    {0xFF10, Kind::digit},
    {0xFF1A, Kind::symbol},
    {0xFF21, Kind::latin_upper},
    {0xFF3B, Kind::symbol},
    {0xFF41, Kind::latin_lower},
    {0xFF5B, Kind::symbol},
    {0xFF66, Kind::cjk},  // halfwidth kana and jamo
    {0xFFE0, Kind::symbol},
    {0x10000, Kind::alphabet_caseless},  // historic scripts
    {0x1D000, Kind::symbol},             // musical symbols
    {0x1D400, Kind::latin_lower},        // mathematical letters
    {0x1D7CE, Kind::digit},
    {0x1D800, Kind::alphabet_caseless},
    {0x1F000, Kind::symbol},  // emoji and pictographs
    {0x20000, Kind::cjk},     // extensions B to H
    {0x32000, Kind::symbol},
    {0xE0100, Kind::mark},  // variation selectors supplement
    {0xE01F0, Kind::symbol},
};
// clang-format on

Kind ascii_kind(unsigned char c) {
    if (c >= 'a' && c <= 'z') return Kind::ascii_lower;
    if (c >= 'A' && c <= 'Z') return Kind::ascii_upper;
    if (c >= '0' && c <= '9') return Kind::digit;
    if (c == '\n' || c == '\r') return Kind::newline;
    if (c == ' ' || c == '\t' || c == '\v' || c == '\f') return Kind::space;
    if (c < 0x20 || c == 0x7F) return Kind::symbol;  // controls, NUL
    return Kind::ascii_punct;
}

Kind unicode_kind(std::uint32_t cp) {
    const Range* r = std::upper_bound(std::begin(kRanges), std::end(kRanges), cp,
                                      [](std::uint32_t c, const Range& e) { return c < e.first; });
    Kind k = std::prev(r)->kind;
    if (k == Kind::latin_pair) return cp % 2 == 0 ? Kind::latin_upper : Kind::latin_lower;
    if (k == Kind::alphabet_pair) return cp % 2 == 0 ? Kind::alphabet_upper : Kind::alphabet_lower;
    return k;
}

struct Char {
    Kind kind;
    std::uint32_t cp;  // the code point; for an invalid byte, the byte
    std::size_t size;  // bytes: 1 for an invalid byte, 0 at the end
};

// The character at byte `i`. Invalid UTF-8 (a bad lead or continuation byte, a truncated
// sequence, an overlong form, a surrogate, beyond U+10FFFF) is one symbol per offending byte.
Char char_at(std::string_view s, std::size_t i) {
    if (i >= s.size()) return {Kind::end, 0, 0};
    auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) return {ascii_kind(b), b, 1};
    const Char invalid{Kind::symbol, b, 1};
    std::size_t size;
    std::uint32_t cp;
    std::uint32_t min;
    if ((b & 0xE0) == 0xC0) {
        size = 2, cp = b & 0x1F, min = 0x80;
    } else if ((b & 0xF0) == 0xE0) {
        size = 3, cp = b & 0x0F, min = 0x800;
    } else if ((b & 0xF8) == 0xF0) {
        size = 4, cp = b & 0x07, min = 0x10000;
    } else {
        return invalid;
    }
    if (size > s.size() - i) return invalid;
    for (std::size_t k = 1; k < size; ++k) {
        auto c = static_cast<unsigned char>(s[i + k]);
        if ((c & 0xC0) != 0x80) return invalid;
        cp = (cp << 6) | (c & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return invalid;
    return {unicode_kind(cp), cp, size};
}

bool is_caseless_letter(Kind k) {
    return k == Kind::mark || k == Kind::alphabet_caseless || k == Kind::abugida ||
           k == Kind::cjk || k == Kind::hangul;
}
bool is_upper(Kind k) {
    return k == Kind::ascii_upper || k == Kind::latin_upper || k == Kind::alphabet_upper;
}
bool is_lower(Kind k) {
    return k == Kind::ascii_lower || k == Kind::latin_lower || k == Kind::alphabet_lower;
}
bool is_letter(Kind k) { return is_upper(k) || is_lower(k) || is_caseless_letter(k); }
bool is_white(Kind k) { return k == Kind::space || k == Kind::newline; }

// ---- Symbols --------------------------------------------------------------------------------
//
// Read from the o200k_base vocabulary by tests/tokenizer/symbol_tables.mjs (its output, pasted):
// the symbols that are one token on their own, those of them that stay one token after a space
// (" 👍" is one token, " 😍" two), and for the others, by block of 64 code points (all but the
// last UTF-8 byte in common), how many tokens they take and what a leading space adds, where
// that differs from two tokens and nothing.

struct SymbolBlocks {
    std::uint32_t first;
    std::uint32_t end;
    std::uint8_t tokens;
    std::uint8_t space;
};

// The generator's output, as it prints it.
// clang-format off
constexpr std::u32string_view kSingleTokenSymbols =
    U"\u0080\u0092\u0093\u0094\u0099¡¢£¤¥¦§¨©«¬\u00ad®¯°±´¶·¸»¿×÷˚˜˝"
    U"΄՛՝՞։־׳״،؛؟٪٫٬۔۽۾\u200b\u200c\u200d\u200e\u200f‐‑–—―‘’‚“”"
    U"„‟†‡•․…\u202a\u202b\u202c\u202d\u202e‰′″‹›※‼\u2060\u2063₪€₹℃№™←↑→↓⇒"
    U"∀∆−∙√∞∨≈≤≥≫─━│┃├┣═║╗╝▀▄█▋░▒▓■□▪▫"
    U"▬▲△▶▷►▼▽◆◇○◎●★☆☎☴☺♀♂♡♥♦♪♫✅✓✔✨❤➡\u2800"
    U"⭐⭕、。〈〉《》「」『』【】〒〔〕〖〜！％＆（）＊＋，－．／：；"
    U"＜＝＞？＠［＼］＾＿｀｜～｡｣､･🏻🏼👇👉👌👍👏💕🔥😀😁😂😉😊😍"
    U"😘😭🙂🙏🤣";
constexpr std::u32string_view kSpaceAbsorbingSymbols =
    U"¡£¥§©«\u00ad®°±´¶·»¿×՝،؛؟۔۽۾\u200b\u200c\u200d\u200e\u200f–—―‘"
    U"’‚“”„†•…\u202a\u202b″‹›※₪€₹℃№™←↑→↓⇒−√≤≥│█■"
    U"□▲△▶►▼◆○◎●★☆♥♦♪✅✓✔❤⭐、。《「」『【】（），／"
    U"：＜＞｜～👉👍😀😂😉😊🙂";
constexpr SymbolBlocks kSymbolBlocks[] = {
    {0x340, 0x380, 2, 1},
    {0x3C0, 0x400, 2, 1},
    {0x700, 0x740, 2, 1},
    {0x7C0, 0x800, 2, 1},
    {0x20C0, 0x2100, 2, 1},
    {0x2140, 0x2180, 2, 1},
    {0x2280, 0x22C0, 2, 1},
    {0x2300, 0x2340, 2, 1},
    {0x2340, 0x2440, 3, 0},
    {0x2440, 0x2500, 2, 1},
    {0x26C0, 0x2700, 3, 0},
    {0x27C0, 0x2B00, 3, 0},
    {0x2B00, 0x2B40, 2, 1},
    {0x2B40, 0x2C00, 3, 0},
    {0x3000, 0x3040, 2, 1},
    {0xFE00, 0xFE80, 2, 1},
    {0x1F000, 0x1F1C0, 3, 0},
    {0x1F200, 0x1F280, 3, 0},
    {0x1F3C0, 0x1F440, 2, 1},
    {0x1F540, 0x1F600, 3, 0},
    {0x1F6C0, 0x1F900, 3, 0},
    {0x1F940, 0x1F980, 2, 1},
    {0x1F980, 0x1FB00, 3, 0},
};
// clang-format on

// ❤️ (U+2764 U+FE0F) is one token: the only symbol whose emoji variation selector is free.
constexpr std::uint32_t kHeart = 0x2764;
constexpr std::uint32_t kEmojiStyle = 0xFE0F;

bool contains(std::u32string_view sorted, std::uint32_t cp) {
    return std::binary_search(sorted.begin(), sorted.end(), static_cast<char32_t>(cp));
}

// What a symbol costs, alone and after a space.
struct SymbolCost {
    double alone;
    double space;  // added by a leading space
};

SymbolCost symbol_cost(std::uint32_t cp, std::size_t size) {
    if (size == 1) return {1, 0};  // ASCII controls and NUL, invalid bytes
    if (contains(kSingleTokenSymbols, cp))
        return {1, contains(kSpaceAbsorbingSymbols, cp) ? 0.0 : 1.0};
    auto block = std::upper_bound(std::begin(kSymbolBlocks), std::end(kSymbolBlocks), cp,
                                  [](std::uint32_t c, const SymbolBlocks& b) { return c < b.end; });
    if (block != std::end(kSymbolBlocks) && cp >= block->first)
        return {static_cast<double>(block->tokens), static_cast<double>(block->space)};
    return {2, 0};
}

// ---- Pieces ---------------------------------------------------------------------------------

// A piece of text as the pre-tokenizer cuts it: where it ends and what it costs.
struct Piece {
    std::size_t end;
    double cost;
};

// The letters of one word, tallied as they are read.
struct Word {
    int ascii = 0;     // ASCII letters
    int accented = 0;  // other Latin letters
    int marks = 0;     // combining marks and variation selectors
    int upper = 0;     // capital letters
    double other = 0;  // what the letters of other scripts cost
};

bool is_cyrillic(std::uint32_t cp) { return cp >= 0x400 && cp < 0x530; }

void add_letter(Word& w, const Char& c, const Rates& r) {
    if (is_upper(c.kind)) ++w.upper;
    switch (c.kind) {
        case Kind::ascii_lower:
        case Kind::ascii_upper:
            ++w.ascii;
            break;
        case Kind::latin_lower:
        case Kind::latin_upper:
            ++w.accented;
            break;
        case Kind::mark:
            ++w.marks;
            break;
        case Kind::alphabet_lower:
        case Kind::alphabet_upper:
        case Kind::alphabet_caseless:
            w.other += is_cyrillic(c.cp) ? r.cyrillic_letter_cost : r.alphabet_letter_cost;
            break;
        case Kind::abugida:
            w.other += r.abugida_letter_cost;
            break;
        case Kind::cjk:
            w.other += r.cjk_char_cost;
            break;
        case Kind::hangul:
            w.other += r.hangul_char_cost;
            break;
        default:
            break;
    }
}

// What a word's letters cost; `spaced`: led by a space or ASCII punctuation.
double letters_cost(const Word& w, bool spaced, const Rates& r) {
    int latin = w.ascii + w.accented;
    if (latin == 0 && w.other == 0) return w.marks * r.mark_cost;  // the selector of ☀️
    if (latin == 0) return std::max(w.other + w.marks * r.alphabet_letter_cost, 1.0);
    // Accented letters (and combining accents) weigh more: the vocabulary has fewer of them.
    double letters = w.ascii + (w.accented + w.marks) * r.accent_letters;
    if (w.upper >= 2) {  // codes and acronyms: "BLK", "IBAN", "NKAir"
        return w.other + 1 +
               std::max(0.0, letters - r.code_free_letters) / r.code_letters_per_token;
    }
    double free = spaced ? r.free_letters_spaced : r.free_letters_bare;
    return w.other + 1 + std::max(0.0, letters - free) / r.letters_per_token;
}

// English contractions, matched case-insensitively right after a word: 's 't 're 've 'm 'll 'd.
std::size_t contraction_length(std::string_view s, std::size_t i) {
    if (i + 1 >= s.size() || s[i] != '\'') return 0;
    auto lower = [&](std::size_t k) {
        return k < s.size() ? static_cast<char>(s[k] | 0x20) : '\0';  // ASCII letters only
    };
    char a = lower(i + 1);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    char b = lower(i + 2);
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
    return 0;
}

// The word whose letters start at `i`, after its leading character `lead` (Kind::end if none).
Piece read_word(std::string_view s, std::size_t i, const Char& lead, const Rates& r) {
    // The pattern's word: capitals or caseless letters, then lowercase or caseless letters
    // ("NKAir", "Hola", "中文"); failing that, capitals alone ("BLK"). Caseless letters followed
    // by capitals end the word at the last caseless one: in "中A", "A" starts the next word.
    std::size_t end = i;
    std::size_t after_caseless = 0;  // just after the last caseless letter, if any
    Char c = char_at(s, end);
    while (is_upper(c.kind) || is_caseless_letter(c.kind)) {
        end += c.size;
        if (is_caseless_letter(c.kind)) after_caseless = end;
        c = char_at(s, end);
    }
    if (is_lower(c.kind)) {
        while (is_lower(c.kind) || is_caseless_letter(c.kind)) {
            end += c.size;
            c = char_at(s, end);
        }
    } else if (after_caseless != 0) {
        end = after_caseless;
    }
    Word w;
    for (std::size_t k = i; k < end;) {
        Char letter = char_at(s, k);
        if (!(k == i && lead.cp == kHeart && letter.cp == kEmojiStyle)) add_letter(w, letter, r);
        k += letter.size;
    }
    i = end;
    double cost;
    if (lead.kind == Kind::space) {
        cost = letters_cost(w, true, r);
    } else if (lead.kind == Kind::ascii_punct) {
        cost = letters_cost(w, true, r) + r.punct_prefix_cost;  // "'accord", "-AIR", ".com"
    } else if (lead.kind == Kind::end) {
        cost = letters_cost(w, false, r);
    } else {
        cost = letters_cost(w, false, r) + symbol_cost(lead.cp, lead.size).alone;  // "¿Tienen"
    }
    return {i + contraction_length(s, i), cost};  // contractions merge: "it's", "we'll"
}

// A run of punctuation and symbols starting at `i` (after its leading space, if any), with
// the line breaks or slashes right after it. ASCII punctuation merges into one token (" ?",
// "...", ").", "?!"), as do line breaks after it; after a symbol they take one more.
Piece read_punctuation(std::string_view s, std::size_t i, bool leading_space, const Rates& r) {
    bool ascii = false;
    double cost = 0;
    bool first = true;
    Char previous{Kind::end, 0, 0};
    for (Char c = char_at(s, i); c.kind != Kind::end; c = char_at(s, i)) {
        // Marks are not letters here: the variation selector of "☀️" stays in the run.
        if ((is_letter(c.kind) && c.kind != Kind::mark) || c.kind == Kind::digit ||
            is_white(c.kind))
            break;
        if (c.kind == Kind::ascii_punct) {
            ascii = true;
        } else if (c.kind == Kind::mark) {
            if (!(c.cp == kEmojiStyle && previous.cp == kHeart)) cost += r.mark_cost;
        } else {
            SymbolCost sc = symbol_cost(c.cp, c.size);
            cost += sc.alone + (leading_space && first ? sc.space : 0);
        }
        first = false;
        previous = c;
        i += c.size;
    }
    bool line_break = false;
    while (i < s.size() && (s[i] == '\n' || s[i] == '\r' || s[i] == '/')) {
        line_break = line_break || s[i] != '/';
        ++i;
    }
    if (ascii) cost += 1;
    if (line_break && previous.kind != Kind::ascii_punct) cost += 1;
    return {i, std::max(cost, 1.0)};
}

// Up to three digits: one token.
Piece read_number(std::string_view s, std::size_t i) {
    Char c = char_at(s, i);
    for (int n = 0; n < 3 && c.kind == Kind::digit; ++n) {
        i += c.size;
        c = char_at(s, i);
    }
    return {i, 1};
}

double white_cost(std::size_t chars, const Rates& r) {
    return 1 + static_cast<double>(chars - 1) / r.spaces_per_token;
}

// White space starting at `i`, unless it is a single character leading a word.
Piece read_white(std::string_view s, std::size_t i, const Rates& r) {
    // Find the run, its last line break and where its last character starts.
    std::size_t end = i;
    std::size_t last_start = i;
    std::size_t chars = 0;
    std::size_t break_end = 0;    // just after the last line break, if any
    std::size_t break_chars = 0;  // characters up to there
    for (Char w = char_at(s, i); is_white(w.kind); w = char_at(s, end)) {
        last_start = end;
        end += w.size;
        ++chars;
        if (w.kind == Kind::newline) break_end = end, break_chars = chars;
    }
    if (break_chars > 0) return {break_end, white_cost(break_chars, r)};  // to the last break
    if (end == s.size()) return {end, white_cost(chars, r)};              // trailing
    if (chars >= 2) return {last_start, white_cost(chars - 1, r)};  // the last goes with the next
    // One character before something else. A space leads punctuation (" ?", " 👍"); before a
    // digit, or a tab before punctuation, it stands alone.
    if (s[i] == ' ' && char_at(s, end).kind != Kind::digit)
        return read_punctuation(s, end, true, r);
    return {end, 1};
}

// The estimate, before rounding: the sum of the pieces' costs.
double estimate(std::string_view s, const Rates& r) {
    double tokens = 0;
    std::size_t i = 0;
    while (i < s.size()) {
        Char c = char_at(s, i);
        Piece p;
        if (is_letter(c.kind)) {
            p = read_word(s, i, Char{Kind::end, 0, 0}, r);
        } else if (c.kind == Kind::digit) {
            p = read_number(s, i);
        } else if (c.kind != Kind::newline && is_letter(char_at(s, i + c.size).kind)) {
            // Any other character but a line break leads the word it touches: " hola", "¿Tienen".
            p = read_word(s, i + c.size, c, r);
        } else if (is_white(c.kind)) {
            p = read_white(s, i, r);
        } else {
            p = read_punctuation(s, i, false, r);
        }
        tokens += p.cost;
        i = p.end;
    }
    return tokens;
}

}  // namespace

std::size_t estimate_tokens(std::string_view utf8) {
    if (utf8.empty()) return 0;
    double tokens = estimate(utf8, kO200k);
    return std::max<std::size_t>(1, static_cast<std::size_t>(std::lround(tokens)));
}

}  // namespace convo
