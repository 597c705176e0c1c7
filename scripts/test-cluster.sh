#!/usr/bin/env bash
# Runs the SQL suites against a throwaway cluster: pgTAP files with pg_prove, then the
# scenario scripts (concurrency, commits) under tests/scenarios. Removes the cluster after.
# A subset while working on one part: CONVO_PGTAP="tests/pgtap/70_ingest.sql ..." and
# CONVO_SCENARIOS="tests/scenarios/x.sh ..." (an empty value runs none of that kind).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/cluster-lib.sh

dir=$(mktemp -d /tmp/convo-test.XXXXXX)
port=5439
db=convo_test
cleanup() { cluster_stop "$dir"; rm -rf "$dir"; }
trap cleanup EXIT

cluster_init "$dir" "$port" "$db"
cluster_start "$dir"
cluster_create_db "$dir" "$port" "$db"
psql -X -q -h "$dir" -p "$port" -U postgres -d "$db" -c "CREATE EXTENSION pgtap"
psql -X -q -h "$dir" -p "$port" -U postgres -d "$db" -v ON_ERROR_STOP=1 -f tests/sql/postgrest_request.sql

export PGHOST=$dir PGPORT=$port PGUSER=postgres PGDATABASE=$db
status=0
pgtap=${CONVO_PGTAP-$(echo tests/pgtap/*.sql)}
scenarios=${CONVO_SCENARIOS-$(echo tests/scenarios/*.sh)}
if [ -n "$pgtap" ]; then
    # shellcheck disable=SC2086
    pg_prove --failures $pgtap || status=1
fi
for s in $scenarios; do
    [ -e "$s" ] || continue
    echo "# scenario $(basename "$s")"
    bash "$s" || { echo "not ok: scenario $(basename "$s") failed"; status=1; }
done
if [ $status -ne 0 ]; then
    echo "--- server log (tail) ---"; tail -n 40 "$dir/server.log" || true
fi
exit $status
