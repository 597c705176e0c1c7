#!/usr/bin/env bash
# convo benchmarks on a throwaway cluster (fsync and synchronous_commit at their defaults).
#
#   make bench [BENCH_SCALE=1] [BENCH_SECONDS=10] [BENCH_ROUNDS=5] [BENCH_CLIENTS="1 2"]
#   make bench BENCH_SCALES="1 10"     (build_context at two scales, side by side; see below)
#
# BENCH_SCALE 1 generates 100k conversations and about 2M messages (tests/bench/generate.sql);
# 0.1 is a quick run. Every variant (tests/bench/scripts/<variant>.sql) then runs for
# BENCH_SECONDS in all with pgbench -M prepared, per client count (one pgbench thread per
# client), in BENCH_ROUNDS interleaved slices. The machine this runs on is small and shared,
# so absolute figures drift from run to run: what to read are the ratios between variants
# measured side by side in one run. Latency percentiles come from pgbench's transaction log.
# A variant that fails (e.g. a function not built yet) is reported with its error; the
# others still run.
#
# build_context is measured four ways, on the same draws (tests/bench/scripts/context_*.sql):
#   context_hit      a cached context: a conversation of the hot set (convo_bench.hot, cached
#                    before the runs; nothing writes to those conversations meanwhile)
#   context_miss     a context built from scratch: any conversation, with options that make
#                    the cache key new on every call ("max_tokens" drawn from 4000..200000, far
#                    above what these contexts use, so nothing is trimmed and the work is that
#                    of the default options). No write is needed to force the miss; the miss
#                    writes its own cache row, as a real one does.
#   context_naive    what an application does without it: one query per part (conversation,
#                    customer, bot profile, last messages, cart with labels, orders), each a
#                    round trip, in one transaction; the rendering, tools and routing it would
#                    still have to do are not counted
#   context_plpgsql  the same context built by a plain PL/pgSQL function (context_sql.sql),
#                    the best we could write, not cached
# All ask for the orders too ("include_orders"), as the naive path reads them. After the
# timed rounds, a short pass with pg_stat_statements (track = all, the cluster restarted for
# it; BENCH_PROFILE=0 skips it) shows the statements build_context runs, hit and miss, with
# their mean times: where the time goes.
#
# BENCH_SCALES="1 10" generates one database per scale in the same cluster (scale 10: 1M
# conversations and about 20M messages, about 16 GB of disk and 25 minutes to generate on two
# cores) and runs only the build_context variants (and lookup, whose own change from scale to
# scale shows how much of a change is the bigger working set rather than build_context), each
# scale in the same rounds, then compares their p99 from the smallest scale to the largest.
# BENCH_SECONDS=30 or more gives each round's p99 enough transactions.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
. scripts/cluster-lib.sh

scale=${BENCH_SCALE:-1}
scales=${BENCH_SCALES:-}
seconds=${BENCH_SECONDS:-10}
rounds=${BENCH_ROUNDS:-5}
clients_list=${BENCH_CLIENTS:-1 2}
port=${BENCH_PORT:-5440}
db=bench
bench=$root/tests/bench

# Read variants are compared with lookup (the conversation-id draw they all make), write
# variants with insert (one plain INSERT of the same message). A variant NAME@SCALE (only with
# BENCH_SCALES) runs NAME in the database of that scale.
context_variants="context_hit context_miss context_naive context_plpgsql"
if [ -z "$scales" ]; then
    read_variants="select1 lookup free_window naive_conversation naive_account $context_variants"
    write_variants="insert ingest"
    dbs=bench
else
    read_variants="" dbs=""
    for s in $scales; do
        read_variants+=" lookup@$s"
        for v in $context_variants; do read_variants+=" $v@$s"; done
        dbs+=" bench_s${s//./_}"
    done
    read_variants="select1@${scales%% *}$read_variants"
    write_variants=""
    dbs=${dbs# }
fi
declare -A ref=([insert]=insert [ingest]=insert)
for v in $read_variants; do ref[$v]=lookup${v#${v%@*}}; done

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

# The options of every build_context variant but the miss, whose max_tokens changes per call.
context_options='{"include_orders": true, "max_tokens": 4000}'

db=${dbs%% *}
echo "== cluster"
cluster_init "$dir" "$port" "$db"
cluster_start "$dir"
q -d postgres -At -c "SELECT 'PostgreSQL ' || current_setting('server_version') || ', fsync=' || current_setting('fsync')
                 || ', synchronous_commit=' || current_setting('synchronous_commit')
                 || ', shared_buffers=' || current_setting('shared_buffers') || ', ' || $(nproc) || ' cores'"

# setup DB SCALE: the database, its data, the PL/pgSQL rival of build_context, the hot set's
# contexts cached; the draw ranges in count[DB], pool[DB], hot[DB].
declare -A count pool hot
setup() {
    local db=$1 scale=$2 start
    if [ "$db" = "${dbs%% *}" ]; then
        cluster_create_db "$dir" "$port" "$db"
    else
        # pg_cron lives in one database only (cron.database_name, the first); convo does
        # without it.
        q -d postgres -c "CREATE DATABASE $db"
        q -c "CREATE EXTENSION pg_trgm" -c "CREATE EXTENSION convo"
    fi
    echo "== data (scale $scale)"
    start=$(date +%s.%N)
    q -v scale="$scale" -f "$bench/generate.sql"
    calc "printf \"generated in %.1f s\\n\", $(date +%s.%N) - $start"
    q -f "$bench/context_sql.sql"
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
    count[$db]=$(q -At -c "SELECT count(*) FROM convo_bench.ids")
    pool[$db]=$(q -At -c "SELECT count(*) FROM convo_bench.pool")
    hot[$db]=$(q -At -c "SELECT count(*) FROM convo_bench.hot")
    q -At -c "SELECT 'hot set: ' || count(*) || ' contexts cached, ' || round(avg(octet_length(c::text))) || ' bytes on average'
                FROM (SELECT convo.build_context(conversation_id, '$context_options') AS c FROM convo_bench.hot) x"
}
for db in $dbs; do
    if [ -z "$scales" ]; then setup "$db" "$scale"; else s=${db#bench_s}; setup "$db" "${s//_/.}"; fi
done
db=${dbs%% *}

# Plans of the naive window queries, for a conversation of median length and the longest
# (not with BENCH_SCALES, whose runs are about build_context).
if [ -z "$scales" ]; then
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
fi

# snapshot [LSN]: checkpoints so far, the current WAL position, WAL bytes since LSN.
snapshot() {
    q -At -F ' ' -c "SELECT checkpoints_timed + checkpoints_req, pg_current_wal_lsn(),
                            pg_wal_lsn_diff(pg_current_wal_lsn(), '${1:-0/0}') FROM pg_stat_bgwriter"
}

# variant_db NAME: the database a variant runs in.
variant_db() {
    if [[ $1 == *@* ]]; then local s=${1#*@}; echo "bench_s${s//./_}"; else echo "$db"; fi
}

# run_variant NAME CLIENTS ROUND: one pgbench run of slice seconds, logs in runs/NAME.CLIENTS/ROUND.
declare -A tps avg p50 p99 txs err note tpsr p50r p99r wal
run_variant() {
    local v=$1 c=$2 out=$dir/runs/$1.$2/$3 rc=0 ck0 lsn ck1 bytes t vdb
    vdb=$(variant_db "$v")
    mkdir -p "$out"
    read -r ck0 lsn _ < <(snapshot)
    (cd "$out" && pgbench -n -M prepared -T "$slice" -c "$c" -j "$c" \
        -D count="${count[$vdb]}" -D pool="${pool[$vdb]}" -D hot="${hot[$vdb]}" -D run="$v$c$3" \
        -f "$bench/scripts/${v%@*}.sql" \
        --log --log-prefix="$out/tx" -h "$dir" -p "$port" -U postgres "$vdb" \
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
        read -r _ _ "p50r[$k.$r]" "p99r[$k.$r]" < <(latencies "$dir/runs/$k/$r"/tx.*)
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
if [ -n "$write_variants" ]; then
    total=0
    for c in $clients_list; do total=$((total + ${txs[ingest.$c]:-0})); done
    read -r upd1 hot1 < <(hot_updates)
    q -At -F ' ' -c "SELECT (SELECT count(*) FROM convo.messages WHERE wamid LIKE 'wamid.bench.ingest%'),
                            (SELECT count(*) FROM convo.contacts WHERE wa_id LIKE '79%')" | {
        read -r stored new_contacts
        echo "== ingest stored $stored messages in $total transactions, $new_contacts of them from new customers;"
        echo "   conversations updated $((upd1 - upd0)) times, $((hot1 - hot0)) of them HOT"
    }
fi

# What the build_context variants did: the hot set still cached (so context_hit timed hits),
# and one cache row per miss (so context_miss timed misses, none of them served from a row an
# earlier miss stored).
for vdb in $dbs; do
    at=""
    [ -n "$scales" ] && { s=${vdb#bench_s}; at="@${s//_/.}"; }
    total=0
    for c in $clients_list; do total=$((total + ${txs[context_miss$at.$c]:-0})); done
    psql -X -q -At -F ' ' -h "$dir" -p "$port" -U postgres -d "$vdb" -c "
        SELECT count(*) FILTER (WHERE (convo.build_context(conversation_id, '$context_options') ->> 'cached')::boolean),
               count(*), (SELECT count(*) FROM convo.context_cache)
          FROM convo_bench.hot" | {
        read -r cached hot_total rows
        echo "== build_context${at:+ (scale ${at#@})}: $cached of the $hot_total hot contexts still cached after the runs;"
        echo "   $rows rows in the context cache after $total context_miss calls and the $hot_total hot ones"
    }
done

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
if [ -n "$scales" ]; then what="scales $scales, NAME@SCALE in the database of that scale"; else what="scale $scale"; fi
echo "== results ($what, $rounds x ${slice}s per variant, pgbench -M prepared, latencies in ms)"
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
# profile: where build_context's time goes. The cluster is restarted with pg_stat_statements
# tracking nested statements too (what build_context and the functions it calls run), each
# build_context variant runs once more with one client (a first second unmeasured, to warm
# the caches), and the statements it ran are listed with their calls per transaction and mean
# execution time, and the blocks it read from outside shared_buffers per call; the first line,
# the statement pgbench sent, holds the others. pgbench's own average latency adds the round
# trip and the protocol to that. Tracking adds its own cost: these times are a little higher
# than in the timed rounds.
profile() {
    [ "${BENCH_PROFILE:-1}" != 0 ] || return 0
    local vdb v at out
    cat >> "$dir/data/postgresql.conf" <<CONF
shared_preload_libraries = 'pg_cron,pg_stat_statements'
pg_stat_statements.track = all
pg_stat_statements.track_utility = off
pg_stat_statements.max = 1000
CONF
    cluster_stop "$dir"
    cluster_start "$dir"
    for vdb in $dbs; do
        at=""
        [ -n "$scales" ] && { s=${vdb#bench_s}; at="@${s//_/.}"; }
        psql -X -q -h "$dir" -p "$port" -U postgres -d "$vdb" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"
        for v in $context_variants; do
            out=$dir/profile/$v$at
            mkdir -p "$out"
            for t in 1 3; do
                psql -X -q -At -h "$dir" -p "$port" -U postgres -d "$vdb" -c "SELECT pg_stat_statements_reset()" > /dev/null
                pgbench -n -M prepared -T "$t" -c 1 -j 1 -D count="${count[$vdb]}" -D pool="${pool[$vdb]}" \
                    -D hot="${hot[$vdb]}" -D run="profile" -f "$bench/scripts/$v.sql" \
                    -h "$dir" -p "$port" -U postgres "$vdb" > "$out/stdout" 2> "$out/stderr" || true
            done
            echo
            echo "== profile: $v$at, 1 client, $(sed -n 's/^latency average = \([0-9.]*\) ms/\1 ms/p' "$out/stdout") on average seen by pgbench"
            psql -X -q -h "$dir" -p "$port" -U postgres -d "$vdb" -P footer=off <<SQL
WITH s AS (SELECT toplevel, calls, total_exec_time, mean_exec_time, shared_blks_read,
                  regexp_replace(query, '\s+', ' ', 'g') AS query
             FROM pg_stat_statements
            WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND query NOT LIKE '%pg_stat_statements%'),
     tx AS (SELECT max(calls) FILTER (WHERE toplevel) AS n,
                   sum(total_exec_time) FILTER (WHERE toplevel) AS total FROM s)
SELECT CASE WHEN s.toplevel THEN 'top' ELSE 'nested' END AS level,
       round(s.calls::numeric / tx.n, 2) AS "calls/tx",
       round(s.mean_exec_time::numeric * 1000, 1) AS "mean us",
       round(100 * s.total_exec_time::numeric / tx.total::numeric, 1) AS "% of top",
       round(s.shared_blks_read::numeric / s.calls, 1) AS "reads/call",
       left(s.query, 110) AS statement
  FROM s, tx
 ORDER BY s.toplevel DESC, s.total_exec_time DESC
 LIMIT 16;
SQL
        done
    done
}

# context_lines CLIENTS [@SCALE]: the build_context targets.
context_lines() {
    local c=$1 at=${2:-} one=select1
    [ -n "$at" ] && one=select1@${scales%% *}
    [ -n "$at" ] && echo "-- $c client(s), scale ${at#@}"
    line "context_hit p50 / select1 p50" p50r "context_hit$at" "$one" "$c" '<=' 1.3
    line "context_miss p50 / select1 p50" p50r "context_miss$at" "$one" "$c" '<=' 2
    line "context_naive p50 / context_miss p50" p50r "context_naive$at" "context_miss$at" "$c" '>=' 4
    line "context_plpgsql p50 / context_miss p50" p50r "context_plpgsql$at" "context_miss$at" "$c" '>=' 2
    line "context_miss p50 / context_hit p50" p50r "context_miss$at" "context_hit$at" "$c"
    line "context_hit p50 / lookup p50" p50r "context_hit$at" "lookup$at" "$c"
}
echo
echo "== ratios: median over the rounds of the ratio within each round (lowest-highest)"
if [ -n "$scales" ]; then
    first=${scales%% *} last=${scales##* }
    for c in $clients_list; do
        for s in $scales; do context_lines "$c" "@$s"; done
    done
    echo
    echo "== p99 at scale $last / p99 at scale $first: median of the per-round ratios (lowest-highest), and"
    echo "   the ratio of the p99s over all rounds"
    for c in $clients_list; do
        echo "-- $c client(s)"
        for v in lookup $context_variants; do
            target=()
            [[ $v == context_hit || $v == context_miss ]] && target=('<=' 1.2)
            read -r med lo hi < <(by_round p99r "$v@$last" "$v@$first" "$c")
            printf '%-44s %8s   %-15s %-28s %s\n' "$v p99 (scale $last / scale $first)" "$med" \
                "$([ "$lo" = n/a ] || echo "$lo-$hi")" "pooled $(ratio "${p99[$v@$last.$c]:-}" "${p99[$v@$first.$c]:-}")" \
                "${target[*]:+target ${target[*]}: $(verdict "$med" "${target[@]}")}"
        done
    done
    profile
    exit 0
fi
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
    context_lines "$c"
done
if [[ " $clients_list " == *" 2 "* ]]; then
    t=${tps[ingest.2]:-n/a}
    [ "$t" = n/a ] || t=$(calc "printf \"%.0f\", $t")
    printf '%-44s %8s   %-15s %s\n' "ingest TPS, 2 clients (mean over the rounds)" "$t" "" \
        "target >= 3000: $(verdict "$t" '>=' 3000)"
fi
profile
