#!/usr/bin/env bash
# cache_try_lock from two sessions at once on the same key: exactly one gets true. Both
# sessions are started together and each takes 20 fresh keys in the same order, so most
# calls meet the other session's insert in flight. Expects PGHOST/PGPORT/PGUSER/PGDATABASE.
set -euo pipefail

q() { psql -X -q -t -A -v ON_ERROR_STOP=1 "$@"; }
fail() { echo "not ok - $*"; exit 1; }

run=$$
take() {
    q -c "SELECT string_agg(convo.cache_try_lock('debounce', 'race.$run.' || i, '1 minute')::text, ' ' ORDER BY i)
            FROM generate_series(1, 20) i"
}
take > /tmp/lock-a.$run &
a=$!
take > /tmp/lock-b.$run &
b=$!
wait $a; wait $b
read -r -a ra < /tmp/lock-a.$run
read -r -a rb < /tmp/lock-b.$run
rm -f /tmp/lock-a.$run /tmp/lock-b.$run
[ ${#ra[@]} = 20 ] && [ ${#rb[@]} = 20 ] || fail "each session should answer 20 times"
for i in $(seq 0 19); do
    [ "${ra[$i]}${rb[$i]}" = truefalse ] || [ "${ra[$i]}${rb[$i]}" = falsetrue ] \
        || fail "key $((i + 1)): session A got ${ra[$i]}, session B ${rb[$i]}"
done

# One key, two sessions each in an open transaction: the second waits for the first's commit.
q -c "BEGIN; SELECT convo.cache_try_lock('debounce', 'race.$run.tx', '1 minute'); SELECT pg_sleep(0.5); COMMIT;" > /tmp/lock-c.$run &
c=$!
sleep 0.2
second=$(q -c "SELECT convo.cache_try_lock('debounce', 'race.$run.tx', '1 minute')")
wait $c
first=$(grep -E '^(t|f)' /tmp/lock-c.$run | head -n 1); rm -f /tmp/lock-c.$run
[ "$first $second" = "t f" ] || fail "open transaction: first got $first, second got $second"
q -c "DELETE FROM convo.cache WHERE key LIKE 'race.$run.%'"
echo "ok - cache_try_lock from two sessions at once: exactly one true per key (20 keys, and one held by an open transaction)"
