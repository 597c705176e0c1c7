-- The outbox: convo.send decides from the window what is queued (as given, a template, or the
-- re-engagement template with the message awaiting the window); outbox_claim, outbox_sent,
-- outbox_failed and outbox_expire move items through their states; an inbound message
-- releases what awaited the window. Time is simulated through the conversations' last
-- inbound message and the items' next_attempt_at; settings change in this transaction only.
BEGIN;
SELECT plan(91);

SET LOCAL timezone = 'UTC';

INSERT INTO convo.accounts (account_id, name, phone_number_id, display_phone_number) VALUES
    ('a0000000-0000-4000-8000-000000000041', 'Tienda Ana', '100000000000041', '15550000041'),
    ('b0000000-0000-4000-8000-000000000041', 'Other Shop', '200000000000041', '15550000042');
INSERT INTO convo.contacts (account_id, contact_id, wa_id, user_id, profile_name) VALUES
    ('a0000000-0000-4000-8000-000000000041', 'c0000000-0000-4000-8000-000000000041', '5491100000041', NULL, 'Ana'),
    ('a0000000-0000-4000-8000-000000000041', 'c0000000-0000-4000-8000-000000000042', NULL, 'AR.1234567', NULL),
    ('a0000000-0000-4000-8000-000000000041', 'c0000000-0000-4000-8000-000000000043', '5491100000043', NULL, 'Eva'),
    ('b0000000-0000-4000-8000-000000000041', 'c0000000-0000-4000-8000-000000000044', '5491100000041', NULL, 'Ana');
-- open: the customer wrote an hour ago; closed: two days ago; never: no inbound message yet.
INSERT INTO convo.conversations (account_id, conversation_id, contact_id, last_inbound_at) VALUES
    ('a0000000-0000-4000-8000-000000000041', 'f0000000-0000-4000-8000-000000000041', 'c0000000-0000-4000-8000-000000000041', now() - interval '1 hour'),
    ('a0000000-0000-4000-8000-000000000041', 'f0000000-0000-4000-8000-000000000042', 'c0000000-0000-4000-8000-000000000042', NULL),
    ('a0000000-0000-4000-8000-000000000041', 'f0000000-0000-4000-8000-000000000043', 'c0000000-0000-4000-8000-000000000043', now() - interval '2 days'),
    ('b0000000-0000-4000-8000-000000000041', 'f0000000-0000-4000-8000-000000000044', 'c0000000-0000-4000-8000-000000000044', now() - interval '2 days');
INSERT INTO convo.templates (account_id, name, language, category, status, components, reengagement) VALUES
    ('a0000000-0000-4000-8000-000000000041', 'volvemos', 'es_AR', 'utility', 'approved',
     '[{"type": "HEADER", "format": "TEXT", "text": "Tienda"}, {"type": "BODY", "text": "Hola {{1}}, te escribe {{2}}. ¿Seguimos?"}]', true),
    ('a0000000-0000-4000-8000-000000000041', 'promo', 'es_AR', 'marketing', 'approved', '[]', false);

\set open '''f0000000-0000-4000-8000-000000000041'''
\set never '''f0000000-0000-4000-8000-000000000042'''
\set closed '''f0000000-0000-4000-8000-000000000043'''
\set other '''f0000000-0000-4000-8000-000000000044'''

-- Inside the window -----------------------------------------------------------------------------

SELECT convo.send(:open, '{"type": "text", "text": {"body": "¡Hola Ana!"}, "to": "999"}') AS r1 \gset
SELECT is((:'r1'::jsonb) - 'outbox_id', '{"kind": "freeform", "reason": "inside the 24 h customer service window"}',
    'inside the window a free-form message goes out as given');
SELECT results_eq(format($$SELECT state, kind, channel, attempts, next_attempt_at, body FROM convo.outbox WHERE outbox_id = %L$$,
                         :'r1'::jsonb ->> 'outbox_id'),
    format($$VALUES ('queued', 'text', 'whatsapp', 0, now(), jsonb_build_object('type', 'text', 'text', '{"body": "¡Hola Ana!"}'::jsonb,
              'messaging_product', 'whatsapp', 'recipient_type', 'individual', 'to', '5491100000041', 'biz_opaque_callback_data', %L))$$,
           :'r1'::jsonb ->> 'outbox_id'),
    'queued now, addressed to the contact (not the "to" the caller wrote), carrying its outbox id for the statuses');

-- A body without "type" is text, as the Cloud API takes it.
SELECT is(convo.send(:open, '{"text": {"body": "sin tipo"}}') ->> 'kind', 'freeform', 'a body without type is text');
SELECT is((SELECT kind FROM convo.outbox WHERE body #>> '{text,body}' = 'sin tipo'), 'text', 'and is queued as kind text');

-- Read receipts, media, reactions, interactive: their kinds.
SELECT is(convo.send(:closed, '{"status": "read", "message_id": "wamid.IN-1", "typing_indicator": {"type": "text"}}') ->> 'kind',
    'freeform', 'a read receipt needs no window');
SELECT is((SELECT body FROM convo.outbox WHERE kind = 'read'),
    '{"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN-1", "typing_indicator": {"type": "text"}}',
    'a read receipt is sent as written, with no recipient or callback data');
SELECT results_eq($$SELECT convo.outbox_kind('{"type": "image", "image": {"id": "1"}}'), convo.outbox_kind('{"type": "reaction", "reaction": {}}'),
                           convo.outbox_kind('{"type": "interactive"}'), convo.outbox_kind('{"type": "location"}'), convo.outbox_kind('[]')$$,
    $$VALUES ('media', 'reaction', 'interactive', NULL::text, NULL::text)$$, 'outbox_kind: media, reaction, interactive; NULL for the rest');

-- A BSUID-only contact is addressed by "recipient".
UPDATE convo.conversations SET last_inbound_at = now() - interval '1 minute' WHERE conversation_id = :never;
SELECT convo.send(:never, '{"type": "image", "image": {"link": "https://x/y.png", "caption": "Menú"}}') AS r2 \gset
SELECT results_eq(format($$SELECT kind, body ->> 'recipient', body ? 'to' FROM convo.outbox WHERE outbox_id = %L$$, :'r2'::jsonb ->> 'outbox_id'),
    $$VALUES ('media', 'AR.1234567', false)$$, 'a contact known only by BSUID is addressed by recipient');
UPDATE convo.conversations SET last_inbound_at = NULL WHERE conversation_id = :never;

-- Bad bodies and arguments: nothing queued --------------------------------------------------------

SELECT count(*) AS before_bad FROM convo.outbox \gset
SELECT throws_ok($$SELECT convo.send('f0000000-0000-4000-8000-000000000041', '"hola"')$$, '22023',
    'convo.send: message must be a JSON object (a Cloud API send body), got string', 'a message that is not an object');
SELECT throws_ok($$SELECT convo.send('f0000000-0000-4000-8000-000000000041', '{"type": "location", "location": {}}')$$, '22023',
    'convo.send: message type location is not one the outbox sends', 'a type the outbox does not send');
SELECT throws_ok($$SELECT convo.send('f0000000-0000-4000-8000-000000000041', '{"type": "text", "text": {"body": ""}}')$$, '22023',
    'convo.send: text.body must be a non-empty string', 'an empty text');
SELECT throws_ok($$SELECT convo.send('f0000000-0000-4000-8000-000000000041', '{"type": "text"}')$$, '22023',
    'convo.send: a text message needs an object "text"', 'a text without its text object');
SELECT throws_ok(format($$SELECT convo.send('f0000000-0000-4000-8000-000000000041', '{"type": "text", "text": {"body": "%s"}}')$$, repeat('ñ', 4097)),
    '22001', 'convo.send: text.body has 4097 characters, the Cloud API takes at most 4096', 'a text over 4096 characters (counted in characters)');
SELECT lives_ok(format($$SELECT convo.send('f0000000-0000-4000-8000-000000000041', '{"type": "text", "text": {"body": "%s"}}')$$, repeat('ñ', 4096)),
    'a text of exactly 4096 characters is queued');
SELECT throws_ok($$SELECT convo.send('f0000000-0000-4000-8000-000000000041', '{"type": "template", "template": {"language": {"code": "es"}}}')$$, '22023',
    'convo.send: template.name is missing', 'a template without a name');
SELECT throws_ok($$SELECT convo.send('f0000000-0000-4000-8000-000000000041', '{"type": "image", "image": {"caption": "x"}}')$$, '22023',
    'convo.send: a image message needs image.id or image.link', 'media without id or link');
SELECT throws_ok($$SELECT convo.send('f0000000-0000-4000-8000-000000000041', NULL)$$, '22004', 'convo.send: message must not be NULL', 'a NULL message');
SELECT throws_ok($$SELECT convo.send(NULL, '{"text": {"body": "x"}}')$$, '22004', 'convo.send: conversation_id must not be NULL', 'a NULL conversation');
SELECT throws_ok($$SELECT convo.send('f0000000-0000-4000-8000-000000000041', '{"text": {"body": "x"}}', '{"priority": 1}')$$, '22023',
    'convo.send: unknown option priority', 'an unknown option');
SELECT throws_ok($$SELECT convo.send('f0000000-0000-4000-8000-00000000ffff', '{"text": {"body": "x"}}')$$, 'P0002',
    'convo.send: unknown conversation f0000000-0000-4000-8000-00000000ffff', 'an unknown conversation');
SELECT is((SELECT count(*) FROM convo.outbox), (:before_bad + 1)::bigint, 'nothing queued by the refused calls (one 4096-character text)');

-- Outside the window ----------------------------------------------------------------------------

SELECT convo.send(:closed, '{"type": "template", "template": {"name": "promo", "language": {"code": "es_AR"}}}') AS r3 \gset
SELECT is((:'r3'::jsonb) - 'outbox_id', '{"kind": "template", "reason": "a template may be sent whether the window is open or not"}',
    'outside the window a template given by the caller goes out');
SELECT is((SELECT state FROM convo.outbox WHERE outbox_id = (:'r3'::jsonb ->> 'outbox_id')::uuid), 'queued', 'queued');

SELECT convo.send(:closed, '{"type": "text", "text": {"body": "Tu pedido está listo"}}') AS r4 \gset
SELECT is((:'r4'::jsonb) - 'outbox_id' - 'template_outbox_id',
    '{"kind": "awaiting_window", "reason": "outside the 24 h window: the re-engagement template volvemos is queued and this message waits for the customer''s answer"}',
    'outside the window a free-form message waits, and says which template went out in its place');
SELECT results_eq(format($$SELECT state, next_attempt_at, reengagement_outbox_id FROM convo.outbox WHERE outbox_id = %L$$, :'r4'::jsonb ->> 'outbox_id'),
    format($$VALUES ('awaiting_window', now() + interval '24 hours', %L::uuid)$$, :'r4'::jsonb ->> 'template_outbox_id'),
    'the message is awaiting_window until outbox.awaiting_window_expiry, linked to its template');
SELECT results_eq(format($$SELECT state, kind, body #> '{template}', body ->> 'to' FROM convo.outbox WHERE outbox_id = %L$$, :'r4'::jsonb ->> 'template_outbox_id'),
    $$VALUES ('queued', 'template', '{"name": "volvemos", "language": {"code": "es_AR"}, "components": [{"type": "body",
              "parameters": [{"type": "text", "text": "Eva"}, {"type": "text", "text": "Tienda Ana"}]}]}'::jsonb, '5491100000043')$$,
    'the re-engagement template is queued with {{1}} = the customer''s name, {{2}} = the business''s');

SELECT convo.send(:closed, '{"type": "text", "text": {"body": "¿Y algo más?"}}') AS r5 \gset
SELECT is(:'r5'::jsonb ->> 'template_outbox_id', :'r4'::jsonb ->> 'template_outbox_id',
    'a second message while waiting waits for the same template');
SELECT is((SELECT count(*) FROM convo.outbox WHERE conversation_id = :closed AND body #>> '{template,name}' = 'volvemos'), 1::bigint,
    'one re-engagement template per wait, not one per message');

-- Named placeholders, and the name fallback for a contact without a profile name.
UPDATE convo.templates SET components = '[{"type": "BODY", "text": "Hi {{customer_name}}, {{business_name}} here"}]'
 WHERE name = 'volvemos';
SELECT convo.send(:never, '{"type": "text", "text": {"body": "hola"}}') AS r6 \gset
SELECT is((SELECT body #> '{template,components,0,parameters}' FROM convo.outbox WHERE outbox_id = (:'r6'::jsonb ->> 'template_outbox_id')::uuid),
    '[{"type": "text", "parameter_name": "business_name", "text": "Tienda Ana"}, {"type": "text", "parameter_name": "customer_name", "text": "there"}]',
    'named placeholders; a contact without a name gets outbox.customer_name_fallback');

-- Templates convo cannot use: 22023, nothing queued.
DELETE FROM convo.outbox WHERE conversation_id = :never;
SELECT count(*) AS before_tpl FROM convo.outbox \gset
UPDATE convo.templates SET components = '[{"type": "BODY", "text": "Hola {{1}}, tu código {{3}}"}]' WHERE name = 'volvemos';
SELECT throws_ok($$SELECT convo.send('f0000000-0000-4000-8000-000000000042', '{"text": {"body": "x"}}')$$, '22023',
    'convo.send: the re-engagement template volvemos (es_AR) has the placeholder {{3}}, which convo cannot fill',
    'a placeholder convo cannot fill');
UPDATE convo.templates SET components = '[{"type": "BODY", "text": "Hola"}, {"type": "BUTTONS", "buttons": [{"type": "URL", "url": "https://x/{{1}}"}]}]'
 WHERE name = 'volvemos';
SELECT throws_ok($$SELECT convo.send('f0000000-0000-4000-8000-000000000042', '{"text": {"body": "x"}}')$$, '22023',
    'convo.send: the re-engagement template volvemos (es_AR) has placeholders outside its body, which convo cannot fill',
    'a placeholder outside the body');
UPDATE convo.templates SET components = '[{"type": "BODY", "text": "Hola"}]', status = 'pending' WHERE name = 'volvemos';
SELECT throws_ok($$SELECT convo.send('f0000000-0000-4000-8000-000000000042', '{"text": {"body": "x"}}')$$, '22023',
    'convo.send: the re-engagement template volvemos (es_AR) of account a0000000-0000-4000-8000-000000000041 is not approved (status pending)',
    'a re-engagement template not approved');
SELECT throws_ok($$SELECT convo.send('f0000000-0000-4000-8000-000000000044', '{"text": {"body": "x"}}')$$, '22023',
    'convo.send: the window is closed and account b0000000-0000-4000-8000-000000000041 has no re-engagement template',
    'no re-engagement template configured: 22023 naming the account');
SELECT is((SELECT count(*) FROM convo.outbox), :before_tpl::bigint, 'nothing queued, neither template nor message');
UPDATE convo.templates SET status = 'approved' WHERE name = 'volvemos';
SELECT is(convo.send(:never, '{"text": {"body": "x"}}', '{}') #>> '{kind}', 'awaiting_window', 'a template without placeholders is sent without parameters');
SELECT is((SELECT body #> '{template,components}' FROM convo.outbox WHERE conversation_id = :never AND kind = 'template'), '[]',
    'no components');
SELECT throws_ok($$INSERT INTO convo.templates (account_id, name, language, category, reengagement)
                   VALUES ('a0000000-0000-4000-8000-000000000041', 'otra', 'es_AR', 'utility', true)$$, '23505', NULL,
    'one re-engagement template per account');

-- Idempotency -----------------------------------------------------------------------------------

SELECT convo.send(:open, '{"text": {"body": "una vez"}}', '{"idempotency_key": "order-7"}') AS k1 \gset
SELECT is(convo.send(:open, '{"text": {"body": "una vez"}}', '{"idempotency_key": "order-7"}'), :'k1'::jsonb,
    'the same key and request again: the first answer');
SELECT is((SELECT count(*) FROM convo.outbox WHERE body #>> '{text,body}' = 'una vez'), 1::bigint, 'queued once');
SELECT throws_ok($$SELECT convo.send('f0000000-0000-4000-8000-000000000041', '{"text": {"body": "otra cosa"}}', '{"idempotency_key": "order-7"}')$$,
    '23505', format('convo.send: idempotency key order-7 was first used with another conversation or message (outbox item %s)', :'k1'::jsonb ->> 'outbox_id'),
    'the same key with another message: 23505 naming the first item');
SELECT throws_ok($$SELECT convo.send('f0000000-0000-4000-8000-000000000041', '{"text": {"body": "x"}}', '{"idempotency_key": ""}')$$,
    '22023', 'convo.send: idempotency_key must be a string of 1 to 200 characters', 'an empty key');
SELECT is(convo.send(:closed, '{"text": {"body": "espera"}}', '{"idempotency_key": "k-wait"}'),
          convo.send(:closed, '{"text": {"body": "espera"}}', '{"idempotency_key": "k-wait"}'),
    'the first answer of a waiting message, too');
SELECT ok(convo.send(:other, '{"type": "template", "template": {"name": "x", "language": {"code": "en"}}}', '{"idempotency_key": "order-7"}') ->> 'outbox_id'
          <> :'k1'::jsonb ->> 'outbox_id', 'keys are per account');

-- Release by the customer's next message, and expiry -------------------------------------------

UPDATE convo.outbox SET next_attempt_at = now() - interval '1 second'
 WHERE outbox_id = (:'r5'::jsonb ->> 'outbox_id')::uuid;   -- waited too long
INSERT INTO convo.messages (account_id, conversation_id, wamid, direction, type, body, payload, sent_at)
VALUES ('a0000000-0000-4000-8000-000000000041', :closed, 'wamid.IN-BACK', 'in', 'text', 'sí', '{}', now());
SELECT results_eq(format($$SELECT state, next_attempt_at FROM convo.outbox WHERE outbox_id = %L$$, :'r4'::jsonb ->> 'outbox_id'),
    $$VALUES ('queued', now())$$, 'the customer''s next message releases what awaited the window');
SELECT is((SELECT state FROM convo.outbox WHERE outbox_id = (:'r5'::jsonb ->> 'outbox_id')::uuid), 'awaiting_window',
    'an item past its expiry is not released');
SELECT is((SELECT unread_count FROM convo.conversations WHERE conversation_id = :closed), 1,
    'the trigger still does what it did: the message counts as unread');
SELECT is(convo.outbox_expire(), '{"unknown": 0, "expired": 1}', 'outbox_expire fails what waited too long');
SELECT results_eq(format($$SELECT state, last_error_code FROM convo.outbox WHERE outbox_id = %L$$, :'r5'::jsonb ->> 'outbox_id'),
    $$VALUES ('failed', 'window_not_reopened')$$, 'with the code window_not_reopened');

-- Claim, lease, sent ----------------------------------------------------------------------------

DELETE FROM convo.outbox;
SELECT (convo.send(:open, '{"text": {"body": "uno"}}') ->> 'outbox_id') AS c1 \gset
SELECT (convo.send(:open, '{"text": {"body": "dos"}}') ->> 'outbox_id') AS c2 \gset
SELECT (convo.send(:open, '{"text": {"body": "tres"}}') ->> 'outbox_id') AS c3 \gset
UPDATE convo.outbox SET next_attempt_at = now() - interval '3 seconds' WHERE outbox_id = :'c1';
UPDATE convo.outbox SET next_attempt_at = now() - interval '2 seconds' WHERE outbox_id = :'c2';
UPDATE convo.outbox SET next_attempt_at = now() + interval '1 hour' WHERE outbox_id = :'c3';
SELECT results_eq($$SELECT outbox_id::text, state, attempts FROM convo.outbox_claim(5)$$,
    format($$VALUES (%L, 'sending', 1), (%L, 'sending', 1)$$, :'c1', :'c2'),
    'claim takes the due items, oldest due first, and leaves the one not due');
SELECT ok((SELECT bool_and(next_attempt_at BETWEEN now() + interval '30 seconds' AND clock_timestamp() + interval '30 seconds')
             FROM convo.outbox WHERE state = 'sending'), 'each claimed item is leased for outbox.lease');
SELECT is((SELECT count(*) FROM convo.outbox_claim(5)), 0::bigint, 'items being sent are not claimed again');
SELECT throws_ok($$SELECT * FROM convo.outbox_claim(0)$$, '22023', 'convo.outbox_claim: n must be between 1 and 10000, got ''0''', 'a bad n (as the inbox says it)');

SELECT convo.outbox_sent(:'c1', 'wamid.OUT-1', now()) AS m1 \gset
SELECT results_eq(format($$SELECT state, wamid, sent_at FROM convo.outbox WHERE outbox_id = %L$$, :'c1'),
    $$VALUES ('sent', 'wamid.OUT-1', now())$$, 'outbox_sent: sent, with the wamid');
SELECT results_eq(format($$SELECT conversation_id, direction, type, body, payload ->> 'biz_opaque_callback_data' FROM convo.messages WHERE message_id = %s$$, :m1),
    format($$VALUES (%L::uuid, 'out', 'text', 'uno', %L)$$, :open, :'c1'),
    'the message is recorded through record_outbound in the same transaction');
SELECT is((SELECT last_outbound_at FROM convo.conversations WHERE conversation_id = :open), now(), 'the conversation sees it at once');
SELECT is(convo.outbox_sent(:'c1', 'wamid.OUT-1', now()), :m1::bigint, 'the same report again: the same message');
SELECT throws_ok(format($$SELECT convo.outbox_sent(%L, 'wamid.X')$$, :'c3'), '55000',
    format('convo.outbox_sent: outbox item %s is queued, not sending', :'c3'), 'an item not claimed cannot be sent');
SELECT throws_ok($$SELECT convo.outbox_sent('00000000-0000-4000-8000-000000000000', 'wamid.X')$$, 'P0002',
    'convo.outbox_sent: unknown outbox item 00000000-0000-4000-8000-000000000000', 'an unknown item');

-- Failures and backoff --------------------------------------------------------------------------

SELECT is(convo.outbox_failed(:'c2', '131056', 'pair rate limit hit', true), 'queued', 'a retryable failure: queued again');
SELECT ok((SELECT next_attempt_at BETWEEN now() AND clock_timestamp() + interval '1 second' FROM convo.outbox WHERE outbox_id = :'c2'),
    'after attempt 1 the delay is at most outbox.backoff_base (full jitter)');
SELECT results_eq(format($$SELECT last_error_code, last_error FROM convo.outbox WHERE outbox_id = %L$$, :'c2'),
    $$VALUES ('131056', 'pair rate limit hit')$$, 'the code and error are kept');
UPDATE convo.outbox SET state = 'sending', attempts = 5 WHERE outbox_id = :'c2';
SELECT convo.outbox_failed(:'c2', '503', 'upstream', true);
SELECT ok((SELECT next_attempt_at <= clock_timestamp() + interval '16 seconds' FROM convo.outbox WHERE outbox_id = :'c2'),
    'after attempt 5 the delay is at most base * 2^4');
UPDATE convo.outbox SET state = 'sending' WHERE outbox_id = :'c2';
SELECT convo.outbox_failed(:'c2', '130429', 'throughput', true, interval '90 seconds');
SELECT ok((SELECT next_attempt_at >= now() + interval '90 seconds' FROM convo.outbox WHERE outbox_id = :'c2'),
    'retry_after is honoured even above the backoff');
UPDATE convo.outbox SET state = 'sending', attempts = 8 WHERE outbox_id = :'c2';
SELECT is(convo.outbox_failed(:'c2', '131000', 'boom', true), 'failed', 'out of attempts (outbox.max_attempts): failed');
SELECT is((SELECT last_error FROM convo.outbox WHERE outbox_id = :'c2'), 'boom (after 8 attempts)', 'saying after how many');
UPDATE convo.outbox SET state = 'sending', attempts = 1 WHERE outbox_id = :'c3';
SELECT is(convo.outbox_failed(:'c3', '131026', 'undeliverable', false), 'failed', 'a permanent failure: failed at once');
SELECT results_eq(format($$SELECT state, last_error_code FROM convo.outbox WHERE outbox_id = %L$$, :'c3'),
    $$VALUES ('failed', '131026')$$, 'with its code');
SELECT throws_ok(format($$SELECT convo.outbox_failed(%L, '1', 'x', true)$$, :'c3'), '55000',
    format('convo.outbox_failed: outbox item %s is failed, not sending', :'c3'), 'a failed item stays failed');

-- A lease that ends while sending: unknown, never claimed again ----------------------------------

SELECT (convo.send(:open, '{"text": {"body": "cuatro"}}') ->> 'outbox_id') AS c4 \gset
SELECT count(*) FROM convo.outbox_claim(1);
UPDATE convo.outbox SET next_attempt_at = now() - interval '1 second' WHERE outbox_id = :'c4';
SELECT is((SELECT count(*) FROM convo.outbox_claim(5)), 0::bigint, 'an item whose lease ended is not claimed again');
SELECT results_eq(format($$SELECT state, last_error_code FROM convo.outbox WHERE outbox_id = %L$$, :'c4'),
    $$VALUES ('unknown', 'lease_expired')$$, 'it is unknown: it may have been sent');
SELECT convo.outbox_sent(:'c4', 'wamid.OUT-4');
SELECT is((SELECT state FROM convo.outbox WHERE outbox_id = :'c4'), 'sent', 'a status with its outbox id resolves it to sent');

-- A status echoing the outbox id resolves an unknown item (ingest's transaction).
SELECT (convo.send(:open, '{"text": {"body": "cinco"}}') ->> 'outbox_id') AS c5 \gset
SELECT count(*) FROM convo.outbox_claim(1);
UPDATE convo.outbox SET next_attempt_at = now() - interval '1 second' WHERE outbox_id = :'c5';
SELECT convo.outbox_expire();
SELECT is(convo.ingest('whatsapp', format($j${"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages",
  "value": {"metadata": {"display_phone_number": "15550000041", "phone_number_id": "100000000000041"},
            "statuses": [{"id": "wamid.OUT-5", "status": "delivered", "timestamp": "%s", "recipient_id": "5491100000041",
                          "biz_opaque_callback_data": "%s"},
                         {"id": "wamid.OTHER", "status": "sent", "timestamp": "%s", "recipient_id": "5491100000041",
                          "biz_opaque_callback_data": "order-8841"}]}}]}]}$j$,
    extract(epoch FROM now())::bigint, :'c5', extract(epoch FROM now())::bigint)::jsonb) ->> 'statuses', '2',
    'ingest takes the statuses');
SELECT results_eq(format($$SELECT o.state, o.wamid, m.direction, m.status, m.body FROM convo.outbox o
                             JOIN convo.messages m ON m.account_id = o.account_id AND m.wamid = o.wamid WHERE o.outbox_id = %L$$, :'c5'),
    $$VALUES ('sent', 'wamid.OUT-5', 'out', 'delivered', 'cinco')$$,
    'a status carrying the outbox id resolves the unknown item: sent, and the message recorded with the status');
SELECT is(convo.outbox_sent(:'c5', 'wamid.OUT-5'), (SELECT message_id FROM convo.messages WHERE wamid = 'wamid.OUT-5'),
    'the worker''s late report finds it done');
SELECT is((SELECT count(*) FROM convo.messages WHERE wamid = 'wamid.OTHER'), 0::bigint, 'other callback data is left alone');

-- The window closed before an item went out: it waits again, once ---------------------------------

DELETE FROM convo.outbox;
SELECT (convo.send(:open, '{"text": {"body": "tarde"}}') ->> 'outbox_id') AS w1 \gset
UPDATE convo.conversations SET last_inbound_at = now() - interval '25 hours' WHERE conversation_id = :open;
SELECT is((SELECT count(*) FROM convo.outbox_claim(5)), 0::bigint, 'a free-form item whose window closed while it was queued is not handed out');
SELECT results_eq(format($$SELECT state, last_error_code, next_attempt_at FROM convo.outbox WHERE outbox_id = %L$$, :'w1'),
    $$VALUES ('awaiting_window', 'window_closed', now() + interval '24 hours')$$, 'it waits for the window again');
SELECT results_eq(format($$SELECT o.kind, o.state, o.body #>> '{template,name}', o.body ->> 'to'
                             FROM convo.outbox o JOIN convo.outbox w ON w.reengagement_outbox_id = o.outbox_id WHERE w.outbox_id = %L$$, :'w1'),
    $$VALUES ('template', 'queued', 'volvemos', '5491100000041')$$, 'with the re-engagement template queued to reopen it');
SELECT is((SELECT kind FROM convo.outbox_claim(5)), 'template', 'which the next claim hands out');
INSERT INTO convo.messages (account_id, conversation_id, wamid, direction, type, body, payload, sent_at)
VALUES ('a0000000-0000-4000-8000-000000000041', :open, 'wamid.IN-AGAIN', 'in', 'text', 'acá estoy', '{}', now());
SELECT is((SELECT outbox_id::text FROM convo.outbox_claim(5)), :'w1', 'the customer answers: the item goes out');
SELECT is(convo.outbox_failed(:'w1', '131047', 'Re-engagement message', false), 'failed',
    'a 131047 for an item that has waited once already: failed');
SELECT (convo.send(:open, '{"text": {"body": "otra vez"}}') ->> 'outbox_id') AS w2 \gset
SELECT count(*) FROM convo.outbox_claim(5);
SELECT is(convo.outbox_failed(:'w2', '63016', 'outside the window', false), 'awaiting_window',
    'a 131047 / 63016 for an item that never waited: it waits for the window, once');
SELECT is((SELECT count(*) FROM convo.outbox WHERE kind = 'template' AND state = 'queued'), 1::bigint,
    'with a new re-engagement template queued');

-- Row-level security and grants -----------------------------------------------------------------

CALL test.as_request('authenticated', '{"sub": "agent", "account_id": "a0000000-0000-4000-8000-000000000041"}', 'POST', '/rpc/send');
SELECT is(convo.send(:open, '{"text": {"body": "desde la app"}}') ->> 'kind', 'freeform', 'authenticated may send to its own account');
SELECT is(convo.send(:closed, '{"type": "template", "template": {"name": "promo", "language": {"code": "es_AR"}}}') ->> 'kind',
    'template', 'and a template');
SELECT throws_ok($$SELECT convo.send('f0000000-0000-4000-8000-000000000044', '{"text": {"body": "x"}}')$$, 'P0002',
    'convo.send: unknown conversation f0000000-0000-4000-8000-000000000044', 'another account''s conversation is unknown');
SELECT is((SELECT count(DISTINCT account_id) FROM convo.outbox), 1::bigint, 'it sees its own account''s items only');
SELECT throws_ok($$SELECT * FROM convo.outbox_claim(1)$$, '42501', NULL, 'authenticated cannot claim');
SELECT throws_ok(format($$SELECT convo.outbox_sent(%L, 'wamid.Y')$$, :'c3'), '42501', NULL, 'nor report a send');
SELECT throws_ok($$INSERT INTO convo.outbox (account_id, conversation_id, channel, kind, body)
                   VALUES ('a0000000-0000-4000-8000-000000000041', 'f0000000-0000-4000-8000-000000000042', 'whatsapp', 'text', '{"text": {"body": "x"}}')$$,
    '42501', NULL, 'nor queue a free-form message outside the window by hand');
SELECT throws_ok(format($$UPDATE convo.outbox SET state = 'queued' WHERE outbox_id = %L$$, :'c3'), '42501', NULL,
    'nor move an item''s state');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
