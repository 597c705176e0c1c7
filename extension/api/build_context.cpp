// SQL API: convo.build_context(conversation_id, options) — the one call an assistant makes
// before each LLM request.
//
// Hit: one index probe reads the conversation's window columns, both context versions and the
// cached context; the window is computed now and added. Miss: the conversation, contact,
// profile, recent history, cart (and orders) are read with kept plans, assembled and trimmed
// in C++ (core/context_assembly), stored with the versions read first, and returned.
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/window_json.hpp"
#include "core/context_assembly.hpp"
#include "core/token_estimate.hpp"
#include "pg/function.hpp"
#include "pg/jsonb_merge.hpp"
#include "pg/spi.hpp"

extern "C" {
#include "utils/jsonb.h"
}

namespace convo::api {
namespace {

using nlohmann::json;
using pg::KeptPlan;

constexpr int kDefaultHistory = 5;
constexpr int kDefaultBudget = 1500;
constexpr int kMaxHistory = 100;
constexpr int kMinBudget = 50;
constexpr int kMaxBudget = 200000;
constexpr int kMaxCartLines = 50;
constexpr std::size_t kLabelChars = 40;

// Both context versions are read here, before any data: see sql/context.sql.
KeptPlan read_head{
    "SELECT c.account_id, c.last_inbound_at, c.entry_point_at, c.entry_point_replied_at,"
    "       c.context_version, a.context_version,"
    "       cc.context IS NOT NULL AND cc.conversation_version = c.context_version"
    "         AND cc.account_version = a.context_version"
    "         AND (cc.valid_until IS NULL OR cc.valid_until > now()),"
    "       cc.context"
    "  FROM convo.conversations c"
    "  JOIN convo.accounts a ON a.account_id = c.account_id"
    "  LEFT JOIN convo.context_cache cc ON cc.account_id = c.account_id"
    "       AND cc.conversation_id = c.conversation_id AND cc.options_key = $2"
    " WHERE c.conversation_id = $1",
    2, {UUIDOID, TEXTOID}};

KeptPlan read_conversation{
    "SELECT c.contact_id, c.current_step, a.name, k.profile_name, k.wa_id, k.user_id,"
    "       p.system_template, p.history_length, p.token_budget, p.tools::text, p.style_rules,"
    "       p.business_info ->> 'name',"
    "       (SELECT s ->> 'instruction' FROM jsonb_array_elements(p.steps) s"
    "         WHERE s ->> 'name' = c.current_step LIMIT 1),"
    "       a.xmin::text, a.context_version"
    "  FROM convo.conversations c"
    "  JOIN convo.accounts a ON a.account_id = c.account_id"
    "  JOIN convo.contacts k ON k.account_id = c.account_id AND k.contact_id = c.contact_id"
    "  LEFT JOIN convo.bot_profiles p ON p.account_id = c.account_id"
    "       AND p.bot_profile_id = coalesce(c.bot_profile_id,"
    "           (SELECT d.bot_profile_id FROM convo.bot_profiles d"
    "             WHERE d.account_id = c.account_id AND d.is_default))"
    " WHERE c.account_id = $1 AND c.conversation_id = $2",
    2, {UUIDOID, UUIDOID}};

// Newest first; the payload only where a placeholder needs a detail from it.
KeptPlan read_history{
    "SELECT direction = 'in', type, body,"
    "       CASE WHEN type IN ('document', 'template', 'audio') THEN payload::text END"
    "  FROM convo.messages WHERE account_id = $1 AND conversation_id = $2"
    " ORDER BY sent_at DESC, message_id DESC LIMIT $3",
    3, {UUIDOID, UUIDOID, INT4OID}};

KeptPlan read_latest_inbound{
    "SELECT type, body,"
    "       CASE WHEN type IN ('document', 'audio') THEN payload::text END"
    "  FROM convo.messages WHERE account_id = $1 AND conversation_id = $2 AND direction = 'in'"
    " ORDER BY sent_at DESC, message_id DESC LIMIT 1",
    2, {UUIDOID, UUIDOID}};

KeptPlan read_cart{
    "SELECT ci.product_id::text, p.name, ci.quantity, (ci.quantity * ci.unit_price)::text,"
    "       p.currency, k.expires_at, (sum(ci.quantity * ci.unit_price) OVER ())::text,"
    "       (sum(ci.quantity) OVER ())::int"
    "  FROM convo.carts k"
    "  JOIN convo.cart_items ci ON ci.account_id = k.account_id AND ci.cart_id = k.cart_id"
    "  JOIN convo.products p ON p.account_id = ci.account_id AND p.product_id = ci.product_id"
    " WHERE k.account_id = $1 AND k.contact_id = $2 AND k.status = 'open' AND k.expires_at > now()"
    " ORDER BY ci.added_at, ci.product_id LIMIT 50",
    2, {UUIDOID, UUIDOID}};

KeptPlan read_orders{
    "SELECT order_id::text, status, total::text, currency, to_jsonb(created_at) #>> '{}'"
    "  FROM convo.orders WHERE account_id = $1 AND contact_id = $2"
    " ORDER BY created_at DESC LIMIT 3",
    2, {UUIDOID, UUIDOID}};

KeptPlan read_tools{"SELECT d, d::text FROM convo.tool_definitions($1::text[]) d", 1, {TEXTOID}};
KeptPlan route{"SELECT r, r ->> 'tier' FROM convo.route_model($1, $2) r", 2, {UUIDOID, TEXTOID}};

KeptPlan store{
    "INSERT INTO convo.context_cache AS cc (account_id, conversation_id, options_key,"
    "       conversation_version, account_version, valid_until, context)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7)"
    " ON CONFLICT (account_id, conversation_id, options_key) DO UPDATE SET"
    "   conversation_version = excluded.conversation_version,"
    "   account_version = excluded.account_version, valid_until = excluded.valid_until,"
    "   context = excluded.context, built_at = now()",
    7, {UUIDOID, UUIDOID, TEXTOID, INT8OID, INT8OID, TIMESTAMPTZOID, JSONBOID}};

struct Options {
    std::optional<int> history;
    std::optional<int> max_tokens;
    bool include_orders = false;

    // The cache key: only what shapes the cached part. Profile defaults are not resolved
    // here (a profile change outdates every context of the account anyway).
    std::string key() const {
        return "h=" + (history ? std::to_string(*history) : std::string("-")) +
               ";t=" + (max_tokens ? std::to_string(*max_tokens) : std::string("-")) +
               ";o=" + (include_orders ? "1" : "0");
    }
};

[[noreturn]] void bad_options(const std::string& what) {
    throw Error(sqlstate::invalid_parameter, "convo.build_context: " + what, {},
                "options: {\"history\": 0..100, \"max_tokens\": 50..200000, \"include_orders\": true|false}");
}

int int_option(const json& v, const char* name, int lo, int hi) {
    if (!v.is_number_integer()) bad_options(std::string("options.") + name + " must be an integer");
    long long n = v.get<long long>();
    if (n < lo || n > hi)
        bad_options(std::string("options.") + name + " must be between " + std::to_string(lo) +
                    " and " + std::to_string(hi) + ", got " + std::to_string(n));
    return static_cast<int>(n);
}

Options parse_options(const std::optional<std::string>& text) {
    Options o;
    if (!text) return o;
    json doc = json::parse(*text);
    if (!doc.is_object()) bad_options("options must be a JSON object, got " + std::string(doc.type_name()));
    for (auto it = doc.begin(); it != doc.end(); ++it) {
        if (it.key() == "history")
            o.history = int_option(it.value(), "history", 0, kMaxHistory);
        else if (it.key() == "max_tokens")
            o.max_tokens = int_option(it.value(), "max_tokens", kMinBudget, kMaxBudget);
        else if (it.key() == "include_orders") {
            if (!it.value().is_boolean()) bad_options("options.include_orders must be true or false");
            o.include_orders = it.value().get<bool>();
        } else {
            bad_options("unknown option \"" + it.key() + "\"");
        }
    }
    return o;
}

struct Head {
    pg::Uuid account_id;
    WindowInputs window;
    std::int64_t conversation_version = 0;
    std::int64_t account_version = 0;
    bool fresh = false;
};

std::string short_label(const std::string& name) {
    if (name.size() <= kLabelChars) return name;
    std::size_t cut = kLabelChars;
    while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
    return name.substr(0, cut) + "…";
}

// The tool definitions of a profile, and the tokens they cost, kept per backend: the same few
// lists are asked for on every miss. Keyed by the list and by the account's context version,
// which every change of a profile or of the tool catalogue bumps (sql/context.sql), with the
// transaction that wrote that version: a rolled-back change may have used the same number.
struct ToolSet {
    std::vector<char> jsonb;  // the definitions as a jsonb datum (varlena), empty for none
    std::size_t tokens = 0;
};

constexpr std::size_t kMaxToolSets = 512;
std::unordered_map<std::string, ToolSet> tool_sets;

const ToolSet& tools_of(pg::Spi& spi, const pg::Uuid& account_id, const std::string& version,
                        const std::optional<std::string>& tools_array) {
    static const ToolSet none;
    if (!tools_array) return none;
    std::string key(reinterpret_cast<const char*>(account_id.data()), account_id.size());
    key.append(version).push_back('/');
    key.append(*tools_array);
    if (auto it = tool_sets.find(key); it != tool_sets.end()) return it->second;

    ToolSet set;
    pg::Params p;
    p.text(*tools_array);
    pg::Rows rows = spi.execute(read_tools, p, false, 1);
    if (!rows.empty() && rows.str(0, 2)) {
        // Counted on the compact JSON text, as the budget has always counted tools.
        json tools = json::parse(*rows.str(0, 2));
        set.tokens = tools.empty() ? 0 : estimate_tokens(tools.dump());
        Datum d = rows.transfer(0, 1, false, -1);
        const char* bytes = nullptr;
        std::size_t size = 0;
        pg::guarded([&] {
            struct varlena* v = PG_DETOAST_DATUM(d);
            bytes = reinterpret_cast<const char*>(v);
            size = VARSIZE(v);
        });
        set.jsonb.assign(bytes, bytes + size);
    }
    if (tool_sets.size() >= kMaxToolSets) tool_sets.clear();  // outdated versions pile up otherwise
    return tool_sets.emplace(std::move(key), std::move(set)).first->second;
}

void opt_string(pg::JsonbWriter& out, std::string_view key, const std::optional<std::string>& v) {
    out.key(key);
    v ? out.string(*v) : out.null();
}

void string_pair(pg::JsonbWriter& out, std::string_view key, std::string_view v) {
    out.key(key);
    out.string(v);
}

// Reads everything but the window and assembles it. valid_until: when a part (the cart)
// expires by itself.
// The context is built in out (its strings and parts live in SPI's memory until finish).
void assemble(pg::Spi& spi, const pg::Uuid& conversation_id, const Head& head, const Options& opt,
              std::optional<Micros>& valid_until, bool& cacheable, pg::JsonbWriter& out) {
    pg::Params ids;
    ids.uuid(head.account_id).uuid(conversation_id);
    pg::Rows conv = spi.execute(read_conversation, ids, false, 1);
    if (conv.empty()) throw Error(sqlstate::no_data_found, "convo.build_context: conversation vanished");
    pg::Uuid contact_id = *conv.uuid(0, 1);
    auto current_step = conv.str(0, 2);
    std::string account_name = conv.str(0, 3).value_or("");
    auto customer_name = conv.str(0, 4);
    auto wa_id = conv.str(0, 5);
    auto user_id = conv.str(0, 6);
    std::string tmpl = conv.str(0, 7).value_or(
        "You are the WhatsApp assistant of {{business_name}}.\nCustomer: {{customer_name}}.\n{{style}}");
    int history_n = opt.history.value_or(conv.int4(0, 8).value_or(kDefaultHistory));
    int budget = opt.max_tokens.value_or(conv.int4(0, 9).value_or(kDefaultBudget));
    auto tools_array = conv.str(0, 10);  // text form of text[], passed back as a parameter
    std::string style = conv.str(0, 11).value_or("");
    std::string business_name = conv.str(0, 12).value_or(account_name);
    std::string step_instruction = conv.str(0, 13).value_or("");

    // History, newest first from the index, then put in reading order.
    std::vector<HistoryMessage> newest_first;
    if (history_n > 0) {
        pg::Params p;
        p.uuid(head.account_id).uuid(conversation_id).int4(history_n);
        pg::Rows rows = spi.execute(read_history, p, false);
        for (std::uint64_t i = 0; i < rows.size(); ++i)
            newest_first.push_back({rows.boolean(i, 1).value_or(false), rows.str(i, 2).value_or(""),
                                    rows.str(i, 3), rows.str(i, 4).value_or("")});
    }
    std::vector<ChatMessage> history;
    long latest_customer = -1;
    for (auto it = newest_first.rbegin(); it != newest_first.rend(); ++it) {
        if (it->inbound) latest_customer = static_cast<long>(history.size());
        history.push_back({it->inbound ? "user" : "assistant", message_text(*it)});
    }
    // The latest customer message is always part of the context, even beyond the history length.
    if (latest_customer < 0) {
        pg::Rows rows = spi.execute(read_latest_inbound, ids, false, 1);
        if (!rows.empty()) {
            HistoryMessage m{true, rows.str(0, 1).value_or(""), rows.str(0, 2), rows.str(0, 3).value_or("")};
            history.insert(history.begin(), {"user", message_text(m)});
            latest_customer = 0;
        }
    }
    std::string latest_text = latest_customer >= 0 ? history[latest_customer].content : "";

    // Cart: ids, short labels, quantities, total; never whole product records.
    pg::Params cart_params;
    cart_params.uuid(head.account_id).uuid(contact_id);
    pg::Rows cart_rows = spi.execute(read_cart, cart_params, false, kMaxCartLines);
    struct CartLine {
        std::string product_id, label;
        int quantity;
        std::string amount;
    };
    std::vector<CartLine> cart;
    for (std::uint64_t i = 0; i < cart_rows.size(); ++i)
        cart.push_back({cart_rows.str(i, 1).value_or(""), short_label(cart_rows.str(i, 2).value_or("")),
                        cart_rows.int4(i, 3).value_or(0), cart_rows.str(i, 4).value_or("0")});
    std::string cart_summary;
    std::string cart_total;
    std::string cart_currency;
    if (!cart_rows.empty()) {
        cart_currency = cart_rows.str(0, 5).value_or("");
        cart_total = cart_rows.str(0, 7).value_or("0");
        int units = cart_rows.int4(0, 8).value_or(0);
        cart_summary = std::to_string(units) + (units == 1 ? " item, " : " items, ") + cart_total + " " + cart_currency;
        valid_until = cart_rows.timestamptz(0, 6);
    }

    const ToolSet& toolset = tools_of(spi, head.account_id,
                                      conv.str(0, 14).value_or("") + ":" + std::to_string(conv.int8(0, 15).value_or(0)),
                                      tools_array);

    pg::Params rp;
    rp.uuid(conversation_id).text(latest_text);
    pg::Rows routed = spi.execute(route, rp, false, 1);
    std::optional<Datum> model;
    if (!routed.empty() && routed.str(0, 2)) {
        // A cached answer may expire on its own: such a context is not kept.
        if (*routed.str(0, 2) == "cached") cacheable = false;
        model = routed.transfer(0, 1, false, -1);
    }

    PromptFields fields{business_name, customer_name.value_or(""), cart_summary,
                        current_step.value_or(""), step_instruction, style};
    ChatMessage system{"system", render_system_prompt(tmpl, fields)};
    FittedPrompt fit = fit_to_budget(std::move(system), std::move(history), latest_customer,
                                     toolset.tokens, static_cast<std::size_t>(budget));

    out.begin_object();
    out.key("messages");
    out.begin_array();
    for (const ChatMessage& m : fit.messages) {
        out.begin_object();
        string_pair(out, "role", m.role);
        string_pair(out, "content", m.content);
        out.end_object();
    }
    out.end_array();
    out.key("tools");
    if (toolset.jsonb.empty()) {
        out.begin_array();
        out.end_array();
    } else {
        out.jsonb(PointerGetDatum(toolset.jsonb.data()));
    }
    out.key("model");
    model ? out.jsonb(*model) : out.null();
    out.key("customer");
    out.begin_object();
    string_pair(out, "id", pg::uuid_to_string(contact_id));
    opt_string(out, "name", customer_name);
    opt_string(out, "wa_id", wa_id);
    opt_string(out, "user_id", user_id);
    out.end_object();
    out.key("cart");
    if (cart.empty()) {
        out.null();
    } else {
        out.begin_object();
        out.key("items");
        out.begin_array();
        for (const CartLine& line : cart) {
            out.begin_object();
            string_pair(out, "product_id", line.product_id);
            string_pair(out, "label", line.label);
            out.key("quantity");
            out.int64(line.quantity);
            string_pair(out, "amount", line.amount);
            out.end_object();
        }
        out.end_array();
        string_pair(out, "total", cart_total);
        string_pair(out, "currency", cart_currency);
        out.end_object();
    }
    out.key("budget");
    out.begin_object();
    out.key("used");
    out.int64(static_cast<std::int64_t>(fit.used));
    out.key("limit");
    out.int64(static_cast<std::int64_t>(fit.limit));
    out.key("dropped");
    out.int64(static_cast<std::int64_t>(fit.dropped));
    out.key("truncated");
    out.boolean(fit.truncated);
    out.key("over_budget");
    out.boolean(fit.over_budget);
    out.end_object();
    if (opt.include_orders) {
        out.key("orders");
        out.begin_array();
        pg::Rows rows = spi.execute(read_orders, cart_params, false, 3);
        for (std::uint64_t i = 0; i < rows.size(); ++i) {
            out.begin_object();
            string_pair(out, "id", rows.str(i, 1).value_or(""));
            string_pair(out, "status", rows.str(i, 2).value_or(""));
            string_pair(out, "total", rows.str(i, 3).value_or("0"));
            string_pair(out, "currency", rows.str(i, 4).value_or(""));
            string_pair(out, "created_at", rows.str(i, 5).value_or(""));
            out.end_object();
        }
        out.end_array();
    }
    out.end_object();
}

// {"window": ..., "cached": ...}: the part computed on every call.
Datum live_part(const WindowState& w, bool cached) {
    pg::JsonbWriter out;
    out.begin_object();
    out.key("window");
    write_window(out, w);
    out.key("cached");
    out.boolean(cached);
    out.end_object();
    return out.finish();
}

}  // namespace
}  // namespace convo::api

using namespace convo;

CONVO_FUNCTION(convo_build_context) {
    const char* fn = "convo.build_context";
    auto id = pg::arg_uuid(fcinfo, 0);
    if (!id) throw Error(sqlstate::null_value, std::string(fn) + ": conversation_id must not be NULL");
    api::Options opt = api::parse_options(pg::arg_jsonb_text(fcinfo, 1));
    Micros now = pg::transaction_now();

    MemoryContext caller_context = CurrentMemoryContext;
    pg::Spi spi;
    pg::Params head_params;
    head_params.uuid(*id).text(opt.key());
    pg::Rows rows = spi.execute(api::read_head, head_params, false, 1);
    if (rows.empty()) throw Error(sqlstate::no_data_found, std::string(fn) + ": unknown conversation " + pg::uuid_to_string(*id));
    api::Head head;
    head.account_id = *rows.uuid(0, 1);
    head.window = {rows.timestamptz(0, 2), rows.timestamptz(0, 3), rows.timestamptz(0, 4)};
    head.conversation_version = *rows.int8(0, 5);
    head.account_version = *rows.int8(0, 6);
    head.fresh = rows.boolean(0, 7).value_or(false);
    WindowState window = compute_window(head.window, now);

    if (head.fresh) {
        Datum cached = rows.transfer(0, 8, /*by_value=*/false, /*type_length=*/-1);
        spi.finish();
        return pg::merge_objects(cached, api::live_part(window, true));
    }

    std::optional<Micros> valid_until;
    bool cacheable = true;
    pg::JsonbWriter out;
    api::assemble(spi, *id, head, opt, valid_until, cacheable, out);
    // In the caller's memory context: it is returned after SPI_finish frees SPI's.
    MemoryContext spi_context = MemoryContextSwitchTo(caller_context);
    Datum built;
    try {
        built = out.finish();
    } catch (...) {
        MemoryContextSwitchTo(spi_context);
        throw;
    }
    MemoryContextSwitchTo(spi_context);
    if (cacheable && !pg::transaction_read_only()) {
        pg::Params p;
        p.uuid(head.account_id).uuid(*id).text(opt.key()).int8(head.conversation_version)
            .int8(head.account_version).opt_timestamptz(valid_until).datum(built);
        spi.execute(api::store, p, false);
    }
    spi.finish();
    return pg::merge_objects(built, api::live_part(window, false));
}
