-- Data for the backup test (tests/scenarios/backup.sh), written through the current API on top
-- of scripts/demo-data.sql: a row in every table pg_dump should keep, rows in the caches it
-- should not, and a user's changes to every kind of reference row. Each statement commits on
-- its own (the inbox is archived by processed_at, which must be in the past).
\set ON_ERROR_STOP 1

SELECT account_id AS account FROM convo.accounts WHERE phone_number_id = '100200300400' \gset
SELECT c.conversation_id AS lucia FROM convo.conversations c JOIN convo.contacts k USING (account_id, contact_id)
 WHERE c.account_id = :'account' AND k.wa_id = '15550142871' \gset

-- A second account, with its own profile and customer.
SELECT convo.register_account('Backup Bakery', '100200300500', '+1 555 010 0500', 'waba-bakery') AS bakery \gset
SELECT convo.ingest('whatsapp', format($json$
{"object": "whatsapp_business_account", "entry": [{"id": "waba-bakery", "changes": [{"field": "messages", "value": {
  "messaging_product": "whatsapp",
  "metadata": {"display_phone_number": "15550100500", "phone_number_id": "100200300500"},
  "contacts": [{"profile": {"name": "Noor"}, "wa_id": "15550177001"}],
  "messages": [{"from": "15550177001", "id": "wamid.BACKUP.in.1", "timestamp": "%s", "type": "text",
                "text": {"body": "Do you have rye bread today?"},
                "referral": {"source_type": "ad", "source_id": "9", "source_url": "https://fb.me/b", "ctwa_clid": "b1"}}]}}]}]}
$json$, extract(epoch FROM now() - interval '2 hours')::bigint)::jsonb);

-- What ingest keeps aside: an unroutable payload, an unknown status, an SMS.
SELECT convo.ingest('whatsapp', '{"object": "whatsapp_business_account", "entry": [{"id": "x", "changes": [{"field": "messages",
  "value": {"metadata": {"display_phone_number": "15550109999", "phone_number_id": "999000999"},
            "messages": [{"from": "15550177002", "id": "wamid.BACKUP.lost", "timestamp": "1761742800", "type": "text", "text": {"body": "?"}}]}}]}]}');
SELECT convo.ingest('whatsapp', '{"object": "whatsapp_business_account", "entry": [{"id": "waba-bakery", "changes": [{"field": "messages",
  "value": {"metadata": {"display_phone_number": "15550100500", "phone_number_id": "100200300500"},
            "statuses": [{"id": "wamid.BACKUP.out.x", "status": "teleported", "timestamp": "1761742800", "recipient_id": "15550177001"}]}}]}]}');
SELECT convo.ingest('twilio', '{"MessageSid": "SMBACKUP1", "From": "+15550177003", "To": "+15550100500", "Body": "sms", "NumMedia": "0"}');

-- Cached answers and their hits; the context cache and the key/value cache (not dumped).
SELECT convo.put_cached_answer(:'account', '¿Cuál es el horario?', 'De lunes a viernes, de 9 a 18 h.');
SELECT convo.cached_answer(:'lucia', 'Hola! cual es su horario?');
SELECT convo.build_context(:'lucia');
SELECT convo.cache_put('media', 'm1', '{"url": "https://example.com/m1"}');
SELECT convo.cache_get('media', 'm1');
SELECT convo.cache_flush_counts();

-- A cart, an order, a template.
SELECT convo.call_tool(:'lucia', 'add_to_cart', jsonb_build_object('product_id',
    (SELECT product_id FROM convo.products WHERE account_id = :'account' AND sku = 'TS-BSC-WHT'), 'quantity', 2));
INSERT INTO convo.orders (account_id, contact_id, status, total, currency, items)
SELECT account_id, contact_id, 'placed', 39.80, 'USD', '[{"sku": "TS-BSC-WHT", "quantity": 2}]'
  FROM convo.conversations WHERE conversation_id = :'lucia';
INSERT INTO convo.templates (account_id, name, language, category, components)
VALUES (:'account', 'order_ready', 'en_US', 'utility', '[{"type": "BODY", "text": "Your order is ready."}]');

-- The outbox: a message queued inside the window, one sent (recorded as a message).
SELECT convo.send(:'lucia', '{"type": "text", "text": {"body": "Your order is on its way."}}', '{"idempotency_key": "backup-1"}');
SELECT convo.send(:'lucia', '{"type": "template", "template": {"name": "order_ready", "language": {"code": "en_US"}}}');
SELECT convo.outbox_sent(o.outbox_id, 'wamid.BACKUP.outbox.1') FROM convo.outbox_claim(1) o;

-- Inbox items done and dead, archived; one pending, left for the restored database.
SELECT convo.inbox_put('whatsapp', '{"object": "whatsapp_business_account", "entry": []}');
SELECT convo.inbox_put('whatsapp', 'not json');
SELECT convo.inbox_process(10);
SELECT convo.archive_inbox(interval '0');
SELECT convo.inbox_put('twilio', 'MessageSid=SMBACKUP2&From=whatsapp%3A%2B15550177001&To=whatsapp%3A%2B15550100500&Body=still+there%3F&WaId=15550177001');
-- Ids taken by a transaction that rolled back: the sequences run ahead of the rows.
BEGIN;
SELECT convo.inbox_put('whatsapp', '{"rolled": "back"}');
ROLLBACK;

-- A user's changes to reference rows: tuned settings, an added and a changed cache namespace,
-- an added managed index.
UPDATE convo.settings SET value = '7' WHERE name = 'inbox.max_attempts';
UPDATE convo.settings SET value = '0.8' WHERE name = 'response_cache.similarity';
INSERT INTO convo.cache_namespaces VALUES ('geo', '3 minutes', 'geocoding lookups');
UPDATE convo.cache_namespaces SET default_ttl = '2 hours' WHERE namespace = 'media';
INSERT INTO convo.managed_indexes (index_name, table_name, definition, reason)
VALUES ('messages_status_at', 'messages', '(account_id, status_at)', 'delivery reports by time');
SELECT * FROM convo.ensure_indexes();
