-- What pg_dump keeps of the reference tables (sql/backup.sql): the rows a user added or
-- changed, never the rows as convo wrote them; and how a restored row takes the place of the
-- installed row with its key. tests/scenarios/backup.sh dumps and restores a whole database.
BEGIN;
SELECT plan(16);

-- The keys of the rows pg_dump would dump, with its filter and its empty search_path.
CREATE FUNCTION pg_temp.dumped(rel regclass, key name) RETURNS SETOF text
LANGUAGE plpgsql SET search_path = '' AS $$
BEGIN
    RETURN QUERY EXECUTE format('SELECT %I::text FROM %s %s ORDER BY 1', key, rel,
        (SELECT e.extcondition[array_position(e.extconfig, rel::oid)] FROM pg_catalog.pg_extension e
          WHERE e.extname = 'convo'));
END
$$;

SELECT is_empty($$SELECT * FROM pg_temp.dumped('convo.settings', 'name')
                  UNION ALL SELECT * FROM pg_temp.dumped('convo.cache_namespaces', 'namespace')
                  UNION ALL SELECT * FROM pg_temp.dumped('convo.tools', 'name')
                  UNION ALL SELECT * FROM pg_temp.dumped('convo.managed_indexes', 'index_name')$$,
    'a fresh install dumps none of its reference rows');
SELECT is((SELECT count(*) FROM convo.settings WHERE installed IS NULL)
          + (SELECT count(*) FROM convo.cache_namespaces WHERE installed IS NULL)
          + (SELECT count(*) FROM convo.tools WHERE installed IS NULL)
          + (SELECT count(*) FROM convo.managed_indexes WHERE installed IS NULL), 0::bigint,
    'every row the install script wrote knows how it was installed');
SET LOCAL intervalstyle = 'iso_8601';
SELECT is_empty($$SELECT * FROM pg_temp.dumped('convo.cache_namespaces', 'namespace')$$,
    'a TTL read in another IntervalStyle is still the installed one');
RESET intervalstyle;
SELECT is_empty($$SELECT c.relname FROM convo.not_dumped() n
                    JOIN pg_class c ON c.relname = n.table_name AND c.relnamespace = 'convo'::regnamespace
                   WHERE c.relpersistence <> 'u'$$,
    'every table left out of a dump is UNLOGGED: a crash may empty it anyway');

-- A user's changes are dumped, and only while they differ.
UPDATE convo.settings SET value = '9' WHERE name = 'inbox.max_attempts';
INSERT INTO convo.cache_namespaces VALUES ('geo', '3 minutes', 'geocoding');
UPDATE convo.cache_namespaces SET default_ttl = '2 hours' WHERE namespace = 'media';
INSERT INTO convo.managed_indexes (index_name, table_name, definition, reason)
VALUES ('messages_status_at', 'messages', '(account_id, status_at)', 'delivery reports');
SELECT is(ARRAY(SELECT pg_temp.dumped('convo.settings', 'name')), ARRAY['inbox.max_attempts'],
    'a tuned setting is dumped');
SELECT is(ARRAY(SELECT pg_temp.dumped('convo.cache_namespaces', 'namespace')), ARRAY['geo', 'media'],
    'an added and a changed namespace are dumped');
SELECT is(ARRAY(SELECT pg_temp.dumped('convo.managed_indexes', 'index_name')), ARRAY['messages_status_at'],
    'an added managed index is dumped');
UPDATE convo.settings SET value = '5' WHERE name = 'inbox.max_attempts';
SELECT is_empty($$SELECT * FROM pg_temp.dumped('convo.settings', 'name')$$,
    'a setting tuned back to its installed value is not dumped');

-- A restored row takes the place of the row convo installed.
SELECT convo.cache_put('contact_info', 'k1', '{"v": 1}');
INSERT INTO convo.cache_namespaces
VALUES ('contact_info', '20 minutes', 'contact lookups', '{"namespace": "contact_info", "default_ttl": "00:07:00", "description": "old"}');
SELECT results_eq($$SELECT default_ttl, installed ->> 'default_ttl' FROM convo.cache_namespaces WHERE namespace = 'contact_info'$$,
    $$VALUES (interval '20 minutes', '00:10:00')$$,
    'an inserted row replaces the installed one with its key, which keeps the installed value of this version');
SELECT is(convo.cache_get('contact_info', 'k1'), '{"v": 1}'::jsonb, 'the namespace''s entries stay');
SELECT is(ARRAY(SELECT pg_temp.dumped('convo.cache_namespaces', 'namespace')), ARRAY['contact_info', 'geo', 'media'],
    'and it is a change the next dump keeps');
SELECT throws_ok($$INSERT INTO convo.cache_namespaces VALUES ('contact_info', '1 minute', 'again')$$, '23505', NULL,
    'a row a user changed is never replaced: the key is taken');
SELECT throws_ok($$INSERT INTO convo.cache_namespaces VALUES ('geo', '1 minute', 'again')$$, '23505', NULL,
    'nor is a row a user added');

-- In a restore the other triggers are off; this one is not.
SET LOCAL session_replication_role = replica;
INSERT INTO convo.settings VALUES ('inbox.lease', '90 seconds', 'how long a claimed inbox item stays with its worker before others may claim it');
RESET session_replication_role;
SELECT results_eq($$SELECT value, installed ->> 'value' FROM convo.settings WHERE name = 'inbox.lease'$$,
    $$VALUES ('90 seconds', '60 seconds')$$, 'the replacement also happens with session_replication_role = replica');
SELECT is((SELECT count(*) FROM convo.settings WHERE name = 'inbox.lease'), 1::bigint, 'one row per setting still');
SELECT is((SELECT count(*) FROM convo.tools), 7::bigint, 'the tools are untouched');

SELECT * FROM finish();
ROLLBACK;
