-- Cache tables: cache_get, cache_put, cache_invalidate, cache_clear, cache_stats, cache_purge,
-- cache_try_lock. Expiry is real time: short TTLs and pg_sleep (the cache judges expiry by the
-- clock, so it shows inside this one transaction). Concurrent try_lock: tests/scenarios.
BEGIN;
SELECT plan(61);

DELETE FROM convo.cache;
DELETE FROM convo.cache_counts;
SELECT convo.cache_flush_counts() >= 0 AS flushed \gset
DELETE FROM convo.cache_counts;

-- Configuration -------------------------------------------------------------------------------

SELECT results_eq('SELECT namespace, default_ttl FROM convo.cache_namespaces ORDER BY namespace',
    $$VALUES ('contact_info', interval '10 minutes'), ('debounce', '5 minutes'), ('media', '1 hour'),
             ('response', '1 hour'), ('session', '2 minutes')$$,
    'five namespaces with their default TTLs');
SELECT is((SELECT relpersistence FROM pg_class WHERE oid = 'convo.cache'::regclass), 'u'::"char",
    'the cache table is UNLOGGED');
SELECT is((SELECT relpersistence FROM pg_class WHERE oid = 'convo.cache_counts'::regclass), 'u'::"char",
    'the counts table is UNLOGGED');
SELECT throws_ok($$INSERT INTO convo.cache_namespaces VALUES ('bad', '-1 minute')$$, '23514', NULL,
    'a namespace needs a positive default TTL');
SELECT throws_ok($$INSERT INTO convo.cache_namespaces VALUES ('Bad Name', '1 minute')$$, '23514', NULL,
    'namespace names are lower-case identifiers');

-- put / get -----------------------------------------------------------------------------------

SELECT ok(convo.cache_put('media', 'm1', '{"url": "https://x/1", "mime": "image/jpeg"}')
          BETWEEN clock_timestamp() + interval '59 minutes' AND clock_timestamp() + interval '61 minutes',
    'cache_put returns the expiry: the namespace default (media: 1 h)');
SELECT is(convo.cache_get('media', 'm1'), '{"url": "https://x/1", "mime": "image/jpeg"}'::jsonb,
    'cache_get returns what was put');
SELECT is(convo.cache_get('media', 'nope'), NULL, 'an absent key is NULL');
SELECT is(convo.cache_get('session', 'm1'), NULL, 'keys belong to their namespace');
SELECT ok(convo.cache_put('session', 's1', '"tok"', '30 seconds')
          BETWEEN clock_timestamp() + interval '29 seconds' AND clock_timestamp() + interval '31 seconds',
    'an explicit ttl overrides the default');
SELECT convo.cache_put('media', 'm1', '[1, 2]', '2 hours');
SELECT is(convo.cache_get('media', 'm1'), '[1, 2]'::jsonb, 'a second put replaces the value');
SELECT ok((SELECT expires_at > clock_timestamp() + interval '119 minutes' FROM convo.cache
            WHERE namespace = 'media' AND key = 'm1'), '... and its expiry');
SELECT is((SELECT count(*) FROM convo.cache WHERE namespace = 'media' AND key = 'm1'), 1::bigint, '... in one row');
SELECT convo.cache_put('response', 'big', jsonb_build_object('pad', repeat('x', 100000)));
SELECT is(length(convo.cache_get('response', 'big') ->> 'pad'), 100000, 'a 100 kB value round-trips (TOAST)');
SELECT convo.cache_put('response', $k$it's; DROP TABLE convo.cache; --$k$, 'null');
SELECT is(convo.cache_get('response', $k$it's; DROP TABLE convo.cache; --$k$), 'null'::jsonb,
    'any text is a key, and a JSON null is a value (distinct from a miss only by cache_stats)');

-- TTL expiry ----------------------------------------------------------------------------------

SELECT convo.cache_put('session', 'short', '"soon gone"', '150 milliseconds');
SELECT is(convo.cache_get('session', 'short'), '"soon gone"'::jsonb, 'fresh before its ttl');
SELECT pg_sleep(0.3);
SELECT is(convo.cache_get('session', 'short'), NULL, 'expired after its ttl: NULL, even inside one transaction');
SELECT is((SELECT count(*) FROM convo.cache WHERE key = 'short'), 1::bigint, 'the expired row stays until purge');
SELECT convo.cache_put('session', 'short', '"back"', '1 minute');
SELECT is(convo.cache_get('session', 'short'), '"back"'::jsonb, 'put over an expired entry revives it');

-- Bad input -----------------------------------------------------------------------------------

SELECT throws_ok($$SELECT convo.cache_get('nope', 'k')$$, '22023', $$convo.cache_get: unknown namespace 'nope'$$,
    'get: unknown namespace');
SELECT throws_ok($$SELECT convo.cache_put('nope', 'k', '1')$$, '22023', $$convo.cache_put: unknown namespace 'nope'$$,
    'put: unknown namespace');
SELECT throws_ok($$SELECT convo.cache_try_lock('nope', 'k', '1 minute')$$, '22023',
    $$convo.cache_try_lock: unknown namespace 'nope'$$, 'try_lock: unknown namespace');
SELECT throws_ok($$SELECT convo.cache_invalidate('nope', 'k')$$, '22023', $$convo.cache_invalidate: unknown namespace 'nope'$$,
    'invalidate: unknown namespace');
SELECT throws_ok($$SELECT convo.cache_clear('nope')$$, '22023', $$convo.cache_clear: unknown namespace 'nope'$$,
    'clear: unknown namespace');
SELECT throws_ok($$SELECT convo.cache_get(NULL, 'k')$$, '22004', 'convo.cache_get: ns must not be NULL', 'get: NULL ns');
SELECT throws_ok($$SELECT convo.cache_get('media', NULL)$$, '22004', 'convo.cache_get: key must not be NULL', 'get: NULL key');
SELECT throws_ok($$SELECT convo.cache_put('media', NULL, '1')$$, '22004', 'convo.cache_put: key must not be NULL', 'put: NULL key');
SELECT throws_ok($$SELECT convo.cache_put('media', 'k', NULL)$$, '22004', 'convo.cache_put: value must not be NULL',
    'put: NULL value (cache a JSON null instead)');
SELECT throws_ok($$SELECT convo.cache_put(NULL, 'k', '1')$$, '22004', 'convo.cache_put: ns must not be NULL', 'put: NULL ns');
SELECT throws_ok($$SELECT convo.cache_try_lock('debounce', NULL, '1 minute')$$, '22004',
    'convo.cache_try_lock: key must not be NULL', 'try_lock: NULL key');
SELECT throws_ok($$SELECT convo.cache_invalidate('media', NULL)$$, '22004', 'convo.cache_invalidate: key must not be NULL',
    'invalidate: NULL key');
SELECT throws_ok($$SELECT convo.cache_put('media', 'k', '1', '-5 minutes')$$, '22023', 'convo.cache_put: ttl must be positive',
    'put: negative ttl');
SELECT throws_ok($$SELECT convo.cache_put('media', 'k', '1', '0')$$, '22023', 'convo.cache_put: ttl must be positive',
    'put: zero ttl');
SELECT throws_ok($$SELECT convo.cache_put('media', 'k', '1', '1 day -25 hours')$$, '22023',
    'convo.cache_put: ttl must be positive', 'put: a ttl whose parts add up to less than zero');
SELECT throws_ok($$SELECT convo.cache_try_lock('debounce', 'k', '-1 second')$$, '22023',
    'convo.cache_try_lock: ttl must be positive', 'try_lock: negative ttl');
SELECT is((SELECT count(*) FROM convo.cache WHERE key = 'k'), 0::bigint, 'nothing stored by refused calls');

-- New namespaces by configuration -------------------------------------------------------------

INSERT INTO convo.cache_namespaces VALUES ('geo', '3 minutes', 'test');
SELECT ok(convo.cache_put('geo', 'g1', '1') BETWEEN clock_timestamp() + interval '179 seconds'
                                                AND clock_timestamp() + interval '181 seconds',
    'a namespace added by configuration is usable at once, with its default TTL');
DELETE FROM convo.cache_namespaces WHERE namespace = 'geo';
SELECT is((SELECT count(*) FROM convo.cache WHERE namespace = 'geo'), 0::bigint, 'deleting a namespace drops its entries');
SELECT throws_ok($$SELECT convo.cache_get('geo', 'g1')$$, '22023', NULL, '... and it is unknown again');

-- invalidate / clear --------------------------------------------------------------------------

SELECT is(convo.cache_invalidate('media', 'm1'), true, 'invalidate removes an entry: true');
SELECT is(convo.cache_get('media', 'm1'), NULL, '... gone');
SELECT is(convo.cache_invalidate('media', 'm1'), false, 'invalidate of an absent key: false');
SELECT convo.cache_put('contact_info', 'c' || i, to_jsonb(i)) FROM generate_series(1, 3) i;
SELECT is(convo.cache_clear('contact_info'), 3::bigint, 'clear(ns) removes that namespace''s entries and counts them');
SELECT ok((SELECT count(*) FROM convo.cache WHERE namespace = 'session') > 0, '... and no other namespace''s');
SELECT ok(convo.cache_clear() > 0, 'clear() removes every namespace''s entries');
SELECT is((SELECT count(*) FROM convo.cache), 0::bigint, '... the cache is empty');

-- stats ---------------------------------------------------------------------------------------

SELECT convo.cache_flush_counts() >= 0 AS flushed \gset
DELETE FROM convo.cache_counts;
SELECT convo.cache_put('media', 'a', '1'), convo.cache_put('media', 'b', '2'),
       convo.cache_put('media', 'old', '3', '100 milliseconds');
SELECT pg_sleep(0.2);
SELECT convo.cache_get('media', 'a'), convo.cache_get('media', 'a'), convo.cache_get('media', 'b'),
       convo.cache_get('media', 'x'), convo.cache_get('media', 'old'), convo.cache_get('session', 'x');
SELECT results_eq('SELECT * FROM convo.cache_stats()',
    $$VALUES ('contact_info', 0::bigint, 0::bigint, 0::bigint, NULL::numeric, 0::bigint),
             ('debounce', 0, 0, 0, NULL, 0),
             ('media', 2, 3, 2, 0.6000, 1),
             ('response', 0, 0, 0, NULL, 0),
             ('session', 0, 0, 1, 0.0000, 0)$$,
    'stats per namespace: live entries, hits, misses (an expired entry is a miss), hit rate, expired');
SELECT is(convo.cache_flush_counts(), 0::bigint, 'stats flushed this backend''s counts: none left');
SELECT is((SELECT count(*) FROM convo.cache_counts), 2::bigint, 'counts are stored as deltas, one row per namespace');

-- purge ---------------------------------------------------------------------------------------

UPDATE convo.settings SET value = '3' WHERE name = 'cache.purge_batch';
SELECT convo.cache_put('response', 'e' || i, to_jsonb(i), '50 milliseconds') FROM generate_series(1, 10) i;
SELECT pg_sleep(0.1);
SELECT is(convo.cache_purge(), 11::bigint, 'purge deletes every expired entry (10 + 1), in batches of 3');
SELECT results_eq('SELECT namespace, key FROM convo.cache ORDER BY key',
    $$VALUES ('media', 'a'), ('media', 'b')$$, '... and leaves the live ones');
SELECT is(convo.cache_purge(), 0::bigint, 'a second purge finds nothing');
SELECT results_eq($$SELECT namespace, hits, misses FROM convo.cache_stats() WHERE hits + misses > 0$$,
    $$VALUES ('media', 3::bigint, 2::bigint), ('session', 0, 1)$$, 'purge compacts the count deltas, keeping the sums');

-- try_lock ------------------------------------------------------------------------------------

SELECT is(convo.cache_try_lock('debounce', 'media:42', '200 milliseconds'), true, 'the first caller takes the lock');
SELECT is(convo.cache_try_lock('debounce', 'media:42', '200 milliseconds'), false, 'a second caller within the window does not');
SELECT is(convo.cache_try_lock('debounce', 'media:43', '200 milliseconds'), true, 'another key is another lock');
SELECT pg_sleep(0.3);
SELECT is(convo.cache_try_lock('debounce', 'media:42', '200 milliseconds'), true, 'after the window the next caller takes it again');
SELECT is(convo.cache_try_lock('debounce', 'media:44'), true, 'the namespace default ttl applies without one');
SELECT ok((SELECT expires_at BETWEEN clock_timestamp() + interval '299 seconds' AND clock_timestamp() + interval '301 seconds'
             FROM convo.cache WHERE namespace = 'debounce' AND key = 'media:44'), '... debounce: 5 minutes');

-- Access --------------------------------------------------------------------------------------

SET LOCAL ROLE authenticated;
SELECT throws_ok($$SELECT convo.cache_get('media', 'a')$$, '42501', NULL, 'authenticated cannot read the cache');
SELECT throws_ok('SELECT * FROM convo.cache', '42501', NULL, '... nor its table');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
