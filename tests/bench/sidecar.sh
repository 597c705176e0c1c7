#!/usr/bin/env bash
# convo-sidecar benchmark: a Release build (no sanitizers) against a private cluster with
# synchronous_commit = on, so every acknowledged webhook waited for its WAL flush.
#
#   tests/bench/sidecar.sh
#     SIDECAR_BENCH_LATENCY_S=20                 the 1,000/s runs (ack latency with ingest off and
#                                                on, ingest lag, RSS)
#     SIDECAR_BENCH_RATES="2000 3000 4000 5000 6000 8000"   the rate ladder, webhooks/s
#     SIDECAR_BENCH_STEP_S=30                    seconds per ladder step
#     SIDECAR_BENCH_CONNECTIONS=64               keep-alive connections of the load generator
#
# Measures first what the disk and PostgreSQL alone allow, in the same run: pg_test_fsync on the
# cluster's disk, and pgbench committing one single-row INSERT per transaction at 1,000/s (the
# floor of any "ack after commit" design without grouping) and convo.inbox_put_batch of one body
# without NOTIFY at 1,000/s (the sidecar's statement without HTTP). Then the sidecar, with its latency as the
# load generator sees it (from the planned send time, so a late send or a request queued behind
# another on its connection counts) and as the sidecar's own histogram sees it (read from
# /metrics, bucket bounds). The load generator runs on the same 2 cores and takes CPU from the
# sidecar and PostgreSQL: the figures are a floor, not a ceiling.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/cluster-lib.sh

latency_s=${SIDECAR_BENCH_LATENCY_S:-20}
rates=${SIDECAR_BENCH_RATES:-2000 3000 4000 5000 6000 8000}
step_s=${SIDECAR_BENCH_STEP_S:-30}
connections=${SIDECAR_BENCH_CONNECTIONS:-64}
port=${SIDECAR_BENCH_PORT:-5442}
db=bench_sidecar
phone_number_id=100200300477
export CONVO_BUILD_DIR=${SIDECAR_BENCH_BUILD_DIR:-build-bench}
. tests/sidecar/sidecar-lib.sh

dir=$(mktemp -d /tmp/convo-sidecar-bench.XXXXXX)
SIDECAR_PID=
cleanup() {
    local status=$?
    if [ "$status" != 0 ] && [ -f "$dir/sidecar.log" ]; then
        echo "== the benchmark failed ($status); the sidecar's last warnings:"
        grep -v '"level":"info"' "$dir/sidecar.log" | tail -n 20
    fi
    [ -n "$SIDECAR_PID" ] && sidecar_kill
    cluster_stop "$dir"
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

q() { psql -X -q -t -A -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d "$db" "$@"; }
calc() { awk "BEGIN { $1 }" < /dev/null; }
# json_field JSON NAME [OBJECT]: a number from the load generator's summary (inside OBJECT if given).
json_field() {
    if [ -n "${3:-}" ]; then
        sed -n "s/.*\"$3\":{[^}]*\"$2\":\([0-9.]*\).*/\1/p" <<< "$1"
    else
        sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" <<< "$1"
    fi
}
verdict() { calc "print ($1 $2 $3) ? \"met\" : \"missed\""; }
drain() {
    local deadline=$((SECONDS + ${1:-120}))
    until [ "$(q -c "SELECT (convo.inbox_stats() ->> 'pending')::int")" = 0 ]; do
        [ $SECONDS -lt $deadline ] || { echo "== the inbox did not drain: $(q -c 'SELECT convo.inbox_stats()')"; return 1; }
        sleep 0.5
    done
}

echo "== sidecar bench: Release build in $CONVO_BUILD_DIR"
cmake -S . -B "$CONVO_BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DCONVO_SANITIZE=OFF > /dev/null
cmake --build "$CONVO_BUILD_DIR" -j2 --target convo-sidecar convo-loadgen > /dev/null

echo "== sidecar bench: cluster (synchronous_commit = on)"
cluster_init "$dir" "$port" "$db"
echo "synchronous_commit = on" >> "$dir/data/postgresql.conf"
cluster_start "$dir"
cluster_create_db "$dir" "$port" "$db"
q -c "SELECT convo.register_account('Bench', '$phone_number_id', '15550100277')" > /dev/null

echo "== pg_test_fsync -s 2 on the cluster's disk ($dir)"
fsync_out=$("$PG_BIN/pg_test_fsync" -s 2 -f "$dir/fsync.test" 2>&1) || true
rm -f "$dir/fsync.test"
sed -n '/one 8kB write/,/two 8kB writes/p' <<< "$fsync_out" | grep 'ops/sec' | sed 's/^/   /'
fdatasync=$(sed -n '/one 8kB write/,/two 8kB writes/p' <<< "$fsync_out" | sed -n 's/^ *fdatasync *\([0-9.]*\) ops\/sec *\([0-9.]*\) usecs.*/\1 \2/p' | head -n 1)
fdatasync_ops=${fdatasync% *}
fdatasync_us=${fdatasync#* }

export PGHOST=$dir PGPORT=$port PGUSER=postgres PGDATABASE=$db

# A text-message notification of the size the load generator sends.
body='{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550100277","phone_number_id":"'$phone_number_id'"},"contacts":[{"profile":{"name":"Floor Test"},"wa_id":"33612345678"}],"messages":[{"from":"33612345678","id":"wamid.FLOOR","timestamp":"1700000000","type":"text","text":{"body":"Bonjour, avez-vous ce modele en taille 42 ?"}}]},"field":"messages"}]}]}'
# pgbench_floor NAME SQL: p50 and p99 (ms) of SQL committed at 1,000/s by 8 clients for 10 s,
# from pgbench's per-transaction log (latency counted from the scheduled start).
pgbench_floor() {
    local name=$1 sql=$2
    printf '%s\n' "$sql" > "$dir/$name.sql"
    (cd "$dir" && "$PG_BIN/pgbench" -n -M prepared -f "$name.sql" -R 1000 -c 8 -j 2 -T 10 \
        --log --log-prefix="$name.log" > /dev/null 2>&1) || { echo "? ?"; return 0; }
    cat "$dir/$name.log".* | awk '{ print $3 / 1000 }' | sort -n |
        awk '{ v[NR] = $1 } END { if (NR == 0) print "? ?"; else print v[int(NR * 0.5) + 1], v[int(NR * 0.99) + 1] }'
    rm -f "$dir/$name.log".*
}
export CONVO_SIDECAR_DATABASE_URL
CONVO_SIDECAR_DATABASE_URL=$(sidecar_conninfo)
export CONVO_META_APP_SECRET
CONVO_META_APP_SECRET=$(sidecar_random_secret)
echo "== PostgreSQL alone at 1,000 commits/s (pgbench, 8 clients, 10 s)"
q -c "CREATE TABLE bench_floor (body text NOT NULL)"
read -r floor_p50 floor_p99 <<< "$(pgbench_floor insert "INSERT INTO bench_floor VALUES ('$body');")"
read -r batch_p50 batch_p99 <<< "$(pgbench_floor put "SELECT convo.inbox_put_batch(ARRAY['whatsapp'], ARRAY['$body'], NULL, false);")"
q -c "DELETE FROM convo.inbox; DROP TABLE bench_floor"
echo "   single-row INSERT: p50 $floor_p50 ms, p99 $floor_p99 ms; inbox_put_batch of one body: p50 $batch_p50 ms, p99 $batch_p99 ms"

# histogram_quantile Q BEFORE AFTER: the upper bound (ms) of the bucket holding quantile Q of the
# webhook requests served between two /metrics scrapes.
histogram_quantile() {
    awk -v q="$1" '
        FNR == 1 { file++ }
        /^convo_sidecar_http_request_duration_seconds_bucket\{route="\/webhook\/whatsapp"/ {
            le = $0; sub(/.*le="/, "", le); sub(/".*/, "", le)
            if (file == 1) before[le] = $NF; else { after[le] = $NF; order[++n] = le }
        }
        END {
            total = after["+Inf"] - before["+Inf"]
            for (i = 1; i <= n; i++) if (after[order[i]] - before[order[i]] >= q * total) {
                print (order[i] == "+Inf") ? "inf" : order[i] * 1000; exit
            }
        }' "$2" "$3"
}
scrape() { curl -s --max-time 5 "http://$target/metrics" > "$1" || true; }

# loadgen RATE SECONDS: one run, its JSON summary on stdout.
loadgen() {
    "$LOADGEN_BIN" --target "$target" --rate "$1" --duration "$2" --connections "$connections" \
        --phone-number-id "$phone_number_id" --display-phone-number 15550100277 --contacts 2000 \
        --wamid-prefix "wamid.BENCH.$1.$RANDOM." --timeout-ms 5000 --max-wait 60
}

log=$dir/sidecar.log

# The ack path alone: a sidecar without ingest workers at 1,000/s (the bodies wait in the inbox
# for the next one). Beside the run with ingest below, it shows what ingesting on the same
# cores costs the acknowledgements.
echo "== 1,000 webhooks/s for $latency_s s, ingest off (CONVO_SIDECAR_WORKERS=0)"
CONVO_SIDECAR_WORKERS=0 sidecar_start "$log" || exit 1
target=127.0.0.1:$SIDECAR_PORT
loadgen 500 3 > /dev/null || true
scrape "$dir/alone.before"
run=$(loadgen 1000 "$latency_s") || echo "== convo-loadgen reported unacknowledged webhooks"
scrape "$dir/alone.after"
echo "   $run"
alone_p50=$(json_field "$run" p50_ms latency_final)
alone_p99=$(json_field "$run" p99_ms latency_final)
alone_own_p50=$(histogram_quantile 0.5 "$dir/alone.before" "$dir/alone.after")
alone_own_p99=$(histogram_quantile 0.99 "$dir/alone.before" "$dir/alone.after")
sidecar_stop
SIDECAR_PID=

echo "== the sidecar with its ingest workers; it ingests the backlog first"
sidecar_start "$log" || exit 1
target=127.0.0.1:$SIDECAR_PORT
drain 300
echo "== warm-up: 500/s for 3 s"
run=$(loadgen 500 3) || echo "== warm-up: convo-loadgen reported unacknowledged webhooks: $run"
drain

# The 1,000/s run, its RSS sampled every 0.2 s.
first_id=$(q -c "SELECT coalesce(max(inbox_id), 0) + 1 FROM convo.inbox")
echo "== 1,000 webhooks/s for $latency_s s"
rss_max=0
scrape "$dir/metrics.before"
loadgen 1000 "$latency_s" > "$dir/latency.json" &
lg=$!
while kill -0 "$lg" 2> /dev/null; do
    rss=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$SIDECAR_PID/status")
    [ "${rss:-0}" -gt "$rss_max" ] && rss_max=$rss
    sleep 0.2
done
wait "$lg" || echo "== convo-loadgen reported unacknowledged webhooks"
scrape "$dir/metrics.after"
own_p50=$(histogram_quantile 0.5 "$dir/metrics.before" "$dir/metrics.after")
own_p99=$(histogram_quantile 0.99 "$dir/metrics.before" "$dir/metrics.after")
hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$SIDECAR_PID/status")
run=$(cat "$dir/latency.json")
echo "   $run"
ack_p50=$(json_field "$run" p50_ms latency_final)
ack_p99=$(json_field "$run" p99_ms latency_final)
drain
read -r lag_p50 lag_p99 lag_rows <<< "$(q -F ' ' -c "
    SELECT round(1000 * percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM processed_at - received_at))::numeric, 2),
           round(1000 * percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM processed_at - received_at))::numeric, 2),
           count(*)
      FROM convo.inbox WHERE inbox_id >= $first_id AND state = 'done'")"

echo "== rate ladder: $rates webhooks/s, $step_s s each"
best=0
declare -A step_p99 step_rate step_503
for r in $rates; do
    run=$(loadgen "$r" "$step_s") || true
    step_p99[$r]=$(json_field "$run" p99_ms latency_final)
    step_rate[$r]=$(json_field "$run" achieved_rate)
    step_503[$r]=$(json_field "$run" status_503)
    printf '   %5s/s: achieved %7s/s  ack p50 %8s ms  p99 %8s ms  503s %s  no-answer %s\n' "$r" "${step_rate[$r]}" \
        "$(json_field "$run" p50_ms latency_final)" "${step_p99[$r]}" "${step_503[$r]}" "$(json_field "$run" no_answer)"
    if [ -n "${step_p99[$r]}" ] && [ "$(verdict "${step_p99[$r]}" '<' 10)" = met ] &&
        [ "$(verdict "${step_rate[$r]}" '>=' "$r * 0.98")" = met ]; then
        best=$r
    else
        break  # the next step only goes further over
    fi
    drain 180 || break
done
hwm_all=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$SIDECAR_PID/status")

sidecar_stop
SIDECAR_PID=

echo
echo "== convo-sidecar (Release, synchronous_commit = on; fdatasync ${fdatasync_ops:-?} ops/s, ${fdatasync_us:-?} µs)"
printf '%-48s %12s   %s\n' measure value target
printf '%-48s %9s ms   %s\n' "floor: single-row INSERT p50 / p99 at 1,000/s" "$floor_p50 / $floor_p99" ""
printf '%-48s %9s ms   %s\n' "inbox_put_batch(1 body) p50 / p99 at 1,000/s" "$batch_p50 / $batch_p99" ""
printf '%-48s %9s ms   %s\n' "ack p50 / p99 at 1,000/s, ingest off" "$alone_p50 / $alone_p99" ""
printf '%-48s %9s ms   %s\n' "  in the sidecar's histogram: p50 / p99 within" "$alone_own_p50 / $alone_own_p99" ""
printf '%-48s %9s ms   %s\n' "ack latency p50 at 1,000/s, ingest on" "$ack_p50" ""
printf '%-48s %9s ms   %s\n' "ack latency p99 at 1,000/s, ingest on" "$ack_p99" "<= 2 ms: $(verdict "$ack_p99" '<=' 2)"
printf '%-48s %9s ms   %s\n' "  in the sidecar's histogram: p50 / p99 within" "$own_p50 / $own_p99" ""
printf '%-48s %9s      %s\n' "  ack p99 / floor INSERT p99" "$(calc "printf \"%.2f\", $ack_p99 / $floor_p99" 2> /dev/null || echo '?')" ""
printf '%-48s %9s /s   %s\n' "highest ladder rate with ack p99 < 10 ms" "$best" ">= 5,000/s: $(verdict "$best" '>=' 5000)"
printf '%-48s %9s ms   %s\n' "ingest lag p50 at 1,000/s (processed - received)" "$lag_p50" "($lag_rows rows)"
printf '%-48s %9s ms   %s\n' "ingest lag p99 at 1,000/s" "$lag_p99" "<= 50 ms: $(verdict "${lag_p99:-1e9}" '<=' 50)"
printf '%-48s %9s MB   %s\n' "sidecar RSS, most during the 1,000/s run" "$(calc "printf \"%.1f\", $rss_max / 1024")" \
    "<= 30 MB: $(verdict "$rss_max / 1024" '<=' 30)"
printf '%-48s %9s MB   %s\n' "sidecar VmHWM after the 1,000/s run" "$(calc "printf \"%.1f\", $hwm / 1024")" ""
printf '%-48s %9s MB   %s\n' "sidecar VmHWM after the ladder" "$(calc "printf \"%.1f\", $hwm_all / 1024")" ""
