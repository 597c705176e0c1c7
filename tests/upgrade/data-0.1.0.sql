-- Data written through the 0.1.0 API before the upgrade test runs ALTER EXTENSION convo
-- UPDATE: a little of every kind of row (accounts, profiles, products, contacts,
-- conversations, messages and statuses, carts, orders, cached contexts and answers, inbox
-- items, cache entries, a tuned setting). Written for 0.1.0 and never changed: a later
-- release's API may differ, the data of a 0.1.0 database does not.
\set ON_ERROR_STOP 1

SELECT convo.register_account('Upgrade Shop', '7100200300', '+1 555 710 0200', 'waba-upgrade') AS account \gset
SELECT convo.upsert_bot_profile(:'account', '{"name": "sales", "history_length": 8, "token_budget": 2000,
    "steps": [{"name": "greet", "instruction": "Say hello."}, {"name": "size", "instruction": "Ask the size."}],
    "business_info": {"hours": "9 to 18", "address": "1 Quay Street"}}');
SELECT convo.upsert_product(:'account', '{"sku": "UP-1", "name": "Zapatilla Niño Ñandú (talla única, edición limitada)", "price": 42.5, "stock": 9, "attributes": {"color": "azul"}}');
SELECT convo.upsert_product(:'account', '{"sku": "UP-2", "name": "Plain Tee", "price": 10, "stock": 100}');

-- Two customers by webhook: one from an ad (entry point), one through Twilio.
SELECT convo.ingest('whatsapp', format($json$
{"object": "whatsapp_business_account", "entry": [{"id": "waba-upgrade", "changes": [{"field": "messages", "value": {
  "messaging_product": "whatsapp",
  "metadata": {"display_phone_number": "15557100200", "phone_number_id": "7100200300"},
  "contacts": [{"profile": {"name": "Ana"}, "wa_id": "5491100000001", "user_id": "AR.upgrade0001"}],
  "messages": [
    {"from": "5491100000001", "id": "wamid.UP.in.1", "timestamp": "%1$s", "type": "text",
     "text": {"body": "Hola, ¿tienen la zapatilla en azul?"},
     "referral": {"source_type": "ad", "source_id": "1", "source_url": "https://fb.me/x", "ctwa_clid": "c1"}},
    {"from": "5491100000001", "id": "wamid.UP.in.2", "timestamp": "%1$s", "type": "image",
     "image": {"id": "media-1", "mime_type": "image/jpeg", "sha256": "abc=", "caption": "esta"}}]}}]}]}
$json$, extract(epoch FROM now() - interval '1 hour')::bigint)::jsonb);
SELECT convo.ingest_body('twilio',
    'MessageSid=SMupgrade0001&From=whatsapp%3A%2B5491100000002&To=whatsapp%3A%2B15557100200&Body=Hi+there&NumMedia=0&ProfileName=Bo&WaId=5491100000002');

SELECT conversation_id AS ana FROM convo.conversations c JOIN convo.contacts k USING (account_id, contact_id)
 WHERE k.wa_id = '5491100000001' \gset

SELECT convo.record_outbound(:'ana', 'wamid.UP.out.1',
    '{"messaging_product": "whatsapp", "to": "5491100000001", "type": "text", "text": {"body": "¡Sí! Talla?"}}',
    now() - interval '50 minutes');
SELECT convo.ingest('whatsapp', format($json$
{"object": "whatsapp_business_account", "entry": [{"id": "waba-upgrade", "changes": [{"field": "messages", "value": {
  "messaging_product": "whatsapp",
  "metadata": {"display_phone_number": "15557100200", "phone_number_id": "7100200300"},
  "statuses": [{"id": "wamid.UP.out.1", "status": "delivered", "timestamp": "%1$s", "recipient_id": "5491100000001"},
               {"id": "wamid.UP.out.1", "status": "read", "timestamp": "%1$s", "recipient_id": "5491100000001"}]}}]}]}
$json$, extract(epoch FROM now() - interval '49 minutes')::bigint)::jsonb);

-- A cart through the tools, an order, a step.
SELECT convo.call_tool(:'ana', 'add_to_cart', jsonb_build_object('product_id',
    (SELECT product_id FROM convo.products WHERE sku = 'UP-1'), 'quantity', 2));
SELECT convo.call_tool(:'ana', 'update_progress', '{"step": "size"}');
INSERT INTO convo.orders (account_id, contact_id, status, total, currency)
SELECT account_id, contact_id, 'placed', 85.00, 'USD' FROM convo.conversations WHERE conversation_id = :'ana';

-- Cached answers, a cached context, cache entries, inbox items in every state, a tuned setting.
SELECT convo.put_cached_answer(:'account', '¿A qué hora abren?', 'De 9 a 18.');
SELECT convo.build_context(:'ana');
SELECT convo.cache_put('response', 'k1', '{"v": 1}', interval '1 hour');
SELECT convo.inbox_put('whatsapp', '{"object": "whatsapp_business_account", "entry": []}');
SELECT convo.inbox_put('whatsapp', 'not json');
SELECT convo.inbox_process(10);
SELECT convo.inbox_put('twilio', 'MessageSid=SMupgrade0002&From=whatsapp%3A%2B5491100000002&To=whatsapp%3A%2B15557100200&Body=later');
UPDATE convo.settings SET value = '7' WHERE name = 'inbox.max_attempts';
