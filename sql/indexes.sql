-- Managed indexes: every index the hot queries need, each with the reason it exists.
--
-- CREATE EXTENSION creates them from the list below. convo.index_status() tells which are
-- present, valid and used; convo.ensure_indexes() creates the missing ones and rebuilds the
-- invalid ones, inside one transaction (it blocks writes to the table while it builds). On a
-- live system use the concurrent path instead: run the statements of
-- convo.ensure_indexes_statements() one by one outside a transaction block, e.g. in psql
--   SELECT statement FROM convo.ensure_indexes_statements() \gexec
-- (scripts/ensure-indexes-concurrently.sh does exactly that and checks the result).
--
-- Needs: every table above (it indexes them), common.sql (convo.setting).

CREATE TABLE convo.managed_indexes (
    index_name  name PRIMARY KEY,
    table_name  name NOT NULL,
    is_unique   boolean NOT NULL DEFAULT false,
    -- What follows "ON convo.<table>": the columns, and a WHERE clause for a partial index.
    definition  text NOT NULL,
    reason      text NOT NULL,
    -- The row as convo wrote it, NULL for an index someone added (sql/backup.sql).
    installed   jsonb CONSTRAINT managed_indexes_installed_check CHECK (jsonb_typeof(installed) = 'object')
);
-- Administration only: service_role (which bypasses RLS) and superusers.
ALTER TABLE convo.managed_indexes ENABLE ROW LEVEL SECURITY;
COMMENT ON TABLE convo.managed_indexes IS 'Indexes convo creates, checks (index_status) and repairs (ensure_indexes), with the reason each exists';

INSERT INTO convo.managed_indexes (index_name, table_name, is_unique, definition, reason) VALUES
    ('accounts_phone_number_id_key', 'accounts', true, '(phone_number_id)',
     'ingest routes every Meta webhook to its account by phone_number_id; one account per number'),
    ('accounts_display_phone_number_key', 'accounts', true, '(display_phone_number)',
     'ingest routes Twilio webhooks by the business number (To); one account per number'),
    ('contacts_account_user_id_key', 'contacts', true, '(account_id, user_id)',
     'ingest finds (or upserts) the contact of an inbound message by its BSUID'),
    ('contacts_account_wa_id_key', 'contacts', true, '(account_id, wa_id)',
     'ingest finds (or upserts) the contact of an inbound message by its phone (wa_id)'),
    ('conversations_conversation_id', 'conversations', false, '(conversation_id)',
     'API functions take a conversation id alone: one index probe instead of a scan'),
    ('conversations_account_updated', 'conversations', false, '(account_id, updated_at DESC)',
     'agent dashboards list an account''s conversations, most recently active first'),
    ('messages_conversation_sent', 'messages', false, '(account_id, conversation_id, sent_at DESC)',
     'build_context reads the last messages of a conversation, newest first'),
    ('messages_inbound_window', 'messages', false, '(account_id, conversation_id, sent_at DESC) WHERE direction = ''in''',
     'the 24 h window depends on the customer''s last inbound message: found without reading replies'),
    ('carts_contact_expiry', 'carts', false, '(account_id, contact_id, expires_at)',
     'the tools find a contact''s current (unexpired) cart'),
    ('carts_open_expiry', 'carts', false, '(expires_at) WHERE status = ''open''',
     'the cart expiry job finds open carts past their expiry without reading closed ones'),
    ('orders_contact_created', 'orders', false, '(account_id, contact_id, created_at DESC)',
     'build_context with include_orders reads a contact''s last orders'),
    ('inbox_claimable', 'inbox', false, '(next_attempt_at, inbox_id) WHERE state IN (''pending'', ''processing'')',
     'inbox_claim takes due items in order without reading done and dead ones'),
    ('inbox_finished', 'inbox', false, '(processed_at) WHERE state IN (''done'', ''dead'')',
     'inbox housekeeping finds finished items older than the retention period'),
    ('outbox_due', 'outbox', false, '(state, next_attempt_at, created_at) WHERE state IN (''queued'', ''sending'', ''awaiting_window'')',
     'outbox_claim takes due queued items in order, and outbox_expire finds ended leases and expired waits, without reading sent and failed ones'),
    ('outbox_awaiting_window', 'outbox', false, '(account_id, conversation_id) WHERE state = ''awaiting_window''',
     'every inbound message releases its conversation''s items awaiting the window: one probe of a small index');

-- The statement that creates a managed index (CONCURRENTLY for a live system).
CREATE FUNCTION convo.managed_index_ddl(index_name name, concurrent boolean DEFAULT false)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog
RETURN (SELECT format('CREATE %sINDEX %s%I ON convo.%I %s',
                      CASE WHEN m.is_unique THEN 'UNIQUE ' ELSE '' END,
                      CASE WHEN concurrent THEN 'CONCURRENTLY ' ELSE '' END,
                      m.index_name, m.table_name, m.definition)
          FROM convo.managed_indexes m WHERE m.index_name = managed_index_ddl.index_name);
COMMENT ON FUNCTION convo.managed_index_ddl(name, boolean) IS 'CREATE [UNIQUE] INDEX [CONCURRENTLY] statement of a managed index; NULL for a name not in convo.managed_indexes';

-- Tunable: how many sequential scans a convo table must have had before index_status reports
-- that they dominate its index scans.
INSERT INTO convo.settings VALUES
    ('indexes.seq_scan_min', '1000', 'sequential scans (since the last stats reset) from which index_status reports a convo table whose sequential scans outnumber its index scans');

-- One row per managed index, then one per convo table whose sequential scans dominate.
CREATE FUNCTION convo.index_status()
RETURNS TABLE (index_name text, table_name text, present boolean, valid boolean, size_bytes bigint,
               size text, scans bigint, verdict text, detail text)
LANGUAGE sql STABLE
SET search_path = pg_catalog
BEGIN ATOMIC
    WITH managed AS (
        SELECT m.index_name, m.table_name, m.is_unique, i.indexrelid, i.indisvalid,
               s.idx_scan
          FROM convo.managed_indexes m
          LEFT JOIN pg_class c ON c.relname = m.index_name AND c.relkind = 'i'
                              AND c.relnamespace = 'convo'::regnamespace
          LEFT JOIN pg_index i ON i.indexrelid = c.oid
          LEFT JOIN pg_stat_all_indexes s ON s.indexrelid = c.oid)
    SELECT x.index_name::text, x.table_name::text, x.present, x.valid, x.size_bytes, x.size, x.scans, x.verdict, x.detail
      FROM (
        SELECT 1 AS part, m.index_name, m.table_name,
               m.indexrelid IS NOT NULL AS present,
               coalesce(m.indisvalid, false) AS valid,
               pg_relation_size(m.indexrelid) AS size_bytes,
               pg_size_pretty(pg_relation_size(m.indexrelid)) AS size,
               m.idx_scan AS scans,
               CASE WHEN m.indexrelid IS NULL THEN 'missing'
                    WHEN NOT m.indisvalid THEN 'invalid'
                    WHEN NOT m.is_unique AND coalesce(m.idx_scan, 0) = 0 THEN 'unused'
                    ELSE 'ok' END AS verdict,
               CASE WHEN m.indexrelid IS NULL THEN 'not found: convo.ensure_indexes() creates it'
                    WHEN NOT m.indisvalid THEN 'not used by queries (a failed concurrent build?): convo.ensure_indexes() rebuilds it'
                    WHEN NOT m.is_unique AND coalesce(m.idx_scan, 0) = 0 THEN 'no scan since the last statistics reset'
                    WHEN m.is_unique AND coalesce(m.idx_scan, 0) = 0 THEN 'unique: enforces a rule even when never scanned'
                    END AS detail
          FROM managed m
        UNION ALL
        SELECT 2, NULL, t.relname, NULL, NULL, pg_relation_size(t.relid),
               pg_size_pretty(pg_relation_size(t.relid)), t.seq_scan, 'seq_scans',
               format('%s sequential scans (%s rows read) vs %s index scans since the last statistics reset',
                      t.seq_scan, t.seq_tup_read, coalesce(t.idx_scan, 0))
          FROM pg_stat_all_tables t
         WHERE t.schemaname = 'convo'
           AND t.seq_scan >= convo.setting('indexes.seq_scan_min')::bigint
           AND t.seq_scan > coalesce(t.idx_scan, 0)) x
     ORDER BY x.part, x.table_name, x.index_name;
END;
COMMENT ON FUNCTION convo.index_status() IS 'Managed indexes: present, valid, size, scans since the last stats reset, verdict ok|missing|invalid|unused; plus convo tables whose sequential scans dominate (verdict seq_scans)';

-- Creates the missing managed indexes and rebuilds the invalid ones, in this transaction.
-- One row per index acted on: created, rebuilt, or failed (with the error; the others go on).
CREATE FUNCTION convo.ensure_indexes()
RETURNS TABLE (index_name text, action text, detail text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    r record;
    ddl text;
BEGIN
    FOR r IN SELECT s.index_name, s.verdict FROM convo.index_status() s
              WHERE s.verdict IN ('missing', 'invalid') ORDER BY s.index_name LOOP
        ddl := convo.managed_index_ddl(r.index_name);
        index_name := r.index_name;
        BEGIN
            IF r.verdict = 'invalid' THEN
                EXECUTE format('DROP INDEX convo.%I', r.index_name);
            END IF;
            EXECUTE ddl;
            action := CASE r.verdict WHEN 'missing' THEN 'created' ELSE 'rebuilt' END;
            detail := ddl;
        EXCEPTION WHEN OTHERS THEN
            action := 'failed';
            detail := format('%s: %s (SQLSTATE %s)', ddl, SQLERRM, SQLSTATE);
        END;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION convo.ensure_indexes() IS 'Creates missing and rebuilds invalid managed indexes (blocking writes to their tables while building); returns (index_name, action created|rebuilt|failed, detail)';

-- The concurrent path: the statements that repair the managed indexes without blocking writes,
-- in order, each to be run on its own outside a transaction block (psql: \gexec).
CREATE FUNCTION convo.ensure_indexes_statements()
RETURNS TABLE (index_name text, statement text)
LANGUAGE sql STABLE
SET search_path = pg_catalog
BEGIN ATOMIC
    SELECT x.index_name, x.statement
      FROM (SELECT s.index_name, 1 AS step, format('DROP INDEX CONCURRENTLY IF EXISTS convo.%I', s.index_name) AS statement
              FROM convo.index_status() s WHERE s.verdict = 'invalid'
            UNION ALL
            SELECT s.index_name, 2, convo.managed_index_ddl(s.index_name, true)
              FROM convo.index_status() s WHERE s.verdict IN ('missing', 'invalid')) x
     ORDER BY x.index_name, x.step;
END;
COMMENT ON FUNCTION convo.ensure_indexes_statements() IS 'Statements (DROP/CREATE INDEX CONCURRENTLY) that repair the managed indexes on a live system; run each outside a transaction block, e.g. psql \gexec';

-- CREATE EXTENSION: build every managed index.
DO $$
DECLARE
    n name;
BEGIN
    FOR n IN SELECT m.index_name FROM convo.managed_indexes m ORDER BY m.index_name LOOP
        EXECUTE convo.managed_index_ddl(n);
    END LOOP;
END
$$;
