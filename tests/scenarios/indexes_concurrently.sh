#!/usr/bin/env bash
# Managed indexes on a live system: a real failed CREATE INDEX CONCURRENTLY leaves an invalid
# index, index_status reports it (and a dropped one as missing), and the concurrent path
# (scripts/ensure-indexes-concurrently.sh) repairs both once the cause is fixed. Also: a table
# whose sequential scans dominate its index scans is reported with its figures.
# Runs in a scratch database. Expects PGHOST/PGPORT/PGUSER.
set -euo pipefail
cd "$(dirname "$0")/../.."

db=convo_indexes_concurrently
q() { psql -X -q -t -A -v ON_ERROR_STOP=1 -d "$db" "$@"; }
fail() { echo "not ok - $*"; exit 1; }
verdict() { q -c "SELECT verdict FROM convo.index_status() WHERE index_name = '$1'"; }

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" 2>/dev/null
trap 'psql -X -q -d postgres -c "DROP DATABASE IF EXISTS '$db'" >/dev/null 2>&1 || true' EXIT
q > /dev/null <<'SQL'
CREATE EXTENSION pg_trgm;
CREATE EXTENSION convo;
INSERT INTO convo.accounts (account_id, name, phone_number_id, display_phone_number)
VALUES ('00000000-0000-0000-0000-0000000000c1', 'Concurrent', '9500001', '9500001');
-- Two contacts with the same phone, possible only while the unique index is gone.
DROP INDEX convo.contacts_account_wa_id_key;
INSERT INTO convo.contacts (account_id, user_id, wa_id) VALUES
    ('00000000-0000-0000-0000-0000000000c1', 'U1', '5550001'),
    ('00000000-0000-0000-0000-0000000000c1', 'U2', '5550001');
DROP INDEX convo.messages_inbound_window;
SQL

# A concurrent build over duplicates fails and leaves the index behind, invalid.
if q -c "CREATE UNIQUE INDEX CONCURRENTLY contacts_account_wa_id_key ON convo.contacts (account_id, wa_id)" 2>/dev/null; then
    fail "the concurrent unique build over duplicates should have failed"
fi
[ "$(verdict contacts_account_wa_id_key)" = invalid ] || fail "failed concurrent build: verdict $(verdict contacts_account_wa_id_key), expected invalid"
[ "$(verdict messages_inbound_window)" = missing ] || fail "dropped index: verdict $(verdict messages_inbound_window), expected missing"
echo "ok - a failed concurrent build is invalid, a dropped index missing"

# The concurrent repair: the missing one is built; the invalid one is dropped and fails again
# (the duplicates are still there), which the script reports with a non-zero exit.
if scripts/ensure-indexes-concurrently.sh -d "$db" > /dev/null 2>&1; then
    fail "ensure-indexes-concurrently.sh succeeded although a unique index cannot be built"
fi
[ "$(verdict messages_inbound_window)" != missing ] || fail "the missing index was not created concurrently"
[ "$(verdict contacts_account_wa_id_key)" = invalid ] || fail "after a failed repair: verdict $(verdict contacts_account_wa_id_key), expected invalid"
echo "ok - ensure-indexes-concurrently.sh builds what it can and fails on what it cannot"

q -c "DELETE FROM convo.contacts WHERE user_id = 'U2'"
out=$(scripts/ensure-indexes-concurrently.sh -d "$db" 2>&1) || fail "ensure-indexes-concurrently.sh: $out"
[ "$(q -c "SELECT count(*) FROM convo.index_status() WHERE verdict IN ('missing', 'invalid')")" = 0 ] \
    || fail "after the concurrent repair some index is still missing or invalid"
[ "$(q -c "SELECT indisvalid FROM pg_index WHERE indexrelid = 'convo.contacts_account_wa_id_key'::regclass")" = t ] \
    || fail "the rebuilt unique index is not valid"
[ -z "$(q -c "SELECT * FROM convo.ensure_indexes_statements()")" ] || fail "statements left after the repair"
echo "ok - once the duplicate is gone the concurrent repair leaves every managed index valid"

# Sequential scans dominating index scans: 20 scans of templates, committed (stats flush at exit).
q -c "UPDATE convo.settings SET value = '20' WHERE name = 'indexes.seq_scan_min'"
for _ in $(seq 20); do echo "SELECT count(*) FROM convo.templates;"; done | q > /dev/null
row=$(q -c "SELECT scans || '|' || detail FROM convo.index_status() WHERE index_name IS NULL AND table_name = 'templates' AND verdict = 'seq_scans'")
case "$row" in
    2[0-9]\|"2"[0-9]" sequential scans (0 rows read) vs 0 index scans since the last statistics reset") ;;
    *) fail "seq scans of templates not reported as expected: '$row'" ;;
esac
echo "ok - a table read by sequential scans only is reported with its figures"
