// convo.build_context as the 0.1.0 install script declares it (C symbol convo_build_context):
// what a database whose SQL is still 0.1.0 calls between installing this library and running
// ALTER EXTENSION convo UPDATE. 0.2.0's SQL calls convo_build_context_0_2 (build_context.cpp).
//
// Frozen: it reads through the 0.1.0 schema (no convo.effective_profile, convo.open_cart,
// convo.route_text or convo.limits there), so it keeps 0.1.0's own rules: the profile joined
// here, route_model, the 0.1.0 cart ({product_id, label, quantity, amount}, null when empty)
// and the 0.1.0 bounds of the options. Everything else is shared with 0.2.0.
#include <optional>
#include <string>
#include <vector>

#include "api/context_json.hpp"
#include "api/context_reads.hpp"
#include "core/context_assembly.hpp"
#include "core/context_options.hpp"
#include "pg/entry.hpp"
#include "pg/jsonb_merge.hpp"
#include "pg/spi.hpp"
#include "pg/values.hpp"

#include "pg/api_only.hpp"  // last

namespace convo::api {
namespace {

using pg::KeptPlan;

// The bounds of 0.1.0's bot_profiles CHECKs.
constexpr ContextLimits kLimits01{0, 100, 50, 200000};

KeptPlan read_context_01{
    "SELECT k.profile_name, k.wa_id, k.user_id,"
    "       p.system_template, p.history_length, p.token_budget, p.tools::text, p.style_rules,"
    "       p.business_info ->> 'name',"
    "       (SELECT s ->> 'instruction' FROM jsonb_array_elements(p.steps) s WHERE s ->> 'name' = $4 LIMIT 1)"
    "  FROM convo.contacts k"
    "  LEFT JOIN convo.bot_profiles p ON p.account_id = k.account_id"
    "       AND p.bot_profile_id = coalesce($3, (SELECT d.bot_profile_id FROM convo.bot_profiles d"
    "                                             WHERE d.account_id = k.account_id AND d.is_default))"
    " WHERE k.account_id = $1 AND k.contact_id = $2",
    4, {pg::oid::uuid, pg::oid::uuid, pg::oid::uuid, pg::oid::text}};

// 0.1.0's cart: labels of at most 40 characters, amounts as decimal strings, null when empty.
KeptPlan read_cart_01{
    "SELECT CASE WHEN count(*) > 0 THEN jsonb_build_object("
    "         'items', jsonb_agg(jsonb_build_object('product_id', l.product_id::text,"
    "             'label', CASE WHEN length(l.name) > 40 THEN left(l.name, 40) || '…' ELSE l.name END,"
    "             'quantity', l.quantity, 'amount', (l.quantity * l.unit_price)::text) ORDER BY l.added_at, l.product_id),"
    "         'total', sum(l.quantity * l.unit_price)::text, 'currency', min(l.currency)) END,"
    "       CASE WHEN count(*) > 0 THEN sum(l.quantity) || CASE WHEN sum(l.quantity) = 1 THEN ' item, ' ELSE ' items, ' END"
    "            || sum(l.quantity * l.unit_price)::text || ' ' || min(l.currency) END,"
    "       min(l.expires_at)"
    "  FROM (SELECT ci.product_id, p.name, ci.quantity, ci.unit_price, p.currency, ci.added_at, k.expires_at"
    "          FROM convo.carts k"
    "          JOIN convo.cart_items ci ON ci.account_id = k.account_id AND ci.cart_id = k.cart_id"
    "          JOIN convo.products p ON p.account_id = ci.account_id AND p.product_id = ci.product_id"
    "         WHERE k.account_id = $1 AND k.contact_id = $2 AND k.status = 'open' AND k.expires_at > now()"
    "         ORDER BY ci.added_at, ci.product_id LIMIT 50) l",
    2, {pg::oid::uuid, pg::oid::uuid}};

KeptPlan route_01{"SELECT r, r ->> 'tier' FROM convo.route_model($1, $2) r", 2, {pg::oid::uuid, pg::oid::text}};

ContextValues read_context_values_01(pg::Spi& spi, const ContextHead& head) {
    pg::Params p;
    p.uuid(head.account_id).uuid(head.contact_id);
    head.bot_profile_id ? p.uuid(*head.bot_profile_id) : p.null();
    p.opt_text(head.current_step);
    pg::Rows rows = spi.execute(read_context_01, p, false, 1);
    if (rows.empty()) throw Error(sqlstate::no_data_found, "convo.build_context: the conversation's contact vanished");
    ContextValues v;
    v.customer = {rows.str(0, 1), rows.str(0, 2), rows.str(0, 3)};
    v.profile.system_template = rows.str(0, 4).value_or(
        "You are the WhatsApp assistant of {{business_name}}.\nCustomer: {{customer_name}}.\n{{style}}");
    v.profile.history_length = rows.int4(0, 5).value_or(5);
    v.profile.token_budget = rows.int4(0, 6).value_or(1500);
    v.profile.tools = rows.str(0, 7);
    v.profile.style = rows.str(0, 8).value_or("");
    v.profile.business_name = rows.str(0, 9);
    v.profile.step_instruction = rows.str(0, 10).value_or("");

    pg::Params c;
    c.uuid(head.account_id).uuid(head.contact_id);
    pg::Rows cart = spi.execute(read_cart_01, c, false, 1);
    if (!cart.empty() && cart.str(0, 2)) {
        v.cart.summary = pg::varlena_copy(cart.transfer(0, 1, false, -1));
        v.cart.prompt_line = *cart.str(0, 2);
        v.cart.expires_at = cart.timestamptz(0, 3);
    }
    return v;
}

Route read_route_01(pg::Spi& spi, const ContextHead& head, const std::string& text) {
    pg::Params p;
    p.uuid(head.conversation_id).text(text);
    pg::Rows rows = spi.execute(route_01, p, false, 1);
    if (rows.empty() || !rows.str(0, 2))
        throw Error(sqlstate::internal, "convo.build_context: convo.route_model answered nothing");
    return Route{pg::varlena_copy(rows.transfer(0, 1, false, -1)), *rows.str(0, 2) == "cached"};
}

}  // namespace
}  // namespace convo::api

using namespace convo;

CONVO_FUNCTION(convo_build_context) {
    auto id = pg::arg_uuid(fcinfo, 0);
    if (!id) throw Error(sqlstate::null_value, "convo.build_context: conversation_id must not be NULL");
    ContextOptions opt = parse_context_options(pg::arg_jsonb_text(fcinfo, 1), api::kLimits01);
    Micros now = pg::transaction_now();

    pg::Spi spi;
    std::string options_key = opt.cache_key();
    api::ContextHead head = api::read_head(spi, *id, options_key);
    WindowState window = compute_window(head.window, now);
    if (head.cached) {
        spi.finish();
        return pg::merge_objects(*head.cached, api::write_live_part(window, true));
    }

    api::ContextValues values = api::read_context_values_01(spi, head);
    const api::ProfileValues& profile = values.profile;
    Transcript transcript = make_transcript(
        api::read_history(spi, head, opt.history.value_or(profile.history_length), api::MessagesTable::v0_1));
    if (transcript.latest_customer < 0)
        if (auto latest = api::read_latest_customer_message(spi, head, api::MessagesTable::v0_1))
            add_latest_customer_message(transcript, *latest);
    api::Route route = api::read_route_01(spi, head, transcript.latest_text());
    const api::ToolSet& tools = api::read_tools(spi, head, profile.tools);
    std::optional<std::vector<api::Order>> orders;
    if (opt.include_orders) orders = api::read_orders(spi, head);

    PromptFields fields{profile.business_name.value_or(head.account_name), values.customer.name.value_or(""),
                        values.cart.prompt_line, head.current_step.value_or(""), profile.step_instruction,
                        profile.style};
    FittedPrompt prompt = assemble_prompt(profile.system_template, fields, std::move(transcript), tools.tokens,
                                          static_cast<std::size_t>(opt.max_tokens.value_or(profile.token_budget)));
    Datum built = api::write_context({prompt, tools, route, head.contact_id, values.customer, values.cart,
                                      orders ? &*orders : nullptr});
    if (!route.cached_answer && !pg::transaction_read_only())
        api::store_context(spi, head, options_key, values.cart.expires_at, built);
    std::vector<char> context = pg::varlena_copy(built);
    spi.finish();
    return pg::merge_objects(pg::varlena_datum(context), api::write_live_part(window, false));
}
