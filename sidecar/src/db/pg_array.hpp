// PostgreSQL array literals for text[] parameters sent in text format.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace convo::sidecar::db {

// Appends the element, double-quoted with `"` and `\` escaped: the only characters that
// are special inside a quoted element, so any text (braces, commas, quotes, newlines, the
// word NULL) reads back exactly.
void append_array_element(std::string& out, std::string_view element);

// {"a","b",NULL}: nullopt elements become NULL. An empty vector gives {}.
std::string text_array_literal(const std::vector<std::optional<std::string_view>>& elements);

}  // namespace convo::sidecar::db
