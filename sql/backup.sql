-- Backups: which of convo's tables pg_dump keeps, and how their rows come back on a restore.
--
-- Every table created by CREATE EXTENSION belongs to the extension: pg_dump writes
-- `CREATE EXTENSION convo` in their place and dumps none of their rows unless the table is
-- marked with pg_extension_config_dump. Without these marks a pg_dump backup holds no
-- account, message or inbox item, and a restore loses everything. So:
--   - every table whose rows are data is marked, with its identity sequence, so that new ids
--     continue after the restored ones;
--   - the caches rebuilt on demand are not, each with its reason in convo.not_dumped();
--   - tests/scenarios/backup.sh fails for a table of schema convo that is in neither list, and
--     checks a dump and restore (custom and plain format) row for row.
--
-- Reference rows. settings, cache_namespaces, tools and managed_indexes hold rows that
-- CREATE EXTENSION writes, which users may change (a tuned setting, a namespace's TTL) and add
-- to. A restore runs CREATE EXTENSION first, so dumping those rows as they are would insert
-- each of them a second time (a unique violation) and, restored into a newer convo, would
-- put back the older version's reference rows. Instead:
--   - each of these tables has a column `installed`: the row as convo wrote it (set below for
--     every row the install script wrote), NULL for a row a user added;
--   - pg_dump keeps only the rows that differ from their `installed` (the user's changes) or
--     have none (the user's rows); the comparison is typed (jsonb_populate_record), so an
--     interval written in another IntervalStyle is still the same value;
--   - a row inserted with the key of a row that is still as convo wrote it takes that row's
--     place instead of failing (trigger merge_reference_row, ENABLE ALWAYS so that it also
--     runs in a restore with session_replication_role = replica). It keeps the `installed` of
--     the row it replaces: what this version wrote, so a later dump still sees the change.
--   A reference row a user deleted comes back with the restore's CREATE EXTENSION.
--
-- Restoring. Triggers keep derived columns in step with the rows that cause them (a message
-- updates its conversation's window and unread count, a cart bumps a context version). A
-- restore loads those derived columns as they were, then the rows that caused them: with the
-- triggers on, every message would count once more as unread and reopen its conversation. So
-- the restore session runs with session_replication_role = replica (README, Backups), which
-- leaves out every trigger but the ENABLE ALWAYS ones (and the foreign key checks: the rows
-- come from one consistent snapshot).
--
-- Needs: every table above (the last part), security.sql (the roles it grants to).

-- The tables pg_dump leaves out, each with the reason: caches, rebuilt on demand.
CREATE FUNCTION convo.not_dumped() RETURNS TABLE (table_name text, reason text)
LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
    VALUES ('context_cache', 'build_context''s cache, rebuilt on demand from the tables it was built from (UNLOGGED: a crash empties it too)'),
           ('cache', 'values that can be fetched or computed again, never the only copy of anything (UNLOGGED: a crash empties it too)'),
           ('cache_counts', 'hit and miss statistics of convo.cache, lost with it (UNLOGGED: a crash empties it too)');
END;
COMMENT ON FUNCTION convo.not_dumped() IS 'The tables of schema convo whose rows pg_dump does not keep, with the reason; every other table is marked with pg_extension_config_dump';

-- Before an insert into a reference table: a row with the key of a row still as convo wrote
-- it replaces that row (keeping its installed), instead of failing on the key. TG_ARGV[0]
-- names the key column. This is how a restore puts back a user's change to a reference row.
CREATE FUNCTION convo.merge_reference_row() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    key name := TG_ARGV[0];
    cols text;
    vals text;
    merged bigint;
BEGIN
    -- Every column but the key (an UPDATE OF the key would fire triggers on renames),
    -- installed, and generated ones.
    SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum),
           string_agg('($1).' || quote_ident(a.attname), ', ' ORDER BY a.attnum)
      INTO cols, vals
      FROM pg_attribute a
     WHERE a.attrelid = TG_RELID AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
       AND a.attname NOT IN (key, 'installed');
    EXECUTE format('UPDATE %s t SET (%s) = ROW(%s) WHERE t.%I = ($1).%I AND t.installed IS NOT NULL '
                   'AND jsonb_populate_record(t, t.installed) IS NOT DISTINCT FROM t',
                   TG_RELID::regclass, cols, vals, key, key)
        USING NEW;
    GET DIAGNOSTICS merged = ROW_COUNT;
    IF merged > 0 THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION convo.merge_reference_row() IS 'Trigger: an inserted reference row (settings, cache namespaces, tools, managed indexes) replaces the row with its key while that row is as convo installed it; how a restore puts back a user''s changes';

-- Data: everything a user or a webhook wrote.
SELECT pg_catalog.pg_extension_config_dump('convo.accounts', '');
SELECT pg_catalog.pg_extension_config_dump('convo.bot_profiles', '');
SELECT pg_catalog.pg_extension_config_dump('convo.contacts', '');
SELECT pg_catalog.pg_extension_config_dump('convo.conversations', '');
SELECT pg_catalog.pg_extension_config_dump('convo.messages', '');
SELECT pg_catalog.pg_extension_config_dump(pg_get_serial_sequence('convo.messages', 'message_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump('convo.message_statuses', '');
SELECT pg_catalog.pg_extension_config_dump('convo.products', '');
SELECT pg_catalog.pg_extension_config_dump('convo.carts', '');
SELECT pg_catalog.pg_extension_config_dump('convo.cart_items', '');
SELECT pg_catalog.pg_extension_config_dump('convo.orders', '');
SELECT pg_catalog.pg_extension_config_dump('convo.templates', '');
SELECT pg_catalog.pg_extension_config_dump('convo.webhook_events', '');
SELECT pg_catalog.pg_extension_config_dump('convo.unroutable', '');
SELECT pg_catalog.pg_extension_config_dump(pg_get_serial_sequence('convo.unroutable', 'unroutable_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump('convo.inbox', '');
SELECT pg_catalog.pg_extension_config_dump(pg_get_serial_sequence('convo.inbox', 'inbox_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump('convo.inbox_archive', '');
SELECT pg_catalog.pg_extension_config_dump('convo.response_cache', '');
SELECT pg_catalog.pg_extension_config_dump(pg_get_serial_sequence('convo.response_cache', 'entry_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump('convo.response_cache_hits', '');
SELECT pg_catalog.pg_extension_config_dump('convo.outbox', '');

-- Reference rows: the ones a user added or changed. pg_dump runs the condition with an empty
-- search_path, hence pg_catalog.
SELECT pg_catalog.pg_extension_config_dump('convo.settings',
    'WHERE installed IS NULL OR pg_catalog.jsonb_populate_record(settings, installed) IS DISTINCT FROM settings');
SELECT pg_catalog.pg_extension_config_dump('convo.cache_namespaces',
    'WHERE installed IS NULL OR pg_catalog.jsonb_populate_record(cache_namespaces, installed) IS DISTINCT FROM cache_namespaces');
SELECT pg_catalog.pg_extension_config_dump('convo.tools',
    'WHERE installed IS NULL OR pg_catalog.jsonb_populate_record(tools, installed) IS DISTINCT FROM tools');
SELECT pg_catalog.pg_extension_config_dump('convo.managed_indexes',
    'WHERE installed IS NULL OR pg_catalog.jsonb_populate_record(managed_indexes, installed) IS DISTINCT FROM managed_indexes');

COMMENT ON COLUMN convo.settings.installed IS 'The row as convo installed it (NULL: added by a user); pg_dump keeps the rows that differ from it';
COMMENT ON COLUMN convo.cache_namespaces.installed IS 'The row as convo installed it (NULL: added by a user); pg_dump keeps the rows that differ from it';
COMMENT ON COLUMN convo.tools.installed IS 'The row as convo installed it (NULL: added by a user); pg_dump keeps the rows that differ from it';
COMMENT ON COLUMN convo.managed_indexes.installed IS 'The row as convo installed it (NULL: added by a user); pg_dump keeps the rows that differ from it';

CREATE TRIGGER merge_reference_row BEFORE INSERT ON convo.settings
    FOR EACH ROW EXECUTE FUNCTION convo.merge_reference_row('name');
CREATE TRIGGER merge_reference_row BEFORE INSERT ON convo.cache_namespaces
    FOR EACH ROW EXECUTE FUNCTION convo.merge_reference_row('namespace');
CREATE TRIGGER merge_reference_row BEFORE INSERT ON convo.tools
    FOR EACH ROW EXECUTE FUNCTION convo.merge_reference_row('name');
CREATE TRIGGER merge_reference_row BEFORE INSERT ON convo.managed_indexes
    FOR EACH ROW EXECUTE FUNCTION convo.merge_reference_row('index_name');
ALTER TABLE convo.settings ENABLE ALWAYS TRIGGER merge_reference_row;
ALTER TABLE convo.cache_namespaces ENABLE ALWAYS TRIGGER merge_reference_row;
ALTER TABLE convo.tools ENABLE ALWAYS TRIGGER merge_reference_row;
ALTER TABLE convo.managed_indexes ENABLE ALWAYS TRIGGER merge_reference_row;

-- Every row the install script wrote is a reference row. (The statement trigger of tools
-- outdates cached contexts; there are none yet.)
UPDATE convo.settings t SET installed = to_jsonb(t) - 'installed';
UPDATE convo.cache_namespaces t SET installed = to_jsonb(t) - 'installed';
UPDATE convo.tools t SET installed = to_jsonb(t) - 'installed';
UPDATE convo.managed_indexes t SET installed = to_jsonb(t) - 'installed';

-- As security.sql gives every function: service_role's, nobody else's.
DO $$
DECLARE
    service text := coalesce(nullif(current_setting('convo.service_role', true), ''), 'service_role');
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY['convo.not_dumped()', 'convo.merge_reference_row()'] LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', f, service);
    END LOOP;
END
$$;
