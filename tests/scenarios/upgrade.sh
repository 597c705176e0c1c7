#!/usr/bin/env bash
# Upgrades in place. For every released version V (sql/releases/convo--V.sql): a database
# created at V, filled through V's API (tests/upgrade/data-V.sql), then upgraded with
# ALTER EXTENSION convo UPDATE, must
#   - have exactly the schema of a fresh install (tests/sql/schema_fingerprint.sql: tables,
#     columns in order, constraints, indexes, functions, triggers, policies, grants, comments,
#     extension membership, reference rows), diffed line by line;
#   - keep its data: every row of every table, in the columns V had, is still there unchanged
#     (the context cache excepted: it is a cache, and an upgrade may empty it);
#   - work: build_context, free_window, call_tool and ingest on the upgraded rows.
# Expects PGHOST/PGPORT/PGUSER (a cluster where convo and pg_trgm are installed).
set -euo pipefail
cd "$(dirname "$0")/../.."

q() { psql -X -q -t -A -v ON_ERROR_STOP=1 "$@"; }
fail() { echo "not ok - $*"; exit 1; }

work=$(mktemp -d)
dbs=()
cleanup() {
    for d in "${dbs[@]}"; do psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $d" >/dev/null 2>&1 || true; done
    rm -rf "$work"
}
trap cleanup EXIT

new_db() {
    psql -X -q -d postgres -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" > /dev/null
    dbs+=("$1")
    q -d "$1" -c "CREATE EXTENSION pg_trgm"
}

current=$(sed -n "s/^default_version = '\(.*\)'/\1/p" convo.control)
new_db convo_upgrade_fresh
q -d convo_upgrade_fresh -c "CREATE EXTENSION convo"
q -d convo_upgrade_fresh -f tests/sql/schema_fingerprint.sql > "$work/fresh.txt"
[ "$(wc -l < "$work/fresh.txt")" -gt 500 ] || fail "the fingerprint of a fresh install has only $(wc -l < "$work/fresh.txt") lines"

for script in sql/releases/convo--*.sql; do
    from=$(basename "$script" .sql)
    from=${from#convo--}
    [ "$from" = "$current" ] && continue
    db=convo_upgrade_from_${from//./_}
    new_db "$db"
    q -d "$db" -c "CREATE EXTENSION convo VERSION '$from'"
    [ -f "tests/upgrade/data-$from.sql" ] || fail "no test data for release $from (tests/upgrade/data-$from.sql)"
    q -d "$db" -f "tests/upgrade/data-$from.sql" > /dev/null

    # Every table's columns as they are before the upgrade, and a function hashing its rows
    # over those columns.
    q -d "$db" > /dev/null <<'SQL'
CREATE TABLE public.upgrade_columns AS
SELECT c.relname, string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) AS cols, 'true'::text AS old_rows
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relnamespace = 'convo'::regnamespace AND c.relkind IN ('r', 'p') AND c.relname <> 'context_cache'
 GROUP BY c.relname;
-- A new version may add reference rows (settings, managed indexes): those are compared by the
-- schema fingerprint; here, the rows the old version had.
UPDATE public.upgrade_columns SET old_rows = format('name = ANY (%L::text[])', (SELECT array_agg(name) FROM convo.settings))
 WHERE relname = 'settings';
UPDATE public.upgrade_columns
   SET old_rows = format('index_name::text = ANY (%L::text[])', (SELECT array_agg(index_name::text) FROM convo.managed_indexes))
 WHERE relname = 'managed_indexes';
CREATE FUNCTION public.table_rows(rel text, cols text, old_rows text, OUT n bigint, OUT h text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('SELECT count(*), md5(coalesce(string_agg(r, chr(10) ORDER BY r), %L)) '
                   'FROM (SELECT ROW(%s)::text AS r FROM convo.%I WHERE %s) s', '', cols, rel, old_rows)
        INTO n, h;
END
$$;
SQL
    rows() {
        q -d "$db" -c "SELECT format('%s rows=%s md5=%s', u.relname, t.n, t.h)
                         FROM public.upgrade_columns u, LATERAL public.table_rows(u.relname, u.cols, u.old_rows) t
                        ORDER BY u.relname"
    }
    rows > "$work/rows-before.txt"
    grep -q '^messages rows=[1-9]' "$work/rows-before.txt" || fail "the $from test data wrote no messages"

    q -d "$db" -c "ALTER EXTENSION convo UPDATE"
    [ "$(q -d "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'convo'")" = "$current" ] \
        || fail "ALTER EXTENSION convo UPDATE from $from did not reach $current"

    q -d "$db" -f tests/sql/schema_fingerprint.sql > "$work/upgraded.txt"
    if ! diff -u "$work/fresh.txt" "$work/upgraded.txt" > "$work/schema.diff"; then
        echo "# schema of a fresh $current install (-) and of $from upgraded (+):"
        sed 's/^/# /' "$work/schema.diff" | head -200
        fail "upgrading from $from does not give the schema of a fresh install"
    fi
    echo "ok - $from upgraded to $current has the schema of a fresh install ($(wc -l < "$work/fresh.txt") catalog lines compared)"

    rows > "$work/rows-after.txt"
    if ! diff -u "$work/rows-before.txt" "$work/rows-after.txt" > "$work/rows.diff"; then
        sed 's/^/# /' "$work/rows.diff"
        fail "upgrading from $from changed or lost rows"
    fi
    [ "$(q -d "$db" -c "SELECT value FROM convo.settings WHERE name = 'inbox.max_attempts'")" = 7 ] \
        || fail "a tuned setting did not survive the upgrade from $from"
    total=$(awk -F'rows=' '{split($2, a, " "); s += a[1]} END {print s}' "$work/rows-before.txt")
    echo "ok - $from upgraded to $current keeps its data ($(wc -l < "$work/rows-before.txt") tables, $total rows)"

    # The upgraded rows work with the new functions.
    n=$(q -d "$db" -c "SELECT count(*) FROM convo.conversations")
    worked=$(q -d "$db" -c "SELECT count(*) FILTER (WHERE convo.build_context(c.conversation_id) ? 'messages')
                                   || ' ' || count(*) FILTER (WHERE convo.free_window(c.conversation_id) ? 'open')
                                   || ' ' || count(*) FILTER (WHERE NOT convo.call_tool(c.conversation_id, 'view_cart') ? 'error')
                              FROM convo.conversations c")
    [ "$worked" = "$n $n $n" ] \
        || fail "after the upgrade from $from, build_context/free_window/view_cart worked for '$worked' of $n conversations"
    # A context cached by the old version must not outlive a change of what a context holds:
    # whatever build_context returns now equals what it builds from scratch (in one transaction:
    # the window part counts seconds from now()).
    stale=$(q -d "$db" <<'SQL'
BEGIN;
CREATE TEMP TABLE served AS
SELECT c.conversation_id, convo.build_context(c.conversation_id) - 'cached' AS context FROM convo.conversations c;
TRUNCATE convo.context_cache;
SELECT count(*) FROM served s WHERE s.context IS DISTINCT FROM convo.build_context(s.conversation_id) - 'cached';
COMMIT;
SQL
)
    [ "$stale" = 0 ] || fail "after the upgrade from $from, $stale conversations got a context that differs from a rebuilt one"
    q -d "$db" -c "SELECT convo.inbox_process(10)" > /dev/null
    pending=$(q -d "$db" -c "SELECT count(*) FROM convo.inbox WHERE state IN ('pending', 'processing')")
    [ "$pending" = 0 ] || fail "after the upgrade from $from, $pending inbox items were not ingested"
    echo "ok - $from upgraded to $current: build_context, free_window, view_cart and ingest work on the old rows"
done
