-- inbox_put_batch: a group of webhook bodies in one statement, ids in input order, dead on
-- arrival where a reason is given, one wake-up per call; refusals name what is wrong.
BEGIN;
SELECT plan(32);

DELETE FROM convo.inbox;

-- The ids as an array, in the order the function returns them.
CREATE FUNCTION pg_temp.put(sources text[], bodies text[], reasons text[] DEFAULT NULL) RETURNS bigint[]
LANGUAGE sql AS $$ SELECT array_agg(id) FROM convo.inbox_put_batch(sources, bodies, reasons) AS id $$;

-- Order and content ---------------------------------------------------------------------------

SELECT pg_temp.put(ARRAY['whatsapp', 'twilio', 'vapi', 'whatsapp'],
                   ARRAY['b1', 'Body=hi&From=x', '{"message":{}}', 'b4']) AS ids \gset
SELECT is(cardinality(:'ids'::bigint[]), 4, 'four bodies, four ids');
SELECT results_eq(format($$SELECT source::text, body, state, attempts, last_error, processed_at
                             FROM unnest(%L::bigint[]) WITH ORDINALITY AS r(id, ord)
                             JOIN convo.inbox i ON i.inbox_id = r.id ORDER BY r.ord$$, :'ids'),
    $$VALUES ('whatsapp', 'b1', 'pending', 0, NULL::text, NULL::timestamptz),
             ('twilio', 'Body=hi&From=x', 'pending', 0, NULL, NULL),
             ('vapi', '{"message":{}}', 'pending', 0, NULL, NULL),
             ('whatsapp', 'b4', 'pending', 0, NULL, NULL)$$,
    'each id names the row of the body at the same position');
SELECT ok((SELECT bool_and(a < b) FROM (SELECT x AS a, lead(x) OVER (ORDER BY o) AS b
                                          FROM unnest(:'ids'::bigint[]) WITH ORDINALITY AS t(x, o)) s
            WHERE b IS NOT NULL), 'ids grow in input order (ingest is FIFO by id)');
SELECT results_eq(format($$SELECT received_at, next_attempt_at FROM convo.inbox WHERE inbox_id = ANY (%L::bigint[])$$, :'ids'),
    $$VALUES (now(), now()), (now(), now()), (now(), now()), (now(), now())$$,
    'received and due at the transaction time, like inbox_put');

-- 300 bodies whose text is their position: the returned ids must map back exactly.
SELECT pg_temp.put(array_fill('vapi'::text, ARRAY[300]), ARRAY(SELECT g::text FROM generate_series(1, 300) g)) AS many \gset
SELECT is((SELECT count(*) FROM unnest(:'many'::bigint[]) WITH ORDINALITY AS r(id, ord)
             JOIN convo.inbox i ON i.inbox_id = r.id WHERE i.body = r.ord::text), 300::bigint,
    '300 bodies: the id at every position holds the body of that position');
SELECT is((SELECT count(DISTINCT x) FROM unnest(:'many'::bigint[]) x), 300::bigint, 'and the ids are distinct');

-- Bodies that must arrive byte for byte ------------------------------------------------------

SELECT pg_temp.put(ARRAY['twilio', 'whatsapp', 'whatsapp', 'vapi', 'whatsapp', 'vapi'],
    ARRAY[$$Body=%F0%9F%91%8B&raw=👋🏽'); DROP TABLE convo.inbox; --&x={"unterminated$$,
          '{"text":{"body":"nul\u0000byte"}}',
          '{"pad":"' || repeat('x', 65536) || '"}',
          '',
          E'{"a":"q\\"uote, {brace}, back\\\\slash\\nnew\nline\ttab"}',
          'NULL']) AS odd \gset
SELECT is((SELECT body FROM convo.inbox WHERE inbox_id = (:'odd'::bigint[])[1]),
    $$Body=%F0%9F%91%8B&raw=👋🏽'); DROP TABLE convo.inbox; --&x={"unterminated$$,
    'a body with SQL metacharacters and emoji is stored verbatim');
SELECT results_eq(format('SELECT body, length(body), strpos(body, %L) FROM convo.inbox WHERE inbox_id = %s', '\u0000', (:'odd'::bigint[])[2]),
    $$VALUES ('{"text":{"body":"nul\u0000byte"}}', 33, 21)$$,
    'the JSON escape \u0000 is stored as the six characters it is');
SELECT results_eq(format('SELECT length(body), md5(body) FROM convo.inbox WHERE inbox_id = %s', (:'odd'::bigint[])[3]),
    format($$VALUES (65546, %L)$$, md5('{"pad":"' || repeat('x', 65536) || '"}')),
    'a 64 KB body is stored whole');
SELECT is((SELECT body FROM convo.inbox WHERE inbox_id = (:'odd'::bigint[])[4]), '', 'an empty body is stored');
SELECT is((SELECT body FROM convo.inbox WHERE inbox_id = (:'odd'::bigint[])[5]),
    E'{"a":"q\\"uote, {brace}, back\\\\slash\\nnew\nline\ttab"}',
    'quotes, braces, commas, backslashes, newlines and tabs are stored verbatim');
SELECT is((SELECT body FROM convo.inbox WHERE inbox_id = (:'odd'::bigint[])[6]), 'NULL',
    'the text NULL is a body, not a NULL');

-- Dead on arrival ----------------------------------------------------------------------------

SELECT clock_timestamp() AS before \gset
SELECT pg_temp.put(ARRAY['whatsapp', 'whatsapp', 'twilio'], ARRAY[E'\\xff?', 'fine', 'also bad'],
                   ARRAY['body is not valid UTF-8', NULL, 'holds a NUL byte']) AS mixed \gset
SELECT results_eq(format($$SELECT i.body, i.state, i.last_error, i.processed_at IS NOT NULL, i.attempts
                             FROM unnest(%L::bigint[]) WITH ORDINALITY AS r(id, ord)
                             JOIN convo.inbox i ON i.inbox_id = r.id ORDER BY r.ord$$, :'mixed'),
    $$VALUES (E'\\xff?', 'dead', 'body is not valid UTF-8', true, 0),
             ('fine', 'pending', NULL, false, 0),
             ('also bad', 'dead', 'holds a NUL byte', true, 0)$$,
    'a reason stores its body as dead with the reason as its error; a NULL reason stores it pending');
SELECT ok((SELECT processed_at BETWEEN :'before' AND clock_timestamp() FROM convo.inbox WHERE inbox_id = (:'mixed'::bigint[])[1]),
    'a dead-on-arrival row is marked processed when stored');
SELECT is((SELECT count(*) FROM convo.inbox_claim(10000) c WHERE c.inbox_id = ANY (:'mixed'::bigint[])), 1::bigint,
    'only the pending one of them can be claimed');
SELECT is((convo.inbox_stats() ->> 'dead')::int, 2, 'inbox_stats counts the dead ones');

-- Empty input -------------------------------------------------------------------------------

SELECT is((SELECT count(*) FROM convo.inbox_put_batch('{}', '{}')), 0::bigint, 'empty arrays store nothing');
SELECT is((SELECT count(*) FROM convo.inbox_put_batch('{}', '{}', '{}')), 0::bigint, 'empty arrays with empty reasons too');

-- Refusals ----------------------------------------------------------------------------------

SELECT count(*) AS before_refusals FROM convo.inbox \gset
SELECT throws_ok($$SELECT convo.inbox_put_batch(ARRAY['whatsapp', 'vapi'], ARRAY['a'])$$, '22023',
    'convo.inbox_put_batch: array lengths differ: sources 2, bodies 1, dead_reasons NULL',
    'sources and bodies of different lengths are refused, naming the lengths');
SELECT throws_ok($$SELECT convo.inbox_put_batch(ARRAY['whatsapp'], ARRAY['a'], ARRAY[NULL, 'x'])$$, '22023',
    'convo.inbox_put_batch: array lengths differ: sources 1, bodies 1, dead_reasons 2',
    'reasons of another length are refused');
SELECT throws_ok($$SELECT convo.inbox_put_batch('{}', ARRAY['a'])$$, '22023',
    'convo.inbox_put_batch: array lengths differ: sources 0, bodies 1, dead_reasons NULL',
    'bodies without sources are refused');
SELECT throws_ok($$SELECT convo.inbox_put_batch(NULL, ARRAY['a'])$$, '22004',
    'convo.inbox_put_batch: sources and bodies must not be NULL', 'a NULL sources array is refused');
SELECT throws_ok($$SELECT convo.inbox_put_batch(ARRAY['vapi'], NULL)$$, '22004',
    'convo.inbox_put_batch: sources and bodies must not be NULL', 'a NULL bodies array is refused');
SELECT throws_ok($$SELECT convo.inbox_put_batch(ARRAY['vapi', NULL], ARRAY['a', 'b'])$$, '22004',
    'convo.inbox_put_batch: source 2 is NULL', 'a NULL source is refused, naming its position');
SELECT throws_ok($$SELECT convo.inbox_put_batch(ARRAY['vapi', 'vapi', 'vapi'], ARRAY['a', 'b', NULL])$$, '22004',
    'convo.inbox_put_batch: body 3 is NULL', 'a NULL body is refused, naming its position');
SELECT throws_ok($$SELECT convo.inbox_put_batch(ARRAY['vapi', 'sms'], ARRAY['a', 'b'])$$, '23514',
    'value for domain convo.source violates check constraint "source_known"', 'an unknown source is refused by its type, convo.source');
SELECT throws_ok($$SELECT convo.inbox_put_batch(ARRAY[$q$whatsapp'); DROP TABLE convo.inbox; --$q$], ARRAY['a'])$$, '23514',
    'value for domain convo.source violates check constraint "source_known"', 'a source carrying SQL is refused');
SELECT throws_ok($$SELECT convo.inbox_put_batch(ARRAY[['vapi'], ['vapi']], ARRAY[['a'], ['b']])$$, '22023',
    'convo.inbox_put_batch: arrays must be one-dimensional', 'two-dimensional arrays are refused');
SELECT is((SELECT count(*) FROM convo.inbox), :before_refusals::bigint, 'a refused call stores nothing, not even its valid part');

SELECT has_function('convo', 'inbox_put_batch', ARRAY['text[]', 'text[]', 'text[]', 'boolean'], 'the batch function exists');

-- Grants: the sidecar (service_role) may call it, an API caller may not ------------------------

CALL test.as_request('authenticated', '{"account_id": "a0000000-0000-4000-8000-000000000051"}');
SELECT throws_ok($$SELECT convo.inbox_put_batch(ARRAY['whatsapp'], ARRAY['{}'])$$, '42501',
    'permission denied for function inbox_put_batch', 'authenticated cannot call inbox_put_batch');
RESET ROLE;
CALL test.as_request('service_role', '{}');
SELECT ok((SELECT count(*) FROM convo.inbox_put_batch(ARRAY['whatsapp', 'vapi'], ARRAY['{}', '{}'], ARRAY['r', NULL])) = 2,
    'service_role can call inbox_put_batch');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
