// build_context's answer as jsonb: the cached part (everything but the window) and the part
// computed on every call.
#pragma once

#include <vector>

#include "api/context_reads.hpp"
#include "core/context_assembly.hpp"
#include "core/free_window.hpp"

namespace convo::api {

// What the context is made of, once read and assembled.
struct ContextParts {
    const FittedPrompt& prompt;
    const ToolSet& tools;
    const Route& route;
    const pg::Uuid& contact_id;
    const Customer& customer;
    const Cart& cart;
    const std::vector<Order>* orders;  // null: not asked for
};

// {messages, tools, model, customer, cart, budget[, orders]}, in the current memory context.
Datum write_context(const ContextParts& parts);

// {"window": ..., "cached": ...}: the part computed on every call.
Datum write_live_part(const WindowState& window, bool cached);

}  // namespace convo::api
