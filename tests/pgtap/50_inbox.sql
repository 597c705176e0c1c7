-- The inbox: inbox_put stores raw webhook bodies; inbox_claim, inbox_done and inbox_fail move
-- an item through pending -> processing -> done | pending again | dead; inbox_stats reports.
-- (inbox_process, which ingests, has its own suite.) Time is simulated by moving
-- next_attempt_at; settings are changed inside this transaction only.
BEGIN;
SELECT plan(76);

-- Only this file's items, for exact counts.
DELETE FROM convo.inbox;

-- ts lies within [before + d, after + d]: a time computed from clock_timestamp() inside a call.
CREATE FUNCTION pg_temp.within(ts timestamptz, before timestamptz, after timestamptz, d interval) RETURNS boolean
LANGUAGE sql AS $$ SELECT ts BETWEEN before + d AND after + d $$;

-- inbox_put -----------------------------------------------------------------------------------

SELECT convo.inbox_put('whatsapp', '{"object":"whatsapp_business_account","entry":[]}') AS p1 \gset
SELECT results_eq(format('SELECT source::text, body, state, attempts, received_at, next_attempt_at, last_error, processed_at, result
                            FROM convo.inbox WHERE inbox_id = %s', :p1),
    $$VALUES ('whatsapp', '{"object":"whatsapp_business_account","entry":[]}', 'pending', 0, now(), now(),
              NULL::text, NULL::timestamptz, NULL::jsonb)$$,
    'inbox_put stores the body as a pending item, due now, no attempt yet');

SELECT convo.inbox_put('whatsapp', '{"text":{"body":"nul\u0000byte"}}') AS nul \gset
SELECT results_eq(format('SELECT body, length(body), strpos(body, %L) FROM convo.inbox WHERE inbox_id = %s', '\u0000', :nul),
    $$VALUES ('{"text":{"body":"nul\u0000byte"}}', 33, 21)$$,
    'a body with the JSON escape \u0000 (which jsonb refuses) is stored as the six characters it is');

SELECT convo.inbox_put('whatsapp', '{"pad":"' || repeat('x', 65536) || '"}') AS big \gset
SELECT results_eq(format('SELECT length(body), md5(body) FROM convo.inbox WHERE inbox_id = %s', :big),
    format($$VALUES (65546, %L)$$, md5('{"pad":"' || repeat('x', 65536) || '"}')),
    'a 64 KB body is stored whole');

SELECT convo.inbox_put('twilio', $$Body=%F0%9F%91%8B&raw=👋🏽'); DROP TABLE convo.inbox; --&x={"unterminated$$) AS raw \gset
SELECT is((SELECT body FROM convo.inbox WHERE inbox_id = :raw),
    $$Body=%F0%9F%91%8B&raw=👋🏽'); DROP TABLE convo.inbox; --&x={"unterminated$$,
    'a form body with emoji, SQL and broken JSON is stored verbatim: the inbox does not parse');
SELECT convo.inbox_put('vapi', '') AS empty \gset
SELECT is((SELECT body FROM convo.inbox WHERE inbox_id = :empty), '', 'an empty body is stored too (ingest will judge it)');
SELECT ok(:p1 < :nul AND :nul < :big AND :big < :raw AND :raw < :empty, 'inbox ids grow in arrival order');

SELECT throws_ok($$SELECT convo.inbox_put('sms', '{}')$$, '23514', 'value for domain convo.source violates check constraint "source_known"',
    'an unknown source is refused by its type, convo.source');
SELECT throws_ok($$SELECT convo.inbox_put('WhatsApp', '{}')$$, '23514', 'value for domain convo.source violates check constraint "source_known"',
    'sources are lower case');
SELECT throws_ok($$SELECT convo.inbox_put(NULL, '{}')$$, '22004', 'convo.inbox_put: source must not be NULL',
    'a NULL source is refused');
SELECT throws_ok($$SELECT convo.inbox_put($q$whatsapp'); DROP TABLE convo.inbox; --$q$, '{}')$$, '23514',
    'value for domain convo.source violates check constraint "source_known"', 'a source carrying SQL is refused');
SELECT throws_ok($$SELECT convo.inbox_put('whatsapp', NULL)$$, '22004', 'convo.inbox_put: body must not be NULL',
    'a NULL body is refused');
SELECT throws_ok($$SELECT convo.inbox_put('whatsapp', '{"a": 1}'::jsonb)$$, '42883', NULL,
    'a jsonb body does not match: the body is text, stored before it is parsed');
SELECT is((SELECT count(*) FROM convo.inbox), 5::bigint, 'five bodies stored, nothing from the refused calls');

-- inbox_claim ---------------------------------------------------------------------------------

DELETE FROM convo.inbox;
SELECT convo.inbox_put('whatsapp', 'q1') AS q1 \gset
SELECT convo.inbox_put('whatsapp', 'q2') AS q2 \gset
SELECT convo.inbox_put('twilio', 'q3') AS q3 \gset

SELECT throws_ok('SELECT * FROM convo.inbox_claim(0)', '22023', $$convo.inbox_claim: n must be between 1 and 10000, got '0'$$,
    'n = 0 is refused');
SELECT throws_ok('SELECT * FROM convo.inbox_claim(-1)', '22023', $$convo.inbox_claim: n must be between 1 and 10000, got '-1'$$,
    'a negative n is refused');
SELECT throws_ok('SELECT * FROM convo.inbox_claim(10001)', '22023', $$convo.inbox_claim: n must be between 1 and 10000, got '10001'$$,
    'n above 10000 is refused');
SELECT throws_ok('SELECT * FROM convo.inbox_claim(NULL)', '22023', 'convo.inbox_claim: n must be between 1 and 10000, got NULL',
    'a NULL n is refused');
SELECT throws_ok($$SELECT * FROM convo.inbox_claim('ten')$$, '22P02', NULL, 'an n that is not a number is refused');
SELECT is((SELECT count(*) FROM convo.inbox WHERE state = 'pending' AND attempts = 0), 3::bigint,
    'refused claims claimed nothing');

SELECT clock_timestamp() AS t0 \gset
CREATE TEMP TABLE claimed ON COMMIT DROP AS SELECT * FROM convo.inbox_claim(2);
SELECT clock_timestamp() AS t1 \gset
SELECT results_eq('SELECT inbox_id, body, state, attempts FROM claimed',
    format($$VALUES (%s::bigint, 'q1', 'processing', 1), (%s::bigint, 'q2', 'processing', 1)$$, :q1, :q2),
    'inbox_claim(2) returns the two oldest items, in order, as processing with one attempt');
SELECT results_eq(format('SELECT state, attempts FROM convo.inbox WHERE inbox_id IN (%s, %s)', :q1, :q2),
    $$VALUES ('processing', 1), ('processing', 1)$$, 'the claim is stored');
SELECT ok((SELECT bool_and(pg_temp.within(next_attempt_at, :'t0', :'t1', '60 seconds')) FROM convo.inbox
            WHERE inbox_id IN (:q1, :q2)), 'claimed items are leased for inbox.lease (60 s) from the claim');
SELECT results_eq('SELECT inbox_id FROM convo.inbox_claim(10)', ARRAY[:q3::bigint],
    'a second claim gets only the item not yet leased');
SELECT is_empty('SELECT * FROM convo.inbox_claim(10)', 'while the leases run nothing is claimable');

UPDATE convo.inbox SET next_attempt_at = now() - interval '1 second' WHERE inbox_id = :q1;
SELECT results_eq('SELECT inbox_id, attempts FROM convo.inbox_claim(10)', format('VALUES (%s::bigint, 2)', :q1),
    'once its lease has run out (its worker died) an item is claimed again, attempts 2');

SELECT convo.inbox_put('whatsapp', 'q4') AS q4 \gset
SELECT convo.inbox_put('whatsapp', 'q5') AS q5 \gset
SELECT convo.inbox_put('whatsapp', 'q6') AS q6 \gset
UPDATE convo.inbox SET next_attempt_at = now() - interval '1 hour' WHERE inbox_id = :q6;
UPDATE convo.inbox SET next_attempt_at = now() - interval '1 minute' WHERE inbox_id = :q5;
SELECT results_eq('SELECT inbox_id FROM convo.inbox_claim(2)', ARRAY[:q6::bigint, :q5::bigint],
    'FIFO by due time: the item due longest is claimed first');
SELECT results_eq('SELECT inbox_id FROM convo.inbox_claim(1)', ARRAY[:q4::bigint], 'then the next one, one at a time');

SELECT convo.inbox_put('whatsapp', 'q7') AS q7 \gset
SELECT convo.inbox_put('whatsapp', 'q8') AS q8 \gset
SELECT convo.inbox_put('whatsapp', 'q9') AS q9 \gset
UPDATE convo.inbox SET next_attempt_at = clock_timestamp() + interval '1 hour' WHERE inbox_id = :q7;
UPDATE convo.inbox SET state = 'done', next_attempt_at = now() - interval '1 hour' WHERE inbox_id = :q8;
UPDATE convo.inbox SET state = 'dead', next_attempt_at = now() - interval '1 hour' WHERE inbox_id = :q9;
SELECT is_empty('SELECT * FROM convo.inbox_claim(10)',
    'items waiting for their retry time, done items and dead items are not claimed');

SELECT convo.inbox_put('whatsapp', 'q10') AS q10 \gset
SELECT convo.inbox_put('whatsapp', 'q11') AS q11 \gset
UPDATE convo.inbox SET state = 'processing', attempts = 5, next_attempt_at = now() - interval '1 second' WHERE inbox_id = :q10;
UPDATE convo.inbox SET state = 'processing', attempts = 4, next_attempt_at = now() - interval '1 second' WHERE inbox_id = :q11;
SELECT results_eq('SELECT inbox_id, attempts FROM convo.inbox_claim(10)', format('VALUES (%s::bigint, 5)', :q11),
    'an expired lease with attempts left is claimed again');
SELECT results_eq(format('SELECT state, last_error, processed_at IS NOT NULL FROM convo.inbox WHERE inbox_id = %s', :q10),
    $$VALUES ('dead', 'abandoned by its worker 5 times', true)$$,
    'an item abandoned inbox.max_attempts times is kept as dead instead');

UPDATE convo.settings SET value = '5 minutes' WHERE name = 'inbox.lease';
SELECT convo.inbox_put('whatsapp', 'q12') AS q12 \gset
SELECT clock_timestamp() AS t0 \gset
SELECT results_eq('SELECT inbox_id FROM convo.inbox_claim(1)', ARRAY[:q12::bigint], 'a new item is claimed');
SELECT clock_timestamp() AS t1 \gset
SELECT ok(pg_temp.within((SELECT next_attempt_at FROM convo.inbox WHERE inbox_id = :q12), :'t0', :'t1', '5 minutes'),
    'the lease follows the inbox.lease setting');
SELECT is_empty('SELECT * FROM convo.inbox_claim(10000)', 'n = 10000 is allowed');

-- inbox_done -----------------------------------------------------------------------------------

SELECT is(convo.inbox_done(:q1, '{"messages": 1, "statuses": 0}'), true, 'inbox_done on a claimed item: true');
SELECT results_eq(format('SELECT state, result, processed_at BETWEEN now() AND clock_timestamp() FROM convo.inbox WHERE inbox_id = %s', :q1),
    $$VALUES ('done', '{"messages": 1, "statuses": 0}'::jsonb, true)$$,
    'the item is done, with the ingest result and the time');
SELECT is(convo.inbox_done(:q1, '{"messages": 2}'), false, 'inbox_done a second time: false');
SELECT is((SELECT result FROM convo.inbox WHERE inbox_id = :q1), '{"messages": 1, "statuses": 0}'::jsonb,
    'the second call changed nothing');
SELECT is(convo.inbox_done(:q3), true, 'inbox_done without a result');
SELECT is((SELECT result FROM convo.inbox WHERE inbox_id = :q3), NULL, 'stores no result');
SELECT is(convo.inbox_done(:q7), false, 'inbox_done on a pending item (never claimed): false');
SELECT is((SELECT state FROM convo.inbox WHERE inbox_id = :q7), 'pending', 'and it stays pending');
SELECT is(convo.inbox_done(:q9), false, 'inbox_done on a dead item: false');
SELECT throws_ok('SELECT convo.inbox_done(999999999)', 'P0002', $$convo.inbox_done: unknown inbox item '999999999'$$,
    'inbox_done on an unknown item raises no_data_found');
SELECT throws_ok('SELECT convo.inbox_done(NULL)', '22004', 'convo.inbox_done: id must not be NULL',
    'inbox_done with a NULL id is refused');

-- inbox_fail -----------------------------------------------------------------------------------

SELECT clock_timestamp() AS t0 \gset
SELECT is(convo.inbox_fail(:q2, 'XX000: connection lost'), 'pending', 'a first failure: pending again');
SELECT clock_timestamp() AS t1 \gset
SELECT results_eq(format('SELECT state, attempts, last_error, processed_at FROM convo.inbox WHERE inbox_id = %s', :q2),
    $$VALUES ('pending', 1, 'XX000: connection lost', NULL::timestamptz)$$,
    'the failure is kept as last_error');
SELECT ok(pg_temp.within((SELECT next_attempt_at FROM convo.inbox WHERE inbox_id = :q2), :'t0', :'t1', '2 seconds'),
    'retried after inbox.backoff_base (2 s) after the first attempt');
SELECT is_empty('SELECT * FROM convo.inbox_claim(10)', 'not claimable before its retry time');

UPDATE convo.inbox SET next_attempt_at = now() - interval '1 second' WHERE inbox_id = :q2;
SELECT results_eq('SELECT inbox_id, attempts FROM convo.inbox_claim(10)', format('VALUES (%s::bigint, 2)', :q2),
    'claimable again at its retry time');
SELECT clock_timestamp() AS t0 \gset
SELECT is(convo.inbox_fail(:q2, NULL), 'pending', 'a second failure: pending again');
SELECT clock_timestamp() AS t1 \gset
SELECT ok(pg_temp.within((SELECT next_attempt_at FROM convo.inbox WHERE inbox_id = :q2), :'t0', :'t1', '4 seconds'),
    'the backoff doubles: 4 s after the second attempt');
SELECT is((SELECT last_error FROM convo.inbox WHERE inbox_id = :q2), 'unknown error', 'a NULL error is kept as unknown error');
SELECT throws_ok(format('SELECT convo.inbox_fail(%s, %L)', :q2, 'again'), '55000',
    format('convo.inbox_fail: inbox item %s is not being processed', :q2),
    'inbox_fail on an item that is not being processed is refused');

UPDATE convo.inbox SET attempts = 4, next_attempt_at = now() - interval '1 second' WHERE inbox_id = :q2;
SELECT results_eq('SELECT inbox_id, attempts FROM convo.inbox_claim(10)', format('VALUES (%s::bigint, 5)', :q2),
    'the fifth attempt is claimed');
SELECT is(convo.inbox_fail(:q2, 'XX000: still broken'), 'dead', 'failing the fifth attempt (inbox.max_attempts): dead');
SELECT results_eq(format('SELECT state, attempts, last_error, processed_at BETWEEN now() AND clock_timestamp() FROM convo.inbox WHERE inbox_id = %s', :q2),
    $$VALUES ('dead', 5, 'XX000: still broken', true)$$,
    'a dead item is kept with its error and the time');

SELECT is(convo.inbox_fail(:q4, '22023: convo.ingest: not a WhatsApp notification', true), 'dead',
    'a permanent failure is dead at once');
SELECT results_eq(format('SELECT state, attempts, last_error FROM convo.inbox WHERE inbox_id = %s', :q4),
    $$VALUES ('dead', 1, '22023: convo.ingest: not a WhatsApp notification')$$,
    'after a single attempt');
SELECT throws_ok(format('SELECT convo.inbox_fail(%s, %L)', :q4, 'x'), '55000', NULL, 'a dead item cannot fail again');
SELECT is(convo.inbox_done(:q4), false, 'nor be done');
UPDATE convo.inbox SET next_attempt_at = now() - interval '1 hour' WHERE inbox_id IN (:q2, :q4);
SELECT is_empty('SELECT * FROM convo.inbox_claim(10)', 'dead items are never claimed, however old');

SELECT throws_ok('SELECT convo.inbox_fail(999999999, ''x'')', 'P0002', $$convo.inbox_fail: unknown inbox item '999999999'$$,
    'inbox_fail on an unknown item raises no_data_found');
SELECT throws_ok('SELECT convo.inbox_fail(NULL, ''x'')', '22004', 'convo.inbox_fail: id must not be NULL',
    'inbox_fail with a NULL id is refused');

UPDATE convo.settings SET value = '2' WHERE name = 'inbox.max_attempts';
SELECT is(convo.inbox_fail(:q5, 'first'), 'pending', 'with inbox.max_attempts = 2 the first failure retries');
UPDATE convo.inbox SET next_attempt_at = now() - interval '1 second' WHERE inbox_id = :q5;
SELECT results_eq('SELECT inbox_id, attempts FROM convo.inbox_claim(10)', format('VALUES (%s::bigint, 2)', :q5),
    'the second attempt is claimed');
SELECT is(convo.inbox_fail(:q5, 'second'), 'dead', 'and its failure is the last');

UPDATE convo.settings SET value = '100' WHERE name = 'inbox.max_attempts';
UPDATE convo.inbox SET attempts = 10 WHERE inbox_id = :q6;
SELECT clock_timestamp() AS t0 \gset
SELECT is(convo.inbox_fail(:q6, 'tenth'), 'pending', 'a tenth failure with attempts to spare retries');
SELECT clock_timestamp() AS t1 \gset
SELECT ok(pg_temp.within((SELECT next_attempt_at FROM convo.inbox WHERE inbox_id = :q6), :'t0', :'t1', '10 minutes'),
    'the backoff stops at inbox.backoff_max (2 s * 2^9 would be 17 min)');

UPDATE convo.inbox SET state = 'processing', attempts = 80 WHERE inbox_id = :q6;
SELECT clock_timestamp() AS t0 \gset
SELECT is(convo.inbox_fail(:q6, 'eightieth'), 'pending', 'the 80th failure with inbox.max_attempts = 100 retries');
SELECT clock_timestamp() AS t1 \gset
SELECT ok(pg_temp.within((SELECT next_attempt_at FROM convo.inbox WHERE inbox_id = :q6), :'t0', :'t1', '10 minutes'),
    'after 2 s * 2^79 (far beyond an interval) the backoff is still inbox.backoff_max');

UPDATE convo.settings SET value = '1 second' WHERE name = 'inbox.backoff_base';
UPDATE convo.inbox SET state = 'processing', attempts = 3 WHERE inbox_id = :q11;
SELECT clock_timestamp() AS t0 \gset
SELECT is(convo.inbox_fail(:q11, 'third'), 'pending', 'a third failure retries');
SELECT clock_timestamp() AS t1 \gset
SELECT ok(pg_temp.within((SELECT next_attempt_at FROM convo.inbox WHERE inbox_id = :q11), :'t0', :'t1', '4 seconds'),
    'the backoff follows inbox.backoff_base (1 s * 2^2)');

SELECT is((SELECT count(*) FROM convo.inbox), 12::bigint, 'all twelve items are still there: nothing is deleted');

-- inbox_stats ----------------------------------------------------------------------------------

DELETE FROM convo.inbox;
SELECT is(convo.inbox_stats(), '{"pending": 0, "dead": 0, "oldest_pending_seconds": 0}'::jsonb, 'an empty inbox');

SELECT convo.inbox_put('whatsapp', 's1') AS s1 \gset
SELECT convo.inbox_put('whatsapp', 's2') AS s2 \gset
SELECT convo.inbox_put('whatsapp', 's3') AS s3 \gset
SELECT convo.inbox_put('whatsapp', 's4') AS s4 \gset
SELECT convo.inbox_put('whatsapp', 's5') AS s5 \gset
UPDATE convo.inbox SET received_at = now() - interval '90 seconds' WHERE inbox_id = :s2;
UPDATE convo.inbox SET state = 'processing', attempts = 1, received_at = now() - interval '30 seconds' WHERE inbox_id = :s1;
UPDATE convo.inbox SET state = 'dead', received_at = now() - interval '1 day' WHERE inbox_id = :s3;
UPDATE convo.inbox SET state = 'done', received_at = now() - interval '2 days' WHERE inbox_id = :s4;
SELECT is(convo.inbox_stats(), '{"pending": 3, "dead": 1, "oldest_pending_seconds": 90}'::jsonb,
    'pending counts pending and processing items; the oldest of them waits 90 s; dead and done items do not age it');
SELECT is(ARRAY(SELECT jsonb_typeof(value) FROM jsonb_each(convo.inbox_stats()) ORDER BY key),
    ARRAY['number', 'number', 'number'], 'all three values are numbers');

SELECT * FROM finish();
ROLLBACK;
