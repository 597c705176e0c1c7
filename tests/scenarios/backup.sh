#!/usr/bin/env bash
# Backups with pg_dump (sql/backup.sql). Every table of schema convo is either marked for
# pg_dump (with its identity sequence) or listed by convo.not_dumped() with its reason. A
# database filled through the API (scripts/demo-data.sql, tests/sql/backup_data.sql) is dumped
# in custom format and restored with pg_restore, and in plain format and restored with psql, each
# into a new database, as README (Backups) says: then
#   - no error;
#   - every dumped table has the same rows (count and md5), the tables left out are empty, and
#     the user's tuned settings, added and changed cache namespaces are there, and the managed
#     index the user added is built again by ensure_indexes();
#   - the identity sequences are where they were: a new message and inbox item get fresh ids;
#   - build_context, free_window, ingest and inbox_process work in the restored database.
# Expects PGHOST/PGPORT/PGUSER (a cluster where convo and pg_trgm are installed).
set -euo pipefail
cd "$(dirname "$0")/../.."

q() { psql -X -q -t -A -v ON_ERROR_STOP=1 "$@"; }
fail() { echo "not ok - $*"; exit 1; }
ok() { echo "ok - $*"; }

src=convo_backup_src
work=$(mktemp -d)
dbs=()
cleanup() {
    for d in "${dbs[@]}"; do psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $d" >/dev/null 2>&1 || true; done
    rm -rf "$work"
}
trap cleanup EXIT

new_db() {
    psql -X -q -d postgres -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" > /dev/null
    dbs+=("$1")
}

new_db "$src"
q -d "$src" -c "CREATE EXTENSION pg_trgm" -c "CREATE EXTENSION convo"

# Every table is classified: marked for pg_dump, or left out with a reason; never both. The
# identity and serial sequences of the dumped tables are marked too.
unclassified=$(q -d "$src" <<'SQL'
WITH config AS (
    SELECT unnest(e.extconfig) AS oid FROM pg_extension e WHERE e.extname = 'convo'
), left_out AS (
    SELECT n.table_name, n.reason FROM convo.not_dumped() n
)
SELECT format('%s is neither marked with pg_extension_config_dump nor in convo.not_dumped()', c.relname)
  FROM pg_class c
 WHERE c.relnamespace = 'convo'::regnamespace AND c.relkind IN ('r', 'p', 'm')
   AND c.oid NOT IN (SELECT oid FROM config) AND c.relname NOT IN (SELECT table_name FROM left_out)
UNION ALL
SELECT format('%s is marked for pg_dump and in convo.not_dumped() too', c.relname)
  FROM pg_class c JOIN left_out l ON l.table_name = c.relname
 WHERE c.relnamespace = 'convo'::regnamespace AND c.oid IN (SELECT oid FROM config)
UNION ALL
SELECT format('convo.not_dumped() names %s, which is not a table of schema convo, or gives no reason', l.table_name)
  FROM left_out l
 WHERE coalesce(l.reason, '') = ''
    OR NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = 'convo'::regnamespace AND c.relname = l.table_name)
UNION ALL
SELECT format('sequence %s of the dumped table %s is not marked: its ids would restart after a restore', s.relname, t.relname)
  FROM pg_depend d
  JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
  JOIN pg_class t ON t.oid = d.refobjid
 WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
   AND t.relnamespace = 'convo'::regnamespace AND t.oid IN (SELECT oid FROM config)
   AND s.oid NOT IN (SELECT oid FROM config)
SQL
)
[ -z "$unclassified" ] || fail "tables pg_dump does not know what to do with:
$unclassified"
ok "every table of schema convo is marked for pg_dump or left out with a reason, and so are the sequences of the dumped ones"

q -d "$src" --single-transaction -f scripts/demo-data.sql > /dev/null
q -d "$src" -f tests/sql/backup_data.sql > /dev/null

# One line per table: rows and an md5 of them, in one session (a temporary function).
rows() {
    q -d "$1" <<'SQL'
CREATE FUNCTION pg_temp.table_rows(rel regclass, OUT n bigint, OUT h text)
LANGUAGE plpgsql AS $$
DECLARE
    cols text := (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a
                   WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped);
BEGIN
    EXECUTE format('SELECT count(*), md5(coalesce(string_agg(r, chr(10) ORDER BY r), %L)) '
                   'FROM (SELECT ROW(%s)::text AS r FROM %s) s', '', cols, rel)
        INTO n, h;
END
$$;
SELECT format('%s %s rows=%s md5=%s',
              CASE WHEN c.relname IN (SELECT table_name FROM convo.not_dumped()) THEN 'left-out' ELSE 'dumped' END,
              c.relname, t.n, t.h)
  FROM pg_class c, LATERAL pg_temp.table_rows(c.oid::regclass) t
 WHERE c.relnamespace = 'convo'::regnamespace AND c.relkind IN ('r', 'p')
 ORDER BY c.relname;
SQL
}
sequences() {
    q -d "$1" -c "SELECT format('%s last_value=%s', s.sequencename, s.last_value)
                    FROM pg_sequences s WHERE s.schemaname = 'convo' ORDER BY 1"
}
rows "$src" > "$work/rows-src.txt"
sequences "$src" > "$work/sequences-src.txt"
empty=$(grep '^dumped .* rows=0 ' "$work/rows-src.txt" | cut -d' ' -f2 | tr '\n' ' ' || true)
[ -z "$empty" ] || fail "the test data left dumped tables empty (nothing to compare): $empty"
grep -q '^left-out context_cache rows=[1-9]' "$work/rows-src.txt" || fail "the test data cached no context"

# The user's changes to reference rows are dumped, the rows as convo wrote them are not.
pg_dump -Fp -d "$src" -f "$work/convo.sql" 2> "$work/dump.err" || { cat "$work/dump.err"; fail "pg_dump (plain) failed"; }
pg_dump -Fc -d "$src" -f "$work/convo.dump" 2> "$work/dump.err" || { cat "$work/dump.err"; fail "pg_dump (custom) failed"; }
settings=$(awk '/^COPY convo.settings /{on=1; next} /^\\\.$/{on=0} on {print $1 "=" $2}' "$work/convo.sql" | sort | tr '\n' ' ')
[ "$settings" = "inbox.max_attempts=7 response_cache.similarity=0.8 " ] \
    || fail "pg_dump should keep exactly the tuned settings, kept: $settings"
namespaces=$(awk '/^COPY convo.cache_namespaces /{on=1; next} /^\\\.$/{on=0} on {print $1}' "$work/convo.sql" | sort | tr '\n' ' ')
[ "$namespaces" = "geo media " ] || fail "pg_dump should keep exactly the added and the changed namespace, kept: $namespaces"
ok "pg_dump keeps the tuned settings, the added and changed cache namespaces, and none of the rows as convo wrote them"

# Restores, as README says: the triggers that derive columns from rows stay off.
restored=()
new_db convo_backup_custom
PGOPTIONS='-c session_replication_role=replica' pg_restore --exit-on-error -d convo_backup_custom "$work/convo.dump" \
    2> "$work/restore.err" || { cat "$work/restore.err"; fail "pg_restore of the custom-format dump failed"; }
[ ! -s "$work/restore.err" ] || { cat "$work/restore.err"; fail "pg_restore printed errors or warnings"; }
restored+=(convo_backup_custom)
new_db convo_backup_plain
PGOPTIONS='-c session_replication_role=replica' psql -X -q -v ON_ERROR_STOP=1 -d convo_backup_plain -f "$work/convo.sql" \
    > /dev/null 2> "$work/restore.err" || { cat "$work/restore.err"; fail "psql could not restore the plain dump"; }
[ ! -s "$work/restore.err" ] || { cat "$work/restore.err"; fail "restoring the plain dump printed errors or warnings"; }
restored+=(convo_backup_plain)
ok "the custom-format dump restores with pg_restore and the plain one with psql, without an error"

for db in "${restored[@]}"; do
    rows "$db" > "$work/rows-$db.txt"
    # pg_dump leaves out indexes built on the extension's tables: the managed ones a user added
    # are built again from their restored rows (README, Backups).
    q -d "$db" -c "SELECT * FROM convo.ensure_indexes()" > /dev/null
    # Dumped tables as they were, the caches empty.
    sed -E 's/^(left-out [^ ]+) .*/\1 rows=0 md5=d41d8cd98f00b204e9800998ecf8427e/' "$work/rows-src.txt" > "$work/rows-expected.txt"
    if ! diff -u "$work/rows-expected.txt" "$work/rows-$db.txt" > "$work/rows.diff"; then
        sed 's/^/# /' "$work/rows.diff"
        fail "$db: the restored rows differ from the dumped database's (-: expected, +: restored)"
    fi
    total=$(awk -F'rows=' '/^dumped/ {split($2, a, " "); s += a[1]} END {print s}' "$work/rows-expected.txt")
    ok "$db: every dumped table has the same rows ($(grep -c '^dumped' "$work/rows-expected.txt") tables, $total rows), the caches are empty"

    kept=$(q -d "$db" -c "SELECT (SELECT value FROM convo.settings WHERE name = 'inbox.max_attempts')
                              || ' ' || (SELECT value FROM convo.settings WHERE name = 'response_cache.similarity')
                              || ' ' || (SELECT default_ttl FROM convo.cache_namespaces WHERE namespace = 'geo')
                              || ' ' || (SELECT default_ttl FROM convo.cache_namespaces WHERE namespace = 'media')
                              || ' ' || (SELECT count(*) FROM convo.index_status() WHERE index_name = 'messages_status_at' AND verdict <> 'missing')")
    [ "$kept" = "7 0.8 00:03:00 02:00:00 1" ] || fail "$db: the user's changes to reference rows were not all kept: $kept"
    ok "$db: the tuned settings, the added and changed cache namespaces and the added managed index (built by ensure_indexes) are kept"

    sequences "$db" > "$work/sequences-$db.txt"
    diff -u "$work/sequences-src.txt" "$work/sequences-$db.txt" > "$work/seq.diff" \
        || { sed 's/^/# /' "$work/seq.diff"; fail "$db: the identity sequences did not keep their values"; }

    # The restored database works: contexts, windows, a new message, a new inbox item, ingest.
    n=$(q -d "$db" -c "SELECT count(*) FROM convo.conversations")
    worked=$(q -d "$db" -c "SELECT count(*) FILTER (WHERE convo.build_context(c.conversation_id) ? 'messages')
                                   || ' ' || count(*) FILTER (WHERE convo.free_window(c.conversation_id) ? 'open')
                              FROM convo.conversations c")
    [ "$worked" = "$n $n" ] || fail "$db: build_context/free_window worked for '$worked' of $n conversations"
    new_ids=$(q -d "$db" <<'SQL'
SELECT max(message_id) AS before_message FROM convo.messages \gset
SELECT greatest((SELECT max(inbox_id) FROM convo.inbox), (SELECT max(inbox_id) FROM convo.inbox_archive)) AS before_inbox \gset
SELECT (convo.ingest('whatsapp', format($json$
{"object": "whatsapp_business_account", "entry": [{"id": "waba-bakery", "changes": [{"field": "messages", "value": {
  "metadata": {"display_phone_number": "15550100500", "phone_number_id": "100200300500"},
  "contacts": [{"profile": {"name": "Noor"}, "wa_id": "15550177001"}],
  "messages": [{"from": "15550177001", "id": "wamid.BACKUP.after", "timestamp": "%s", "type": "text",
                "text": {"body": "And tomorrow?"}}]}}]}]}
$json$, extract(epoch FROM now())::bigint)::jsonb) ->> 'messages')::int AS ingested \gset
SELECT convo.inbox_put('whatsapp', '{"object": "whatsapp_business_account", "entry": []}') AS new_inbox \gset
SELECT convo.inbox_process(10) ->> 'processed' \g /dev/null
SELECT format('%s %s %s %s', :ingested,
              (SELECT message_id FROM convo.messages WHERE wamid = 'wamid.BACKUP.after') > :before_message,
              :new_inbox > :before_inbox,
              (SELECT count(*) FROM convo.inbox WHERE state IN ('pending', 'processing')));
SQL
)
    [ "$new_ids" = "1 t t 0" ] \
        || fail "$db: after the restore, expected a new message and inbox item with fresh ids and an empty queue (ingested, fresh message id, fresh inbox id, pending): $new_ids"
    ok "$db: sequences kept; build_context and free_window work, a new message and inbox item get fresh ids, inbox_process empties the queue"
done
