#!/usr/bin/env bash
# Cache benchmark on a throwaway cluster: cache_get hits against SELECT 1, with 1 and 2
# clients, on one hot key and on 100k keys; cache_put; cache_try_lock.
#
#   tests/bench/cache.sh [CACHE_BENCH_SECONDS=2] [CACHE_BENCH_ROUNDS=3]
#
# Each variant runs CACHE_BENCH_ROUNDS slices of CACHE_BENCH_SECONDS per client count
# (pgbench -M prepared, one thread per client), the variants interleaved round by round so a
# slow spell of the machine spreads over all of them. Ratios are medians of per-round ratios.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/cluster-lib.sh

seconds=${CACHE_BENCH_SECONDS:-2}
rounds=${CACHE_BENCH_ROUNDS:-3}
port=${CACHE_BENCH_PORT:-5441}
db=bench_cache
scripts=$PWD/tests/bench/cache
variants="select1 get_hot get_100k put try_lock"

dir=$(mktemp -d /tmp/convo-cache-bench.XXXXXX)
cleanup() { cluster_stop "$dir"; rm -rf "$dir"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

q() { psql -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d "$db" "$@"; }
calc() { awk "BEGIN { $1 }" < /dev/null; }

echo "== cache bench: cluster"
cluster_init "$dir" "$port" "$db"
cluster_start "$dir"
cluster_create_db "$dir" "$port" "$db"
q <<'SQL'
SELECT convo.cache_put('response', 'hot', '{"text": "Our opening hours are 9 to 18, Monday to Saturday."}', '1 day');
SELECT count(convo.cache_put('response', 'k' || i, jsonb_build_object('text', 'answer ' || i), '1 day'))
  FROM generate_series(1, 100000) i;
VACUUM ANALYZE convo.cache;
SQL

declare -A tps
for r in $(seq 1 "$rounds"); do
    for c in 1 2; do
        for v in $variants; do
            out=$(pgbench -n -M prepared -T "$seconds" -c "$c" -j "$c" -f "$scripts/$v.sql" \
                      -h "$dir" -p "$port" -U postgres "$db" 2>&1) || { echo "$v failed: $out"; exit 1; }
            tps[$v.$c.$r]=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out")
            printf '== round %s/%s %-9s %s client(s): %.0f tps\n' "$r" "$rounds" "$v" "$c" "${tps[$v.$c.$r]}"
        done
    done
done

median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{ v[++n] = $1 } END { printf "%.2f", n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }'; }
mean_tps() { local s=""; for r in $(seq 1 "$rounds"); do s+="${tps[$1.$2.$r]} "; done; echo "$s" | tr ' ' '\n' | awk 'NF { s += $1; n++ } END { printf "%.0f", s / n }'; }
# ratio_by_round A CA B CB: median over rounds of tps(A, CA) / tps(B, CB)
ratio_by_round() {
    local s=""
    for r in $(seq 1 "$rounds"); do s+="$(calc "printf \"%.4f\", ${tps[$1.$2.$r]} / ${tps[$3.$4.$r]}") "; done
    echo "$s" | median
}
verdict() { if calc "exit !($1 $2 $3)"; then echo ok; else echo MISSED; fi; }

echo
echo "== cache results ($rounds x ${seconds}s per variant, pgbench -M prepared, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
printf '%-10s %12s %12s %8s   %s\n' variant "TPS 1 client" "TPS 2 clients" "2c / 1c" "time per call vs SELECT 1 (1 client)"
for v in $variants; do
    printf '%-10s %12s %12s %8s   %s\n' "$v" "$(mean_tps "$v" 1)" "$(mean_tps "$v" 2)" \
        "$(ratio_by_round "$v" 2 "$v" 1)" "$(ratio_by_round select1 1 "$v" 1)"
done
hit1=$(ratio_by_round select1 1 get_hot 1)
hit2=$(ratio_by_round select1 2 get_hot 2)
wide=$(ratio_by_round select1 1 get_100k 1)
scale=$(ratio_by_round get_hot 2 get_hot 1)
echo
printf '%-52s %6s   %s\n' "cache_get hit (hot key) / SELECT 1, 1 client" "$hit1" "target <= 1.3: $(verdict "$hit1" '<=' 1.3)"
printf '%-52s %6s\n' "cache_get hit (hot key) / SELECT 1, 2 clients" "$hit2"
printf '%-52s %6s\n' "cache_get hit (100k keys) / SELECT 1, 1 client" "$wide"
printf '%-52s %6s   %s\n' "cache_get hot key: TPS 2 clients / TPS 1 client" "$scale" "target >= 1.6: $(verdict "$scale" '>=' 1.6)"
printf '%-52s %6s\n' "SELECT 1: TPS 2 clients / TPS 1 client" "$(ratio_by_round select1 2 select1 1)"
q -At -c "SELECT 'counted: ' || string_agg(namespace || ' ' || hits || ' hits, ' || misses || ' misses', '; ')
            FROM convo.cache_stats() WHERE hits + misses > 0"
