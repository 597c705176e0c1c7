// convo.build_context as the 0.1.0 install script declares it (C symbol convo_build_context):
// what a database whose SQL is still 0.1.0 calls between installing this library and running
// ALTER EXTENSION convo UPDATE. 0.2.0's SQL calls convo_build_context_0_2 (build_context.cpp).
//
// Frozen: it reads through the 0.1.0 schema (no convo.effective_profile, convo.open_cart,
// convo.route_text or convo.limits there), so it keeps 0.1.0's own rules: the profile joined
// here, route_model, the 0.1.0 cart ({product_id, label, quantity, amount}, null when empty)
// and the 0.1.0 bounds of the options. The flow is 0.2.0's (api::build_context).
#include <optional>
#include <string>
#include <vector>

#include "api/build_context.hpp"
#include "api/context_reads.hpp"
#include "core/context_options.hpp"
#include "pg/entry.hpp"
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

// 0.1.0's routing reads the profile itself (route_model): the one already read is not needed.
Route read_route_01_with_profile(pg::Spi& spi, const ContextHead& head, const ProfileValues&, const std::string& text) {
    return read_route_01(spi, head, text);
}

const ContextLimits& limits_01(pg::Spi&) { return kLimits01; }

}  // namespace
}  // namespace convo::api

CONVO_FUNCTION(convo_build_context) {
    static const convo::api::ReleaseReads reads{convo::api::limits_01, convo::api::read_context_values_01,
                                                convo::api::read_route_01_with_profile, convo::api::MessagesTable::v0_1};
    return convo::api::build_context(fcinfo, reads);
}
