#!/usr/bin/env bash
# The inbox's wake-up: inbox_put and inbox_put_batch send one NOTIFY convo_inbox per committed
# call, none when inbox_put_batch is told notify = false, and none for a group stored entirely
# dead. Notifications only reach listeners at commit, which a pgTAP test (one transaction)
# cannot see: here each statement commits on its own and the session listens to itself.
# Expects PGHOST/PGPORT/PGUSER/PGDATABASE.
set -euo pipefail

fail() { echo "not ok - $*"; exit 1; }

out=$(psql -X -q -t -A -v ON_ERROR_STOP=1 2>&1 <<'SQL'
LISTEN convo_inbox;
SELECT 'step 1: put_batch notify=false';
SELECT count(*) FROM convo.inbox_put_batch(ARRAY['whatsapp', 'whatsapp'], ARRAY['{"w":1}', '{"w":2}'], NULL, false);
SELECT 'step 2: put_batch all dead';
SELECT count(*) FROM convo.inbox_put_batch(ARRAY['whatsapp'], ARRAY['x'], ARRAY['not JSON']);
SELECT 'step 3: put_batch default';
SELECT count(*) FROM convo.inbox_put_batch(ARRAY['whatsapp', 'vapi', 'twilio'], ARRAY['{"w":3}', '{}', 'Body=x']);
SELECT 'step 4: inbox_put';
SELECT convo.inbox_put('whatsapp', '{"w":4}') > 0;
SELECT 'step 5: end';
SQL
)
# psql prints "Asynchronous notification ..." after the statement whose commit delivered it.
count_after() {
    awk -v from="$1" -v to="$2" '$0 ~ from { on = 1; next } $0 ~ to { on = 0 } on && /Asynchronous notification "convo_inbox"/ { n++ } END { print n + 0 }' <<< "$out"
}
[ "$(count_after 'step 1' 'step 2')" = 0 ] || fail "inbox_put_batch(notify => false) sent a notification: $out"
[ "$(count_after 'step 2' 'step 3')" = 0 ] || fail "a group stored entirely dead sent a notification: $out"
[ "$(count_after 'step 3' 'step 4')" = 1 ] || fail "inbox_put_batch of three bodies should notify once: $out"
[ "$(count_after 'step 4' 'step 5')" = 1 ] || fail "inbox_put should notify once: $out"
psql -X -q -v ON_ERROR_STOP=1 -c "DELETE FROM convo.inbox WHERE body IN ('{\"w\":1}', '{\"w\":2}', 'x', '{\"w\":3}', '{}', 'Body=x', '{\"w\":4}')" > /dev/null
echo "ok - one NOTIFY convo_inbox per committed put, none with notify = false or for dead-only groups"
