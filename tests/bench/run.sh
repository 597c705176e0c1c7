#!/usr/bin/env bash
# convo benchmarks on a throwaway cluster (fsync and synchronous_commit at their defaults).
#
#   make bench [BENCH_SCALE=1] [BENCH_SECONDS=10] [BENCH_ROUNDS=5] [BENCH_CLIENTS="1 2"]
#
# BENCH_SCALE 1 generates 100k conversations and about 2M messages (tests/bench/generate.sql);
# 0.1 is a quick run. Every variant (tests/bench/scripts/<variant>.sql) then runs for
# BENCH_SECONDS in all with pgbench -M prepared, per client count (one pgbench thread per
# client), in BENCH_ROUNDS interleaved slices. The machine this runs on is small and shared,
# so absolute figures drift from run to run: what to read are the ratios between variants
# measured side by side in one run. Latency percentiles come from pgbench's transaction log.
# A variant that fails (e.g. a function not built yet) is reported with its error; the
# others still run.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
. scripts/cluster-lib.sh

scale=${BENCH_SCALE:-1}
seconds=${BENCH_SECONDS:-10}
rounds=${BENCH_ROUNDS:-5}
clients_list=${BENCH_CLIENTS:-1 2}
port=${BENCH_PORT:-5440}
db=bench
bench=$root/tests/bench

# Read variants are compared with lookup (the conversation-id draw they all make), write
# variants with insert (one plain INSERT of the same message).
read_variants="select1 lookup free_window naive_conversation naive_account"
write_variants="insert ingest"
declare -A ref=([select1]=lookup [lookup]=lookup [free_window]=lookup [naive_conversation]=lookup
                [naive_account]=lookup [insert]=insert [ingest]=insert)

dir=$(mktemp -d /tmp/convo-bench.XXXXXX)
# BENCH_KEEP=DIR keeps the pgbench output and transaction logs there.
cleanup() {
    cluster_stop "$dir"
    if [ -n "${BENCH_KEEP:-}" ] && [ -d "$dir/runs" ]; then mkdir -p "$BENCH_KEEP" && cp -r "$dir/runs" "$BENCH_KEEP/"; fi
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

q() { psql -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d "$db" "$@"; }
calc() { awk "BEGIN { $1 }" < /dev/null; }

echo "== cluster"
cluster_init "$dir" "$port" "$db"
cluster_start "$dir"
cluster_create_db "$dir" "$port" "$db"
q -At -c "SELECT 'PostgreSQL ' || current_setting('server_version') || ', fsync=' || current_setting('fsync')
                 || ', synchronous_commit=' || current_setting('synchronous_commit')
                 || ', shared_buffers=' || current_setting('shared_buffers') || ', ' || $(nproc) || ' cores'"

echo "== data (scale $scale)"
start=$(date +%s.%N)
q -v scale="$scale" -f "$bench/generate.sql"
calc "printf \"generated in %.1f s\\n\", $(date +%s.%N) - $start"

# The floor for ingest: a table as wide as convo.messages, with nothing but its primary key.
q <<'SQL'
CREATE TABLE convo_bench.plain_messages (
    account_id  uuid NOT NULL,
    message_id  bigint GENERATED ALWAYS AS IDENTITY,
    wa_id       text NOT NULL,
    wamid       text NOT NULL,
    direction   text NOT NULL,
    type        text NOT NULL,
    body        text,
    payload     jsonb NOT NULL,
    status      text NOT NULL DEFAULT 'delivered',
    sent_at     timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, message_id)
);
CHECKPOINT;
SQL
count=$(q -At -c "SELECT count(*) FROM convo_bench.ids")
pool=$(q -At -c "SELECT count(*) FROM convo_bench.pool")

# Plans of the naive window queries, for a conversation of median length and the longest.
read -r n_median n_longest < <(q -At -F ' ' <<'SQL'
WITH lengths AS (SELECT i.n, count(*) AS len
                   FROM convo_bench.ids i JOIN convo.messages m USING (account_id, conversation_id)
                  GROUP BY i.n)
SELECT (SELECT n FROM lengths ORDER BY len, n OFFSET (SELECT count(*) / 2 FROM lengths) LIMIT 1),
       (SELECT n FROM lengths ORDER BY len DESC, n LIMIT 1);
SQL
)
for v in naive_conversation naive_account; do
    for n in "$n_median" "$n_longest"; do
        len=$(q -At -c "SELECT count(*) FROM convo.messages m JOIN convo_bench.ids i USING (account_id, conversation_id) WHERE i.n = $n")
        echo "== plan: $v, conversation of $len messages"
        sed -e '/^--/d' -e '/^\\/d' -e "s/:n/$n/" "$bench/scripts/$v.sql" \
            | sed '1s/^/EXPLAIN (ANALYZE, BUFFERS) /' | q
    done
done

# snapshot [LSN]: checkpoints so far, the current WAL position, WAL bytes since LSN.
snapshot() {
    q -At -F ' ' -c "SELECT checkpoints_timed + checkpoints_req, pg_current_wal_lsn(),
                            pg_wal_lsn_diff(pg_current_wal_lsn(), '${1:-0/0}') FROM pg_stat_bgwriter"
}

# run_variant NAME CLIENTS ROUND: one pgbench run of slice seconds, logs in runs/NAME.CLIENTS/ROUND.
declare -A tps avg p50 p99 txs err note tpsr p50r wal
run_variant() {
    local v=$1 c=$2 out=$dir/runs/$1.$2/$3 rc=0 ck0 lsn ck1 bytes t
    mkdir -p "$out"
    read -r ck0 lsn _ < <(snapshot)
    (cd "$out" && pgbench -n -M prepared -T "$slice" -c "$c" -j "$c" \
        -D count="$count" -D pool="$pool" -D run="$v$c$3" -f "$bench/scripts/$v.sql" \
        --log --log-prefix="$out/tx" -h "$dir" -p "$port" -U postgres "$db" \
        > "$out/stdout" 2> "$out/stderr") || rc=$?
    read -r ck1 _ bytes < <(snapshot "$lsn")
    [ "$ck1" = "$ck0" ] || note[$v.$c]="checkpoint during a run"
    if [ $rc -ne 0 ] || grep -q 'aborted' "$out/stderr"; then
        local e
        e=$(grep -o 'ERROR: .*' "$out/stderr" | head -n 1 | sed 's/^ERROR: *//')
        err[$v.$c]=${e:-$(tail -n 1 "$out/stderr")}
        printf '%s\n' "error"
        return
    fi
    t=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$out/stdout")
    tpsr[$v.$c.$3]=$t
    wal[$v.$c]=$(( ${wal[$v.$c]:-0} + ${bytes%.*} ))
    calc "printf \"%.0f tps\\n\", $t"
}

# latencies FILE...: transaction count, average, p50 and p99 (ms) of pgbench logs (lines:
# client, transaction, latency in us, script, epoch s, us); nearest-rank percentiles.
latencies() {
    cat "$@" | awk '$3 ~ /^[0-9]+$/ { print $3 }' | sort -n | awk '
        { v[NR] = $1; s += $1 }
        function at(p,  i) { i = int(NR * p); if (i < NR * p) i++; return v[i < 1 ? 1 : i] }
        END { if (NR == 0) print 0, 0, 0, 0;
              else printf "%d %.3f %.3f %.3f\n", NR, s / NR / 1000, at(0.5) / 1000, at(0.99) / 1000 }'
}

# summarise NAME CLIENTS: TPS = mean over the rounds (all of the same length); latencies over
# every transaction of every round, and the p50 of each round for the per-round ratios.
summarise() {
    local v=$1 c=$2 k=$1.$2 r
    [ -z "${err[$k]:-}" ] || return 0
    tps[$k]=$(for r in $(seq 1 "$rounds"); do echo "${tpsr[$k.$r]}"; done | awk '{ s += $1 } END { printf "%.1f", s / NR }')
    read -r "txs[$k]" "avg[$k]" "p50[$k]" "p99[$k]" < <(latencies "$dir/runs/$k"/*/tx.*)
    for r in $(seq 1 "$rounds"); do
        p50r[$k.$r]=$(latencies "$dir/runs/$k/$r"/tx.* | awk '{ print $3 }')
    done
}

hot_updates() {
    q -At -F ' ' -c "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relid = 'convo.conversations'::regclass"
}
read -r upd0 hot0 < <(hot_updates)

# How busy the machine was meanwhile (other work on it skews every figure): the load average,
# and from /proc/pressure/cpu the share of the time some runnable task waited for a CPU.
pressure() { [ -r /proc/pressure/cpu ] && sed -n 's/^some .*total=\([0-9]*\).*/\1/p' /proc/pressure/cpu || echo ""; }
load0=$(cut -d' ' -f1 /proc/loadavg)
psi0=$(pressure)
runs_start=$(date +%s.%N)

# Rounds interleave the variants, so that a slow spell of the machine (or its disk) spreads
# over all of them rather than falling on one.
slice=$(( (seconds + rounds - 1) / rounds ))
for r in $(seq 1 "$rounds"); do
    for c in $clients_list; do
        for v in $read_variants $write_variants; do
            printf '== round %s/%s: %-20s %s client(s), %ss: ' "$r" "$rounds" "$v" "$c" "$slice"
            [ -n "${err[$v.$c]:-}" ] && { echo "skipped (failed before)"; continue; }
            run_variant "$v" "$c" "$r"
        done
    done
done
for c in $clients_list; do
    for v in $read_variants $write_variants; do summarise "$v" "$c"; done
done
machine="load average $load0 before the runs, $(cut -d' ' -f1 /proc/loadavg) after"
psi1=$(pressure)
if [ -n "$psi0" ] && [ -n "$psi1" ]; then
    machine+=$(calc "printf \", CPU wait (PSI some, this run included) %.0f%% of the time\", ($psi1 - $psi0) / 1e4 / ($(date +%s.%N) - $runs_start)")
fi

# What ingest did, to be sure it did the work it was timed for, and how it updated the
# conversations (a HOT update adds no index entries; one that changes an indexed column does).
total=0
for c in $clients_list; do total=$((total + ${txs[ingest.$c]:-0})); done
read -r upd1 hot1 < <(hot_updates)
q -At -F ' ' -c "SELECT (SELECT count(*) FROM convo.messages WHERE wamid LIKE 'wamid.bench.ingest%'),
                        (SELECT count(*) FROM convo.contacts WHERE wa_id LIKE '79%')" | {
    read -r stored new_contacts
    echo "== ingest stored $stored messages in $total transactions, $new_contacts of them from new customers;"
    echo "   conversations updated $((upd1 - upd0)) times, $((hot1 - hot0)) of them HOT"
}

ratio() { # ratio A B: A / B with two decimals, or n/a
    if [ -n "${1:-}" ] && [ -n "${2:-}" ] && calc "exit !($2 > 0)"; then calc "printf \"%.2f\", $1 / $2"; else printf 'n/a'; fi
}

# by_round METRIC A B CLIENTS: "MEDIAN LOW HIGH" of METRIC(A) / METRIC(B) taken round by round
# (METRIC: p50r or tpsr), "n/a n/a n/a" when a side failed. Both sides of a round ran within
# seconds of each other, so this ratio is far steadier than one of figures pooled over rounds.
by_round() {
    local -n m=$1
    local r out=""
    for r in $(seq 1 "$rounds"); do
        out+="$(ratio "${m[$2.$4.$r]:-}" "${m[$3.$4.$r]:-}") "
    done
    [[ $out == *n/a* ]] && { echo n/a n/a n/a; return; }
    printf '%s' "$out" | tr ' ' '\n' | sort -n | awk 'NF { v[++n] = $1 }
        END { printf "%.2f %s %s\n", n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2, v[1], v[n] }'
}

echo
echo "== results (scale $scale, $rounds x ${slice}s per variant, pgbench -M prepared, latencies in ms)"
echo "   $(nproc) cores, $machine"
printf '%-20s %7s %10s %8s %8s %8s %9s   %s\n' variant clients TPS avg p50 p99 "WAL B/tx" "p50 vs ref (median of rounds)"
for c in $clients_list; do
    for v in $read_variants $write_variants; do
        k=$v.$c
        if [ -n "${err[$k]:-}" ]; then
            printf '%-20s %7s   n/a (error: %s)\n' "$v" "$c" "${err[$k]}"
            continue
        fi
        rel=""
        [ "${ref[$v]}" != "$v" ] && rel="$(by_round p50r "$v" "${ref[$v]}" "$c" | cut -d' ' -f1) x ${ref[$v]}"
        printf '%-20s %7s %10.0f %8.3f %8.3f %8.3f %9.0f   %-16s %s\n' "$v" "$c" "${tps[$k]}" "${avg[$k]}" \
            "${p50[$k]}" "${p99[$k]}" "$(calc "t = ${txs[$k]}; print (t > 0 ? ${wal[$k]} / t : 0)")" "$rel" "${note[$k]:-}"
    done
done

verdict() { # verdict VALUE OP TARGET
    [ "$1" = n/a ] && { printf 'n/a'; return; }
    if calc "exit !($1 $2 $3)"; then printf 'ok'; else printf 'MISSED'; fi
}
# line LABEL METRIC A B CLIENTS [TARGET-OP TARGET]
line() {
    local med lo hi target=""
    read -r med lo hi < <(by_round "$2" "$3" "$4" "$5")
    [ -n "${6:-}" ] && target="target $6 $7: $(verdict "$med" "$6" "$7")"
    printf '%-44s %8s   %-15s %s\n' "$1" "$med" "$([ "$lo" = n/a ] || echo "$lo-$hi")" "$target"
}
echo
echo "== ratios: median over the rounds of the ratio within each round (lowest-highest)"
for c in $clients_list; do
    echo "-- $c client(s)"
    line "free_window p50 / lookup p50" p50r free_window lookup "$c" '<=' 1.3
    line "free_window TPS / lookup TPS" tpsr free_window lookup "$c"
    line "naive_conversation p50 / free_window p50" p50r naive_conversation free_window "$c"
    line "naive_account p50 / free_window p50" p50r naive_account free_window "$c"
    line "ingest TPS / insert TPS" tpsr ingest insert "$c"
    line "ingest p50 / insert p50" p50r ingest insert "$c"
    printf '%-44s %8s   %s\n' "naive_account p99 / free_window p99" \
        "$(ratio "${p99[naive_account.$c]:-}" "${p99[free_window.$c]:-}")" "(over all rounds)"
done
if [[ " $clients_list " == *" 2 "* ]]; then
    t=${tps[ingest.2]:-n/a}
    [ "$t" = n/a ] || t=$(calc "printf \"%.0f\", $t")
    printf '%-44s %8s   %-15s %s\n' "ingest TPS, 2 clients (mean over the rounds)" "$t" "" \
        "target >= 3000: $(verdict "$t" '>=' 3000)"
fi
