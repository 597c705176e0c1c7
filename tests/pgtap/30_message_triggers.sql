-- Message triggers: each inserted message updates its conversation in the same transaction
-- (window, entry point, unread count, timestamps); message statuses only move up the ladder.
BEGIN;
SELECT plan(44);

SET LOCAL timezone = 'UTC';

INSERT INTO convo.accounts (account_id, name, phone_number_id, display_phone_number)
VALUES ('a0000000-0000-4000-8000-000000000003', 'Trigger Shop', '100000000000003', '15550000003');

-- A conversation with its own contact, last touched long ago.
CREATE FUNCTION pg_temp.conversation() RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    contact uuid;
    conv uuid;
BEGIN
    INSERT INTO convo.contacts (account_id, wa_id)
    VALUES ('a0000000-0000-4000-8000-000000000003', (1000000000 + floor(random() * 1e9))::bigint::text)
    RETURNING contact_id INTO contact;
    INSERT INTO convo.conversations (account_id, contact_id, updated_at)
    VALUES ('a0000000-0000-4000-8000-000000000003', contact, '2000-01-01 00:00:00+00')
    RETURNING conversation_id INTO conv;
    RETURN conv;
END
$$;

-- Inserts a message; returns its id.
CREATE FUNCTION pg_temp.message(conv uuid, direction text, sent timestamptz, payload jsonb DEFAULT '{}',
                                status text DEFAULT 'pending', body text DEFAULT 'hi')
RETURNS bigint
LANGUAGE sql AS $$
    INSERT INTO convo.messages (account_id, conversation_id, wamid, direction, type, body, payload, status, sent_at)
    VALUES ('a0000000-0000-4000-8000-000000000003', conv, 'wamid.' || gen_random_uuid(), direction, 'text', body,
            payload, status, sent)
    RETURNING message_id;
$$;

-- The conversation's summary columns as one row, for results_eq.
CREATE FUNCTION pg_temp.summary(conv uuid)
RETURNS TABLE (last_inbound_at timestamptz, last_outbound_at timestamptz, last_message_at timestamptz,
               unread_count int, status text, updated_at timestamptz)
LANGUAGE sql AS $$
    SELECT c.last_inbound_at, c.last_outbound_at, c.last_message_at, c.unread_count, c.status, c.updated_at
      FROM convo.conversations c WHERE c.conversation_id = conv;
$$;

CREATE FUNCTION pg_temp.entry_point(conv uuid)
RETURNS TABLE (source text, at timestamptz, replied_at timestamptz, referral jsonb)
LANGUAGE sql AS $$
    SELECT c.entry_point_source, c.entry_point_at, c.entry_point_replied_at, c.entry_point_referral
      FROM convo.conversations c WHERE c.conversation_id = conv;
$$;

-- Inbound messages -----------------------------------------------------------------------------

SELECT pg_temp.conversation() AS conv \gset
SELECT pg_temp.conversation() AS bystander \gset

SELECT pg_temp.message(:'conv', 'in', '2025-03-10 12:00:00+00') AS m1 \gset
SELECT results_eq(format('SELECT * FROM pg_temp.summary(%L)', :'conv'),
    $$VALUES ('2025-03-10 12:00:00+00'::timestamptz, NULL::timestamptz, '2025-03-10 12:00:00+00'::timestamptz,
              1, 'open', now())$$,
    'an inbound message sets last_inbound_at, last_message_at, unread_count 1 and updated_at, before commit');

SELECT pg_temp.message(:'conv', 'in', '2025-03-10 13:00:00+00') AS m2 \gset
SELECT results_eq(format('SELECT last_inbound_at, last_message_at, unread_count FROM pg_temp.summary(%L)', :'conv'),
    $$VALUES ('2025-03-10 13:00:00+00'::timestamptz, '2025-03-10 13:00:00+00'::timestamptz, 2)$$,
    'a second inbound moves the timestamps and counts one more unread');

SELECT pg_temp.message(:'conv', 'in', '2025-03-10 11:00:00+00') AS m3 \gset
SELECT results_eq(format('SELECT last_inbound_at, last_message_at, unread_count FROM pg_temp.summary(%L)', :'conv'),
    $$VALUES ('2025-03-10 13:00:00+00'::timestamptz, '2025-03-10 13:00:00+00'::timestamptz, 3)$$,
    'an older inbound arriving late counts as unread but does not move the timestamps back');

SELECT results_eq(format('SELECT last_inbound_at, last_message_at, unread_count, updated_at FROM pg_temp.summary(%L)', :'bystander'),
    $$VALUES (NULL::timestamptz, NULL::timestamptz, 0, '2000-01-01 00:00:00+00'::timestamptz)$$,
    'another conversation of the same account is untouched');

UPDATE convo.conversations SET status = 'closed', closed_at = '2025-03-10 14:00:00+00', updated_at = '2000-01-01'
 WHERE conversation_id = :'conv';
SELECT pg_temp.message(:'conv', 'in', '2025-03-10 15:00:00+00') AS m4 \gset
SELECT results_eq(format('SELECT status, closed_at, updated_at FROM convo.conversations WHERE conversation_id = %L', :'conv'),
    $$VALUES ('open', NULL::timestamptz, now())$$,
    'an inbound message reopens a closed conversation');

SELECT pg_temp.message(:'conv', 'in', '2025-03-10 16:00:00+00', '{}', 'pending', repeat('🙂', 16384) || 'end') AS big \gset
SELECT results_eq(format('SELECT length(body), octet_length(body), right(body, 4) FROM convo.messages WHERE message_id = %s', :big),
    $$VALUES (16387, 65539, '🙂end')$$,
    'a 64 KB body of 4-byte emoji is stored whole');
SELECT is((SELECT unread_count FROM convo.conversations WHERE conversation_id = :'conv'), 5,
    'five inbound messages, five unread');

-- Entry point: a referral on an inbound message ------------------------------------------------

SELECT pg_temp.conversation() AS ad \gset
SELECT pg_temp.message(:'ad', 'in', '2025-03-10 12:00:00+00',
    '{"referral": {"source_type": "ad", "source_id": "120200000000001", "headline": "50% off 🍕", "ctwa_clid": "ARAkLkA"}}') AS r1 \gset
SELECT results_eq(format('SELECT * FROM pg_temp.entry_point(%L)', :'ad'),
    $$VALUES ('ad', '2025-03-10 12:00:00+00'::timestamptz, NULL::timestamptz,
              '{"source_type": "ad", "source_id": "120200000000001", "headline": "50% off 🍕", "ctwa_clid": "ARAkLkA"}'::jsonb)$$,
    'a referral sets entry_point_source, entry_point_at = sent_at and keeps the referral object');

SELECT pg_temp.message(:'ad', 'in', '2025-03-10 12:05:00+00', '{"text": {"body": "is it still on?"}}') AS r2 \gset
SELECT results_eq(format('SELECT source, at FROM pg_temp.entry_point(%L)', :'ad'),
    $$VALUES ('ad', '2025-03-10 12:00:00+00'::timestamptz)$$,
    'a later inbound without referral keeps the entry point');

-- Outbound messages ---------------------------------------------------------------------------

SELECT pg_temp.message(:'ad', 'out', '2025-03-10 13:00:00+00') AS o1 \gset
SELECT results_eq(format('SELECT last_inbound_at, last_outbound_at, last_message_at, unread_count, updated_at FROM pg_temp.summary(%L)', :'ad'),
    $$VALUES ('2025-03-10 12:05:00+00'::timestamptz, '2025-03-10 13:00:00+00'::timestamptz,
              '2025-03-10 13:00:00+00'::timestamptz, 0, now())$$,
    'an outbound sets last_outbound_at and last_message_at, resets unread_count, leaves last_inbound_at');
SELECT is((SELECT replied_at FROM pg_temp.entry_point(:'ad')), '2025-03-10 13:00:00+00'::timestamptz,
    'the first business reply after the referral is recorded (a fact; free_window judges whether it was in time)');

SELECT pg_temp.message(:'ad', 'out', '2025-03-10 14:00:00+00') AS o2 \gset
SELECT is((SELECT replied_at FROM pg_temp.entry_point(:'ad')), '2025-03-10 13:00:00+00'::timestamptz,
    'a second reply does not move the entry point reply');

SELECT pg_temp.message(:'ad', 'out', '2025-03-10 12:30:00+00') AS o3 \gset
SELECT results_eq(format('SELECT last_outbound_at, last_message_at FROM pg_temp.summary(%L)', :'ad'),
    $$VALUES ('2025-03-10 14:00:00+00'::timestamptz, '2025-03-10 14:00:00+00'::timestamptz)$$,
    'an older outbound recorded late does not move the timestamps back');
SELECT is((SELECT replied_at FROM pg_temp.entry_point(:'ad')), '2025-03-10 12:30:00+00'::timestamptz,
    'but a reply sent earlier (after the referral) and recorded late becomes the first reply');

SELECT pg_temp.message(:'ad', 'in', '2025-03-12 09:00:00+00', '{"referral": {"source_type": "post"}}') AS r3 \gset
SELECT results_eq(format('SELECT source, at, replied_at FROM pg_temp.entry_point(%L)', :'ad'),
    $$VALUES ('post', '2025-03-12 09:00:00+00'::timestamptz, NULL::timestamptz)$$,
    'a new referral starts a new entry point and clears the previous reply');

SELECT pg_temp.message(:'ad', 'in', '2025-03-12 10:00:00+00', '{"referral": {"source_url": "https://fb.me/x"}}') AS r4 \gset
SELECT results_eq(format('SELECT source, at, referral FROM pg_temp.entry_point(%L)', :'ad'),
    $$VALUES ('unknown', '2025-03-12 10:00:00+00'::timestamptz, '{"source_url": "https://fb.me/x"}'::jsonb)$$,
    'a referral without source_type is recorded as unknown');

SELECT pg_temp.conversation() AS late \gset
SELECT pg_temp.message(:'late', 'in', '2025-03-10 12:00:00+00', '{"referral": {"source_type": "ad"}}') AS l1 \gset
SELECT pg_temp.message(:'late', 'out', '2025-03-11 12:00:00+00') AS l2 \gset
SELECT is((SELECT replied_at FROM pg_temp.entry_point(:'late')), '2025-03-11 12:00:00+00'::timestamptz,
    'a first reply 24 h after the referral is recorded all the same (too late for the 72 h window: free_window says so)');
SELECT pg_temp.message(:'late', 'out', '2025-03-11 12:00:01+00') AS l3 \gset
SELECT is((SELECT replied_at FROM pg_temp.entry_point(:'late')), '2025-03-11 12:00:00+00'::timestamptz,
    'a later reply does not move it');
SELECT pg_temp.message(:'late', 'out', '2025-03-10 11:59:59+00') AS l4 \gset
SELECT is((SELECT replied_at FROM pg_temp.entry_point(:'late')), '2025-03-11 12:00:00+00'::timestamptz,
    'nor does an outbound sent before the referral');

SELECT pg_temp.conversation() AS shut \gset
UPDATE convo.conversations SET status = 'closed', closed_at = '2025-03-10 10:00:00+00' WHERE conversation_id = :'shut';
SELECT pg_temp.message(:'shut', 'out', '2025-03-10 12:00:00+00') AS s1 \gset
SELECT results_eq(format('SELECT status, closed_at, last_inbound_at FROM convo.conversations WHERE conversation_id = %L', :'shut'),
    $$VALUES ('closed', '2025-03-10 10:00:00+00'::timestamptz, NULL::timestamptz)$$,
    'an outbound (a template to a closed conversation) neither reopens it nor opens the window');

-- Bad rows are refused ------------------------------------------------------------------------

SELECT throws_ok(format($$INSERT INTO convo.messages (account_id, conversation_id, wamid, direction, type, payload, sent_at)
                         VALUES ('a0000000-0000-4000-8000-000000000003', %L, 'wamid.sideways', 'sideways', 'text', '{}', now())$$, :'conv'),
    '23514', 'new row for relation "messages" violates check constraint "messages_direction_check"',
    'a direction other than in/out is refused');
SELECT throws_ok(format($$INSERT INTO convo.messages (account_id, conversation_id, wamid, direction, type, payload, status, sent_at)
                         VALUES ('a0000000-0000-4000-8000-000000000003', %L, 'wamid.seen', 'out', 'text', '{}', 'seen', now())$$, :'conv'),
    '23514', 'new row for relation "messages" violates check constraint "messages_status_check"',
    'a status off the ladder is refused');
SELECT throws_ok($$INSERT INTO convo.messages (account_id, conversation_id, wamid, direction, type, payload, sent_at)
                   VALUES ('a0000000-0000-4000-8000-000000000003', 'b0000000-0000-4000-8000-00000000dead', 'wamid.orphan', 'in', 'text', '{}', now())$$,
    '23503', NULL, 'a message for an unknown conversation is refused');
SELECT is((SELECT unread_count FROM convo.conversations WHERE conversation_id = :'conv'), 5,
    'refused messages changed no conversation');

-- Statuses only move up ----------------------------------------------------------------------

SELECT pg_temp.message(:'conv', 'out', '2025-03-10 17:00:00+00', '{}', 'sent') AS st \gset
UPDATE convo.messages SET status = 'read', status_at = '2025-03-10 17:02:00+00' WHERE message_id = :st;
UPDATE convo.messages SET status = 'delivered', status_at = '2025-03-10 17:01:00+00' WHERE message_id = :st;
SELECT results_eq(format('SELECT status, status_at FROM convo.messages WHERE message_id = %s', :st),
    $$VALUES ('read', '2025-03-10 17:02:00+00'::timestamptz)$$,
    'a late delivered after read leaves read and its time');
UPDATE convo.messages SET status = 'played', status_at = '2025-03-10 17:03:00+00' WHERE message_id = :st;
SELECT results_eq(format('SELECT status, status_at FROM convo.messages WHERE message_id = %s', :st),
    $$VALUES ('played', '2025-03-10 17:03:00+00'::timestamptz)$$,
    'played after read is applied');
UPDATE convo.messages SET status = 'pending', status_at = NULL WHERE message_id = :st;
SELECT results_eq(format('SELECT status, status_at FROM convo.messages WHERE message_id = %s', :st),
    $$VALUES ('played', '2025-03-10 17:03:00+00'::timestamptz)$$,
    'nothing moves a status back to pending');

SELECT pg_temp.message(:'conv', 'out', '2025-03-10 18:00:00+00', '{}', 'sent') AS fl \gset
UPDATE convo.messages SET status = 'failed', status_at = '2025-03-10 18:00:05+00', error_code = 131047,
       error = '[{"code": 131047, "title": "Re-engagement message"}]'
 WHERE message_id = :fl;
SELECT results_eq(format('SELECT status, status_at, error_code, error FROM convo.messages WHERE message_id = %s', :fl),
    $$VALUES ('failed', '2025-03-10 18:00:05+00'::timestamptz, 131047,
              '[{"code": 131047, "title": "Re-engagement message"}]'::jsonb)$$,
    'failed after sent is applied with its error code and error');
UPDATE convo.messages SET status = 'sent', status_at = '2025-03-10 18:00:06+00', error_code = NULL, error = NULL
 WHERE message_id = :fl;
SELECT results_eq(format('SELECT status, status_at, error_code, error FROM convo.messages WHERE message_id = %s', :fl),
    $$VALUES ('failed', '2025-03-10 18:00:05+00'::timestamptz, 131047,
              '[{"code": 131047, "title": "Re-engagement message"}]'::jsonb)$$,
    'a late sent after failed keeps the failure and its error');

SELECT pg_temp.message(:'conv', 'out', '2025-03-10 19:00:00+00', '{}', 'delivered') AS dl \gset
UPDATE convo.messages SET status = 'failed', status_at = '2025-03-10 19:00:05+00', error_code = 131026
 WHERE message_id = :dl;
SELECT results_eq(format('SELECT status, error_code FROM convo.messages WHERE message_id = %s', :dl),
    $$VALUES ('delivered', NULL::int)$$,
    'failed after delivered (another device got it) is not applied, nor its error code');

SELECT pg_temp.message(:'conv', 'out', '2025-03-10 20:00:00+00', '{}', 'accepted') AS up \gset
UPDATE convo.messages SET status = 'sent', status_at = '2025-03-10 20:00:01+00' WHERE message_id = :up;
UPDATE convo.messages SET status = 'delivered', status_at = '2025-03-10 20:00:02+00' WHERE message_id = :up;
SELECT results_eq(format('SELECT status, status_at FROM convo.messages WHERE message_id = %s', :up),
    $$VALUES ('delivered', '2025-03-10 20:00:02+00'::timestamptz)$$,
    'statuses in order are each applied');
SELECT throws_ok(format($$UPDATE convo.messages SET status = 'seen' WHERE message_id = %s$$, :up),
    '23514', 'new row for relation "messages" violates check constraint "messages_status_check"',
    'an update to a status off the ladder is refused');
SELECT throws_ok(format($$UPDATE convo.messages SET status = NULL WHERE message_id = %s$$, :up),
    '23502', NULL, 'an update to a NULL status is refused');

-- status_rank -----------------------------------------------------------------------------------

SELECT is(convo.status_rank('pending'), 0, 'status_rank(pending) = 0');
SELECT is(convo.status_rank('accepted'), 1, 'status_rank(accepted) = 1');
SELECT is(convo.status_rank('sent'), 2, 'status_rank(sent) = 2');
SELECT is(convo.status_rank('failed'), 3, 'status_rank(failed) = 3: above sent');
SELECT is(convo.status_rank('delivered'), 4, 'status_rank(delivered) = 4: above failed');
SELECT is(convo.status_rank('read'), 5, 'status_rank(read) = 5');
SELECT is(convo.status_rank('played'), 6, 'status_rank(played) = 6');
SELECT is(convo.status_rank('READ'), -1, 'status_rank is case-sensitive: READ is unknown');
SELECT is(convo.status_rank(''), -1, 'status_rank of the empty string is -1');
SELECT is(convo.status_rank(NULL), -1, 'status_rank(NULL) is -1');
SELECT is(convo.status_rank($$read'; DROP TABLE convo.messages; --$$), -1, 'status_rank of SQL text is -1');

SELECT * FROM finish();
ROLLBACK;
