-- convo.inbox_process: claims inbox items and ingests each in its own subtransaction.
BEGIN;
SELECT plan(13);

SELECT convo.register_account('Inbox Shop', '6660001', '16660001') \gset
UPDATE convo.inbox SET state = 'done' WHERE state <> 'done';  -- only this test's items below

SELECT convo.inbox_put('whatsapp', '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"6660001"},"contacts":[{"wa_id":"5491166600001","profile":{"name":"In Box"}}],"messages":[{"from":"5491166600001","id":"wamid.IN1","timestamp":"1761742800","type":"text","text":{"body":"nul\u0000byte"}}]}}]}]}') AS good \gset
SELECT convo.inbox_put('whatsapp', '{"hello": "not a notification"}') AS notif \gset
SELECT convo.inbox_put('whatsapp', '{"object": "whatsapp_business_acc') AS truncated \gset
SELECT convo.inbox_put('twilio', 'MessageSid=SMin1&From=whatsapp%3A%2B5491166600002&To=whatsapp%3A%2B16660001&Body=hola&NumMedia=0') AS twilio \gset
SELECT convo.inbox_put('vapi', '{"message": {"type": "status-update"}}') AS vapi \gset

SELECT is(convo.inbox_process(10), '{"done": 2, "retry": 0, "dead": 3}', 'two ingested, three dead-lettered');
SELECT is((SELECT state FROM convo.inbox WHERE inbox_id = :good), 'done', 'the good body is done');
SELECT is((SELECT result ->> 'messages' FROM convo.inbox WHERE inbox_id = :good), '1', 'with the ingest result kept');
SELECT is((SELECT result ->> 'messages' FROM convo.inbox WHERE inbox_id = :twilio), '1', 'each done item with its own result');
SELECT ok((SELECT bool_and(processed_at >= received_at AND attempts = 1) FROM convo.inbox
            WHERE inbox_id IN (:good, :twilio)), 'done items carry their processing time and one attempt');
SELECT is((SELECT body FROM convo.messages WHERE wamid = 'wamid.IN1'), 'nulbyte', 'a body with \u0000 goes in, NUL dropped');
SELECT is((SELECT row(state, attempts)::text FROM convo.inbox WHERE inbox_id = :notif), '(dead,1)', 'not a notification: dead at the first attempt');
SELECT alike((SELECT last_error FROM convo.inbox WHERE inbox_id = :notif), '22023: convo.ingest: not a WhatsApp notification%', 'with the reason');
SELECT alike((SELECT last_error FROM convo.inbox WHERE inbox_id = :truncated), '22P02: convo: webhook body is not valid JSON%', 'truncated JSON: dead with the parse error');
SELECT is((SELECT state FROM convo.inbox WHERE inbox_id = :twilio), 'done', 'a Twilio form body is done');
SELECT is((SELECT state FROM convo.inbox WHERE inbox_id = :vapi), 'dead', 'vapi bodies are kept as dead until voice ingest exists');
SELECT is(convo.inbox_process(10), '{"done": 0, "retry": 0, "dead": 0}', 'nothing left to claim, nothing deleted');
SELECT is(current_setting('synchronous_commit'), 'off', 'the ingest transaction does not wait for its WAL flush (bodies are durable in the inbox)');
SELECT * FROM finish();
ROLLBACK;
