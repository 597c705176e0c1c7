// SQL API: convo.ingest(source, payload jsonb) and convo.ingest_body(source, body text).
//
// Parsing is pure C++ (core/whatsapp_notification, core/twilio_notification); this file
// writes the parsed events with statements prepared once per backend. Every write is
// idempotent (ON CONFLICT on the natural keys, or a check of what an edit already did), so
// the same payload ingested twice, or by two sessions at once, leaves the same rows as once.
// Ingest never picks a bot profile: a new conversation's bot_profile_id stays NULL, which
// means the account's default profile.
#include <algorithm>
#include <string>
#include <vector>

#include "core/json_input.hpp"
#include "core/twilio_notification.hpp"
#include "core/whatsapp_notification.hpp"
#include "pg/entry.hpp"
#include "pg/interrupts.hpp"
#include "pg/spi.hpp"
#include "pg/values.hpp"

#include "pg/api_only.hpp"  // last

namespace convo::api {
namespace {

using pg::KeptPlan;

KeptPlan route_by_phone_number_id{
    "SELECT account_id FROM convo.accounts WHERE phone_number_id = $1", 1, {pg::oid::text}};
KeptPlan route_by_phone_number{
    "SELECT account_id FROM convo.accounts WHERE display_phone_number = $1", 1, {pg::oid::text}};
// One row per distinct payload: a redelivery of the same unroutable change is a duplicate.
KeptPlan keep_unroutable{
    "INSERT INTO convo.unroutable (source, address, reason, payload, digest)"
    " VALUES ($1, $2, $3, $4, convo.payload_digest($4))"
    " ON CONFLICT (source, digest) DO NOTHING RETURNING 1",
    4, {pg::oid::text, pg::oid::text, pg::oid::text, pg::oid::jsonb}};
// An event kept aside, once per key: the message and what told it apart, or a digest of the
// object when it has no id (Meta's value-level errors).
KeptPlan keep_event{
    "INSERT INTO convo.webhook_events (account_id, kind, event_key, source, reason, wamid,"
    "  error_code, error_title, error_message, error_details, occurred_at, payload)"
    " VALUES ($1, $2, coalesce($3, convo.payload_digest($12)), $4, $5, $6, $7, $8, $9, $10,"
    "         coalesce($11, now()), $12)"
    " ON CONFLICT DO NOTHING RETURNING 1",
    12, {pg::oid::uuid, pg::oid::text, pg::oid::text, pg::oid::text, pg::oid::text, pg::oid::text, pg::oid::int4, pg::oid::text, pg::oid::text, pg::oid::text,
         pg::oid::timestamptz, pg::oid::jsonb}};

KeptPlan contact_by_user_id{
    "SELECT contact_id, profile_name, wa_id FROM convo.contacts"
    " WHERE account_id = $1 AND user_id = $2", 2, {pg::oid::uuid, pg::oid::text}};
KeptPlan contact_by_wa_id{
    "SELECT contact_id, profile_name, user_id FROM convo.contacts"
    " WHERE account_id = $1 AND wa_id = $2", 2, {pg::oid::uuid, pg::oid::text}};
KeptPlan insert_contact{
    "INSERT INTO convo.contacts (account_id, user_id, parent_user_id, wa_id, username, profile_name)"
    " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING contact_id",
    6, {pg::oid::uuid, pg::oid::text, pg::oid::text, pg::oid::text, pg::oid::text, pg::oid::text}};
// Fills in what we learn about a known contact. A phone or BSUID another contact already
// holds is left alone rather than violating uniqueness.
KeptPlan update_contact{
    "UPDATE convo.contacts c SET"
    "  profile_name = coalesce($3, c.profile_name),"
    "  username = coalesce($6, c.username),"
    "  user_id = CASE WHEN c.user_id IS NULL AND $4::text IS NOT NULL AND NOT EXISTS"
    "    (SELECT 1 FROM convo.contacts o WHERE o.account_id = $1 AND o.user_id = $4)"
    "    THEN $4 ELSE c.user_id END,"
    "  wa_id = CASE WHEN c.wa_id IS NULL AND $5::text IS NOT NULL AND NOT EXISTS"
    "    (SELECT 1 FROM convo.contacts o WHERE o.account_id = $1 AND o.wa_id = $5)"
    "    THEN $5 ELSE c.wa_id END,"
    "  updated_at = now()"
    " WHERE c.account_id = $1 AND c.contact_id = $2",
    6, {pg::oid::uuid, pg::oid::uuid, pg::oid::text, pg::oid::text, pg::oid::text, pg::oid::text}};
// A system message announced a new phone number or BSUID for this contact.
KeptPlan rekey_contact{
    "UPDATE convo.contacts c SET"
    "  wa_id = CASE WHEN $3::text IS NOT NULL AND NOT EXISTS"
    "    (SELECT 1 FROM convo.contacts o WHERE o.account_id = $1 AND o.wa_id = $3)"
    "    THEN $3 ELSE c.wa_id END,"
    "  user_id = CASE WHEN $4::text IS NOT NULL AND NOT EXISTS"
    "    (SELECT 1 FROM convo.contacts o WHERE o.account_id = $1 AND o.user_id = $4)"
    "    THEN $4 ELSE c.user_id END,"
    "  updated_at = now()"
    " WHERE c.account_id = $1 AND c.contact_id = $2",
    4, {pg::oid::uuid, pg::oid::uuid, pg::oid::text, pg::oid::text}};

KeptPlan conversation_of_contact{
    "SELECT conversation_id FROM convo.conversations WHERE account_id = $1 AND contact_id = $2",
    2, {pg::oid::uuid, pg::oid::uuid}};
// bot_profile_id stays NULL: the account's default profile, whichever it is when asked.
KeptPlan insert_conversation{
    "INSERT INTO convo.conversations (account_id, contact_id) VALUES ($1, $2)"
    " ON CONFLICT (account_id, contact_id) DO NOTHING RETURNING conversation_id",
    2, {pg::oid::uuid, pg::oid::uuid}};

// The AFTER INSERT trigger on messages updates the conversation (window, unread, reopen).
// Apart from insert_echo on purpose: a database whose SQL is still 0.1.0 (no messages.origin)
// keeps ingesting customer messages with this library until ALTER EXTENSION convo UPDATE.
KeptPlan insert_inbound{
    "INSERT INTO convo.messages (account_id, conversation_id, wamid, direction, type, body,"
    "  payload, reply_to_wamid, media_id, media_mime, media_sha256, status, status_at, sent_at)"
    " VALUES ($1, $2, $3, 'in', $4, $5, $6, $7, $8, $9, $10, 'delivered', $11, $11)"
    " ON CONFLICT (account_id, wamid) DO NOTHING RETURNING message_id",
    11, {pg::oid::uuid, pg::oid::uuid, pg::oid::text, pg::oid::text, pg::oid::text, pg::oid::jsonb, pg::oid::text, pg::oid::text, pg::oid::text,
         pg::oid::text, pg::oid::timestamptz}};

// A message the business sent from the WhatsApp Business app: outbound, already sent. The
// trigger records it without opening the window (see on_message_inserted).
KeptPlan insert_echo{
    "INSERT INTO convo.messages (account_id, conversation_id, wamid, direction, type, body,"
    "  payload, reply_to_wamid, media_id, media_mime, media_sha256, status, status_at, sent_at, origin)"
    " VALUES ($1, $2, $3, 'out', $4, $5, $6, $7, $8, $9, $10, 'sent', $11, $11, 'business_app')"
    " ON CONFLICT (account_id, wamid) DO NOTHING RETURNING message_id",
    11, {pg::oid::uuid, pg::oid::uuid, pg::oid::text, pg::oid::text, pg::oid::text, pg::oid::jsonb, pg::oid::text, pg::oid::text, pg::oid::text,
         pg::oid::text, pg::oid::timestamptz}};

// Statuses of an echo that came before it (their webhooks race), applied by their owner, as
// record_outbound applies them to the Cloud API's messages.
KeptPlan apply_waiting_statuses{"SELECT convo.apply_waiting_statuses($1, $2)", 2, {pg::oid::uuid, pg::oid::text}};
KeptPlan message_exists{
    "SELECT 1 FROM convo.messages WHERE account_id = $1 AND wamid = $2", 2, {pg::oid::uuid, pg::oid::text}};
// An edit replaces what the message says and keeps what it said before in `edits`, once per
// edit ($3, the edit's own wamid): applying the same edit again changes nothing.
KeptPlan apply_edit{
    "UPDATE convo.messages m SET"
    "  edits = m.edits || jsonb_build_array(jsonb_build_object('edit_wamid', $3::text,"
    "      'edited_at', $4::timestamptz, 'body', m.body, 'payload', m.payload)),"
    "  body = $5, payload = m.payload || $6, edited_at = $4"
    " WHERE m.account_id = $1 AND m.wamid = $2 AND m.direction = $7"
    "   AND NOT m.edits @> jsonb_build_array(jsonb_build_object('edit_wamid', $3::text))"
    " RETURNING 1",
    7, {pg::oid::uuid, pg::oid::text, pg::oid::text, pg::oid::timestamptz, pg::oid::text, pg::oid::jsonb, pg::oid::text}};
// A revoke (or a `deleted` status) marks the message deleted; its content stays for the record.
KeptPlan mark_deleted{
    "UPDATE convo.messages m SET deleted_at = $3"
    " WHERE m.account_id = $1 AND m.wamid = $2 AND ($4::text IS NULL OR m.direction = $4)"
    "   AND m.deleted_at IS NULL RETURNING 1",
    4, {pg::oid::uuid, pg::oid::text, pg::oid::timestamptz, pg::oid::text}};

// Each (wamid, status) once; the message moves only up the status ladder.
KeptPlan insert_status{
    "INSERT INTO convo.message_statuses (account_id, wamid, status, status_at, error_code, payload)"
    " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING 1",
    6, {pg::oid::uuid, pg::oid::text, pg::oid::text, pg::oid::timestamptz, pg::oid::int4, pg::oid::jsonb}};
KeptPlan apply_status{
    "UPDATE convo.messages m SET status = $3, status_at = $4,"
    "  error_code = coalesce($5, m.error_code),"
    "  error = coalesce($6::jsonb -> 'errors', m.error)"
    " WHERE m.account_id = $1 AND m.wamid = $2"
    "   AND convo.status_rank(m.status) < convo.status_rank($3)",
    6, {pg::oid::uuid, pg::oid::text, pg::oid::text, pg::oid::timestamptz, pg::oid::int4, pg::oid::jsonb}};

struct Counts {
    std::int64_t messages = 0;
    std::int64_t duplicates = 0;
    std::int64_t statuses = 0;
    std::int64_t unroutable = 0;
    std::int64_t ignored = 0;
    std::int64_t echoes = 0;     // business-app messages stored as outbound
    std::int64_t edits = 0;      // edits applied to earlier messages
    std::int64_t revokes = 0;    // earlier messages marked deleted by their sender
    std::int64_t flagged = 0;    // events kept in webhook_events for someone to look at
    std::int64_t groups = 0;     // group messages kept in webhook_events
    std::int64_t errors = 0;     // Meta's value-level errors kept in webhook_events
    std::vector<pg::Uuid> awaiting_reply;  // conversations with a new customer message
};

class Ingest {
public:
    Ingest(std::string source) : source_(std::move(source)) {}

    Counts apply(Notification& n) {
        counts_.ignored = n.ignored;
        for (Batch& batch : n.batches) apply_batch(batch);
        spi_.finish();
        return counts_;
    }

private:
    std::optional<pg::Uuid> route(const Batch& batch) {
        pg::Params p;
        p.text(batch.address);
        KeptPlan& plan = batch.address_kind == AddressKind::phone_number_id ? route_by_phone_number_id
                                                                            : route_by_phone_number;
        pg::Rows rows = spi_.execute(plan, p, false, 1);
        if (rows.empty()) return std::nullopt;
        return rows.uuid(0, 1);
    }

    void apply_batch(Batch& batch) {
        auto account = route(batch);
        if (!account) {
            pg::Params p;
            const char* what = batch.address_kind == AddressKind::phone_number_id ? "phone_number_id"
                                                                                  : "business number";
            p.text(source_).text(batch.address)
                .text(std::string("no account has ") + what + " " + batch.address)
                .jsonb(batch.raw_json);
            if (spi_.execute(keep_unroutable, p, false).empty()) ++counts_.duplicates;
            else ++counts_.unroutable;
            return;
        }
        // One order for every session (by sender) so concurrent ingests lock contacts and
        // conversations in the same order and cannot deadlock each other.
        std::stable_sort(batch.messages.begin(), batch.messages.end(),
                         [](const InboundMessage& a, const InboundMessage& b) {
                             return sender_key(a.sender) < sender_key(b.sender);
                         });
        for (const InboundMessage& m : batch.messages) {
            pg::check_for_interrupts();  // a long payload stops at a cancel between events
            // An edit or revoke changes a message of its own side: the customer's, or the business's.
            const char* direction = m.from_business ? "out" : "in";
            switch (m.kind) {
                case MessageKind::inbound: apply_message(*account, m); break;
                case MessageKind::echo: apply_echo(*account, m); break;
                case MessageKind::edit: apply_edit_event(*account, m, direction); break;
                case MessageKind::revoke: apply_revoke(*account, m, direction); break;
            }
        }
        for (const StatusEvent& s : batch.statuses) {
            pg::check_for_interrupts();
            apply_status_event(*account, s);
        }
        for (const KeptEvent& k : batch.kept) keep(*account, k);
    }

    static std::string sender_key(const Sender& s) {
        return s.user_id ? "u:" + *s.user_id : "w:" + s.wa_id.value_or("");
    }

    std::optional<pg::Uuid> find_contact(const pg::Uuid& account, const Sender& s) {
        if (s.user_id) {
            pg::Params p;
            p.uuid(account).text(*s.user_id);
            pg::Rows rows = spi_.execute(contact_by_user_id, p, false, 1);
            if (!rows.empty()) {
                auto id = rows.uuid(0, 1);
                if ((s.profile_name && s.profile_name != rows.str(0, 2)) || (s.wa_id && !rows.str(0, 3)))
                    update_contact_row(account, *id, s);
                return id;
            }
        }
        if (s.wa_id) {
            pg::Params p;
            p.uuid(account).text(*s.wa_id);
            pg::Rows rows = spi_.execute(contact_by_wa_id, p, false, 1);
            if (!rows.empty()) {
                auto id = rows.uuid(0, 1);
                if ((s.profile_name && s.profile_name != rows.str(0, 2)) || (s.user_id && !rows.str(0, 3)))
                    update_contact_row(account, *id, s);
                return id;
            }
        }
        return std::nullopt;
    }

    void update_contact_row(const pg::Uuid& account, const pg::Uuid& contact, const Sender& s) {
        pg::Params p;
        p.uuid(account).uuid(contact).opt_text(s.profile_name).opt_text(s.user_id)
            .opt_text(s.wa_id).opt_text(s.username);
        spi_.execute(update_contact, p, false);
    }

    pg::Uuid contact_for(const pg::Uuid& account, const Sender& s) {
        if (auto id = find_contact(account, s)) return *id;
        pg::Params p;
        p.uuid(account).opt_text(s.user_id).opt_text(s.parent_user_id).opt_text(s.wa_id)
            .opt_text(s.username).opt_text(s.profile_name);
        pg::Rows rows = spi_.execute(insert_contact, p, false);
        if (!rows.empty()) return *rows.uuid(0, 1);
        // Another session created it first: it is committed and visible now.
        if (auto id = find_contact(account, s)) return *id;
        throw Error(sqlstate::internal, "convo.ingest: could not create or find contact " + sender_key(s));
    }

    pg::Uuid conversation_for(const pg::Uuid& account, const pg::Uuid& contact) {
        pg::Params p;
        p.uuid(account).uuid(contact);
        pg::Rows found = spi_.execute(conversation_of_contact, p, false, 1);
        if (!found.empty()) return *found.uuid(0, 1);
        pg::Rows inserted = spi_.execute(insert_conversation, p, false);
        if (!inserted.empty()) return *inserted.uuid(0, 1);
        pg::Rows again = spi_.execute(conversation_of_contact, p, false, 1);
        if (!again.empty()) return *again.uuid(0, 1);
        throw Error(sqlstate::internal, "convo.ingest: could not create or find a conversation");
    }

    // Stores a message of the conversation with plan (insert_inbound or insert_echo); no row back
    // when its wamid is known already.
    pg::Rows insert(KeptPlan& plan, const pg::Uuid& account, const pg::Uuid& conversation, const InboundMessage& m) {
        pg::Params p;
        p.uuid(account).uuid(conversation).text(m.wamid).text(m.type).opt_text(m.body)
            .jsonb(m.payload_json).opt_text(m.reply_to_wamid).opt_text(m.media_id)
            .opt_text(m.media_mime).opt_text(m.media_sha256).timestamptz(m.sent_at);
        return spi_.execute(plan, p, false);
    }

    void apply_message(const pg::Uuid& account, const InboundMessage& m) {
        // A system message re-keys its contact: the second delivery must not find the old
        // identity unknown and create a contact for it.
        if ((m.new_wa_id || m.new_user_id) && exists(account, m.wamid)) {
            ++counts_.duplicates;
            return;
        }
        pg::Uuid contact = contact_for(account, m.sender);
        pg::Uuid conversation = conversation_for(account, contact);
        pg::Rows rows = insert(insert_inbound, account, conversation, m);
        if (rows.empty()) {
            ++counts_.duplicates;
            return;
        }
        ++counts_.messages;
        if (m.new_wa_id || m.new_user_id) {
            pg::Params r;
            r.uuid(account).uuid(contact).opt_text(m.new_wa_id).opt_text(m.new_user_id);
            spi_.execute(rekey_contact, r, false);
        }
        // Reactions and system notices do not ask for an answer.
        if (m.type != "reaction" && m.type != "system" &&
            std::find(counts_.awaiting_reply.begin(), counts_.awaiting_reply.end(), conversation) ==
                counts_.awaiting_reply.end())
            counts_.awaiting_reply.push_back(conversation);
    }

    bool exists(const pg::Uuid& account, const std::string& wamid) {
        pg::Params p;
        p.uuid(account).text(wamid);
        return !spi_.execute(message_exists, p, false, 1).empty();
    }

    // An echo is an edit or revoke of the business's own message, or a new outbound message.
    void apply_echo(const pg::Uuid& account, const InboundMessage& m) {
        pg::Uuid contact = contact_for(account, m.sender);
        pg::Uuid conversation = conversation_for(account, contact);
        if (insert(insert_echo, account, conversation, m).empty()) {
            ++counts_.duplicates;
            return;
        }
        ++counts_.echoes;
        pg::Params w;
        w.uuid(account).text(m.wamid);
        spi_.execute(apply_waiting_statuses, w, false);
    }

    // An edit or revoke whose message convo never stored is kept aside, not guessed at.
    void keep_unknown_target(const pg::Uuid& account, const InboundMessage& m, const char* what) {
        KeptEvent k;
        k.kind = kept::unknown_target;
        k.reason = std::string(what) + " of " + (m.target_wamid ? "unknown message " + *m.target_wamid
                                                                 : "a message it does not name");
        k.wamid = m.wamid;
        k.occurred_at = m.sent_at;
        k.payload_json = m.payload_json;
        keep(account, k);
    }

    void apply_edit_event(const pg::Uuid& account, const InboundMessage& m, const char* direction) {
        if (!m.target_wamid) return keep_unknown_target(account, m, "an edit");
        pg::Params p;
        p.uuid(account).text(*m.target_wamid).text(m.wamid).timestamptz(m.sent_at).opt_text(m.body)
            .jsonb(m.edit_content_json).text(direction);
        if (!spi_.execute(apply_edit, p, false).empty()) ++counts_.edits;
        else if (exists(account, *m.target_wamid)) ++counts_.duplicates;
        else keep_unknown_target(account, m, "an edit");
    }

    void apply_revoke(const pg::Uuid& account, const InboundMessage& m, const char* direction) {
        if (!m.target_wamid) return keep_unknown_target(account, m, "a revoke");
        pg::Params p;
        p.uuid(account).text(*m.target_wamid).timestamptz(m.sent_at).text(direction);
        if (!spi_.execute(mark_deleted, p, false).empty()) ++counts_.revokes;
        else if (exists(account, *m.target_wamid)) ++counts_.duplicates;
        else keep_unknown_target(account, m, "a revoke");
    }

    void keep(const pg::Uuid& account, const KeptEvent& k) {
        std::optional<std::string> key;
        if (k.wamid) key = *k.wamid + (k.key_suffix ? ":" + *k.key_suffix : std::string());
        pg::Params p;
        p.uuid(account).text(k.kind).opt_text(key).text(source_).text(k.reason).opt_text(k.wamid)
            .opt_int4(k.error_code).opt_text(k.error_title).opt_text(k.error_message)
            .opt_text(k.error_details).opt_timestamptz(k.occurred_at).jsonb(k.payload_json);
        if (spi_.execute(keep_event, p, false).empty()) {
            ++counts_.duplicates;
            return;
        }
        if (k.kind == kept::error) ++counts_.errors;
        else if (k.kind == kept::group_message) ++counts_.groups;
        else ++counts_.flagged;
    }

    void apply_status_event(const pg::Uuid& account, const StatusEvent& s) {
        pg::Params p;
        p.uuid(account).text(s.wamid).text(s.status).timestamptz(s.at).opt_int4(s.error_code)
            .jsonb(s.payload_json);
        pg::Rows inserted = spi_.execute(insert_status, p, false);
        if (inserted.empty()) {
            ++counts_.duplicates;
            return;
        }
        ++counts_.statuses;
        if (s.status == "deleted") {
            pg::Params d;
            d.uuid(account).text(s.wamid).timestamptz(s.at).null();
            spi_.execute(mark_deleted, d, false);
        } else if (s.status != "warning") {
            spi_.execute(apply_status, p, false);
        }
    }

    std::string source_;
    pg::Spi spi_;
    Counts counts_;
};

Datum result_jsonb(const Counts& c) {
    pg::JsonbWriter out;
    out.begin_object();
    out.key("messages");
    out.int64(c.messages);
    out.key("duplicates");
    out.int64(c.duplicates);
    out.key("statuses");
    out.int64(c.statuses);
    out.key("unroutable");
    out.int64(c.unroutable);
    out.key("ignored");
    out.int64(c.ignored);
    out.key("echoes");
    out.int64(c.echoes);
    out.key("edits");
    out.int64(c.edits);
    out.key("revokes");
    out.int64(c.revokes);
    out.key("flagged");
    out.int64(c.flagged);
    out.key("groups");
    out.int64(c.groups);
    out.key("errors");
    out.int64(c.errors);
    out.key("conversations");
    out.begin_array();
    for (const auto& id : c.awaiting_reply) out.string(pg::uuid_to_string(id));
    out.end_array();
    out.end_object();
    return out.finish();
}

// The source argument. Its type, convo.source, has refused unknown sources before the call;
// what is left to say here is which known sources ingest has a parser for (vapi: not yet).
std::string required_source(FunctionCallInfo fcinfo, const char* function) {
    auto source = pg::arg_text(fcinfo, 0);
    if (!source) throw Error(sqlstate::null_value, std::string(function) + ": source must not be NULL");
    if (*source != "whatsapp" && *source != "twilio")
        throw Error(sqlstate::not_supported, std::string(function) + ": " + *source + " payloads are not ingested yet");
    return *source;
}

Datum ingest(const std::string& source, const nlohmann::json& doc) {
    Notification n = source == "whatsapp" ? parse_whatsapp_notification(doc)
                                          : parse_twilio_notification(doc, pg::transaction_now());
    Counts counts = Ingest(source).apply(n);
    return result_jsonb(counts);
}

}  // namespace
}  // namespace convo::api

using namespace convo;

CONVO_FUNCTION(convo_ingest) {
    const char* fn = "convo.ingest";
    std::string source = api::required_source(fcinfo, fn);
    auto payload = pg::arg_jsonb_text(fcinfo, 1);
    if (!payload) throw Error(sqlstate::null_value, std::string(fn) + ": payload must not be NULL");
    return api::ingest(source, nlohmann::json::parse(*payload));
}

CONVO_FUNCTION(convo_ingest_body) {
    const char* fn = "convo.ingest_body";
    std::string source = api::required_source(fcinfo, fn);
    auto body = pg::arg_text(fcinfo, 1);
    if (!body) throw Error(sqlstate::null_value, std::string(fn) + ": body must not be NULL");
    // Twilio posts a form; a JSON object (as convo.ingest takes) is accepted too.
    bool form = source == "twilio" && body->find_first_not_of(" \t\r\n") != std::string::npos &&
                (*body)[body->find_first_not_of(" \t\r\n")] != '{';
    nlohmann::json doc = form ? twilio_form_to_json(*body) : parse_webhook_json(*body);
    return api::ingest(source, doc);
}
