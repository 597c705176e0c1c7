#!/usr/bin/env bash
# No webhook lost, none ingested twice, while the sidecar is killed and PostgreSQL restarts:
# convo-loadgen sends RELIABILITY_WEBHOOKS (12000) signed webhooks with unique wamids at
# RELIABILITY_RATE (1500/s) and, like Meta, retries each one until it gets a 200. Meanwhile the
# sidecar is killed with SIGKILL twice (and restarted on the same port) and PostgreSQL is
# restarted once (fast shutdown). Afterwards, once the inbox is drained, every acknowledged
# wamid must be in convo.messages exactly once.
# Expects PGHOST/PGPORT/PGUSER/PGDATABASE of a throwaway cluster whose data directory is
# $PGHOST/data; binaries from CONVO_BUILD_DIR (default build).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/cluster-lib.sh
. tests/sidecar/sidecar-lib.sh

fail() { echo "not ok - $*"; exit 1; }
ok() { echo "ok - $*"; }

if [ ! -e sidecar/src/main.cpp ]; then
    echo "ok - # skip the sidecar has no main yet"
    exit 0
fi
[ -x "$LOADGEN_BIN" ] || fail "convo-loadgen not built at $LOADGEN_BIN"

webhooks=${RELIABILITY_WEBHOOKS:-12000}
rate=${RELIABILITY_RATE:-1500}
phone_number_id=100200300488
work=$(mktemp -d /tmp/convo-sidecar-rel.XXXXXX)
log=$work/sidecar.log
SIDECAR_PID=
loadgen_pid=
cleanup() {
    [ -n "$loadgen_pid" ] && kill "$loadgen_pid" 2> /dev/null
    [ -n "$SIDECAR_PID" ] && sidecar_kill
    rm -rf "$work"
}
trap cleanup EXIT

q() { psql -X -q -t -A -v ON_ERROR_STOP=1 "$@"; }

export CONVO_SIDECAR_DATABASE_URL
CONVO_SIDECAR_DATABASE_URL=$(sidecar_conninfo)
export CONVO_META_APP_SECRET
CONVO_META_APP_SECRET=$(sidecar_random_secret)
export CONVO_META_VERIFY_TOKEN=reliability
# Commits that outlast a PostgreSQL restart are answered 503 (and retried) rather than waited on.
export CONVO_SIDECAR_PUT_TIMEOUT_MS=${CONVO_SIDECAR_PUT_TIMEOUT_MS:-3000}

q -c "SELECT convo.register_account('Reliability', '$phone_number_id', '15550100288')" > /dev/null
first_inbox_id=$(q -c "SELECT coalesce(max(inbox_id), 0) + 1 FROM convo.inbox")
sidecar_start "$log" || fail "the sidecar did not start"
port=$SIDECAR_PORT

"$LOADGEN_BIN" --target "127.0.0.1:$port" --count "$webhooks" --rate "$rate" --connections 16 \
    --phone-number-id "$phone_number_id" --display-phone-number 15550100288 --contacts 500 \
    --wamid-prefix "wamid.REL$(date +%s)." --acked-file "$work/acked" --timeout-ms 3000 \
    --backoff-ms 100 --backoff-max-ms 1000 --max-wait 90 > "$work/loadgen.json" 2> "$work/loadgen.err" &
loadgen_pid=$!

# The faults, spread over the sending time (webhooks / rate seconds).
span_ms=$((webhooks * 1000 / rate))
at() { # at PERMILLE: sleep until that fraction of the sending time
    local target=$(($1 * span_ms / 1000)) now
    now=$((($(date +%s%N) - t0) / 1000000))
    [ $target -gt $now ] && sleep "$(printf '%d.%03d' $(((target - now) / 1000)) $(((target - now) % 1000)))"
    return 0
}
t0=$(date +%s%N)

at 200
sidecar_kill
ok "killed the sidecar (SIGKILL) at $((($(date +%s%N) - t0) / 1000000)) ms"
sidecar_start "$log" "$port" || fail "the sidecar did not come back after SIGKILL"

at 450
(cd / && as_pg "$PG_BIN/pg_ctl" -D "$PGHOST/data" -l "$PGHOST/server.log" -m fast -w -t 60 restart > /dev/null) ||
    fail "PostgreSQL did not restart"
ok "restarted PostgreSQL (fast) at $((($(date +%s%N) - t0) / 1000000)) ms"

at 700
sidecar_kill
ok "killed the sidecar (SIGKILL) again at $((($(date +%s%N) - t0) / 1000000)) ms"
sidecar_start "$log" "$port" || fail "the sidecar did not come back after the second SIGKILL"

load_status=0
wait "$loadgen_pid" || load_status=$?
loadgen_pid=
[ -s "$work/loadgen.json" ] || { cat "$work/loadgen.err"; fail "convo-loadgen printed no summary"; }
summary=$(cat "$work/loadgen.json")
field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" <<< "$summary"; }
echo "# loadgen: $summary"
[ "$load_status" = 0 ] || fail "convo-loadgen: $(field unacked) webhooks never acknowledged (exit $load_status)"

# Drained: nothing pending or processing.
deadline=$((SECONDS + 90))
until [ "$(q -c "SELECT (convo.inbox_stats() ->> 'pending')::int")" = 0 ]; do
    [ $SECONDS -lt $deadline ] || fail "the inbox is not drained after 90 s: $(q -c 'SELECT convo.inbox_stats()')"
    sleep 0.5
done

q > /dev/null <<SQL
CREATE TABLE IF NOT EXISTS reliability_acked (wamid text);
TRUNCATE reliability_acked;
\copy reliability_acked FROM '$work/acked'
SQL
read -r acked lost duplicates dead <<< "$(q -F ' ' -v first="$first_inbox_id" <<'SQL'
WITH a AS (SELECT DISTINCT wamid FROM reliability_acked),
     m AS (SELECT wamid, count(*) AS n FROM convo.messages WHERE wamid IN (SELECT wamid FROM a) GROUP BY wamid)
SELECT (SELECT count(*) FROM a),
       (SELECT count(*) FROM a WHERE wamid NOT IN (SELECT wamid FROM m)),
       (SELECT coalesce(sum(n - 1), 0) FROM m),
       (SELECT count(*) FROM convo.inbox WHERE state = 'dead' AND inbox_id >= :first)
SQL
)"
q -c "DROP TABLE reliability_acked" > /dev/null

echo "# sent $(field sent), acked $acked, attempts $(field attempts), 200: $(field status_200)," \
    "503: $(field status_503), other: $(field status_other), no-answer: $(field no_answer)," \
    "lost: $lost, duplicates: $duplicates, dead inbox rows: $dead"
[ "$acked" = "$webhooks" ] || fail "$acked distinct wamids acknowledged, expected $webhooks"
[ "$lost" = 0 ] || fail "$lost acknowledged webhooks are not in convo.messages"
[ "$duplicates" = 0 ] || fail "$duplicates duplicate messages"
[ "$dead" = 0 ] || fail "$dead inbox rows dead: $(q -c "SELECT last_error FROM convo.inbox WHERE state = 'dead' AND inbox_id >= $first_inbox_id LIMIT 3")"
ok "$webhooks webhooks through 2 sidecar kills and a PostgreSQL restart: none lost, none twice"

sidecar_stop
SIDECAR_PID=
[ "$SIDECAR_EXIT" = 0 ] || fail "SIGTERM after the run: exit code $SIDECAR_EXIT"
ok "SIGTERM: exit code 0"
