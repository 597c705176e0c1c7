-- Maintenance jobs: schedule_jobs (idempotent, named convo-...), unschedule_jobs (exactly
-- convo's), each job's function called directly, and the errors without pg_prewarm or pg_cron.
-- Everything is rolled back. That the jobs really run is tests/scenarios/cron_jobs.sh.
BEGIN;
SELECT plan(31);

-- The error a statement raises: SQLSTATE, message and hint.
CREATE FUNCTION pg_temp.error_of(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE s text; m text; h text;
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, h = PG_EXCEPTION_HINT;
    RETURN s || ' | ' || m || ' | ' || coalesce(h, '');
END $$;

-- Only this file's jobs and run history.
DELETE FROM cron.job;
DELETE FROM cron.job_run_details;
SELECT cron.schedule('mine', '0 0 * * *', 'SELECT 1') AS mine_id \gset
SELECT cron.schedule('convo-mine', '0 0 * * *', 'SELECT 2') AS convo_mine_id \gset

-- warm_up needs pg_prewarm; until it is installed its job is skipped, not scheduled to fail.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_prewarm;
RESET client_min_messages;
SELECT is(pg_temp.error_of('SELECT * FROM convo.warm_up()'),
    '55000 | convo.warm_up: the extension pg_prewarm is not installed in this database | Run CREATE EXTENSION pg_prewarm (a contrib extension shipped with PostgreSQL).',
    'warm_up without pg_prewarm: 55000 with a hint');
SELECT results_eq('SELECT jobname, action FROM convo.schedule_jobs() ORDER BY jobname',
    $$VALUES ('convo-cache-purge', 'scheduled'), ('convo-expire-carts', 'scheduled'),
             ('convo-inbox-archive', 'scheduled'), ('convo-job-history', 'scheduled'), ('convo-outbox-expire', 'scheduled'),
             ('convo-refresh-stats', 'scheduled'), ('convo-warm-up', 'skipped: pg_prewarm is not installed')$$,
    'schedule_jobs without pg_prewarm schedules all but the warm-up');
CREATE EXTENSION pg_prewarm;

-- Scheduled.
SELECT results_eq('SELECT jobname, schedule, action FROM convo.schedule_jobs() ORDER BY jobname',
    $$VALUES ('convo-cache-purge', '* * * * *', 'unchanged'), ('convo-expire-carts', '* * * * *', 'unchanged'),
             ('convo-inbox-archive', '*/10 * * * *', 'unchanged'), ('convo-job-history', '23 3 * * *', 'unchanged'),
             ('convo-outbox-expire', '* * * * *', 'unchanged'),
             ('convo-refresh-stats', '17 * * * *', 'unchanged'), ('convo-warm-up', '*/5 * * * *', 'scheduled')$$,
    'once pg_prewarm is there the warm-up is added, the others are unchanged');
SELECT results_eq($$SELECT jobname::text COLLATE "default", schedule, command, username = current_user AND database = current_database() AND active
                      FROM cron.job WHERE jobname LIKE 'convo-%' AND jobname <> 'convo-mine' ORDER BY jobname$$,
    $$VALUES ('convo-cache-purge', '* * * * *', 'SELECT convo.cache_purge()', true),
             ('convo-expire-carts', '* * * * *', 'SELECT convo.expire_carts()', true),
             ('convo-inbox-archive', '*/10 * * * *', 'SELECT convo.archive_inbox()', true),
             ('convo-job-history', '23 3 * * *', 'SELECT convo.purge_job_run_details()', true),
             ('convo-outbox-expire', '* * * * *', 'SELECT convo.outbox_expire()', true),
             ('convo-refresh-stats', '17 * * * *', 'SELECT count(*) FROM convo.refresh_stats()', true),
             ('convo-warm-up', '*/5 * * * *', 'SELECT count(*) FROM convo.warm_up()', true)$$,
    'cron.job holds the seven convo jobs, for this database and role');

-- Idempotent: a second call changes nothing.
CREATE TEMP TABLE before AS SELECT * FROM cron.job;
SELECT is((SELECT array_agg(DISTINCT action) FROM convo.schedule_jobs()), ARRAY['unchanged'],
          'a second schedule_jobs reports every job unchanged');
SELECT set_eq('SELECT * FROM cron.job', 'SELECT * FROM before', 'and cron.job is exactly as before (same ids, same rows)');

-- A job changed by hand is put back, in place.
UPDATE cron.job SET schedule = '*/7 * * * *' WHERE jobname = 'convo-warm-up';
SELECT results_eq($$SELECT action FROM convo.schedule_jobs() WHERE jobname = 'convo-warm-up'$$,
    $$VALUES ('updated')$$, 'a job whose schedule was changed is updated');
SELECT set_eq('SELECT jobid, schedule FROM cron.job', 'SELECT jobid, schedule FROM before',
              'with its own id and its defined schedule');

-- Unschedule removes exactly convo's jobs.
SELECT results_eq('SELECT jobname FROM convo.unschedule_jobs()',
    $$VALUES ('convo-cache-purge'), ('convo-expire-carts'), ('convo-inbox-archive'), ('convo-job-history'),
             ('convo-outbox-expire'), ('convo-refresh-stats'), ('convo-warm-up')$$, 'unschedule_jobs names the seven jobs it removed');
SELECT set_eq('SELECT jobid FROM cron.job', format('VALUES (%s::bigint), (%s)', :mine_id, :convo_mine_id),
              'other jobs, even one named convo-..., are kept');
SELECT is_empty('SELECT * FROM convo.unschedule_jobs()', 'a second unschedule_jobs removes nothing');

-- expire_carts ---------------------------------------------------------------------------------
INSERT INTO convo.accounts (account_id, name, phone_number_id, display_phone_number)
VALUES ('00000000-0000-0000-0000-000000000095', 'Jobs', '9500095', '9500095');
INSERT INTO convo.contacts (account_id, contact_id, wa_id) VALUES
    ('00000000-0000-0000-0000-000000000095', '00000000-0000-0000-0000-0000000000c1', '5550951'),
    ('00000000-0000-0000-0000-000000000095', '00000000-0000-0000-0000-0000000000c2', '5550952'),
    ('00000000-0000-0000-0000-000000000095', '00000000-0000-0000-0000-0000000000c3', '5550953');
INSERT INTO convo.carts (account_id, cart_id, contact_id, status, expires_at) VALUES
    ('00000000-0000-0000-0000-000000000095', '00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-0000000000c1', 'open', now() - interval '1 minute'),
    ('00000000-0000-0000-0000-000000000095', '00000000-0000-0000-0000-0000000000a2', '00000000-0000-0000-0000-0000000000c2', 'open', now() + interval '1 hour'),
    ('00000000-0000-0000-0000-000000000095', '00000000-0000-0000-0000-0000000000a3', '00000000-0000-0000-0000-0000000000c3', 'ordered', now() - interval '1 day');
SELECT is(convo.expire_carts(), 1::bigint, 'expire_carts expires the one open cart past its expiry');
SELECT results_eq($$SELECT cart_id::text, status FROM convo.carts WHERE account_id = '00000000-0000-0000-0000-000000000095' ORDER BY 1$$,
    $$VALUES ('00000000-0000-0000-0000-0000000000a1', 'expired'), ('00000000-0000-0000-0000-0000000000a2', 'open'),
             ('00000000-0000-0000-0000-0000000000a3', 'ordered')$$, 'unexpired and ordered carts are untouched');
SELECT is(convo.expire_carts(), 0::bigint, 'a second run finds nothing');

-- archive_inbox --------------------------------------------------------------------------------
DELETE FROM convo.inbox;
INSERT INTO convo.inbox (source, body, state, attempts, processed_at, result, last_error) VALUES
    ('whatsapp', 'old done', 'done', 1, now() - interval '8 days', '{"messages": 1}', NULL),
    ('twilio', 'old dead', 'dead', 5, now() - interval '30 days', NULL, 'not JSON'),
    ('whatsapp', 'recent done', 'done', 1, now() - interval '6 days', '{}', NULL),
    ('whatsapp', 'old pending', 'pending', 0, NULL, NULL, NULL);
UPDATE convo.inbox SET received_at = now() - interval '40 days' WHERE body = 'old pending';
SELECT is((SELECT value FROM convo.settings WHERE name = 'inbox.retention'), '7 days', 'inbox.retention default');
CREATE TEMP TABLE old_items AS SELECT * FROM convo.inbox WHERE body IN ('old done', 'old dead');
SELECT is(convo.archive_inbox(), 2::bigint, 'archive_inbox moves the done and dead items past the retention');
SELECT set_eq('SELECT body FROM convo.inbox', $$VALUES ('recent done'), ('old pending')$$,
              'recent and unfinished items stay in the inbox');
SELECT set_eq($$SELECT inbox_id, source, body, received_at, state, attempts, next_attempt_at, last_error, processed_at, result
                  FROM convo.inbox_archive$$,
              'SELECT * FROM old_items', 'the archive holds the moved items whole');
SELECT ok((SELECT bool_and(archived_at = now()) FROM convo.inbox_archive), 'with the time they were archived');
SELECT is(convo.archive_inbox(interval '1 day'), 1::bigint, 'a shorter retention given as argument moves the recent one too');
SELECT is(convo.archive_inbox(), 0::bigint, 'nothing left to archive');
SELECT throws_ok('SELECT convo.archive_inbox(NULL, 0)', '22023', NULL, 'a batch that is not positive is refused');

-- refresh_stats, warm_up, cache_purge -----------------------------------------------------------
SELECT set_eq('SELECT relation, action FROM convo.refresh_stats()',
    $$SELECT t::text, 'analyzed' FROM unnest(convo.hot_tables()) t$$, 'refresh_stats analyzes every hot table');
SELECT ok((SELECT count(*) FILTER (WHERE action = 'prewarmed') > 13 AND bool_and(blocks >= 0) FROM convo.warm_up()),
          'warm_up prewarms the hot tables and their indexes');
SELECT ok((SELECT bool_or(relation = 'convo.messages_inbound_window') FROM convo.warm_up()), 'managed indexes included');
UPDATE convo.settings SET value = '0' WHERE name = 'warm_up.max_relation_size';
SELECT ok((SELECT bool_and(action LIKE 'skipped: % is over warm_up.max_relation_size' OR blocks = 0) FROM convo.warm_up()),
          'relations over warm_up.max_relation_size are skipped');
SELECT ok(convo.cache_purge() >= 0, 'cache_purge (the every-minute job) runs');

-- purge_job_run_details ------------------------------------------------------------------------
INSERT INTO cron.job_run_details (jobid, database, username, command, status, start_time, end_time) VALUES
    (:mine_id, current_database(), current_user, 'SELECT 1', 'succeeded', now() - interval '9 days', now() - interval '9 days'),
    (:mine_id, current_database(), current_user, 'SELECT 1', 'succeeded', now() - interval '1 hour', now() - interval '1 hour');
SELECT is(convo.purge_job_run_details(), 1::bigint, 'purge_job_run_details deletes history past jobs.run_details_retention');
SELECT is((SELECT count(*) FROM cron.job_run_details), 1::bigint, 'recent history stays');

-- Without pg_cron: a clear error, with how to enable it.
DROP EXTENSION pg_cron;
SELECT is(pg_temp.error_of('SELECT * FROM convo.schedule_jobs()'),
    format('55000 | convo.schedule_jobs: pg_cron is not installed in this database | Add pg_cron to shared_preload_libraries, set cron.database_name = %L, restart PostgreSQL, then run CREATE EXTENSION pg_cron in this database.', current_database()),
    'schedule_jobs without pg_cron: 55000, and the hint says how to enable it');
SELECT is(split_part(pg_temp.error_of('SELECT * FROM convo.unschedule_jobs()'), ' | ', 1), '55000',
          'unschedule_jobs without pg_cron: 55000');

SELECT * FROM finish();
ROLLBACK;
