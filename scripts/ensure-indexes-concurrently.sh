#!/usr/bin/env bash
# Repairs convo's managed indexes on a live system without blocking writes: runs each
# statement of convo.ensure_indexes_statements() (DROP INDEX CONCURRENTLY of an invalid index,
# CREATE INDEX CONCURRENTLY of a missing one) on its own, outside a transaction block, with
# psql's \gexec. A statement that fails does not stop the others. Then prints what is still
# missing or invalid and exits 1 if anything is.
#
#   scripts/ensure-indexes-concurrently.sh [psql connection options...]
#
# Connection defaults come from the usual PG* environment variables.
set -uo pipefail

psql -X -q "$@" -v ON_ERROR_STOP=0 <<'SQL'
SELECT statement FROM convo.ensure_indexes_statements() \gexec
SQL

left=$(psql -X -q -t -A "$@" -v ON_ERROR_STOP=1 -c \
    "SELECT index_name || ': ' || verdict FROM convo.index_status() WHERE verdict IN ('missing', 'invalid')") || exit 2
if [ -n "$left" ]; then
    echo "still not repaired:" >&2
    echo "$left" >&2
    exit 1
fi
echo "managed indexes: all present and valid"
