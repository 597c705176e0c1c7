// build_context's jsonb (see context_json.hpp).
#include "api/context_json.hpp"

#include "api/window_json.hpp"

#include "pg/api_only.hpp"  // last

namespace convo::api {
namespace {

void string_pair(pg::JsonbWriter& out, std::string_view key, std::string_view v) {
    out.key(key);
    out.string(v);
}

void optional_string_pair(pg::JsonbWriter& out, std::string_view key, const std::optional<std::string>& v) {
    out.key(key);
    v ? out.string(*v) : out.null();
}

void int_pair(pg::JsonbWriter& out, std::string_view key, std::size_t v) {
    out.key(key);
    out.int64(static_cast<std::int64_t>(v));
}

void write_messages(pg::JsonbWriter& out, const std::vector<ChatMessage>& messages) {
    out.begin_array();
    for (const ChatMessage& m : messages) {
        out.begin_object();
        string_pair(out, "role", m.role);
        string_pair(out, "content", m.content);
        out.end_object();
    }
    out.end_array();
}

void write_budget(pg::JsonbWriter& out, const FittedPrompt& fit) {
    out.begin_object();
    int_pair(out, "used", fit.used);
    int_pair(out, "limit", fit.limit);
    int_pair(out, "dropped", fit.dropped);
    out.key("truncated");
    out.boolean(fit.truncated);
    out.key("over_budget");
    out.boolean(fit.over_budget);
    out.end_object();
}

void write_orders(pg::JsonbWriter& out, const std::vector<Order>& orders) {
    out.begin_array();
    for (const Order& o : orders) {
        out.begin_object();
        string_pair(out, "id", o.id);
        string_pair(out, "status", o.status);
        string_pair(out, "total", o.total);
        string_pair(out, "currency", o.currency);
        string_pair(out, "created_at", o.created_at);
        out.end_object();
    }
    out.end_array();
}

}  // namespace

Datum write_context(const ContextParts& parts) {
    pg::JsonbWriter out;
    out.begin_object();
    out.key("messages");
    write_messages(out, parts.prompt.messages);
    out.key("tools");
    if (!parts.tools.definitions.empty()) {
        out.jsonb(pg::varlena_datum(parts.tools.definitions));
    } else {
        out.begin_array();
        out.end_array();
    }
    out.key("model");
    out.jsonb(pg::varlena_datum(parts.route.model));
    out.key("customer");
    out.begin_object();
    string_pair(out, "id", pg::uuid_to_string(parts.contact_id));
    optional_string_pair(out, "name", parts.customer.name);
    optional_string_pair(out, "wa_id", parts.customer.wa_id);
    optional_string_pair(out, "user_id", parts.customer.user_id);
    out.end_object();
    // The cart exactly as the cart tools return it (convo.open_cart).
    out.key("cart");
    parts.cart.summary.empty() ? out.null() : out.jsonb(pg::varlena_datum(parts.cart.summary));
    out.key("budget");
    write_budget(out, parts.prompt);
    if (parts.orders) {
        out.key("orders");
        write_orders(out, *parts.orders);
    }
    out.end_object();
    return out.finish();
}

Datum write_live_part(const WindowState& window, bool cached) {
    pg::JsonbWriter out;
    out.begin_object();
    out.key("window");
    write_window(out, window);
    out.key("cached");
    out.boolean(cached);
    out.end_object();
    return out.finish();
}

}  // namespace convo::api
