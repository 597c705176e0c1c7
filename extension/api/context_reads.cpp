// build_context's reads (see context_reads.hpp).
#include <unordered_map>

// Before PostgreSQL's headers, whose snprintf macro it would otherwise meet.
#include <nlohmann/json.hpp>

#include "api/context_reads.hpp"
#include "core/error.hpp"

#include "core/token_estimate.hpp"

#include "pg/api_only.hpp"  // last

namespace convo::api {
namespace {

using pg::KeptPlan;

KeptPlan read_limits_plan{
    "SELECT convo.limit_value('history_length', 'min'), convo.limit_value('history_length', 'max'),"
    "       convo.limit_value('token_budget', 'min'), convo.limit_value('token_budget', 'max')",
    0, {}};

// Both context versions are read here, before any data: see sql/context.sql. A hit needs only
// the versions, the window columns and the cached row; a miss takes the rest from here too,
// so the conversation is read once.
KeptPlan read_head_plan{
    "SELECT c.account_id, c.contact_id, c.bot_profile_id, c.current_step,"
    "       c.last_inbound_at, c.entry_point_at, c.entry_point_replied_at,"
    "       c.context_version, a.context_version, a.name, a.xmin::text,"
    "       cc.context IS NOT NULL AND cc.conversation_version = c.context_version"
    "         AND cc.account_version = a.context_version"
    "         AND (cc.valid_until IS NULL OR cc.valid_until > now()),"
    "       cc.context"
    "  FROM convo.conversations c"
    "  JOIN convo.accounts a ON a.account_id = c.account_id"
    "  LEFT JOIN convo.context_cache cc ON cc.account_id = c.account_id"
    "       AND cc.conversation_id = c.conversation_id AND cc.options_key = $2"
    " WHERE c.conversation_id = $1",
    2, {pg::oid::uuid, pg::oid::text}};

// The profile comes from convo.effective_profile and the cart from convo.open_cart (both
// inlined into this plan): their owners, not a copy of their rules.
KeptPlan read_context_plan{
    "SELECT k.profile_name, k.wa_id, k.user_id,"
    "       p.system_template, p.history_length, p.token_budget, p.tools::text, p.simple_intents::text,"
    "       p.small_model, p.large_model, p.style_rules, p.business_info ->> 'name',"
    "       (SELECT s ->> 'instruction' FROM jsonb_array_elements(p.steps) s"
    "         WHERE s ->> 'name' = $4 LIMIT 1),"
    "       cart.summary, cart.prompt_line, cart.expires_at, p.bot_profile_id IS NOT NULL"
    "  FROM convo.contacts k"
    "  LEFT JOIN convo.effective_profile($1, $3) p ON true"
    " CROSS JOIN convo.open_cart($1, $2) cart"
    " WHERE k.account_id = $1 AND k.contact_id = $2",
    4, {pg::oid::uuid, pg::oid::uuid, pg::oid::uuid, pg::oid::text}};

// Said when the account has no profile for the conversation: the words every caller uses.
KeptPlan no_profile_plan{"SELECT convo.no_bot_profile($1, 'convo.build_context')", 1, {pg::oid::uuid}};

// Newest first; the payload only where a placeholder needs a detail from it. A message its
// sender deleted is read as type 'deleted' without its words: the assistant sees that something
// was deleted, never what (the row keeps it for the record).
KeptPlan read_history_plan{
    "SELECT direction = 'in', CASE WHEN deleted_at IS NULL THEN type ELSE 'deleted' END,"
    "       CASE WHEN deleted_at IS NULL THEN body END,"
    "       CASE WHEN deleted_at IS NULL AND type IN ('document', 'template', 'audio') THEN payload::text END"
    "  FROM convo.messages WHERE account_id = $1 AND conversation_id = $2"
    " ORDER BY sent_at DESC, message_id DESC LIMIT $3",
    3, {pg::oid::uuid, pg::oid::uuid, pg::oid::int4}};

KeptPlan read_latest_inbound_plan{
    "SELECT CASE WHEN deleted_at IS NULL THEN type ELSE 'deleted' END, CASE WHEN deleted_at IS NULL THEN body END,"
    "       CASE WHEN deleted_at IS NULL AND type IN ('document', 'audio') THEN payload::text END"
    "  FROM convo.messages WHERE account_id = $1 AND conversation_id = $2 AND direction = 'in'"
    " ORDER BY sent_at DESC, message_id DESC LIMIT 1",
    2, {pg::oid::uuid, pg::oid::uuid}};

// The same reads on 0.1.0's messages table, which has no deleted_at (build_context_0_1.cpp).
KeptPlan read_history_plan_0_1{
    "SELECT direction = 'in', type, body,"
    "       CASE WHEN type IN ('document', 'template', 'audio') THEN payload::text END"
    "  FROM convo.messages WHERE account_id = $1 AND conversation_id = $2"
    " ORDER BY sent_at DESC, message_id DESC LIMIT $3",
    3, {pg::oid::uuid, pg::oid::uuid, pg::oid::int4}};

KeptPlan read_latest_inbound_plan_0_1{
    "SELECT type, body, CASE WHEN type IN ('document', 'audio') THEN payload::text END"
    "  FROM convo.messages WHERE account_id = $1 AND conversation_id = $2 AND direction = 'in'"
    " ORDER BY sent_at DESC, message_id DESC LIMIT 1",
    2, {pg::oid::uuid, pg::oid::uuid}};

// Routing takes the profile already read: no second read of the conversation or profile.
KeptPlan route_plan{
    "SELECT r, r ->> 'tier' FROM convo.route_text($1, $2, $3, $4::text[], $5) r",
    5, {pg::oid::uuid, pg::oid::text, pg::oid::text, pg::oid::text, pg::oid::text}};

KeptPlan read_tools_plan{"SELECT d, d::text FROM convo.tool_definitions($1::text[]) d", 1, {pg::oid::text}};

KeptPlan read_orders_plan{
    "SELECT order_id::text, status, total::text, currency, to_jsonb(created_at) #>> '{}'"
    "  FROM convo.orders WHERE account_id = $1 AND contact_id = $2"
    " ORDER BY created_at DESC LIMIT 3",
    2, {pg::oid::uuid, pg::oid::uuid}};

KeptPlan store_plan{
    "INSERT INTO convo.context_cache AS cc (account_id, conversation_id, options_key,"
    "       conversation_version, account_version, valid_until, context)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7)"
    " ON CONFLICT (account_id, conversation_id, options_key) DO UPDATE SET"
    "   conversation_version = excluded.conversation_version,"
    "   account_version = excluded.account_version, valid_until = excluded.valid_until,"
    "   context = excluded.context, built_at = now()",
    7, {pg::oid::uuid, pg::oid::uuid, pg::oid::text, pg::oid::int8, pg::oid::int8, pg::oid::timestamptz, pg::oid::jsonb}};

// Tool definitions kept per backend: the same few lists are asked for on every miss. Keyed by
// the list and by the account's context version, which every change of a profile or of the
// tool catalogue bumps (sql/context.sql), with the transaction that wrote that version: a
// rolled-back change may have used the same number.
constexpr std::size_t kMaxToolSets = 512;
std::unordered_map<std::string, ToolSet> tool_sets;

// The varlena value (jsonb) at (row, col), copied out of SPI's memory; it must not be NULL.
std::vector<char> varlena_at(const pg::Rows& rows, std::uint64_t row, int col) {
    return pg::varlena_copy(rows.transfer(row, col, /*by_value=*/false, /*type_length=*/-1));
}

}  // namespace

const ContextLimits& context_limits(pg::Spi& spi) {
    static std::optional<ContextLimits> limits;
    if (!limits) {
        pg::Rows rows = spi.execute(read_limits_plan, true, 1);
        if (rows.empty()) throw Error(sqlstate::internal, "convo.build_context: convo.limits() answered nothing");
        limits = ContextLimits{rows.int4(0, 1).value_or(0), rows.int4(0, 2).value_or(0), rows.int4(0, 3).value_or(0),
                               rows.int4(0, 4).value_or(0)};
    }
    return *limits;
}

ContextHead read_head(pg::Spi& spi, const pg::Uuid& conversation_id, const std::string& options_key) {
    pg::Params p;
    p.uuid(conversation_id).text(options_key);
    pg::Rows rows = spi.execute(read_head_plan, p, false, 1);
    if (rows.empty())
        throw Error(sqlstate::no_data_found,
                    "convo.build_context: unknown conversation " + pg::uuid_to_string(conversation_id));
    ContextHead h;
    h.conversation_id = conversation_id;
    h.account_id = *rows.uuid(0, 1);
    h.contact_id = *rows.uuid(0, 2);
    h.bot_profile_id = rows.uuid(0, 3);
    h.current_step = rows.str(0, 4);
    h.window = {rows.timestamptz(0, 5), rows.timestamptz(0, 6), rows.timestamptz(0, 7)};
    h.conversation_version = *rows.int8(0, 8);
    h.account_version = *rows.int8(0, 9);
    h.account_name = rows.str(0, 10).value_or("");
    h.account_version_tag = rows.str(0, 11).value_or("") + ":" + std::to_string(h.account_version);
    if (rows.boolean(0, 12).value_or(false)) h.cached = rows.transfer(0, 13, /*by_value=*/false, /*type_length=*/-1);
    return h;
}

ContextValues read_context_values(pg::Spi& spi, const ContextHead& head) {
    pg::Params p;
    p.uuid(head.account_id).uuid(head.contact_id);
    head.bot_profile_id ? p.uuid(*head.bot_profile_id) : p.null();
    p.opt_text(head.current_step);
    pg::Rows rows = spi.execute(read_context_plan, p, false, 1);
    if (rows.empty()) throw Error(sqlstate::no_data_found, "convo.build_context: the conversation's contact vanished");
    if (!rows.boolean(0, 17).value_or(false)) {
        pg::Params account;
        account.uuid(head.account_id);
        spi.execute(no_profile_plan, account, false, 1);  // raises 55000
        throw Error(sqlstate::internal, "convo.build_context: convo.no_bot_profile did not raise");
    }
    ContextValues v{
        Customer{rows.str(0, 1), rows.str(0, 2), rows.str(0, 3)},
        ProfileValues{rows.str(0, 4).value_or(""), rows.int4(0, 5).value_or(0), rows.int4(0, 6).value_or(0),
                      rows.str(0, 7), rows.str(0, 8), rows.str(0, 9).value_or(""), rows.str(0, 10).value_or(""),
                      rows.str(0, 11).value_or(""), rows.str(0, 12), rows.str(0, 13).value_or("")},
        Cart{varlena_at(rows, 0, 14), rows.str(0, 15).value_or(""), rows.timestamptz(0, 16)}};
    return v;
}

std::vector<HistoryMessage> read_history(pg::Spi& spi, const ContextHead& head, int n, MessagesTable table) {
    std::vector<HistoryMessage> newest_first;
    if (n <= 0) return newest_first;
    pg::Params p;
    p.uuid(head.account_id).uuid(head.conversation_id).int4(n);
    pg::Rows rows = spi.execute(table == MessagesTable::current ? read_history_plan : read_history_plan_0_1, p, false);
    newest_first.reserve(rows.size());
    for (std::uint64_t i = 0; i < rows.size(); ++i)
        newest_first.push_back({rows.boolean(i, 1).value_or(false), rows.str(i, 2).value_or(""), rows.str(i, 3),
                                rows.str(i, 4).value_or("")});
    return newest_first;
}

std::optional<HistoryMessage> read_latest_customer_message(pg::Spi& spi, const ContextHead& head, MessagesTable table) {
    pg::Params p;
    p.uuid(head.account_id).uuid(head.conversation_id);
    pg::Rows rows = spi.execute(table == MessagesTable::current ? read_latest_inbound_plan : read_latest_inbound_plan_0_1,
                                p, false, 1);
    if (rows.empty()) return std::nullopt;
    return HistoryMessage{true, rows.str(0, 1).value_or(""), rows.str(0, 2), rows.str(0, 3).value_or("")};
}

Route read_route(pg::Spi& spi, const ContextHead& head, const ProfileValues& profile, const std::string& text) {
    pg::Params p;
    p.uuid(head.account_id).text(profile.small_model).text(profile.large_model).opt_text(profile.simple_intents).text(text);
    pg::Rows rows = spi.execute(route_plan, p, false, 1);
    if (rows.empty() || !rows.str(0, 2))
        throw Error(sqlstate::internal, "convo.build_context: convo.route_text answered nothing");
    return Route{varlena_at(rows, 0, 1), *rows.str(0, 2) == "cached"};
}

const ToolSet& read_tools(pg::Spi& spi, const ContextHead& head, const std::optional<std::string>& tools) {
    static const ToolSet none;
    if (!tools) return none;
    std::string key(reinterpret_cast<const char*>(head.account_id.data()), head.account_id.size());
    key.append(head.account_version_tag).push_back('/');
    key.append(*tools);
    if (auto it = tool_sets.find(key); it != tool_sets.end()) return it->second;

    ToolSet set;
    pg::Params p;
    p.text(*tools);
    pg::Rows rows = spi.execute(read_tools_plan, p, false, 1);
    if (!rows.empty() && rows.str(0, 2)) {
        // Counted on the compact JSON text, as the budget has always counted tools.
        nlohmann::json definitions = nlohmann::json::parse(*rows.str(0, 2));
        set.tokens = definitions.empty() ? 0 : estimate_tokens(definitions.dump());
        set.definitions = varlena_at(rows, 0, 1);
    }
    if (tool_sets.size() >= kMaxToolSets) tool_sets.clear();  // outdated versions pile up otherwise
    return tool_sets.emplace(std::move(key), std::move(set)).first->second;
}

std::vector<Order> read_orders(pg::Spi& spi, const ContextHead& head) {
    pg::Params p;
    p.uuid(head.account_id).uuid(head.contact_id);
    pg::Rows rows = spi.execute(read_orders_plan, p, false, 3);
    std::vector<Order> orders;
    for (std::uint64_t i = 0; i < rows.size(); ++i)
        orders.push_back({rows.str(i, 1).value_or(""), rows.str(i, 2).value_or(""), rows.str(i, 3).value_or("0"),
                          rows.str(i, 4).value_or(""), rows.str(i, 5).value_or("")});
    return orders;
}

void store_context(pg::Spi& spi, const ContextHead& head, const std::string& options_key,
                   const std::optional<Micros>& valid_until, Datum context) {
    pg::Params p;
    p.uuid(head.account_id).uuid(head.conversation_id).text(options_key).int8(head.conversation_version)
        .int8(head.account_version).opt_timestamptz(valid_until).datum(context);
    spi.execute(store_plan, p, false);
}

}  // namespace convo::api
