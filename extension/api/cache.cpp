// SQL API, hot path of the cache tables (sql/cache.sql): convo.cache_get, convo.cache_put,
// convo.cache_try_lock, and convo.cache_flush_counts.
//
// A get is one primary key probe with a kept plan; its hit or miss is counted in this
// backend's memory (core/cache_counts.hpp) and written to convo.cache_counts as an appended
// delta when due, by a call in a read-write top-level transaction. Entries expire by the
// clock (clock_timestamp()), not by the transaction start.
#include <string>

#include "core/cache_counts.hpp"
#include "pg/entry.hpp"
#include "pg/spi.hpp"
#include "pg/transaction_callbacks.hpp"
#include "pg/values.hpp"

#include "pg/api_only.hpp"  // last

namespace convo::api {
namespace {

using pg::KeptPlan;

// The value and whether it is still fresh: expired rows stay until cache_purge.
KeptPlan read_entry{
    "SELECT value, expires_at > $3 FROM convo.cache WHERE namespace = $1 AND key = $2",
    3, {pg::oid::text, pg::oid::text, pg::oid::timestamptz}};

KeptPlan read_namespace{"SELECT 1 FROM convo.cache_namespaces WHERE namespace = $1", 1, {pg::oid::text}};

// No row back: the namespace is unknown (the SELECT feeding the INSERT found nothing).
KeptPlan store_entry{
    "INSERT INTO convo.cache AS c (namespace, key, value, expires_at, stored_at)"
    " SELECT n.namespace, $2, $3, $4 + coalesce($5, n.default_ttl), $4"
    "   FROM convo.cache_namespaces n WHERE n.namespace = $1"
    " ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value,"
    "   expires_at = excluded.expires_at, stored_at = excluded.stored_at"
    " RETURNING c.expires_at",
    5, {pg::oid::text, pg::oid::text, pg::oid::jsonb, pg::oid::timestamptz, pg::oid::interval}};

// The first caller inserts (or takes over an expired entry); a concurrent one waits for that
// row, then finds it unexpired and gets no row back. No row: held, or an unknown namespace.
KeptPlan take_lock{
    "INSERT INTO convo.cache AS c (namespace, key, value, expires_at, stored_at)"
    " SELECT n.namespace, $2, 'true', $3 + coalesce($4, n.default_ttl), $3"
    "   FROM convo.cache_namespaces n WHERE n.namespace = $1"
    " ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value,"
    "   expires_at = excluded.expires_at, stored_at = excluded.stored_at"
    "   WHERE c.expires_at <= $3"
    " RETURNING true",
    4, {pg::oid::text, pg::oid::text, pg::oid::timestamptz, pg::oid::interval}};

KeptPlan store_counts{
    "INSERT INTO convo.cache_counts (namespace, hits, misses) VALUES ($1, $2, $3)",
    3, {pg::oid::text, pg::oid::int8, pg::oid::int8}};

CacheCounts counts;

void on_transaction_end(pg::TransactionEnd end) {
    end == pg::TransactionEnd::commit ? counts.commit() : counts.restore();
}

void on_subtransaction_end(pg::TransactionEnd end, SubTransactionId mine, SubTransactionId parent) {
    end == pg::TransactionEnd::commit ? counts.subcommit(mine, parent) : counts.subabort(mine);
}

// Writing needs a read-write transaction. Counts written in a (sub)transaction that rolls back
// come back to memory (on_xact, on_subxact) and are written again later.
bool can_flush() { return !pg::transaction_read_only(); }

std::int64_t flush(pg::Spi& spi, Micros now) {
    pg::on_transaction_end(on_transaction_end, on_subtransaction_end);
    std::int64_t calls = counts.unflushed();
    for (const CacheCounts::Delta& d : counts.take(now, pg::current_subtransaction_id())) {
        pg::Params p;
        p.text(*d.ns).int8(d.hits).int8(d.misses);
        spi.execute(store_counts, p, /*read_only=*/false);
    }
    return calls;
}

std::string required_text(FunctionCallInfo fcinfo, int n, const char* fn, const char* what) {
    auto v = pg::arg_text(fcinfo, n);
    if (!v) throw Error(sqlstate::null_value, std::string(fn) + ": " + what + " must not be NULL");
    return *v;
}

// The TTL argument n, NULL for the namespace default; zero or negative is refused. A month
// counts 30 days, as PostgreSQL's interval comparison does.
Datum ttl_arg(FunctionCallInfo fcinfo, int n, const char* fn, bool& is_null) {
    constexpr __int128 kMicrosPerDay = 86'400 * __int128{kMicrosPerSecond};
    auto ttl = pg::arg_interval(fcinfo, n);
    is_null = !ttl;
    if (is_null) return Datum{0};
    __int128 us = static_cast<__int128>(ttl->micros) + ttl->days * kMicrosPerDay +
                  static_cast<__int128>(ttl->months) * 30 * kMicrosPerDay;
    if (us <= 0) throw Error(sqlstate::invalid_parameter, std::string(fn) + ": ttl must be positive");
    return pg::arg_datum(fcinfo, n);
}

[[noreturn]] void unknown_namespace(const char* fn, const std::string& ns) {
    throw Error(sqlstate::invalid_parameter, std::string(fn) + ": unknown namespace '" + ns + "'", {},
                "namespaces are rows of convo.cache_namespaces");
}

void check_namespace(pg::Spi& spi, const std::string& ns, const char* fn) {
    pg::Params p;
    p.text(ns);
    if (spi.execute(read_namespace, p, /*read_only=*/true, 1).empty()) unknown_namespace(fn, ns);
}

}  // namespace
}  // namespace convo::api

using namespace convo;

CONVO_FUNCTION(convo_cache_get) {
    const char* fn = "convo.cache_get";
    std::string ns = api::required_text(fcinfo, 0, fn, "ns");
    std::string key = api::required_text(fcinfo, 1, fn, "key");
    Micros now = pg::clock_now();

    pg::Spi spi;
    pg::Params p;
    p.text(ns).text(key).timestamptz(now);
    pg::Rows rows = spi.execute(api::read_entry, p, /*read_only=*/true, 1);
    bool hit = !rows.empty() && rows.boolean(0, 2).value_or(false);
    Datum value{0};
    if (hit)
        value = rows.transfer(0, 1, /*by_value=*/false, /*type_length=*/-1);
    else if (rows.empty())
        api::check_namespace(spi, ns, fn);  // an expired row proves its namespace exists

    api::counts.record(ns, hit);
    if (api::counts.due(now) && api::can_flush()) api::flush(spi, now);
    spi.finish();
    if (!hit) return pg::null_result(fcinfo);
    return value;
}

CONVO_FUNCTION(convo_cache_put) {
    const char* fn = "convo.cache_put";
    std::string ns = api::required_text(fcinfo, 0, fn, "ns");
    std::string key = api::required_text(fcinfo, 1, fn, "key");
    if (pg::arg_is_null(fcinfo, 2))
        throw Error(sqlstate::null_value, std::string(fn) + ": value must not be NULL");
    Datum value = pg::arg_datum(fcinfo, 2);
    bool ttl_null = false;
    Datum ttl = api::ttl_arg(fcinfo, 3, fn, ttl_null);

    pg::Spi spi;
    pg::Params p;
    p.text(ns).text(key).datum(value).timestamptz(pg::clock_now());
    ttl_null ? p.null() : p.datum(ttl);
    pg::Rows rows = spi.execute(api::store_entry, p, /*read_only=*/false, 1);
    if (rows.empty()) api::unknown_namespace(fn, ns);
    Datum expires_at = rows.transfer(0, 1, /*by_value=*/true, /*type_length=*/8);
    spi.finish();
    return expires_at;
}

CONVO_FUNCTION(convo_cache_try_lock) {
    const char* fn = "convo.cache_try_lock";
    std::string ns = api::required_text(fcinfo, 0, fn, "ns");
    std::string key = api::required_text(fcinfo, 1, fn, "key");
    bool ttl_null = false;
    Datum ttl = api::ttl_arg(fcinfo, 2, fn, ttl_null);

    pg::Spi spi;
    pg::Params p;
    p.text(ns).text(key).timestamptz(pg::clock_now());
    ttl_null ? p.null() : p.datum(ttl);
    pg::Rows rows = spi.execute(api::take_lock, p, /*read_only=*/false, 1);
    bool taken = !rows.empty();
    if (!taken) api::check_namespace(spi, ns, fn);
    spi.finish();
    return pg::bool_datum(taken);
}

CONVO_FUNCTION(convo_cache_flush_counts) {
    if (api::counts.unflushed() == 0 || !api::can_flush()) return pg::int8_datum(0);
    pg::Spi spi;
    std::int64_t calls = api::flush(spi, pg::clock_now());
    spi.finish();
    return pg::int8_datum(calls);
}
