#!/usr/bin/env bash
# The context cache cannot serve a stale context, even when a change commits while a context
# is being built: session A builds (paused after reading the history, by a slowed
# route_model), session B commits a new customer message meanwhile, A stores what it built;
# the next call must be a miss that shows B's message.
# Runs in a scratch database (it replaces a convo function there). Expects PGHOST/PGPORT/PGUSER.
set -euo pipefail

db=convo_race_context
q() { psql -X -q -t -A -v ON_ERROR_STOP=1 -d "$db" "$@"; }
fail() { echo "not ok - $*"; exit 1; }

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
trap 'psql -X -q -d postgres -c "DROP DATABASE IF EXISTS '$db'" >/dev/null 2>&1 || true' EXIT
q > /dev/null <<'SQL'
CREATE EXTENSION pg_trgm;
CREATE EXTENSION convo;
SELECT convo.register_account('Race Context', '4440001', '14440001');
CREATE SCHEMA race;
CREATE FUNCTION race.n(wamid text, body text, ts bigint) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('object', 'whatsapp_business_account', 'entry', jsonb_build_array(jsonb_build_object(
        'id', 'w', 'changes', jsonb_build_array(jsonb_build_object('field', 'messages', 'value', jsonb_build_object(
            'metadata', jsonb_build_object('phone_number_id', '4440001'),
            'messages', jsonb_build_array(jsonb_build_object('from', '5491144400001', 'id', wamid,
                'timestamp', ts::text, 'type', 'text', 'text', jsonb_build_object('body', body)))))))))
$$;
SELECT convo.ingest('whatsapp', race.n('wamid.r1', 'first', 1761742800));
-- route_model runs after the history is read: slowing it holds a build in the middle.
CREATE OR REPLACE FUNCTION convo.route_model(conversation_id uuid, text text) RETURNS jsonb
LANGUAGE sql VOLATILE AS $$ SELECT pg_sleep(2); SELECT '{"tier": "large", "model": "m", "reason": "test"}'::jsonb $$;
SQL
conv=$(q -c "SELECT conversation_id FROM convo.conversations")

q -c "SELECT convo.build_context('$conv') #>> '{messages,-1,content}'" > /tmp/race-a.$$ &
builder=$!
sleep 0.7
q -c "SELECT convo.ingest('whatsapp', race.n('wamid.r2', 'second', 1761742900))" > /dev/null
wait $builder
seen_by_a=$(cat /tmp/race-a.$$); rm -f /tmp/race-a.$$
[ "$seen_by_a" = first ] || fail "the paused build should have read the history before the new message (saw: $seen_by_a)"
stored=$(q -c "SELECT count(*) FROM convo.context_cache")
[ "$stored" = 1 ] || fail "the paused build should have stored its context (rows: $stored)"

read -r cached latest <<<"$(q -F ' ' -c "SELECT c ->> 'cached', c #>> '{messages,-1,content}' FROM convo.build_context('$conv') c")"
[ "$cached $latest" = "false second" ] || fail "stale context served: cached=$cached latest=$latest"
echo "ok - a context built across a concurrent change is never served: the next call rebuilt it with the new message"
