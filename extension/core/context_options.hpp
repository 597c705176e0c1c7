// The options of convo.build_context ({"history": n, "max_tokens": n, "include_orders": b}),
// checked against the bounds of convo.limits() (sql/tables.sql), which the caller reads once.
#pragma once

#include <optional>
#include <string>

namespace convo {

// Bounds of the options, as convo.limits() states them.
struct ContextLimits {
    int history_min = 0;
    int history_max = 0;
    int budget_min = 0;
    int budget_max = 0;
};

struct ContextOptions {
    std::optional<int> history;     // messages of history; the profile's history_length if absent
    std::optional<int> max_tokens;  // the budget; the profile's token_budget if absent
    bool include_orders = false;

    // The cache key: only what shapes the cached part. Profile defaults are not resolved here
    // (a profile change outdates every context of the account anyway).
    std::string cache_key() const;
};

// Parses the options (JSON text; nullopt means none). Raises 22023 naming what is wrong, with a
// hint that lists every option and its bounds.
ContextOptions parse_context_options(const std::optional<std::string>& json_text, const ContextLimits& limits);

}  // namespace convo
