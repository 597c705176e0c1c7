-- Roles, grants and row-level security, seen the way PostgREST uses them: each request sets
-- the role and the JWT claims for its transaction, then calls the API.
BEGIN;
SELECT plan(70);

-- test.as_request (tests/sql/postgrest_request.sql) replays PostgREST's per-request settings.

-- Two accounts with one conversation each, written as the superuser. --------------------------

INSERT INTO convo.accounts (account_id, name, phone_number_id, display_phone_number) VALUES
    ('a0000000-0000-4000-8000-000000000006', 'Shop A', '100000000000006', '15550000006'),
    ('b0000000-0000-4000-8000-000000000006', 'Shop B', '200000000000006', '15550000060');
INSERT INTO convo.bot_profiles (account_id, name, is_default) VALUES
    ('a0000000-0000-4000-8000-000000000006', 'default', true),
    ('b0000000-0000-4000-8000-000000000006', 'default', true);
INSERT INTO convo.contacts (account_id, contact_id, wa_id, profile_name) VALUES
    ('a0000000-0000-4000-8000-000000000006', 'c0000000-0000-4000-8000-000000000061', '5491100000061', 'Ana'),
    ('b0000000-0000-4000-8000-000000000006', 'c0000000-0000-4000-8000-000000000062', '5491100000062', 'Beto');
INSERT INTO convo.conversations (account_id, conversation_id, contact_id) VALUES
    ('a0000000-0000-4000-8000-000000000006', 'f0000000-0000-4000-8000-000000000061', 'c0000000-0000-4000-8000-000000000061'),
    ('b0000000-0000-4000-8000-000000000006', 'f0000000-0000-4000-8000-000000000062', 'c0000000-0000-4000-8000-000000000062');
INSERT INTO convo.messages (account_id, conversation_id, wamid, direction, type, body, payload, sent_at) VALUES
    ('a0000000-0000-4000-8000-000000000006', 'f0000000-0000-4000-8000-000000000061', 'wamid.SEC-A-IN', 'in', 'text',
     'hola A', '{}', now() - interval '1 hour'),
    ('b0000000-0000-4000-8000-000000000006', 'f0000000-0000-4000-8000-000000000062', 'wamid.SEC-B-IN', 'in', 'text',
     'hola B', '{}', now() - interval '1 hour');
INSERT INTO convo.message_statuses (account_id, wamid, status, status_at, payload) VALUES
    ('a0000000-0000-4000-8000-000000000006', 'wamid.SEC-A-OUT0', 'sent', now(), '{}'),
    ('b0000000-0000-4000-8000-000000000006', 'wamid.SEC-B-OUT0', 'sent', now(), '{}');

-- The install script's defaults --------------------------------------------------------------

SELECT is_empty($$SELECT relname FROM pg_class
                   WHERE relnamespace = 'convo'::regnamespace AND relkind = 'r' AND NOT relrowsecurity$$,
    'every convo table has row-level security enabled');
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc p
                   WHERE p.pronamespace = 'convo'::regnamespace
                     AND (p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0))$$,
    'no convo function is executable by PUBLIC');
SELECT set_eq($$SELECT p.oid::regprocedure::text FROM pg_proc p
                 WHERE p.pronamespace = 'convo'::regnamespace AND has_function_privilege('authenticated', p.oid, 'EXECUTE')$$,
    ARRAY['convo.free_window(uuid,timestamp with time zone)', 'convo.can_send_freeform(uuid)',
          'convo.record_outbound(uuid,text,jsonb,timestamp with time zone)', 'convo.apply_waiting_statuses(uuid,text)', 'convo.current_account_id()',
          'convo.upsert_bot_profile(uuid,jsonb)', 'convo.upsert_product(uuid,jsonb)',
          'convo.product_search_text(text,jsonb)', 'convo.search_products(uuid,text,jsonb,numeric,boolean,integer)',
          'convo.json_schema_error(jsonb,jsonb,text)', 'convo.tool_definitions(text[])',
          'convo.open_cart(uuid,uuid)', 'convo.cart_summary(uuid,uuid)', 'convo.call_tool(uuid,text,jsonb)',
          'convo.limits()', 'convo.limit_value(text,text)', 'convo.effective_profile(uuid,uuid)', 'convo.no_bot_profile(uuid,text)',
          'convo.route_text(uuid,text,text,text[],text)',
          'convo.status_rank(text)', 'convo.phone_digits(text)', 'convo.outbound_body(jsonb)',
          'convo.normalize_text(text)', 'convo.greeting_phrases()', 'convo.phrase_alternation(jsonb,text)',
          'convo.question_key(text)', 'convo.trigram_similarity(text,text)', 'convo.trigram_count(text)',
          'convo.response_cache_lookup(uuid,text)', 'convo.cached_answer(uuid,text)',
          'convo.simple_intent_phrases()', 'convo.tool_words()', 'convo.route_model(uuid,text)',
          'convo.build_context(uuid,jsonb)', 'convo.send(uuid,jsonb,jsonb)', 'convo.outbox_kind(jsonb)',
          'convo.outbox_check_body(jsonb)', 'convo.outbox_replay(uuid,text,text)', 'convo.outbox_setting(text)',
          'convo.reengagement_template(uuid,uuid)'],
    'authenticated may execute exactly the API functions (send, not the outbox''s worker functions)');
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc p
                   WHERE p.pronamespace = 'convo'::regnamespace AND has_function_privilege('anon', p.oid, 'EXECUTE')$$,
    'anon may execute no convo function');
SELECT set_eq($$SELECT p.oid::regprocedure::text || ' ' || array_to_string(p.proconfig, ',') FROM pg_proc p
                 WHERE p.pronamespace = 'convo'::regnamespace AND p.prosecdef$$,
    ARRAY['convo.on_message_inserted() search_path=pg_catalog',
          'convo.touch_conversation_context() search_path=pg_catalog',
          'convo.touch_account_context() search_path=pg_catalog',
          'convo.outbox_setting(text) search_path=pg_catalog'],
    'the only SECURITY DEFINER functions are bookkeeping triggers and the outbox.* settings send reads, with search_path pinned: RLS applies inside every API function');

-- authenticated, account A -----------------------------------------------------------------

CALL test.as_request('authenticated', '{"sub": "user-a", "account_id": "a0000000-0000-4000-8000-000000000006"}');

SELECT is(current_user::text, 'authenticated', 'the request runs as authenticated');
SELECT is(convo.current_account_id(), 'a0000000-0000-4000-8000-000000000006'::uuid, 'for account A');
SELECT results_eq('SELECT account_id FROM convo.accounts', $$VALUES ('a0000000-0000-4000-8000-000000000006'::uuid)$$,
    'A sees its own account only');
SELECT results_eq('SELECT conversation_id FROM convo.conversations',
    $$VALUES ('f0000000-0000-4000-8000-000000000061'::uuid)$$, 'A sees its own conversation only');
SELECT results_eq('SELECT wamid FROM convo.messages', $$VALUES ('wamid.SEC-A-IN')$$, 'A sees its own messages only');
SELECT results_eq('SELECT profile_name FROM convo.contacts', $$VALUES ('Ana')$$, 'A sees its own contacts only');
SELECT results_eq('SELECT account_id FROM convo.bot_profiles', $$VALUES ('a0000000-0000-4000-8000-000000000006'::uuid)$$,
    'A sees its own bot profiles only');
SELECT results_eq('SELECT wamid FROM convo.message_statuses', $$VALUES ('wamid.SEC-A-OUT0')$$, 'A sees its own statuses only');
SELECT is_empty($$SELECT 1 FROM convo.conversations WHERE conversation_id = 'f0000000-0000-4000-8000-000000000062'$$,
    'B''s conversation is invisible even when asked for by id');

WITH changed AS (
    UPDATE convo.conversations SET needs_human = true, bot_enabled = false
     WHERE conversation_id = 'f0000000-0000-4000-8000-000000000062' RETURNING 1)
SELECT is(count(*), 0::bigint, 'updating B''s conversation changes no row') FROM changed;
WITH changed AS (
    UPDATE convo.messages SET status = 'read' WHERE account_id = 'b0000000-0000-4000-8000-000000000006' RETURNING 1)
SELECT is(count(*), 0::bigint, 'updating B''s messages changes no row') FROM changed;
WITH gone AS (DELETE FROM convo.contacts WHERE account_id = 'b0000000-0000-4000-8000-000000000006' RETURNING 1)
SELECT is(count(*), 0::bigint, 'deleting B''s contacts deletes no row') FROM gone;
SELECT throws_ok($$INSERT INTO convo.contacts (account_id, wa_id) VALUES ('b0000000-0000-4000-8000-000000000006', '5491100000069')$$,
    '42501', 'new row violates row-level security policy for table "contacts"', 'A cannot add a contact to B');
SELECT throws_ok($$INSERT INTO convo.messages (account_id, conversation_id, wamid, direction, type, payload, sent_at)
                   VALUES ('b0000000-0000-4000-8000-000000000006', 'f0000000-0000-4000-8000-000000000062', 'wamid.FORGED', 'out', 'text', '{}', now())$$,
    '42501', 'new row violates row-level security policy for table "messages"', 'A cannot add a message to B''s conversation');
SELECT throws_ok($$UPDATE convo.conversations SET account_id = 'b0000000-0000-4000-8000-000000000006'
                    WHERE conversation_id = 'f0000000-0000-4000-8000-000000000061'$$,
    '42501', 'permission denied for table conversations', 'A cannot move its conversation to B');
SELECT throws_ok($$INSERT INTO convo.conversations (account_id, contact_id)
                   VALUES ('a0000000-0000-4000-8000-000000000006', 'c0000000-0000-4000-8000-000000000062')$$,
    '42501', 'permission denied for table conversations', 'conversations are opened by ingest only, not by API callers');
-- The window must not be forgeable: only real inbound messages, written by ingest, open it.
SELECT throws_ok($$UPDATE convo.conversations SET last_inbound_at = now() WHERE conversation_id = 'f0000000-0000-4000-8000-000000000061'$$,
    '42501', 'permission denied for table conversations', 'A cannot open its own window by writing last_inbound_at');
SELECT throws_ok($$UPDATE convo.conversations SET entry_point_replied_at = now() WHERE conversation_id = 'f0000000-0000-4000-8000-000000000061'$$,
    '42501', 'permission denied for table conversations', 'nor forge an entry point window');
SELECT throws_ok($$INSERT INTO convo.messages (account_id, conversation_id, wamid, direction, type, payload, sent_at)
                   VALUES ('a0000000-0000-4000-8000-000000000006', 'f0000000-0000-4000-8000-000000000061', 'wamid.FAKE-IN', 'in', 'text', '{}', now())$$,
    '42501', 'new row violates row-level security policy "outbound_only" for table "messages"', 'nor insert an inbound message into its own conversation');
SELECT throws_ok($$UPDATE convo.messages SET body = 'edited' WHERE account_id = 'a0000000-0000-4000-8000-000000000006'$$,
    '42501', 'permission denied for table messages', 'message content is not editable through the API');
SELECT throws_ok($$UPDATE convo.accounts SET name = 'mine now'$$, '42501', 'permission denied for table accounts',
    'accounts are read-only for authenticated');
SELECT throws_ok($$INSERT INTO convo.accounts (name, phone_number_id, display_phone_number) VALUES ('x', '1', '1234567')$$,
    '42501', 'permission denied for table accounts', 'authenticated cannot create accounts');
SELECT throws_ok($$INSERT INTO convo.message_statuses (account_id, wamid, status, status_at, payload)
                   VALUES ('a0000000-0000-4000-8000-000000000006', 'wamid.X', 'read', now(), '{}')$$,
    '42501', 'permission denied for table message_statuses', 'statuses come from webhooks only');
SELECT throws_ok('SELECT * FROM convo.inbox', '42501', 'permission denied for table inbox', 'the inbox is not readable');
SELECT throws_ok('SELECT * FROM convo.unroutable', '42501', 'permission denied for table unroutable',
    'unroutable payloads (other accounts'' data) are not readable');
SELECT throws_ok('SELECT * FROM convo.settings', '42501', 'permission denied for table settings', 'settings are not readable');
WITH changed AS (
    UPDATE convo.conversations SET needs_human = true WHERE conversation_id = 'f0000000-0000-4000-8000-000000000061' RETURNING 1)
SELECT is(count(*), 1::bigint, 'A can update its own conversation') FROM changed;

SELECT throws_ok($$SELECT convo.free_window('f0000000-0000-4000-8000-000000000062')$$, 'P0002',
    'convo.free_window: unknown conversation f0000000-0000-4000-8000-000000000062',
    'free_window on B''s conversation: unknown');
SELECT throws_ok($$SELECT convo.can_send_freeform('f0000000-0000-4000-8000-000000000062')$$, 'P0002',
    'convo.can_send_freeform: unknown conversation f0000000-0000-4000-8000-000000000062',
    'can_send_freeform on B''s conversation: unknown');
SELECT throws_ok($$SELECT convo.record_outbound('f0000000-0000-4000-8000-000000000062', 'wamid.SEC-A-INTO-B',
                       '{"type": "text", "text": {"body": "hi"}}')$$, 'P0002',
    'convo.record_outbound: unknown conversation f0000000-0000-4000-8000-000000000062',
    'record_outbound on B''s conversation: unknown');
SELECT is((convo.free_window('f0000000-0000-4000-8000-000000000061') ->> 'open')::boolean, true,
    'free_window on A''s conversation works');
SELECT is(convo.can_send_freeform('f0000000-0000-4000-8000-000000000061'), true, 'can_send_freeform on A''s conversation works');
SELECT convo.record_outbound('f0000000-0000-4000-8000-000000000061', 'wamid.SEC-A-OUT1',
    '{"type": "text", "text": {"body": "respuesta"}}') AS out_a \gset
SELECT results_eq(format('SELECT account_id, direction, body FROM convo.messages WHERE message_id = %s', :out_a),
    $$VALUES ('a0000000-0000-4000-8000-000000000006'::uuid, 'out', 'respuesta')$$,
    'record_outbound on A''s conversation records the message in A');
SELECT is((SELECT last_outbound_at FROM convo.conversations WHERE conversation_id = 'f0000000-0000-4000-8000-000000000061'), now(),
    'its trigger updated A''s conversation under row-level security');

SELECT throws_ok($$SELECT convo.inbox_put('whatsapp', '{}')$$, '42501', 'permission denied for function inbox_put',
    'authenticated cannot call inbox_put');
SELECT throws_ok($$SELECT convo.register_account('Mine', '300000000000006', '15550000600')$$, '42501',
    'permission denied for function register_account', 'authenticated cannot call register_account');
SELECT throws_ok('SELECT * FROM convo.inbox_claim(1)', '42501', 'permission denied for function inbox_claim',
    'authenticated cannot call inbox_claim');
SELECT throws_ok('SELECT convo.inbox_done(1)', '42501', 'permission denied for function inbox_done',
    'authenticated cannot call inbox_done');
SELECT throws_ok($$SELECT convo.inbox_fail(1, 'x')$$, '42501', 'permission denied for function inbox_fail',
    'authenticated cannot call inbox_fail');
SELECT throws_ok('SELECT convo.inbox_process(1)', '42501', 'permission denied for function inbox_process',
    'authenticated cannot call inbox_process');
SELECT throws_ok('SELECT convo.inbox_stats()', '42501', 'permission denied for function inbox_stats',
    'authenticated cannot call inbox_stats');
SELECT throws_ok($$SELECT convo.setting('inbox.lease')$$, '42501', 'permission denied for function setting',
    'authenticated cannot call setting');

-- authenticated without a usable account claim ---------------------------------------------

CALL test.as_request('authenticated', '{"sub": "user-x"}');
SELECT is_empty('SELECT * FROM convo.conversations', 'authenticated without account_id sees no conversation');
SELECT throws_ok($$SELECT convo.free_window('f0000000-0000-4000-8000-000000000061')$$, 'P0002', NULL,
    'and no conversation exists for it');
CALL test.as_request('authenticated', $${"sub": "user-x", "account_id": "a0000000' OR true --"}$$);
SELECT is_empty('SELECT * FROM convo.messages', 'an account_id claim carrying SQL sees no message');
SELECT is_empty('SELECT * FROM convo.accounts', 'nor any account');

-- anon ---------------------------------------------------------------------------------------

CALL test.as_request('anon', '{}', 'GET', '/conversations');
SELECT is(current_user::text, 'anon', 'the request runs as anon');
SELECT throws_ok('SELECT * FROM convo.conversations', '42501', 'permission denied for table conversations',
    'anon cannot read conversations');
SELECT throws_ok('SELECT * FROM convo.messages', '42501', 'permission denied for table messages', 'anon cannot read messages');
SELECT throws_ok('SELECT * FROM convo.contacts', '42501', 'permission denied for table contacts', 'anon cannot read contacts');
SELECT throws_ok('SELECT * FROM convo.accounts', '42501', 'permission denied for table accounts', 'anon cannot read accounts');
SELECT throws_ok($$SELECT convo.free_window('f0000000-0000-4000-8000-000000000061')$$, '42501',
    'permission denied for function free_window', 'anon cannot call free_window');
SELECT throws_ok($$SELECT convo.can_send_freeform('f0000000-0000-4000-8000-000000000061')$$, '42501',
    'permission denied for function can_send_freeform', 'anon cannot call can_send_freeform');
SELECT throws_ok($$SELECT convo.record_outbound('f0000000-0000-4000-8000-000000000061', 'wamid.ANON', '{"type": "text"}')$$,
    '42501', 'permission denied for function record_outbound', 'anon cannot call record_outbound');
CALL test.as_request('anon', '{"account_id": "a0000000-0000-4000-8000-000000000006"}', 'GET', '/conversations');
SELECT throws_ok('SELECT * FROM convo.conversations', '42501', 'permission denied for table conversations',
    'anon with an account_id claim still cannot read');

-- service_role -------------------------------------------------------------------------------

CALL test.as_request('service_role', '{}');
SELECT is(current_user::text, 'service_role', 'the request runs as service_role');
SELECT set_eq($$SELECT account_id FROM convo.accounts
                 WHERE account_id IN ('a0000000-0000-4000-8000-000000000006', 'b0000000-0000-4000-8000-000000000006')$$,
    $$VALUES ('a0000000-0000-4000-8000-000000000006'::uuid), ('b0000000-0000-4000-8000-000000000006'::uuid)$$,
    'service_role sees both accounts');
SELECT set_eq($$SELECT wamid FROM convo.messages WHERE wamid LIKE 'wamid.SEC-%'$$,
    ARRAY['wamid.SEC-A-IN', 'wamid.SEC-B-IN', 'wamid.SEC-A-OUT1'], 'and the messages of both');
SELECT is((convo.free_window('f0000000-0000-4000-8000-000000000062') ->> 'open')::boolean, true,
    'service_role can read B''s window');
SELECT ok(convo.inbox_put('whatsapp', '{}') > 0, 'service_role can call inbox_put');
SELECT isnt(convo.register_account('Shop C', '300000000000006', '15550000600'), NULL, 'service_role can call register_account');

-- Back to the superuser: what the requests above changed ------------------------------------

RESET ROLE;
SELECT is(current_user::text, session_user::text, 'RESET ROLE returns to the session user');
SELECT results_eq($$SELECT needs_human, bot_enabled FROM convo.conversations WHERE conversation_id = 'f0000000-0000-4000-8000-000000000062'$$,
    $$VALUES (false, true)$$, 'B''s conversation is as it was');
SELECT results_eq($$SELECT count(*), min(body) FROM convo.messages WHERE account_id = 'b0000000-0000-4000-8000-000000000006'$$,
    $$VALUES (1::bigint, 'hola B')$$, 'B''s messages are as they were');
SELECT is((SELECT needs_human FROM convo.conversations WHERE conversation_id = 'f0000000-0000-4000-8000-000000000061'), true,
    'A''s own change was kept');

SELECT * FROM finish();
ROLLBACK;
