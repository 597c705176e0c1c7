-- Maintenance jobs, run by pg_cron (1.4: minute granularity, schedules in UTC).
--
-- Each job is a plain function that can also be called by hand:
--   convo.cache_purge()             expired cache entries (sql/cache.sql)        every minute
--   convo.expire_carts()            open carts past expires_at -> 'expired'       every minute
--   convo.warm_up()                 pg_prewarm of the hot tables and indexes     every 5 minutes
--   convo.archive_inbox()           old done/dead inbox items -> inbox_archive   every 10 minutes
--   convo.outbox_expire()           ended outbox leases -> unknown, waits past    every minute
--                                   outbox.awaiting_window_expiry -> failed (sql/outbox.sql)
--   convo.refresh_stats()           ANALYZE hot tables, refresh materialized views hourly
--   convo.purge_job_run_details()   cron.job_run_details past its retention      daily
-- convo.schedule_jobs() schedules them (named convo-..., idempotent) and
-- convo.unschedule_jobs() removes exactly those. convo works without pg_cron; only
-- schedule_jobs needs it. warm_up needs the contrib extension pg_prewarm, checked when it runs
-- (and when jobs are scheduled): convo does not require it.
--
-- Needs: tables.sql, common.sql (convo.setting), inbox.sql, outbox.sql, cache.sql (convo.cache_purge),
-- indexes.sql; pg_cron and pg_prewarm only when their functions run.

INSERT INTO convo.settings VALUES
    ('inbox.retention', '7 days', 'done and dead inbox items older than this (by processed_at) are moved to convo.inbox_archive'),
    ('jobs.run_details_retention', '7 days', 'cron.job_run_details rows older than this (by end_time) are deleted by convo-job-history'),
    ('warm_up.max_relation_size', '256MB', 'warm_up skips tables and indexes larger than this (they would evict more than they warm)');

-- Finished inbox items past the retention period: kept here, never deleted by convo.
CREATE TABLE convo.inbox_archive (
    inbox_id        bigint PRIMARY KEY,
    source          convo.source NOT NULL,
    body            text NOT NULL,
    received_at     timestamptz NOT NULL,
    state           text NOT NULL CHECK (state IN ('done', 'dead')),
    attempts        int NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    last_error      text,
    processed_at    timestamptz,
    result          jsonb,
    archived_at     timestamptz NOT NULL DEFAULT now()
);
-- Other accounts' payloads, like the inbox: service_role only.
ALTER TABLE convo.inbox_archive ENABLE ROW LEVEL SECURITY;
COMMENT ON TABLE convo.inbox_archive IS 'Done and dead inbox items moved out of convo.inbox after inbox.retention';

-- Moves done and dead inbox items older than the retention (default: setting inbox.retention)
-- to convo.inbox_archive, at most batch of them per call. Returns how many moved.
CREATE FUNCTION convo.archive_inbox(older_than interval DEFAULT NULL, batch int DEFAULT 10000)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    cutoff timestamptz := now() - coalesce(older_than, convo.setting('inbox.retention')::interval);
    n bigint;
BEGIN
    IF batch IS NULL OR batch < 1 THEN
        RAISE EXCEPTION 'convo.archive_inbox: batch must be positive, got %', quote_nullable(batch)
            USING ERRCODE = '22023';
    END IF;
    WITH old AS (
        SELECT i.inbox_id FROM convo.inbox i
         WHERE i.state IN ('done', 'dead') AND i.processed_at < cutoff
         ORDER BY i.processed_at
         LIMIT batch
           FOR UPDATE SKIP LOCKED),
    moved AS (
        DELETE FROM convo.inbox i USING old WHERE i.inbox_id = old.inbox_id
        RETURNING i.*),
    archived AS (
        INSERT INTO convo.inbox_archive (inbox_id, source, body, received_at, state, attempts,
                                         next_attempt_at, last_error, processed_at, result)
        SELECT m.inbox_id, m.source, m.body, m.received_at, m.state, m.attempts,
               m.next_attempt_at, m.last_error, m.processed_at, m.result
          FROM moved m
        RETURNING 1)
    SELECT count(*) INTO n FROM archived;
    RETURN n;
END
$$;
COMMENT ON FUNCTION convo.archive_inbox(interval, int) IS 'Moves done/dead inbox items processed before now() - older_than (default setting inbox.retention) to convo.inbox_archive, up to batch per call; returns the count';

-- Marks open carts past their expiry as expired. Returns how many.
CREATE FUNCTION convo.expire_carts() RETURNS bigint
LANGUAGE sql VOLATILE
SET search_path = pg_catalog
BEGIN ATOMIC
    WITH expired AS (
        UPDATE convo.carts c SET status = 'expired', updated_at = now()
         WHERE c.status = 'open' AND c.expires_at <= now()
        RETURNING 1)
    SELECT count(*) FROM expired;
END;
COMMENT ON FUNCTION convo.expire_carts() IS 'Marks open carts whose expires_at has passed as expired; returns the count';

-- The tables the hot paths read and write.
CREATE FUNCTION convo.hot_tables() RETURNS regclass[]
LANGUAGE sql IMMUTABLE
RETURN ARRAY['convo.accounts', 'convo.bot_profiles', 'convo.contacts', 'convo.conversations',
             'convo.messages', 'convo.message_statuses', 'convo.products', 'convo.carts',
             'convo.cart_items', 'convo.orders', 'convo.tools', 'convo.response_cache',
             'convo.inbox']::regclass[];
COMMENT ON FUNCTION convo.hot_tables() IS 'Tables ANALYZEd by refresh_stats and prewarmed (with their indexes) by warm_up';

-- ANALYZE of the hot tables, then a refresh of convo's materialized views.
CREATE FUNCTION convo.refresh_stats() RETURNS TABLE (relation text, action text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    t regclass;
    v record;
BEGIN
    FOREACH t IN ARRAY convo.hot_tables() LOOP
        EXECUTE format('ANALYZE %s', t);
        relation := t::text; action := 'analyzed';
        RETURN NEXT;
    END LOOP;
    FOR v IN SELECT c.oid::regclass AS r, c.relispopulated AS populated,
                    EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisunique
                                                     AND i.indpred IS NULL AND i.indexprs IS NULL) AS has_key
               FROM pg_class c
              WHERE c.relnamespace = 'convo'::regnamespace AND c.relkind = 'm' ORDER BY 1 LOOP
        -- CONCURRENTLY (readers are not blocked) needs a unique index and a populated view.
        IF v.populated AND v.has_key THEN
            EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %s', v.r);
        ELSE
            EXECUTE format('REFRESH MATERIALIZED VIEW %s', v.r);
        END IF;
        relation := v.r::text; action := 'refreshed';
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION convo.refresh_stats() IS 'ANALYZE of the hot tables and refresh of convo''s materialized views; one row per relation';

-- The schema pg_prewarm is installed in; raises a clear error when it is not.
CREATE FUNCTION convo.pg_prewarm_schema() RETURNS name
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog
AS $$
DECLARE
    s name;
BEGIN
    SELECT n.nspname INTO s FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_prewarm';
    IF s IS NULL THEN
        RAISE EXCEPTION 'convo.warm_up: the extension pg_prewarm is not installed in this database'
            USING ERRCODE = '55000',
                  HINT = 'Run CREATE EXTENSION pg_prewarm (a contrib extension shipped with PostgreSQL).';
    END IF;
    RETURN s;
END
$$;
COMMENT ON FUNCTION convo.pg_prewarm_schema() IS 'Schema of the pg_prewarm extension; raises 55000 with a hint when it is not installed';

-- Loads the hot tables and their valid indexes into shared buffers (pg_prewarm 'buffer' mode).
-- Relations over warm_up.max_relation_size are skipped. One row per relation.
CREATE FUNCTION convo.warm_up() RETURNS TABLE (relation text, blocks bigint, action text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    s name := convo.pg_prewarm_schema();
    max_size bigint := pg_size_bytes(convo.setting('warm_up.max_relation_size'));
    r record;
BEGIN
    FOR r IN SELECT x.rel, pg_relation_size(x.rel) AS bytes
               FROM (SELECT t AS rel, 0 AS ord, t::text AS tname FROM unnest(convo.hot_tables()) t
                     UNION ALL
                     SELECT i.indexrelid::regclass, 1, i.indrelid::regclass::text
                       FROM pg_index i
                      WHERE i.indrelid = ANY (convo.hot_tables()) AND i.indisvalid AND i.indisready) x
              ORDER BY x.tname, x.ord, x.rel::text LOOP
        relation := r.rel::text;
        IF r.bytes > max_size THEN
            blocks := 0; action := format('skipped: %s is over warm_up.max_relation_size', pg_size_pretty(r.bytes));
        ELSE
            EXECUTE format('SELECT %I.pg_prewarm($1)', s) INTO blocks USING r.rel;
            action := 'prewarmed';
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION convo.warm_up() IS 'pg_prewarm of the hot tables and their indexes (needs CREATE EXTENSION pg_prewarm); one row per relation with the blocks read';

-- Raises a clear error when pg_cron is not installed in this database.
CREATE FUNCTION convo.require_pg_cron(caller text) RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION '%: pg_cron is not installed in this database', caller
            USING ERRCODE = '55000',
                  HINT = format('Add pg_cron to shared_preload_libraries, set cron.database_name = %L, '
                                'restart PostgreSQL, then run CREATE EXTENSION pg_cron in this database.',
                                current_database());
    END IF;
END
$$;
COMMENT ON FUNCTION convo.require_pg_cron(text) IS 'Raises 55000 with a hint on enabling pg_cron when it is not installed in this database';

-- Deletes cron.job_run_details rows (of every job the caller may see) older than the retention.
CREATE FUNCTION convo.purge_job_run_details(older_than interval DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    n bigint;
BEGIN
    PERFORM convo.require_pg_cron('convo.purge_job_run_details');
    EXECUTE 'DELETE FROM cron.job_run_details WHERE end_time < now() - $1'
        USING coalesce(older_than, convo.setting('jobs.run_details_retention')::interval);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

COMMENT ON FUNCTION convo.purge_job_run_details(interval) IS 'Deletes cron.job_run_details rows that ended before now() - older_than (default setting jobs.run_details_retention); returns the count';

-- convo's jobs: name, schedule (cron syntax, UTC), command, and the function it needs (a job
-- whose function or prerequisite is missing is not scheduled).
CREATE FUNCTION convo.job_definitions()
RETURNS TABLE (jobname text, schedule text, command text, needs text)
LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
    VALUES ('convo-cache-purge', '* * * * *', 'SELECT convo.cache_purge()', 'convo.cache_purge()'),
           ('convo-expire-carts', '* * * * *', 'SELECT convo.expire_carts()', NULL),
           ('convo-warm-up', '*/5 * * * *', 'SELECT count(*) FROM convo.warm_up()', 'pg_prewarm'),
           ('convo-inbox-archive', '*/10 * * * *', 'SELECT convo.archive_inbox()', NULL),
           ('convo-outbox-expire', '* * * * *', 'SELECT convo.outbox_expire()', NULL),
           ('convo-refresh-stats', '17 * * * *', 'SELECT count(*) FROM convo.refresh_stats()', NULL),
           ('convo-job-history', '23 3 * * *', 'SELECT convo.purge_job_run_details()', NULL);
END;
COMMENT ON FUNCTION convo.job_definitions() IS 'convo''s pg_cron jobs: name, schedule, command, and what the job needs to be scheduled';

-- Schedules convo's jobs for the calling role. Idempotent: a job already scheduled as defined
-- is left alone (same jobid); one whose schedule or command differs is updated in place.
-- A job whose prerequisite is missing is skipped (and unscheduled if it was scheduled).
CREATE FUNCTION convo.schedule_jobs()
RETURNS TABLE (jobname text, schedule text, jobid bigint, action text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    d record;
    existing record;
    available boolean;
BEGIN
    PERFORM convo.require_pg_cron('convo.schedule_jobs');
    FOR d IN SELECT * FROM convo.job_definitions() LOOP
        jobname := d.jobname; schedule := d.schedule;
        available := d.needs IS NULL
                     OR (d.needs LIKE '%(%' AND to_regprocedure(d.needs) IS NOT NULL)
                     OR EXISTS (SELECT 1 FROM pg_extension e WHERE e.extname = d.needs);
        EXECUTE 'SELECT j.jobid, j.schedule, j.command FROM cron.job j
                  WHERE j.jobname = $1 AND j.username = current_user'
           INTO existing USING d.jobname;
        IF NOT available THEN
            IF existing.jobid IS NOT NULL THEN
                EXECUTE 'SELECT cron.unschedule($1)' USING existing.jobid;
            END IF;
            jobid := NULL; action := format('skipped: %s is not installed', d.needs);
        ELSIF existing.jobid IS NOT NULL AND existing.schedule = d.schedule AND existing.command = d.command THEN
            jobid := existing.jobid; action := 'unchanged';
        ELSE
            EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO jobid USING d.jobname, d.schedule, d.command;
            action := CASE WHEN existing.jobid IS NULL THEN 'scheduled' ELSE 'updated' END;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION convo.schedule_jobs() IS 'Schedules convo''s pg_cron jobs (convo-...) for the calling role, idempotently; raises 55000 when pg_cron is not installed';

-- Removes exactly convo's jobs (by name, the calling role's). One row per job removed.
CREATE FUNCTION convo.unschedule_jobs() RETURNS TABLE (jobname text, jobid bigint)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    r record;
BEGIN
    PERFORM convo.require_pg_cron('convo.unschedule_jobs');
    FOR r IN EXECUTE 'SELECT j.jobid, j.jobname::text AS jobname FROM cron.job j
                       WHERE j.username = current_user
                         AND j.jobname IN (SELECT d.jobname FROM convo.job_definitions() d)
                       ORDER BY j.jobname' LOOP
        EXECUTE 'SELECT cron.unschedule($1)' USING r.jobid;
        jobname := r.jobname; jobid := r.jobid;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION convo.unschedule_jobs() IS 'Removes convo''s pg_cron jobs (the names of convo.job_definitions()) of the calling role; returns those removed';
