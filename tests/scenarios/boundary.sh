#!/usr/bin/env bash
# The C++/PostgreSQL boundary under errors and cancels, in a scratch database:
#   1. tests/boundary/guard.sql (pgTAP) through the probe library tests/boundary (built here
#      if needed, loaded by absolute path): an exception leaving guarded, PostgreSQL errors
#      below live C++ objects, out of memory on both sides, an over-long message;
#   2. one victim session whose long convo.build_context and convo.ingest calls are stopped
#      by statement_timeout and cancelled by a second session (pg_cancel_backend): each is
#      ERROR 57014, the same call then succeeds in the same backend, two rounds leave the same
#      memory contexts; no backend died.
# Expects PGHOST/PGPORT/PGUSER (PGHOST the cluster's directory, which holds server.log).
set -euo pipefail
cd "$(dirname "$0")/../.."

db=convo_boundary
q() { psql -X -q -t -A -v ON_ERROR_STOP=1 -d "$db" "$@"; }
fail() { echo "not ok - $*"; exit 1; }
work=$(mktemp -d)
cleanup() {
    [ -n "${canceller:-}" ] && kill "$canceller" 2>/dev/null || true
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

make -s -C tests/boundary >/dev/null
make -s -C tests/boundary check-refused
lib=$PWD/tests/boundary/convo_boundary_test.so
log=${PGHOST}/server.log
[ -r "$log" ] || fail "no server log at $log"
crashes_before=$(grep -c "terminated by signal" "$log" || true)

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
q -c "CREATE EXTENSION pg_trgm" -c "CREATE EXTENSION convo" -c "CREATE EXTENSION pgtap"

# 1. What the compiler refuses (above), then the probes.
PGDATABASE=$db pg_prove -S lib="$lib" tests/boundary/guard.sql

# 2. Cancels. A conversation whose bot profile has a 20 MB system template, so that each
# build_context of it is long C++ work (rendering, token counting, writing jsonb: over a second);
# a payload of 3,000 messages from 300 new customers for ingest (several seconds).
q > /dev/null <<'SQL'
SELECT convo.register_account('Cancel Shop', '7770001', '17770001');
UPDATE convo.bot_profiles SET system_template = repeat('palabra ', 2500000);
CREATE FUNCTION pg_temp.notification(messages jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('object', 'whatsapp_business_account', 'entry', jsonb_build_array(jsonb_build_object(
        'id', 'w', 'changes', jsonb_build_array(jsonb_build_object('field', 'messages', 'value', jsonb_build_object(
            'metadata', jsonb_build_object('phone_number_id', '7770001'), 'messages', messages))))))
$$;
SELECT convo.ingest('whatsapp', pg_temp.notification((SELECT jsonb_agg(jsonb_build_object(
    'from', '549117770000', 'id', 'wamid.history.' || i, 'timestamp', (1761742800 + i)::text,
    'type', 'text', 'text', jsonb_build_object('body', 'message ' || i)))
    FROM generate_series(1, 20) i)));
CREATE TABLE public.big_payload AS SELECT pg_temp.notification((SELECT jsonb_agg(jsonb_build_object(
    'from', '5491188' || lpad((i % 300)::text, 6, '0'), 'id', 'wamid.big.' || i, 'timestamp', (1761742800 + i)::text,
    'type', 'text', 'text', jsonb_build_object('body', 'order ' || i)))
    FROM generate_series(1, 3000) i)) AS payload;
SQL
conv=$(q -c "SELECT conversation_id FROM convo.conversations")
opts='{"history": 20, "max_tokens": 200000}'
cancels=4

# The canceller: cancels every victim statement marked cancel-me once it has run 300 ms.
psql -X -q -t -A -d "$db" -v ON_ERROR_STOP=1 > "$work/canceller.out" 2>&1 <<SQL &
SET application_name = 'boundary_canceller';
DO \$\$
DECLARE
    done int := 0;
    last_start timestamptz;
    victim int;
    started timestamptz;
    deadline timestamptz := clock_timestamp() + interval '120 s';
BEGIN
    WHILE done < $cancels LOOP
        IF clock_timestamp() > deadline THEN
            RAISE EXCEPTION 'cancelled % of $cancels victim statements', done;
        END IF;
        PERFORM pg_stat_clear_snapshot();
        SELECT pid, query_start INTO victim, started FROM pg_stat_activity
         WHERE application_name = 'boundary_victim' AND state = 'active' AND query LIKE '%cancel-me%'
           AND clock_timestamp() - query_start > interval '300 ms'
           AND query_start IS DISTINCT FROM last_start;
        IF FOUND THEN
            PERFORM pg_cancel_backend(victim);
            last_start := started;
            done := done + 1;
        END IF;
        PERFORM pg_sleep(0.02);
    END LOOP;
END
\$\$;
SQL
canceller=$!

# One round in the victim: each long call stopped by statement_timeout, then cancelled, then
# run again to the end. Each call prints its SQLSTATE.
round() {
    cat <<SQL
SET statement_timeout = '300ms';
SELECT /* timeout */ convo.build_context('$conv', '$opts') IS NOT NULL;
\echo build_context_timeout :SQLSTATE
SELECT /* timeout */ convo.ingest('whatsapp', payload) IS NOT NULL FROM big_payload;
\echo ingest_timeout :SQLSTATE
RESET statement_timeout;
SELECT /* cancel-me */ convo.build_context('$conv', '$opts') IS NOT NULL;
\echo build_context_cancel :SQLSTATE
SELECT /* cancel-me */ convo.ingest('whatsapp', payload) IS NOT NULL FROM big_payload;
\echo ingest_cancel :SQLSTATE
SELECT 'ingested', convo.ingest('whatsapp', payload) ->> 'messages' FROM big_payload;
\echo ingest_again :SQLSTATE
SELECT 'built', jsonb_array_length(convo.build_context('$conv', '$opts') -> 'messages');
\echo build_context_again :SQLSTATE
DELETE FROM convo.messages WHERE wamid LIKE 'wamid.big.%';
DELETE FROM convo.context_cache;
\o $work/contexts_$1
SELECT name, regexp_replace(coalesce(ident, ''), '\s+', ' ', 'g'), level, total_bytes FROM pg_backend_memory_contexts ORDER BY 1, 2, 3;
\o
SQL
}

# The victim: both rounds in one backend. The first round leaves behind what a backend keeps
# (kept plans, generic plans, catalog caches); the second must leave nothing more.
{
    echo "SET application_name = 'boundary_victim';"
    echo "SELECT 'pid', pg_backend_pid();"
    round 1
    round 2
    echo "SELECT 'pid', pg_backend_pid();"
} | psql -X -q -t -A -d "$db" > "$work/victim.out" 2>&1
wait $canceller || { cat "$work/canceller.out"; fail "the canceller session failed"; }
canceller=

out=$work/victim.out
for call in build_context_timeout ingest_timeout build_context_cancel ingest_cancel; do
    [ "$(grep -c "^$call 57014$" "$out")" = 2 ] || { cat "$out"; fail "$call: expected SQLSTATE 57014 in both rounds"; }
done
grep -q "canceling statement due to statement timeout" "$out" || { cat "$out"; fail "no statement timeout message"; }
grep -q "canceling statement due to user request" "$out" || { cat "$out"; fail "no cancel message"; }
for call in ingest_again build_context_again; do
    [ "$(grep -c "^$call 00000$" "$out")" = 2 ] || { cat "$out"; fail "$call: the same call should succeed after the cancels"; }
done
[ "$(grep -c '^ingested|3000$' "$out")" = 2 ] || { cat "$out"; fail "the ingest after the cancels should store all 3000 messages"; }
[ "$(grep -c '^built|' "$out")" = 2 ] || { cat "$out"; fail "the build_context after the cancels should return a context"; }
[ "$(grep '^pid|' "$out" | sort -u | wc -l)" = 1 ] || { cat "$out"; fail "the victim's backend changed"; }
echo "ok - build_context and ingest stopped by statement_timeout and by pg_cancel_backend: 57014, twice each, then the same calls succeed in the same backend"

# A kept plan gets a generic plan, in a CachedPlan context of its own, at its sixth execution,
# whenever that falls: those are compared by neither names nor bytes.
for r in 1 2; do
    grep -v '^CachedPlan|' "$work/contexts_$r" > "$work/kept_$r"
    cut -d'|' -f1-3 "$work/kept_$r" > "$work/names_$r"
done
diff "$work/names_1" "$work/names_2" > "$work/contexts.diff" || { cat "$work/contexts.diff"; fail "memory contexts differ between the first and the second round of cancels"; }
bytes_1=$(awk -F'|' '{s += $4} END {print s}' "$work/kept_1")
bytes_2=$(awk -F'|' '{s += $4} END {print s}' "$work/kept_2")
[ "$bytes_2" -le $((bytes_1 + 65536)) ] || fail "memory contexts grew from $bytes_1 to $bytes_2 bytes over a round of cancels"
echo "ok - no memory context left behind by the cancelled calls: the same $(wc -l < "$work/names_2") contexts after each round ($bytes_1 and $bytes_2 bytes)"

crashes_after=$(grep -c "terminated by signal" "$log" || true)
[ "$crashes_after" = "$crashes_before" ] || fail "a backend died: $(grep 'terminated by signal' "$log" | tail -n 1)"
echo "ok - no backend terminated by a signal"
