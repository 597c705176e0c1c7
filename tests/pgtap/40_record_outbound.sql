-- convo.record_outbound: a message the business sent becomes an 'out' row, once per wamid.
BEGIN;
SELECT plan(40);

SET LOCAL timezone = 'UTC';

INSERT INTO convo.accounts (account_id, name, phone_number_id, display_phone_number) VALUES
    ('a0000000-0000-4000-8000-000000000004', 'Outbound Shop', '100000000000004', '15550000004'),
    ('b0000000-0000-4000-8000-000000000004', 'Other Shop', '200000000000004', '15550000040');
INSERT INTO convo.contacts (account_id, contact_id, wa_id) VALUES
    ('a0000000-0000-4000-8000-000000000004', 'c0000000-0000-4000-8000-000000000041', '5491100000041'),
    ('a0000000-0000-4000-8000-000000000004', 'c0000000-0000-4000-8000-000000000042', '5491100000042'),
    ('b0000000-0000-4000-8000-000000000004', 'c0000000-0000-4000-8000-000000000043', '5491100000041');
INSERT INTO convo.conversations (account_id, conversation_id, contact_id, last_inbound_at, unread_count,
                                 entry_point_source, entry_point_at) VALUES
    ('a0000000-0000-4000-8000-000000000004', 'f0000000-0000-4000-8000-000000000041', 'c0000000-0000-4000-8000-000000000041',
     '2025-03-10 11:55:00+00', 3, 'ad', '2025-03-10 11:00:00+00'),
    ('a0000000-0000-4000-8000-000000000004', 'f0000000-0000-4000-8000-000000000042', 'c0000000-0000-4000-8000-000000000042',
     NULL, 0, NULL, NULL),
    ('b0000000-0000-4000-8000-000000000004', 'f0000000-0000-4000-8000-000000000043', 'c0000000-0000-4000-8000-000000000043',
     NULL, 0, NULL, NULL);

-- The recorded row, for results_eq.
CREATE FUNCTION pg_temp.recorded(id bigint)
RETURNS TABLE (account_id uuid, conversation_id uuid, wamid text, direction text, type text, body text,
               reply_to_wamid text, status text, status_at timestamptz, sent_at timestamptz)
LANGUAGE sql AS $$
    SELECT m.account_id, m.conversation_id, m.wamid, m.direction, m.type, m.body, m.reply_to_wamid, m.status,
           m.status_at, m.sent_at
      FROM convo.messages m WHERE m.message_id = id;
$$;

-- Text, template, interactive and the other send bodies ---------------------------------------

SELECT convo.record_outbound('f0000000-0000-4000-8000-000000000041', 'wamid.OUT-TEXT',
    '{"messaging_product": "whatsapp", "recipient_type": "individual", "to": "5491100000041", "type": "text",
      "text": {"preview_url": false, "body": "Sí, hay turno a las 10:00."}, "context": {"message_id": "wamid.IN-0"}}',
    '2025-03-10 12:00:00+00') AS text_id \gset

SELECT results_eq(format('SELECT * FROM pg_temp.recorded(%s)', :text_id),
    $$VALUES ('a0000000-0000-4000-8000-000000000004'::uuid, 'f0000000-0000-4000-8000-000000000041'::uuid,
              'wamid.OUT-TEXT', 'out', 'text', 'Sí, hay turno a las 10:00.', 'wamid.IN-0', 'accepted',
              '2025-03-10 12:00:00+00'::timestamptz, '2025-03-10 12:00:00+00'::timestamptz)$$,
    'a text send body becomes an out message: body is the text, reply_to from context, status accepted');
SELECT is((SELECT payload FROM convo.messages WHERE message_id = :text_id),
    '{"messaging_product": "whatsapp", "recipient_type": "individual", "to": "5491100000041", "type": "text",
      "text": {"preview_url": false, "body": "Sí, hay turno a las 10:00."}, "context": {"message_id": "wamid.IN-0"}}'::jsonb,
    'the send body is kept as the payload');
SELECT results_eq($$SELECT last_outbound_at, last_message_at, unread_count, entry_point_replied_at
                      FROM convo.conversations WHERE conversation_id = 'f0000000-0000-4000-8000-000000000041'$$,
    $$VALUES ('2025-03-10 12:00:00+00'::timestamptz, '2025-03-10 12:00:00+00'::timestamptz, 0,
              '2025-03-10 12:00:00+00'::timestamptz)$$,
    'the conversation sees the reply: last_outbound_at, unread reset, the entry point reply');

SELECT convo.record_outbound('f0000000-0000-4000-8000-000000000041', 'wamid.OUT-TPL',
    '{"messaging_product": "whatsapp", "to": "5491100000041", "type": "template",
      "template": {"name": "appointment_reminder", "language": {"code": "es_AR"},
                   "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}]}}',
    '2025-03-10 12:01:00+00') AS tpl_id \gset
SELECT results_eq(format('SELECT type, body, reply_to_wamid FROM pg_temp.recorded(%s)', :tpl_id),
    $$VALUES ('template', 'template:appointment_reminder', NULL::text)$$,
    'a template send body: body is template:<name>');

SELECT convo.record_outbound('f0000000-0000-4000-8000-000000000041', 'wamid.OUT-INT',
    '{"messaging_product": "whatsapp", "to": "5491100000041", "type": "interactive",
      "interactive": {"type": "button", "body": {"text": "¿Confirmás el turno?"},
                      "action": {"buttons": [{"type": "reply", "reply": {"id": "yes", "title": "Sí"}}]}}}',
    '2025-03-10 12:02:00+00') AS int_id \gset
SELECT results_eq(format('SELECT type, body FROM pg_temp.recorded(%s)', :int_id),
    $$VALUES ('interactive', '¿Confirmás el turno?')$$,
    'an interactive send body: body is the interactive body text');

SELECT results_eq($$SELECT convo.outbound_body('{"type": "image", "image": {"link": "https://x/y.png", "caption": "Menu 🍕"}}'),
                           convo.outbound_body('{"type": "reaction", "reaction": {"message_id": "wamid.IN-0", "emoji": "👍🏽"}}'),
                           convo.outbound_body('{"type": "image", "image": {"id": "1234"}}'),
                           convo.outbound_body('{}')$$,
    $$VALUES ('Menu 🍕', '👍🏽', NULL::text, NULL::text)$$,
    'outbound_body: media caption, reaction emoji, NULL when there is nothing to read');

SELECT convo.record_outbound('f0000000-0000-4000-8000-000000000041', 'wamid.OUT-NOTYPE',
    '{"messaging_product": "whatsapp", "to": "5491100000041", "text": {"body": "type left out"}}',
    '2025-03-10 12:03:00+00') AS notype_id \gset
SELECT results_eq(format('SELECT type, body FROM pg_temp.recorded(%s)', :notype_id),
    $$VALUES ('text', 'type left out')$$,
    'a send body without type is a text message (the Cloud API default), with its body');

SELECT convo.record_outbound('f0000000-0000-4000-8000-000000000041', $$wamid.'); DROP TABLE convo.messages; --$$,
    jsonb_build_object('type', 'text', 'text', jsonb_build_object('body', repeat('🍕', 16384) || $$'"\$$)),
    '2025-03-10 12:04:00+00') AS big_id \gset
SELECT results_eq(format('SELECT wamid, length(body), octet_length(body), right(body, 4) FROM pg_temp.recorded(%s)', :big_id),
    $$VALUES ($w$wamid.'); DROP TABLE convo.messages; --$w$, 16387, 65539, $b$🍕'"\$b$)$$,
    'a wamid carrying SQL and a 64 KB body of emoji and quotes are stored verbatim');

SELECT convo.record_outbound('f0000000-0000-4000-8000-000000000042', 'wamid.OUT-NOW',
    '{"type": "text", "text": {"body": "now"}}') AS now_id \gset
SELECT results_eq(format('SELECT sent_at, status_at FROM pg_temp.recorded(%s)', :now_id),
    $$VALUES (now(), now())$$,
    'sent_at defaults to now()');

-- Idempotent by wamid --------------------------------------------------------------------------

SELECT is(convo.record_outbound('f0000000-0000-4000-8000-000000000041', 'wamid.OUT-TEXT',
              '{"type": "text", "text": {"body": "a retry with another body"}}', '2025-03-10 12:30:00+00'),
    :text_id::bigint, 'recording the same wamid again returns the same message id');
SELECT results_eq($$SELECT count(*), min(body), min(sent_at) FROM convo.messages WHERE wamid = 'wamid.OUT-TEXT'$$,
    $$VALUES (1::bigint, 'Sí, hay turno a las 10:00.', '2025-03-10 12:00:00+00'::timestamptz)$$,
    'still one row, unchanged by the retry');
SELECT is((SELECT last_outbound_at FROM convo.conversations WHERE conversation_id = 'f0000000-0000-4000-8000-000000000041'),
    '2025-03-10 12:04:00+00'::timestamptz, 'the retry did not touch the conversation');

SELECT throws_ok($$SELECT convo.record_outbound('f0000000-0000-4000-8000-000000000042', 'wamid.OUT-TEXT',
                       '{"type": "text", "text": {"body": "hi"}}', '2025-03-10 12:00:00+00')$$,
    '23505', 'convo.record_outbound: wamid wamid.OUT-TEXT already belongs to another conversation',
    'a wamid already used in another conversation of the account is refused');
INSERT INTO convo.messages (account_id, conversation_id, wamid, direction, type, payload, sent_at)
SELECT account_id, conversation_id, 'wamid.CUSTOMER-1', 'in', 'text', '{}', now()
  FROM convo.conversations WHERE conversation_id = 'f0000000-0000-4000-8000-000000000041';
SELECT throws_ok($$SELECT convo.record_outbound('f0000000-0000-4000-8000-000000000041', 'wamid.CUSTOMER-1',
                       '{"type": "text", "text": {"body": "hi"}}')$$,
    '23505', 'convo.record_outbound: wamid wamid.CUSTOMER-1 is a message the customer sent',
    'the wamid of an inbound message is refused, not returned as if recorded');

SELECT convo.record_outbound('f0000000-0000-4000-8000-000000000043', 'wamid.OUT-TEXT',
    '{"type": "text", "text": {"body": "other account"}}', '2025-03-10 12:00:00+00') AS other_id \gset
SELECT results_eq(format('SELECT account_id, conversation_id, body FROM pg_temp.recorded(%s)', :other_id),
    $$VALUES ('b0000000-0000-4000-8000-000000000004'::uuid, 'f0000000-0000-4000-8000-000000000043'::uuid, 'other account')$$,
    'the same wamid in another account is another message');
SELECT isnt(:other_id::bigint, :text_id::bigint, 'with its own id');

-- Statuses that came before the message ----------------------------------------------------------

INSERT INTO convo.message_statuses (account_id, wamid, status, status_at, payload) VALUES
    ('a0000000-0000-4000-8000-000000000004', 'wamid.RACE', 'sent', '2025-03-10 13:00:01+00', '{"status": "sent"}'),
    ('a0000000-0000-4000-8000-000000000004', 'wamid.RACE', 'delivered', '2025-03-10 13:00:02+00', '{"status": "delivered"}');
SELECT convo.record_outbound('f0000000-0000-4000-8000-000000000041', 'wamid.RACE',
    '{"type": "text", "text": {"body": "raced"}}', '2025-03-10 13:00:00+00') AS race_id \gset
SELECT results_eq(format('SELECT status, status_at, sent_at FROM pg_temp.recorded(%s)', :race_id),
    $$VALUES ('delivered', '2025-03-10 13:00:02+00'::timestamptz, '2025-03-10 13:00:00+00'::timestamptz)$$,
    'statuses waiting for the message are applied: the furthest one wins');

INSERT INTO convo.message_statuses (account_id, wamid, status, status_at, error_code, payload) VALUES
    ('a0000000-0000-4000-8000-000000000004', 'wamid.FAILED', 'failed', '2025-03-10 13:10:01+00', 131047,
     '{"status": "failed", "errors": [{"code": 131047, "title": "Re-engagement message"}]}');
SELECT convo.record_outbound('f0000000-0000-4000-8000-000000000041', 'wamid.FAILED',
    '{"type": "text", "text": {"body": "too late"}}', '2025-03-10 13:10:00+00') AS failed_id \gset
SELECT results_eq(format('SELECT status, status_at, error_code, error FROM convo.messages WHERE message_id = %s', :failed_id),
    $$VALUES ('failed', '2025-03-10 13:10:01+00'::timestamptz, 131047,
              '[{"code": 131047, "title": "Re-engagement message"}]'::jsonb)$$,
    'a waiting failure is applied with its error code and errors');

INSERT INTO convo.message_statuses (account_id, wamid, status, status_at, payload) VALUES
    ('b0000000-0000-4000-8000-000000000004', 'wamid.MINE', 'read', '2025-03-10 13:20:01+00', '{"status": "read"}'),
    ('a0000000-0000-4000-8000-000000000004', 'wamid.MINE', 'pending', '2025-03-10 13:20:02+00', '{"status": "pending"}');
SELECT convo.record_outbound('f0000000-0000-4000-8000-000000000041', 'wamid.MINE',
    '{"type": "text", "text": {"body": "mine"}}', '2025-03-10 13:20:00+00') AS mine_id \gset
SELECT results_eq(format('SELECT status, status_at FROM pg_temp.recorded(%s)', :mine_id),
    $$VALUES ('accepted', '2025-03-10 13:20:00+00'::timestamptz)$$,
    'another account''s status for the same wamid is not applied, nor a lower one');

-- Bad input ------------------------------------------------------------------------------------

SELECT throws_ok($$SELECT convo.record_outbound('b0000000-0000-4000-8000-00000000dead', 'wamid.X', '{"type": "text"}', now())$$,
    'P0002', 'convo.record_outbound: unknown conversation b0000000-0000-4000-8000-00000000dead',
    'an unknown conversation raises no_data_found naming the id');
SELECT throws_ok($$SELECT convo.record_outbound(NULL, 'wamid.X', '{"type": "text"}', now())$$,
    '22004', 'convo.record_outbound: conversation_id, wamid, message and sent_at are required', 'NULL conversation_id');
SELECT throws_ok($$SELECT convo.record_outbound('f0000000-0000-4000-8000-000000000041', NULL, '{"type": "text"}', now())$$,
    '22004', 'convo.record_outbound: conversation_id, wamid, message and sent_at are required', 'NULL wamid');
SELECT throws_ok($$SELECT convo.record_outbound('f0000000-0000-4000-8000-000000000041', '', '{"type": "text"}', now())$$,
    '22004', 'convo.record_outbound: conversation_id, wamid, message and sent_at are required', 'empty wamid');
SELECT throws_ok($$SELECT convo.record_outbound('f0000000-0000-4000-8000-000000000041', 'wamid.X', NULL, now())$$,
    '22004', 'convo.record_outbound: conversation_id, wamid, message and sent_at are required', 'NULL message');
SELECT throws_ok($$SELECT convo.record_outbound('f0000000-0000-4000-8000-000000000041', 'wamid.X', '{"type": "text"}', NULL)$$,
    '22004', 'convo.record_outbound: conversation_id, wamid, message and sent_at are required', 'NULL sent_at');
SELECT throws_ok($$SELECT convo.record_outbound('f0000000-0000-4000-8000-000000000041', 'wamid.X', '[{"type": "text"}]', now())$$,
    '22023', 'convo.record_outbound: message must be a JSON object (the Cloud API send body), got array',
    'a message that is an array is refused');
SELECT throws_ok($$SELECT convo.record_outbound('f0000000-0000-4000-8000-000000000041', 'wamid.X', '"hello"', now())$$,
    '22023', 'convo.record_outbound: message must be a JSON object (the Cloud API send body), got string',
    'a message that is a string is refused');
SELECT throws_ok($$SELECT convo.record_outbound('f0000000-0000-4000-8000-000000000041', 'wamid.X', '42', now())$$,
    '22023', 'convo.record_outbound: message must be a JSON object (the Cloud API send body), got number',
    'a message that is a number is refused');
SELECT throws_ok($$SELECT convo.record_outbound('f0000000-0000-4000-8000-000000000041', 'wamid.X', 'null', now())$$,
    '22023', 'convo.record_outbound: message must be a JSON object (the Cloud API send body), got null',
    'a message that is JSON null is refused');
SELECT throws_ok($$SELECT convo.record_outbound('f0000000-0000-4000-8000-000000000041', 'wamid.X', 'hello', now())$$,
    '22P02', NULL, 'a message that is not JSON is refused');
SELECT throws_ok($$SELECT convo.record_outbound('not-a-uuid', 'wamid.X', '{"type": "text"}', now())$$,
    '22P02', 'invalid input syntax for type uuid: "not-a-uuid"', 'a conversation id that is not a uuid is refused');
SELECT throws_ok($$SELECT convo.record_outbound('f0000000-0000-4000-8000-000000000041', 'wamid.X', '{"type": "text"}', 'soon')$$,
    '22007', NULL, 'a sent_at that is not a timestamp is refused');
SELECT throws_ok($$SELECT convo.record_outbound('f0000000-0000-4000-8000-000000000041'::uuid, 42, '{"type": "text"}'::jsonb, now())$$,
    '42883', NULL, 'an integer wamid does not match the function');
SELECT is((SELECT count(*) FROM convo.messages WHERE wamid = 'wamid.X'), 0::bigint, 'refused calls recorded nothing');

-- The signature PostgREST serves.
SELECT function_returns('convo', 'record_outbound', ARRAY['uuid', 'text', 'jsonb', 'timestamp with time zone'], 'bigint',
    'record_outbound returns the message id as bigint');
SELECT volatility_is('convo', 'record_outbound', ARRAY['uuid', 'text', 'jsonb', 'timestamp with time zone'], 'volatile',
    'record_outbound is volatile (a POST in PostgREST)');
SELECT is(convo.outbound_body(NULL), NULL, 'outbound_body(NULL) is NULL');
SELECT is(convo.outbound_body('{"type": "template", "template": {}}'), NULL, 'a template without a name has no body');
SELECT is(convo.outbound_body('{"type": "text", "text": {"body": ""}}'), '', 'an empty text stays empty');
SELECT is(convo.outbound_body('{"type": "document", "document": {"caption": "Factura 0001-00012345", "filename": "f.pdf"}}'),
    'Factura 0001-00012345', 'a document caption is its body');

SELECT * FROM finish();
ROLLBACK;
