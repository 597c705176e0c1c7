#!/usr/bin/env bash
# Concurrent ingest, with real sessions and commits:
#  1. two sessions ingest the same payload at the same moment → one row, one duplicate;
#  2. two sessions ingest different first messages of the same new customer → one contact,
#     one conversation, both messages;
#  3. two sessions ingest the same payload for an unknown number, and the same unknown status
#     value, at the same moment → one unroutable row, one kept event, one duplicate each;
#  4. four pgbench clients ingest overlapping wamids from 50 customers for a few seconds →
#     no error, no deadlock, each wamid once, unread counts equal to the inbound rows.
# Expects PGHOST/PGPORT/PGUSER/PGDATABASE of a database with convo installed.
set -euo pipefail

q() { psql -X -q -t -A -v ON_ERROR_STOP=1 "$@"; }
fail() { echo "not ok - $*"; exit 1; }
ok() { echo "ok - $*"; }

q > /dev/null <<'SQL'
SELECT convo.register_account('Race Shop', '7770001', '17770001');
CREATE SCHEMA IF NOT EXISTS race;
CREATE OR REPLACE FUNCTION race.payload(wamid text, wa text) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('object', 'whatsapp_business_account', 'entry', jsonb_build_array(jsonb_build_object(
        'id', 'w', 'changes', jsonb_build_array(jsonb_build_object('field', 'messages', 'value', jsonb_build_object(
            'metadata', jsonb_build_object('phone_number_id', '7770001'),
            'contacts', jsonb_build_array(jsonb_build_object('wa_id', wa, 'profile', jsonb_build_object('name', 'R ' || wa))),
            'messages', jsonb_build_array(jsonb_build_object('from', wa, 'id', wamid,
                'timestamp', extract(epoch FROM now())::bigint::text, 'type', 'text',
                'text', jsonb_build_object('body', 'race ' || wamid)))))))))
$$;
SQL

# Both sessions wait on an advisory lock held by a third, so their ingests start together.
race_pair() {
    local sql1=$1 sql2=$2
    q -c "SELECT 1" > /dev/null
    (q <<SQL
SELECT pg_advisory_lock(4242);
SELECT pg_sleep(1.5);
SELECT pg_advisory_unlock(4242);
SQL
    ) > /dev/null &
    local holder=$!
    sleep 0.3
    q -c "SELECT pg_advisory_lock_shared(4242); $sql1" > /tmp/race1.$$ &
    local a=$!
    q -c "SELECT pg_advisory_lock_shared(4242); $sql2" > /tmp/race2.$$ &
    local b=$!
    wait $holder $a $b
}

race_pair "SELECT convo.ingest('whatsapp', race.payload('wamid.same', '5490000000001')) - 'conversations'" \
          "SELECT convo.ingest('whatsapp', race.payload('wamid.same', '5490000000001')) - 'conversations'"
rows=$(q -c "SELECT count(*) FROM convo.messages WHERE wamid = 'wamid.same'")
dups=$(cat /tmp/race1.$$ /tmp/race2.$$ | grep -o '"duplicates": [0-9]*' | awk '{s+=$2} END {print s}')
[ "$rows" = 1 ] && [ "$dups" = 1 ] || fail "same payload twice at once: $rows rows, $dups duplicates"
ok "same payload from two sessions at once: 1 row, 1 duplicate"

race_pair "SELECT convo.ingest('whatsapp', race.payload('wamid.first-a', '5490000000002'))" \
          "SELECT convo.ingest('whatsapp', race.payload('wamid.first-b', '5490000000002'))"
read -r contacts convs msgs unread <<<"$(q -F ' ' -c "
    SELECT count(DISTINCT k.contact_id), count(DISTINCT c.conversation_id), count(m.*), max(c.unread_count)
      FROM convo.contacts k JOIN convo.conversations c USING (account_id, contact_id)
      JOIN convo.messages m USING (account_id, conversation_id)
     WHERE k.wa_id = '5490000000002'")"
[ "$contacts $convs $msgs $unread" = "1 1 2 2" ] ||
    fail "new customer from two sessions: contacts=$contacts conversations=$convs messages=$msgs unread=$unread"
ok "a new customer's first messages from two sessions: 1 contact, 1 conversation, 2 messages"
rm -f /tmp/race1.$$ /tmp/race2.$$

unroutable="jsonb_set(race.payload('wamid.nobody', '5490000000003'), '{entry,0,changes,0,value,metadata,phone_number_id}', '\"7779999\"')"
race_pair "SELECT convo.ingest('whatsapp', $unroutable) - 'conversations'" \
          "SELECT convo.ingest('whatsapp', $unroutable) - 'conversations'"
rows=$(q -c "SELECT count(*) FROM convo.unroutable WHERE address = '7779999'")
dups=$(cat /tmp/race1.$$ /tmp/race2.$$ | grep -o '"duplicates": [0-9]*' | awk '{s+=$2} END {print s}')
[ "$rows" = 1 ] && [ "$dups" = 1 ] || fail "the same unroutable payload twice at once: $rows rows, $dups duplicates"
ok "the same unroutable payload from two sessions at once: 1 row, 1 duplicate"

odd_status="jsonb_set(race.payload('wamid.x', '5490000000003'), '{entry,0,changes,0,value}', '{\"metadata\": {\"phone_number_id\": \"7770001\"}, \"statuses\": [{\"id\": \"wamid.sent.1\", \"status\": \"exploded\", \"timestamp\": \"1765000000\"}]}')"
race_pair "SELECT convo.ingest('whatsapp', $odd_status) - 'conversations'" \
          "SELECT convo.ingest('whatsapp', $odd_status) - 'conversations'"
rows=$(q -c "SELECT count(*) FROM convo.webhook_events WHERE wamid = 'wamid.sent.1'")
dups=$(cat /tmp/race1.$$ /tmp/race2.$$ | grep -o '"duplicates": [0-9]*' | awk '{s+=$2} END {print s}')
[ "$rows" = 1 ] && [ "$dups" = 1 ] || fail "the same unknown status twice at once: $rows rows, $dups duplicates"
ok "the same unknown status from two sessions at once: 1 kept event, 1 duplicate"
rm -f /tmp/race1.$$ /tmp/race2.$$

# Overlapping wamids (300 possible) from 50 customers, 4 clients, 4 seconds.
script=$(mktemp)
cat > "$script" <<'PGB'
\set w random(1, 300)
\set c random(1, 50)
SELECT convo.ingest('whatsapp', race.payload('wamid.load.' || :w, '54911' || lpad(:c::text, 8, '0')));
PGB
pgbench -n -c 4 -j 2 -T 4 -f "$script" > /tmp/race-pgbench.$$ 2>&1 || { cat /tmp/race-pgbench.$$; fail "pgbench clients failed"; }
rm -f "$script"
txns=$(grep -o "number of transactions actually processed: [0-9]*" /tmp/race-pgbench.$$ | grep -o '[0-9]*$')
rm -f /tmp/race-pgbench.$$
read -r dup_rows distinct_rows unread_total inbound_total <<<"$(q -F ' ' -c "
    SELECT count(*) - count(DISTINCT wamid), count(DISTINCT wamid),
           (SELECT sum(unread_count) FROM convo.conversations c JOIN convo.accounts a USING (account_id) WHERE a.phone_number_id = '7770001'),
           (SELECT count(*) FROM convo.messages m JOIN convo.accounts a USING (account_id) WHERE a.phone_number_id = '7770001')
      FROM convo.messages WHERE wamid LIKE 'wamid.load.%'")"
[ "$dup_rows" = 0 ] || fail "duplicated wamids under load: $dup_rows"
[ "$unread_total" = "$inbound_total" ] || fail "unread counts ($unread_total) differ from inbound rows ($inbound_total)"
ok "4 clients, $txns overlapping ingests: $distinct_rows distinct messages, no duplicate, no error, unread = inbound"
