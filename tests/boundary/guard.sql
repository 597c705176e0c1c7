-- The C++/PostgreSQL boundary under errors in both directions, through the probes of
-- boundary_test.cpp: an exception that leaves guarded, PostgreSQL errors raised below live C++
-- objects, out of memory on both sides, a pending cancel, an over-long message. Each error is
-- caught in a subtransaction (throws_ok, boundary_test.error_of), so every test after the first
-- also proves that the backend's error handling still works after the ones before it.
-- Run by tests/scenarios/boundary.sh: pg_prove -S lib=/abs/path/convo_boundary_test.so.
BEGIN;
SELECT plan(35);
\ir functions.sql
SELECT pg_backend_pid() AS pid \gset

-- 1. A C++ exception leaves a guarded body (test-only escape hatch, thrown through a function
-- pointer) after the body pushed an error context callback of its own frame and switched to a
-- memory context of its own.
SELECT is(boundary_test.escape_guarded(false),
          'escaped=yes exception_stack=restored error_context_stack=restored memory_context=restored',
          'an exception leaving guarded finds PG_exception_stack, error_context_stack and the memory context restored');
SELECT throws_ok('SELECT boundary_test.escape_guarded(true)', 'P0001', 'boundary_test: thrown inside guarded',
                 'that exception reaches SQL as an ERROR with its own SQLSTATE and message');
SELECT throws_ok('SELECT 1/0', '22012', 'division by zero',
                 'a PostgreSQL error in the same backend afterwards is caught normally');
SELECT throws_ok($$SELECT boundary_test.pg_error('elog')$$, '22023', 'boundary_test: raised inside guarded',
                 'an ERROR raised inside guarded afterwards comes back with its SQLSTATE and message');
SELECT is((SELECT (detail, hint)::text FROM boundary_test.error_of($$SELECT boundary_test.pg_error('elog')$$)),
          '("the detail","the hint")', '... and its detail and hint');
SET LOCAL client_min_messages = error;  -- the shim's WARNING about the moved stack
SELECT throws_ok('SELECT boundary_test.leave_stack_moved()', 'P0001', 'boundary_test: left the exception stack moved',
                 'the shim puts back an exception stack left pointing into a dead frame before it raises');
RESET client_min_messages;
SELECT throws_ok('SELECT 1/0', '22012', 'division by zero', '... and the next error is caught normally');

-- 2. A PostgreSQL ERROR below frames that own C++ objects: the error becomes a PgError, the
-- frames unwind, every object is destroyed.
SELECT throws_ok($$SELECT boundary_test.pg_error('elog', 3)$$, '22023', NULL, 'ERROR below 4 frames of C++ objects');
SELECT is(boundary_test.counted(), '12/12', '... all 12 objects destroyed');
SELECT throws_ok($$SELECT boundary_test.pg_error('spi', 10)$$, '22012', 'division by zero',
                 'an ERROR inside SPI below 11 frames keeps its SQLSTATE');
SELECT is(boundary_test.counted(), '33/33', '... all 33 objects destroyed');
SELECT is(boundary_test.pg_error('elog', 0, true), 'PgError 22023: boundary_test: raised inside guarded',
          'C++ code sees the ERROR as a PgError');
SELECT is(boundary_test.counted(), '3/3', '... and its objects are destroyed too');

-- 3. Out of memory. A C++ allocation: std::bad_alloc → 53200.
SELECT throws_ok('SELECT boundary_test.cpp_out_of_memory(1::bigint << 60)', '53200', 'convo: out of memory',
                 'a failed C++ allocation (std::bad_alloc) is ERROR 53200');
SELECT is(boundary_test.cpp_out_of_memory(1000), 1000::bigint, '... and the backend allocates again afterwards');
-- palloc inside guarded: beyond MaxAllocSize, and a size no machine has.
SELECT is(boundary_test.pg_error('palloc', 2, true), 'PgError XX000: invalid memory alloc request size 2147483648',
          'palloc of 2 GB inside guarded becomes a PgError');
SELECT is(boundary_test.counted(), '9/9', '... and the objects around it are destroyed');
SELECT is(boundary_test.pg_error('palloc_huge', 2, true), 'PgError 53200: out of memory',
          'a huge allocation PostgreSQL cannot make inside guarded becomes a PgError 53200');
SELECT throws_ok($$SELECT boundary_test.pg_error('palloc_huge')$$, '53200', 'out of memory',
                 '... and reaches SQL as ERROR 53200');
SELECT is(boundary_test.counted(), '12/12', '... with every object destroyed');

-- 4. A pending cancel, acted on by pg::check_for_interrupts in a C++ loop.
SELECT is(boundary_test.pg_error('cancel', 1, true), 'PgError 57014: canceling statement due to user request',
          'a cancel seen by check_for_interrupts is a PgError 57014');
SELECT is((SELECT (code, message)::text FROM boundary_test.error_of($$SELECT boundary_test.pg_error('cancel')$$)),
          '(57014,"canceling statement due to user request")', '... and reaches SQL as ERROR 57014');
SELECT is(boundary_test.counted(), '12/12', '... with every object destroyed');

-- 5. The shim's copy of a message longer than its buffer: cut on a character boundary.
SELECT is((SELECT code FROM boundary_test.error_of('SELECT boundary_test.long_message(10000)')), '22023',
          'a 20,000-byte message keeps its SQLSTATE');
SELECT cmp_ok((SELECT octet_length(message) FROM boundary_test.error_of('SELECT boundary_test.long_message(10000)')),
              '<', 4096, '... is cut to the buffer');
SELECT is((SELECT right(message, 3) FROM boundary_test.error_of('SELECT boundary_test.long_message(10000)')), 'éé…',
          '... after a whole character, marked with an ellipsis');
SELECT ok((SELECT convert_from(convert_to(message, 'UTF8'), 'UTF8') = message
             FROM boundary_test.error_of('SELECT boundary_test.long_message(10000)')), '... and is valid UTF-8');
SELECT cmp_ok((SELECT octet_length(detail) FROM boundary_test.error_of('SELECT boundary_test.long_message(10000)')),
              '<', 2048, '... the detail too');
SELECT is((SELECT message FROM boundary_test.error_of('SELECT boundary_test.long_message(3)')), 'ééé',
          'a short message is copied whole');
SELECT is((SELECT message FROM boundary_test.error_of($$SELECT boundary_test.long_message(4095, 'a')$$)), repeat('a', 4095),
          'a message that fills the buffer exactly is copied whole');
SELECT is((SELECT message FROM boundary_test.error_of($$SELECT boundary_test.long_message(4096, 'a')$$)), repeat('a', 4092) || '…',
          'one byte more: cut, with room for the ellipsis');
SELECT is((SELECT message FROM boundary_test.error_of($$SELECT boundary_test.long_message(2000, '😀')$$)), repeat('😀', 1023) || '…',
          'four-byte characters are never split');

-- 6. Still the same backend, still working.
SELECT is(pg_backend_pid(), :pid, 'the backend that ran all of the above is still this session''s');
SELECT lives_ok($t$DO $b$ BEGIN PERFORM 1/0; EXCEPTION WHEN division_by_zero THEN NULL; END $b$$t$,
                'a PL/pgSQL exception block still catches');
SELECT throws_ok($$SELECT convo.free_window('00000000-0000-0000-0000-000000000000'::uuid)$$, 'P0002', NULL,
                 'convo''s own functions still raise their errors');

SELECT * FROM finish();
ROLLBACK;
