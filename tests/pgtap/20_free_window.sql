-- The customer-service window and the free entry point window: convo.free_window and
-- convo.can_send_freeform. Times are fixed (the `at` argument) except for can_send_freeform,
-- which always asks about now(): its rows are placed relative to now().
BEGIN;
SELECT plan(51);

SET LOCAL timezone = 'UTC';

INSERT INTO convo.accounts (account_id, name, phone_number_id, display_phone_number)
VALUES ('a0000000-0000-4000-8000-000000000001', 'Window Shop', '100000000000001', '15550000001');

-- A conversation with its own contact; the window columns as given.
CREATE FUNCTION pg_temp.conversation(last_inbound timestamptz) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    contact uuid;
    conv uuid;
BEGIN
    INSERT INTO convo.contacts (account_id, wa_id)
    VALUES ('a0000000-0000-4000-8000-000000000001', (1000000000 + floor(random() * 1e9))::bigint::text)
    RETURNING contact_id INTO contact;
    INSERT INTO convo.conversations (account_id, contact_id, last_inbound_at)
    VALUES ('a0000000-0000-4000-8000-000000000001', contact, last_inbound)
    RETURNING conversation_id INTO conv;
    RETURN conv;
END
$$;

-- A message in a conversation, through the table (its trigger updates the conversation).
CREATE PROCEDURE pg_temp.message(conv uuid, direction text, sent timestamptz, payload jsonb DEFAULT '{}')
LANGUAGE sql AS $$
    INSERT INTO convo.messages (account_id, conversation_id, wamid, direction, type, body, payload, sent_at)
    VALUES ('a0000000-0000-4000-8000-000000000001', conv, 'wamid.' || gen_random_uuid(), direction, 'text', 'hi',
            payload, sent);
$$;

-- The document free_window should return.
CREATE FUNCTION pg_temp.doc(open boolean, expires_at timestamptz, seconds_left bigint,
                            entry_point_until timestamptz, template_required boolean)
RETURNS jsonb
LANGUAGE sql AS $$
    SELECT jsonb_build_object('open', open, 'expires_at', expires_at, 'seconds_left', seconds_left,
                              'entry_point_until', entry_point_until, 'template_required', template_required);
$$;

-- Shape: exactly five keys with fixed types ----------------------------------------------------

SELECT pg_temp.conversation('2025-03-10 12:00:00+00') AS edge \gset

SELECT is(convo.free_window(:'edge', '2025-03-10 13:00:00+00'),
    '{"open": true, "expires_at": "2025-03-11T12:00:00+00:00", "seconds_left": 82800,
      "entry_point_until": null, "template_required": false}'::jsonb,
    'one hour after the last inbound: open, 23 h left, the whole document');
SELECT is(ARRAY(SELECT jsonb_object_keys(convo.free_window(:'edge', '2025-03-10 13:00:00+00')) ORDER BY 1),
    ARRAY['entry_point_until', 'expires_at', 'open', 'seconds_left', 'template_required'],
    'free_window has exactly the keys open, expires_at, seconds_left, entry_point_until, template_required');
SELECT is(ARRAY(SELECT jsonb_typeof(value) FROM jsonb_each(convo.free_window(:'edge', '2025-03-10 13:00:00+00')) ORDER BY key),
    ARRAY['null', 'string', 'boolean', 'number', 'boolean'],
    'value types: entry_point_until null, expires_at string, open boolean, seconds_left number, template_required boolean');
SELECT is(convo.free_window(:'edge', '2025-03-10 13:00:00+00') ->> 'seconds_left', '82800',
    'seconds_left is a whole number');
SELECT is((convo.free_window(:'edge', '2025-03-10 13:00:00+00') ->> 'expires_at')::timestamptz,
    '2025-03-11 12:00:00+00'::timestamptz, 'expires_at reads back as a timestamptz: last inbound + 24 h');

SELECT pg_temp.conversation('2025-03-10 12:00:00.123456+00') AS micro \gset
SET LOCAL timezone = 'Asia/Kolkata';
SELECT is(convo.free_window(:'micro', '2025-03-10 13:00:00+00') ->> 'expires_at', '2025-03-11T17:30:00.123456+05:30',
    'expires_at is ISO 8601 in the session time zone, with microseconds');
SELECT is((convo.free_window(:'micro', '2025-03-10 13:00:00+00') ->> 'expires_at')::timestamptz,
    '2025-03-11 12:00:00.123456+00'::timestamptz, 'expires_at round-trips exactly in another time zone');
SET LOCAL timezone = 'UTC';

-- The 24 h boundary ----------------------------------------------------------------------------

SELECT is(convo.free_window(:'edge', '2025-03-11 11:59:59+00'),
    pg_temp.doc(true, '2025-03-11 12:00:00+00', 1, NULL, false),
    'one second before the 24 h boundary: open, 1 s left');
SELECT is(convo.free_window(:'edge', '2025-03-11 12:00:00+00'),
    pg_temp.doc(false, '2025-03-11 12:00:00+00', 0, NULL, true),
    'at the boundary itself: closed');
SELECT is(convo.free_window(:'edge', '2025-03-11 12:00:01+00'),
    pg_temp.doc(false, '2025-03-11 12:00:00+00', 0, NULL, true),
    'one second after the 24 h boundary: closed, template required, expires_at still reported');
SELECT is(convo.free_window(:'edge', '2025-03-10 12:00:00+00'),
    pg_temp.doc(true, '2025-03-11 12:00:00+00', 86400, NULL, false),
    'at the inbound instant: the full 24 h');

-- Clock skew: an inbound timestamp ahead of `at` ------------------------------------------------

SELECT pg_temp.conversation('2025-03-10 13:00:00+00') AS skew \gset
SELECT is(convo.free_window(:'skew', '2025-03-10 12:00:00+00'),
    pg_temp.doc(true, '2025-03-11 13:00:00+00', 86400, NULL, false),
    'an inbound one hour in the future: open, seconds_left capped at 86400');
SELECT pg_temp.conversation('2025-04-10 12:00:00+00') AS far \gset
SELECT is((convo.free_window(:'far', '2025-03-10 12:00:00+00') ->> 'seconds_left')::bigint, 86400::bigint,
    'an inbound a month in the future still promises at most 86400 s');

-- No inbound ever ----------------------------------------------------------------------------

SELECT pg_temp.conversation(NULL) AS silent \gset
SELECT is(convo.free_window(:'silent', '2025-03-10 12:00:00+00'),
    '{"open": false, "expires_at": null, "seconds_left": 0, "entry_point_until": null, "template_required": true}'::jsonb,
    'no inbound ever: closed, expires_at null, template required');
SELECT is(convo.can_send_freeform(:'silent'), false, 'no inbound ever: no free-form message');

-- Outbound only: the business never opens the window ------------------------------------------

SELECT pg_temp.conversation(NULL) AS outbound \gset
CALL pg_temp.message(:'outbound', 'out', '2025-03-10 12:00:00+00');
SELECT results_eq(format('SELECT last_outbound_at, last_inbound_at FROM convo.conversations WHERE conversation_id = %L', :'outbound'),
    $$VALUES ('2025-03-10 12:00:00+00'::timestamptz, NULL::timestamptz)$$,
    'an outbound message moves last_outbound_at, not last_inbound_at');
SELECT is(convo.free_window(:'outbound', '2025-03-10 12:01:00+00'),
    pg_temp.doc(false, NULL, 0, NULL, true),
    'a minute after an outbound message the window is still closed');

-- A closed conversation: the window follows Meta's rule only ----------------------------------

SELECT pg_temp.conversation('2025-03-10 12:00:00+00') AS closed \gset
UPDATE convo.conversations SET status = 'closed', closed_at = '2025-03-10 12:30:00+00'
 WHERE conversation_id = :'closed';
SELECT is(convo.free_window(:'closed', '2025-03-10 14:00:00+00'),
    pg_temp.doc(true, '2025-03-11 12:00:00+00', 79200, NULL, false),
    'a conversation closed by the business is still open for messages while the 24 h run');

-- The entry point window (through messages, as ingest and record_outbound write them) ----------

SELECT pg_temp.conversation(NULL) AS ad \gset
CALL pg_temp.message(:'ad', 'in', '2025-03-10 12:00:00+00',
    '{"referral": {"source_type": "ad", "source_id": "120200000000001", "ctwa_clid": "ARAkLkA"}}');
SELECT is(convo.free_window(:'ad', '2025-03-10 13:00:00+00'),
    pg_temp.doc(true, '2025-03-11 12:00:00+00', 82800, NULL, false),
    'referral, no business reply yet: no entry point window');
CALL pg_temp.message(:'ad', 'out', '2025-03-10 14:00:00+00');
SELECT is(convo.free_window(:'ad', '2025-03-10 15:00:00+00'),
    pg_temp.doc(true, '2025-03-11 12:00:00+00', 75600, '2025-03-13 14:00:00+00', false),
    'a reply 2 h after the referral: entry_point_until = reply + 72 h');
SELECT is(convo.free_window(:'ad', '2025-03-10 13:00:00+00') -> 'entry_point_until', 'null'::jsonb,
    'before the reply was sent there is no entry point window');
SELECT is(convo.free_window(:'ad', '2025-03-12 14:00:00+00'),
    pg_temp.doc(false, '2025-03-11 12:00:00+00', 0, '2025-03-13 14:00:00+00', true),
    'two days on: the 24 h window closed, the entry point window still runs (templates only, but free)');
SELECT is((convo.free_window(:'ad', '2025-03-13 13:59:59+00') ->> 'entry_point_until')::timestamptz,
    '2025-03-13 14:00:00+00'::timestamptz, 'one second before reply + 72 h: still in the entry point window');
SELECT is(convo.free_window(:'ad', '2025-03-13 14:00:00+00') -> 'entry_point_until', 'null'::jsonb,
    'at reply + 72 h: the entry point window is over');
SELECT is(convo.free_window(:'ad', '2025-03-13 14:00:01+00'),
    pg_temp.doc(false, '2025-03-11 12:00:00+00', 0, NULL, true),
    'after 72 h: no entry point window, closed');

SELECT pg_temp.conversation(NULL) AS late \gset
CALL pg_temp.message(:'late', 'in', '2025-03-10 12:00:00+00', '{"referral": {"source_type": "post"}}');
CALL pg_temp.message(:'late', 'out', '2025-03-11 12:00:01+00');
SELECT is(convo.free_window(:'late', '2025-03-11 12:00:02+00'),
    pg_temp.doc(false, '2025-03-11 12:00:00+00', 0, NULL, true),
    'a first reply 24 h + 1 s after the referral opens no entry point window');
SELECT is((SELECT entry_point_replied_at FROM convo.conversations WHERE conversation_id = :'late'), '2025-03-11 12:00:01+00'::timestamptz,
    'though the trigger recorded it as the first reply: the 24 h rule is free_window''s alone');

-- Replies recorded out of order: the earliest one after the referral counts.
SELECT pg_temp.conversation(NULL) AS unordered \gset
CALL pg_temp.message(:'unordered', 'in', '2025-03-10 12:00:00+00', '{"referral": {"source_type": "ad"}}');
CALL pg_temp.message(:'unordered', 'out', '2025-03-10 17:00:00+00');
CALL pg_temp.message(:'unordered', 'out', '2025-03-10 14:00:00+00');
SELECT is((convo.free_window(:'unordered', '2025-03-10 18:00:00+00') ->> 'entry_point_until')::timestamptz,
    '2025-03-13 14:00:00+00'::timestamptz, 'a reply sent at 14:00 but recorded after the 17:00 one starts the 72 h');

-- The same rule read from the columns, whoever wrote them.
SELECT pg_temp.conversation('2025-03-10 12:00:00+00') AS cols \gset
UPDATE convo.conversations SET entry_point_at = '2025-03-10 12:00:00+00', entry_point_replied_at = '2025-03-11 12:00:00+00'
 WHERE conversation_id = :'cols';
SELECT is(convo.free_window(:'cols', '2025-03-11 13:00:00+00') -> 'entry_point_until', 'null'::jsonb,
    'a reply exactly 24 h after the referral is too late');
UPDATE convo.conversations SET entry_point_replied_at = '2025-03-11 11:59:59+00' WHERE conversation_id = :'cols';
SELECT is((convo.free_window(:'cols', '2025-03-11 13:00:00+00') ->> 'entry_point_until')::timestamptz,
    '2025-03-14 11:59:59+00'::timestamptz, 'a reply one second inside the 24 h opens the 72 h window');
UPDATE convo.conversations SET entry_point_replied_at = '2025-03-10 11:00:00+00' WHERE conversation_id = :'cols';
SELECT is(convo.free_window(:'cols', '2025-03-10 13:00:00+00') -> 'entry_point_until', 'null'::jsonb,
    'a reply recorded before the referral does not count');

-- Bad input ------------------------------------------------------------------------------------

SELECT throws_ok('SELECT convo.free_window(''b0000000-0000-4000-8000-00000000dead'')', 'P0002',
    'convo.free_window: unknown conversation b0000000-0000-4000-8000-00000000dead',
    'an unknown conversation raises no_data_found naming the id');
SELECT throws_ok('SELECT convo.can_send_freeform(''b0000000-0000-4000-8000-00000000dead'')', 'P0002',
    'convo.can_send_freeform: unknown conversation b0000000-0000-4000-8000-00000000dead',
    'can_send_freeform: an unknown conversation raises no_data_found naming the id');
SELECT throws_ok('SELECT convo.free_window(NULL)', '22004',
    'convo.free_window: conversation_id must not be NULL', 'a NULL conversation id is refused');
SELECT throws_ok('SELECT convo.free_window(NULL, ''2025-03-10 12:00:00+00'')', '22004',
    'convo.free_window: conversation_id must not be NULL', 'a NULL conversation id is refused with an `at` too');
SELECT throws_ok('SELECT convo.can_send_freeform(NULL)', '22004',
    'convo.can_send_freeform: conversation_id must not be NULL', 'can_send_freeform: a NULL conversation id is refused');
SELECT throws_ok($$SELECT convo.free_window('not-a-uuid')$$, '22P02',
    'invalid input syntax for type uuid: "not-a-uuid"', 'a conversation id that is not a uuid is refused');
SELECT throws_ok($$SELECT convo.free_window($q$'); DROP TABLE convo.conversations; --$q$)$$, '22P02', NULL,
    'a conversation id carrying SQL is refused as not a uuid');
SELECT throws_ok('SELECT convo.free_window(42)', '42883', NULL, 'an integer is not a conversation id');
SELECT throws_ok(format('SELECT convo.free_window(%L, %L)', :'edge', 'tomorrow at noon'), '22007', NULL,
    'an `at` that is not a timestamp is refused');
SELECT is(convo.free_window(:'edge', NULL), convo.free_window(:'edge', now()), 'a NULL `at` means now');

-- Infinite times have no window: refused, never an open window or a negative countdown.
SELECT throws_ok(format('SELECT convo.free_window(%L, %L)', :'edge', 'infinity'), '22008',
    'convo: infinite timestamps are not supported here', 'at = infinity is refused');
SELECT throws_ok(format('SELECT convo.free_window(%L, %L)', :'edge', '-infinity'), '22008',
    'convo: infinite timestamps are not supported here', 'at = -infinity is refused');
SELECT pg_temp.conversation('infinity') AS endless \gset
SELECT throws_ok(format('SELECT convo.free_window(%L, %L)', :'endless', '2025-03-10 12:00:00+00'), '22008',
    'convo: infinite timestamps are not supported here', 'a last_inbound_at of infinity is refused');

-- can_send_freeform: the same rule at now() ----------------------------------------------------

SELECT pg_temp.conversation(now() - interval '24 hours' + interval '1 second') AS now_open \gset
SELECT pg_temp.conversation(now() - interval '24 hours') AS now_edge \gset
SELECT pg_temp.conversation(now() - interval '24 hours' - interval '1 second') AS now_closed \gset
SELECT pg_temp.conversation(now() - interval '1 hour') AS now_status_closed \gset
UPDATE convo.conversations SET status = 'closed', closed_at = now() WHERE conversation_id = :'now_status_closed';

SELECT is(convo.can_send_freeform(:'now_open'), true, 'inbound 24 h - 1 s ago: free-form allowed');
SELECT is(convo.can_send_freeform(:'now_edge'), false, 'inbound exactly 24 h ago: template required');
SELECT is(convo.can_send_freeform(:'now_closed'), false, 'inbound 24 h + 1 s ago: template required');
SELECT is(convo.can_send_freeform(:'now_status_closed'), true, 'a closed conversation with an inbound an hour ago: free-form allowed');
SELECT is((convo.free_window(:'now_open') ->> 'open')::boolean, true, 'free_window without `at` agrees (open)');
SELECT is((convo.free_window(:'now_closed') ->> 'open')::boolean, false, 'free_window without `at` agrees (closed)');
SELECT is((convo.free_window(:'now_open') ->> 'seconds_left')::bigint, 1::bigint, 'free_window without `at` counts from now()');

SELECT * FROM finish();
ROLLBACK;
