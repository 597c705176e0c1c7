// estimate_tokens (core/token_estimate.hpp): known counts, its behaviour as text grows, any
// bytes at all, and speed. Its accuracy against the real tokenizer is checked separately
// (tests/unit/token_accuracy.cpp, `make tokenizer-check`).
#include "core/token_estimate.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace convo {
namespace {

using namespace std::string_view_literals;

// Texts whose o200k_base count (from gpt-tokenizer) the estimate matches exactly.
TEST(TokenEstimate, KnownCounts) {
    struct Case {
        std::string_view text;
        std::size_t tokens;
    };
    // clang-format off
    for (const Case& c : {
             Case{"ok", 1},
             Case{"123456", 2},  // digits go by three
             Case{"1234567", 3},
             Case{"hello world", 2},
             Case{"Where is my order?", 5},
             Case{"It's done, we'll call you.", 7},
             Case{"+33 6 12 34 56 78", 12},  // a space before a digit is a token of its own
             Case{"a\n\nb", 3},
             Case{"   ", 1},
             Case{"\xF0\x9F\x91\x8D", 1},                        // 👍
             Case{"ok \xF0\x9F\x91\x8D", 2},                     // " 👍" is one token
             Case{"\xF0\x9F\x98\x82\xF0\x9F\x98\x82\xF0\x9F\x98\x82", 3},  // 😂😂😂
             Case{"\xE2\x9D\xA4\xEF\xB8\x8F", 1},                // ❤️
             Case{"\xF0\x9F\x87\xAB\xF0\x9F\x87\xB7", 4},        // 🇫🇷
             Case{"\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7", 8},  // 👨‍👩‍👧
         }) {
        // clang-format on
        EXPECT_EQ(estimate_tokens(c.text), c.tokens) << c.text;
    }
}

TEST(TokenEstimate, EmptyIsZeroAndAnythingElseAtLeastOne) {
    EXPECT_EQ(estimate_tokens(""), 0u);
    EXPECT_EQ(estimate_tokens(std::string_view{}), 0u);
    for (std::string_view s : {" "sv, "\n"sv, "a"sv, "."sv, "\0"sv, "\xFF"sv, "\xCC\x81"sv}) {
        EXPECT_GE(estimate_tokens(s), 1u) << s.size();
    }
}

// Text made of sentences of every kind the corpus has, for the growth and speed tests.
std::string sample_text() {
    return "Bonjour, j'ai command\xC3\xA9 une paire de baskets le 3 mars et je n'ai toujours rien "
           "re\xC3\xA7u. \xC2\xBF"  // ¿ (split: \xBFD would be one escape)
           "D\xC3\xB3nde est\xC3\xA1 mi pedido #A-2024-00981? Tracking 1Z999AA10123456784, "
           "SKU NK-AIR-42-BLK, total 1 249,90 \xE2\x82\xAC. Thanks!!! \xF0\x9F\x98\x8D\xF0\x9F"
           "\x99\x8F\n\nYou are the assistant of a shoe shop: answer in the customer's language, "
           "keep replies short and never invent an order status.\n";
}

// Code point boundaries of `s` (assumed valid UTF-8).
std::vector<std::size_t> boundaries(std::string_view s) {
    std::vector<std::size_t> at;
    for (std::size_t i = 0; i <= s.size(); ++i) {
        if (i == s.size() || (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) at.push_back(i);
    }
    return at;
}

// Growing a text never makes it cheaper, beyond one token of rounding: the estimate of every
// prefix is at most that of the whole text plus one, and it rises with the prefix.
TEST(TokenEstimate, GrowsWithTheText) {
    std::string text = sample_text();
    std::size_t whole = estimate_tokens(text);
    std::size_t highest = 0;
    for (std::size_t end : boundaries(text)) {
        std::size_t n = estimate_tokens(std::string_view(text).substr(0, end));
        EXPECT_LE(n, whole + 1) << end;
        EXPECT_GE(n + 2, highest) << "the estimate fell back at byte " << end;
        highest = std::max(highest, n);
    }
}

// Texts joined by a line break cost what they cost apart, give or take rounding.
TEST(TokenEstimate, AddsUpOverMessages) {
    std::string one = sample_text();
    std::size_t n = estimate_tokens(one);
    std::string many;
    for (int i = 0; i < 50; ++i) many += one;
    EXPECT_NEAR(static_cast<double>(estimate_tokens(many)), 50.0 * n, 25.0);
    EXPECT_GT(estimate_tokens(one + "And one more sentence, please."), n);
}

// A text in a buffer of exactly its size, so that AddressSanitizer sees any read past its end
// (a std::string would hide a one-byte overread behind its terminating NUL).
class ExactBuffer {
  public:
    explicit ExactBuffer(std::string_view bytes) : bytes_(bytes.begin(), bytes.end()) {}
    std::string_view view() const { return {bytes_.data(), bytes_.size()}; }

  private:
    std::vector<char> bytes_;
};

TEST(TokenEstimate, InvalidUtf8AndNulAreOneTokenPerByte) {
    for (std::string_view bad : {
             "\xFF"sv, "\x80"sv,      // never a lead byte, a lone continuation byte
             "\xC3"sv, "\xE2\x82"sv,  // truncated at the end of the text
             "\xF0\x9F\x91"sv,
             "\xC0\xAF"sv,              // overlong
             "\xED\xA0\x80"sv,          // surrogate
             "\xF4\x90\x80\x80"sv,      // beyond U+10FFFF
             "\xF8\x88\x80\x80\x80"sv,  // five-byte form
         }) {
        EXPECT_EQ(estimate_tokens(ExactBuffer(bad).view()), bad.size()) << bad.size();
    }
    EXPECT_EQ(estimate_tokens(ExactBuffer("\0\0\0"sv).view()), 3u);
    EXPECT_EQ(estimate_tokens(ExactBuffer("ok\0ok"sv).view()), 3u);
    // A broken character in the middle of words does not swallow them.
    EXPECT_GE(estimate_tokens(ExactBuffer("hola \xC3 mundo \xE2\x82 \xF0\x9F"sv).view()), 5u);
}

// Byte-level BPE never needs more tokens than bytes; the estimate keeps to that on any input.
TEST(TokenEstimate, ArbitraryBytesNeverCrashNorExceedOneTokenPerByte) {
    std::uint32_t state = 12345;
    auto next = [&] { return state = state * 1664525u + 1013904223u; };
    // Bytes that start, continue or break UTF-8 sequences, and ASCII of every class.
    const std::string_view alphabet =
        "\x00\x09\x0A\x0D aZ9.'?\xC3\xA9\xCC\x81\xE2\x82\xAC\xE2\x80\x8D\xEF\xB8\x8F\xF0\x9F\x98"
        "\x82\x80\xBF\xC0\xF5\xFF\xD0\xAF\xE4\xB8\xAD"sv;
    for (int round = 0; round < 5000; ++round) {
        std::string bytes(next() % 48, '\0');
        for (char& b : bytes) b = alphabet[(next() >> 8) % alphabet.size()];
        std::size_t n = estimate_tokens(ExactBuffer(bytes).view());
        EXPECT_LE(n, bytes.size());
        EXPECT_EQ(n == 0, bytes.empty());
    }
}

TEST(TokenEstimate, OneMegabyteIsFast) {
    std::string text;
    while (text.size() < (1u << 20)) text += sample_text();
    std::string one_word(1u << 20, 'a');
    std::string spaces(1u << 20, ' ');
    std::string invalid(1u << 20, '\xFF');
    for (const std::string* s : {&text, &one_word, &spaces, &invalid}) {
        auto start = std::chrono::steady_clock::now();
        std::size_t n = estimate_tokens(*s);
        auto elapsed = std::chrono::steady_clock::now() - start;
        EXPECT_GT(n, 0u);
        // A few milliseconds in a release build; the bound leaves room for the sanitizers.
        EXPECT_LT(elapsed, std::chrono::seconds(2)) << s->substr(0, 20);
    }
    // The long text costs what its parts cost.
    std::size_t parts = text.size() / sample_text().size();
    EXPECT_NEAR(static_cast<double>(estimate_tokens(text)),
                static_cast<double>(parts * estimate_tokens(sample_text())), parts * 0.5 + 2);
}

}  // namespace
}  // namespace convo
