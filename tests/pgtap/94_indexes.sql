-- Managed indexes: the list, index_status verdicts (missing, invalid, unused, ok), and the
-- repairs of ensure_indexes and ensure_indexes_statements. Everything is rolled back; an
-- invalid index is simulated here by its catalog flag (the real failed concurrent build, and
-- the concurrent repair, are in tests/scenarios/indexes_concurrently.sh).
BEGIN;
SELECT plan(26);

-- The list covers the hot queries, each with a reason, and CREATE EXTENSION built them all.
SELECT ok((SELECT count(*) >= 13 FROM convo.managed_indexes), 'at least 13 managed indexes');
SELECT is((SELECT count(*) FROM convo.managed_indexes WHERE coalesce(reason, '') = ''), 0::bigint,
          'every managed index says why it exists');
SELECT set_has($$SELECT index_name::text FROM convo.managed_indexes$$,
    $$VALUES ('conversations_account_updated'), ('messages_conversation_sent'), ('messages_inbound_window'),
             ('accounts_phone_number_id_key'), ('contacts_account_wa_id_key'), ('contacts_account_user_id_key'),
             ('carts_contact_expiry'), ('inbox_claimable')$$,
    'the hot queries'' indexes are managed');
SELECT is((SELECT count(*) FROM convo.index_status() WHERE index_name IS NOT NULL AND (NOT present OR NOT valid)),
          0::bigint, 'after CREATE EXTENSION every managed index is present and valid');
SELECT is((SELECT count(*) FROM convo.index_status() WHERE index_name IS NOT NULL),
          (SELECT count(*) FROM convo.managed_indexes), 'one status row per managed index');
SELECT is(pg_get_indexdef('convo.messages_inbound_window'::regclass),
    'CREATE INDEX messages_inbound_window ON convo.messages USING btree (account_id, conversation_id, sent_at DESC) WHERE (direction = ''in''::text)',
    'the window index is partial: inbound messages only');
SELECT is(convo.managed_index_ddl('carts_open_expiry', true),
    'CREATE INDEX CONCURRENTLY carts_open_expiry ON convo.carts (expires_at) WHERE status = ''open''',
    'managed_index_ddl, concurrent form');
SELECT is(convo.managed_index_ddl('no_such_index'), NULL, 'managed_index_ddl of an unknown name is NULL');

-- Nothing to do on a healthy install.
SELECT is_empty('SELECT * FROM convo.ensure_indexes()', 'ensure_indexes does nothing when all are valid');
SELECT is_empty('SELECT * FROM convo.ensure_indexes_statements()', 'no repair statement when all are valid');

-- ok and unused: unique indexes enforce a rule, so they are never "unused".
SELECT is((SELECT verdict FROM convo.index_status() WHERE index_name = 'accounts_phone_number_id_key'), 'ok',
          'a unique index is ok even without scans');
SELECT pg_stat_reset_single_table_counters('convo.orders_contact_created'::regclass);
SELECT pg_stat_clear_snapshot();
SELECT results_eq($$SELECT scans, verdict FROM convo.index_status() WHERE index_name = 'orders_contact_created'$$,
                  $$VALUES (0::bigint, 'unused')$$, 'a non-unique index without scans since the reset is unused');

-- missing: dropped.
DROP INDEX convo.messages_inbound_window;
SELECT results_eq($$SELECT present, valid, size_bytes, verdict FROM convo.index_status() WHERE index_name = 'messages_inbound_window'$$,
                  $$VALUES (false, false, NULL::bigint, 'missing')$$, 'a dropped index is missing');

-- invalid: what a failed CREATE INDEX CONCURRENTLY leaves behind (indisvalid = false).
UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'convo.conversations_account_updated'::regclass;
SELECT results_eq($$SELECT present, valid, verdict FROM convo.index_status() WHERE index_name = 'conversations_account_updated'$$,
                  $$VALUES (true, false, 'invalid')$$, 'an index not marked valid is invalid');
SELECT results_eq($$SELECT index_name::text, verdict FROM convo.index_status()
                     WHERE verdict IN ('missing', 'invalid') ORDER BY 1$$,
                  $$VALUES ('conversations_account_updated', 'invalid'), ('messages_inbound_window', 'missing')$$,
                  'only those two are reported');

-- The concurrent path lists the statements, in order: drop the invalid one, then build.
SELECT results_eq('SELECT index_name::text, statement FROM convo.ensure_indexes_statements()',
    $$VALUES ('conversations_account_updated', 'DROP INDEX CONCURRENTLY IF EXISTS convo.conversations_account_updated'),
             ('conversations_account_updated', 'CREATE INDEX CONCURRENTLY conversations_account_updated ON convo.conversations (account_id, updated_at DESC)'),
             ('messages_inbound_window', 'CREATE INDEX CONCURRENTLY messages_inbound_window ON convo.messages (account_id, conversation_id, sent_at DESC) WHERE direction = ''in''')$$,
    'ensure_indexes_statements: DROP then CREATE CONCURRENTLY for the invalid one, CREATE for the missing one');

-- ensure_indexes repairs both and says what it did.
SELECT results_eq('SELECT index_name::text, action FROM convo.ensure_indexes()',
    $$VALUES ('conversations_account_updated', 'rebuilt'), ('messages_inbound_window', 'created')$$,
    'ensure_indexes rebuilds the invalid one and creates the missing one');
SELECT is((SELECT count(*) FROM convo.index_status() WHERE index_name IS NOT NULL AND verdict IN ('missing', 'invalid')),
          0::bigint, 'after ensure_indexes nothing is missing or invalid');
SELECT ok((SELECT indisvalid FROM pg_index WHERE indexrelid = 'convo.conversations_account_updated'::regclass),
          'the rebuilt index is valid');
SELECT is(pg_get_indexdef('convo.messages_inbound_window'::regclass),
    'CREATE INDEX messages_inbound_window ON convo.messages USING btree (account_id, conversation_id, sent_at DESC) WHERE (direction = ''in''::text)',
    'the recreated index has the managed definition');
SELECT is_empty('SELECT * FROM convo.ensure_indexes()', 'a second ensure_indexes does nothing');

-- A repair that cannot succeed is reported, and the others still happen.
DROP INDEX convo.contacts_account_wa_id_key;
DROP INDEX convo.carts_open_expiry;
INSERT INTO convo.accounts (account_id, name, phone_number_id, display_phone_number)
VALUES ('00000000-0000-0000-0000-000000000094', 'Idx', '9400001', '9400001');
INSERT INTO convo.contacts (account_id, user_id, wa_id) VALUES
    ('00000000-0000-0000-0000-000000000094', 'U1', '5550001'),
    ('00000000-0000-0000-0000-000000000094', 'U2', '5550001');
SELECT results_eq($$SELECT index_name::text, action, detail LIKE '%could not create unique index%(SQLSTATE 23505)'
                      FROM convo.ensure_indexes()$$,
    $$VALUES ('carts_open_expiry', 'created', false), ('contacts_account_wa_id_key', 'failed', true)$$,
    'a unique index over duplicates fails with the reason; the other one is created');
SELECT is((SELECT verdict FROM convo.index_status() WHERE index_name = 'contacts_account_wa_id_key'), 'missing',
          'the failed one stays missing');
DELETE FROM convo.contacts WHERE account_id = '00000000-0000-0000-0000-000000000094' AND user_id = 'U2';
SELECT results_eq('SELECT index_name::text, action FROM convo.ensure_indexes()',
    $$VALUES ('contacts_account_wa_id_key', 'created')$$, 'once the duplicate is gone it is created');

-- Sequential scans: tables whose sequential scans dominate are listed with their figures
-- (the threshold is a setting; real counts need committed sessions, see the scenario).
SELECT is((SELECT value FROM convo.settings WHERE name = 'indexes.seq_scan_min'), '1000', 'seq_scan_min default');
SELECT ok(NOT EXISTS (SELECT 1 FROM convo.index_status() WHERE index_name IS NULL AND
                      (verdict <> 'seq_scans' OR detail NOT LIKE '% sequential scans (% rows read) vs % index scans since the last statistics reset')),
          'table rows carry the seq_scans verdict and their figures');

SELECT * FROM finish();
ROLLBACK;
