// How many tokens a text takes for OpenAI's tokenizers (o200k_base; cl100k_base runs higher on
// French and Spanish), estimated without the vocabulary: context assembly uses it to fit
// messages into a model's token budget.
#pragma once

#include <cstddef>
#include <string_view>

namespace convo {

// The estimated o200k_base token count of `utf8`. 0 only for the empty string.
//
// One pass, O(n), no allocation. Any bytes are accepted: invalid UTF-8 and NUL count as one
// token per byte, as the byte-level tokenizer would spend at least that much on them.
//
// Accuracy on tests/tokenizer/corpus.jsonl (customer-service chat in French, English and
// Spanish, emoji, numbers and codes, assistant instructions): see `make tokenizer-check`.
std::size_t estimate_tokens(std::string_view utf8);

}  // namespace convo
