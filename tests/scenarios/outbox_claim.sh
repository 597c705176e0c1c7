#!/usr/bin/env bash
# outbox_claim from two sessions at once: no item is handed out twice. 400 items are queued
# (committed), then two sessions claim 10 at a time, each claim in its own transaction held
# open a moment (as a sender holds it while it sends), until nothing is due; every item must
# be claimed exactly once, by one of them. Expects PGHOST/PGPORT/PGUSER/PGDATABASE.
set -euo pipefail

q() { psql -X -q -t -A -v ON_ERROR_STOP=1 "$@"; }
fail() { echo "not ok - $*"; exit 1; }

work=$(mktemp -d)
acct=a0000000-0000-4000-8000-0000000000c1
conv=f0000000-0000-4000-8000-0000000000c1
cleanup() { q -c "DELETE FROM convo.accounts WHERE account_id = '$acct'" > /dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

q > /dev/null <<SQL
INSERT INTO convo.accounts (account_id, name, phone_number_id, display_phone_number)
VALUES ('$acct', 'Claim Race', '1000000000001', '155500000001');
INSERT INTO convo.contacts (account_id, contact_id, wa_id) VALUES ('$acct', '$acct', '549110000091');
INSERT INTO convo.conversations (account_id, conversation_id, contact_id, last_inbound_at) VALUES ('$acct', '$conv', '$acct', now());
SELECT count(convo.send('$conv', jsonb_build_object('text', jsonb_build_object('body', 'race ' || i)))) FROM generate_series(1, 400) i;
SQL
[ "$(q -c "SELECT count(*) FROM convo.outbox WHERE account_id = '$acct' AND state = 'queued'")" = 400 ] \
    || fail "400 items should be queued"

claim() {
    for _ in $(seq 1 60); do
        q -c "BEGIN; SELECT outbox_id FROM convo.outbox_claim(10) WHERE account_id = '$acct'; SELECT pg_sleep(0.01); COMMIT;"
    done
}
claim > "$work/a" &
a=$!
claim > "$work/b" &
b=$!
wait $a; wait $b

na=$(grep -c . "$work/a" || true)
nb=$(grep -c . "$work/b" || true)
dup=$(sort "$work/a" "$work/b" | grep . | uniq -d | wc -l)
[ "$dup" = 0 ] || fail "$dup items were claimed by both sessions"
[ $((na + nb)) = 400 ] || fail "the sessions claimed $na + $nb items, not 400"
[ "$na" -gt 0 ] && [ "$nb" -gt 0 ] || fail "one session claimed everything ($na, $nb): no race was tested"
[ "$(q -c "SELECT count(*) FROM convo.outbox WHERE account_id = '$acct' AND (state <> 'sending' OR attempts <> 1)")" = 0 ] \
    || fail "every item should be sending, with one attempt"
echo "ok - outbox_claim from two sessions at once: 400 items claimed once each ($na and $nb), none twice"
