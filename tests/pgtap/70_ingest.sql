-- convo.ingest / convo.ingest_body: WhatsApp Cloud API and Twilio payloads become rows.
BEGIN;
SELECT plan(72);

CREATE SCHEMA t;
-- A Cloud API notification with one change for phone_number_id pnid.
CREATE FUNCTION t.wa(messages jsonb, statuses jsonb DEFAULT NULL, pnid text DEFAULT '5550001',
                     contacts jsonb DEFAULT '[]') RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('object', 'whatsapp_business_account', 'entry', jsonb_build_array(
        jsonb_build_object('id', 'waba1', 'changes', jsonb_build_array(jsonb_build_object(
            'field', 'messages',
            'value', jsonb_strip_nulls(jsonb_build_object(
                'messaging_product', 'whatsapp',
                'metadata', jsonb_build_object('display_phone_number', '15550001', 'phone_number_id', pnid),
                'contacts', contacts, 'messages', messages, 'statuses', statuses)))))))
$$;
-- One inbound message from wa_id `from` with the given type and content.
CREATE FUNCTION t.msg(wamid text, type text, content jsonb, ts bigint DEFAULT 1761742800,
                      "from" text DEFAULT '5491100000001') RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('from', "from", 'id', wamid, 'timestamp', ts::text, 'type', type, type, content)
$$;
CREATE FUNCTION t.conv_of(wa text) RETURNS uuid LANGUAGE sql AS $$
    SELECT c.conversation_id FROM convo.conversations c JOIN convo.contacts k USING (account_id, contact_id)
     WHERE k.wa_id = wa
$$;

SELECT convo.register_account('Ingest Shop', '5550001', '15550001') AS account \gset
SELECT convo.register_account('Other Shop', '5550002', '15550002') AS other \gset

-- 1. A text message: contact, conversation and message rows, and the reply list.
SELECT convo.ingest('whatsapp', t.wa(jsonb_build_array(t.msg('wamid.T1', 'text', '{"body": "Hola"}')),
                                     contacts => '[{"profile": {"name": "Ana"}, "wa_id": "5491100000001"}]')) AS r1 \gset
SELECT is((:'r1'::jsonb) - 'conversations',
          '{"messages": 1, "duplicates": 0, "statuses": 0, "unroutable": 0, "ignored": 0,
            "echoes": 0, "edits": 0, "revokes": 0, "flagged": 0, "groups": 0, "errors": 0}', 'one message inserted');
SELECT is(jsonb_array_length(:'r1'::jsonb -> 'conversations'), 1, 'its conversation awaits a reply');
SELECT is((:'r1'::jsonb ->> 'conversations')::jsonb ->> 0, t.conv_of('5491100000001')::text, 'the conversation listed is the contact''s');
SELECT is((SELECT profile_name FROM convo.contacts WHERE wa_id = '5491100000001'), 'Ana', 'profile name stored');
SELECT is((SELECT row(direction, type, body, sent_at)::text FROM convo.messages WHERE wamid = 'wamid.T1'),
          row('in', 'text', 'Hola', '2025-10-29 13:00:00+00'::timestamptz)::text, 'message row: direction, type, body, payload timestamp');
SELECT is((SELECT payload ->> 'id' FROM convo.messages WHERE wamid = 'wamid.T1'), 'wamid.T1', 'full message object kept');
SELECT is((SELECT account_id FROM convo.messages WHERE wamid = 'wamid.T1'), :'account'::uuid, 'routed by phone_number_id');

-- 2. The same payload again: a duplicate, not an error, nothing new.
SELECT is(convo.ingest('whatsapp', t.wa(jsonb_build_array(t.msg('wamid.T1', 'text', '{"body": "Hola"}')))) - 'conversations',
          '{"messages": 0, "duplicates": 1, "statuses": 0, "unroutable": 0, "ignored": 0,
            "echoes": 0, "edits": 0, "revokes": 0, "flagged": 0, "groups": 0, "errors": 0}', 'second ingest counts a duplicate');
SELECT is(convo.ingest('whatsapp', t.wa(jsonb_build_array(t.msg('wamid.T1', 'text', '{"body": "Hola"}')))) -> 'conversations',
          '[]', 'a duplicate awaits no reply');
SELECT is((SELECT count(*) FROM convo.messages WHERE wamid = 'wamid.T1'), 1::bigint, 'one row for the wamid');
SELECT is((SELECT unread_count FROM convo.conversations WHERE conversation_id = t.conv_of('5491100000001')), 1, 'duplicates do not count as unread');

-- 3. Every message type keeps its content and a readable body.
SELECT convo.ingest('whatsapp', t.wa(jsonb_build_array(
    t.msg('wamid.img', 'image', '{"id": "m-img", "mime_type": "image/jpeg", "sha256": "abc=", "caption": "Recibo"}', 1761742801),
    t.msg('wamid.aud', 'audio', '{"id": "m-aud", "mime_type": "audio/ogg; codecs=opus", "sha256": "def=", "voice": true}', 1761742802),
    t.msg('wamid.vid', 'video', '{"id": "m-vid", "mime_type": "video/mp4", "sha256": "ghi="}', 1761742803),
    t.msg('wamid.doc', 'document', '{"id": "m-doc", "mime_type": "application/pdf", "sha256": "jkl=", "filename": "a.pdf", "caption": "Factura"}', 1761742804),
    t.msg('wamid.stk', 'sticker', '{"id": "m-stk", "mime_type": "image/webp", "sha256": "mno=", "animated": false}', 1761742805),
    t.msg('wamid.loc', 'location', '{"latitude": -34.6, "longitude": -58.4, "name": "Oficina", "address": "Calle 1"}', 1761742806),
    t.msg('wamid.btn', 'button', '{"text": "Confirmar", "payload": "confirm:1"}', 1761742807),
    t.msg('wamid.ibr', 'interactive', '{"type": "button_reply", "button_reply": {"id": "b1", "title": "Domingo 10:00"}}', 1761742808),
    t.msg('wamid.ilr', 'interactive', '{"type": "list_reply", "list_reply": {"id": "l1", "title": "Talle M", "description": "x"}}', 1761742809),
    t.msg('wamid.rea', 'reaction', '{"message_id": "wamid.T1", "emoji": "👍"}', 1761742810),
    t.msg('wamid.uns', 'unsupported', '{"type": "poll"}', 1761742811),
    jsonb_build_object('from', '5491100000001', 'id', 'wamid.con', 'timestamp', '1761742812', 'type', 'contacts',
                       'contacts', '[{"name": {"formatted_name": "Juan Perez"}, "phones": [{"phone": "+1 555"}]}]'::jsonb)
))) ->> 'messages' AS n \gset
SELECT is(:'n'::int, 12, 'twelve messages of twelve types inserted');
SELECT results_eq($$SELECT type, body, media_id, media_mime FROM convo.messages
                    WHERE wamid IN ('wamid.img','wamid.aud','wamid.vid','wamid.doc','wamid.stk') ORDER BY sent_at$$,
                  $$VALUES ('image', 'Recibo', 'm-img', 'image/jpeg'), ('audio', NULL, 'm-aud', 'audio/ogg; codecs=opus'),
                           ('video', NULL, 'm-vid', 'video/mp4'), ('document', 'Factura', 'm-doc', 'application/pdf'),
                           ('sticker', NULL, 'm-stk', 'image/webp')$$,
                  'media messages keep id, mime type and caption');
SELECT is((SELECT media_sha256 FROM convo.messages WHERE wamid = 'wamid.img'), 'abc=', 'media sha256 kept');
SELECT is((SELECT body FROM convo.messages WHERE wamid = 'wamid.loc'), 'Oficina, Calle 1', 'location: name and address');
SELECT is((SELECT body FROM convo.messages WHERE wamid = 'wamid.btn'), 'Confirmar', 'template button: its text');
SELECT is((SELECT body FROM convo.messages WHERE wamid = 'wamid.ibr'), 'Domingo 10:00', 'button reply: its title');
SELECT is((SELECT body FROM convo.messages WHERE wamid = 'wamid.ilr'), 'Talle M', 'list reply: its title');
SELECT is((SELECT body FROM convo.messages WHERE wamid = 'wamid.rea'), '👍', 'reaction: the emoji');
SELECT is((SELECT row(type, body)::text FROM convo.messages WHERE wamid = 'wamid.uns'), '(unsupported,)', 'unsupported kept, no body');
SELECT is((SELECT body FROM convo.messages WHERE wamid = 'wamid.con'), 'Juan Perez', 'shared contacts: their names');
SELECT is((SELECT payload #>> '{location,latitude}' FROM convo.messages WHERE wamid = 'wamid.loc'), '-34.6', 'original object kept whole');

-- 4. A reply with context, a referral (entry point), a reaction awaits no reply.
SELECT convo.ingest('whatsapp', t.wa(jsonb_build_array(
    t.msg('wamid.ctx', 'text', '{"body": "sí"}', 1761742900) || '{"context": {"from": "15550001", "id": "wamid.OUT9"}}',
    t.msg('wamid.ref', 'text', '{"body": "Vi el anuncio"}', 1761742901, '5491100000002')
        || '{"referral": {"source_url": "https://fb.me/x", "source_id": "ad-7", "source_type": "ad", "ctwa_clid": "c1"}}'
))) AS r4 \gset
SELECT is((SELECT reply_to_wamid FROM convo.messages WHERE wamid = 'wamid.ctx'), 'wamid.OUT9', 'reply context kept');
SELECT is((SELECT row(entry_point_source, entry_point_at)::text FROM convo.conversations WHERE conversation_id = t.conv_of('5491100000002')),
          row('ad', '2025-10-29 13:01:41+00'::timestamptz)::text, 'referral starts the entry point');
SELECT is(jsonb_array_length(:'r4'::jsonb -> 'conversations'), 2, 'both conversations await a reply');
SELECT is(convo.ingest('whatsapp', t.wa(jsonb_build_array(t.msg('wamid.rea2', 'reaction', '{"message_id": "x", "emoji": "❤"}', 1761742950))))
          -> 'conversations', '[]', 'a reaction awaits no reply');

-- 5. Many entries and changes in one payload: every one is read, not only [0].
SELECT is(convo.ingest('whatsapp', jsonb_build_object('object', 'whatsapp_business_account', 'entry', jsonb_build_array(
    t.wa(jsonb_build_array(t.msg('wamid.M1', 'text', '{"body": "1"}', 1761743000, '5491100000011'))) -> 'entry' -> 0,
    jsonb_build_object('id', 'waba1', 'changes', jsonb_build_array(
        t.wa(jsonb_build_array(t.msg('wamid.M2', 'text', '{"body": "2"}', 1761743001, '5491100000012'),
                               t.msg('wamid.M3', 'text', '{"body": "3"}', 1761743002, '5491100000013'))) #> '{entry,0,changes,0}',
        '{"field": "account_update", "value": {"event": "x"}}'::jsonb,
        t.wa(jsonb_build_array(t.msg('wamid.M4', 'text', '{"body": "4"}', 1761743003, '5491100000014')), pnid => '5550002') #> '{entry,0,changes,0}'))
))) - 'conversations',
    '{"messages": 4, "duplicates": 0, "statuses": 0, "unroutable": 0, "ignored": 1,
            "echoes": 0, "edits": 0, "revokes": 0, "flagged": 0, "groups": 0, "errors": 0}', 'two entries, four changes: all messages, other fields ignored');
SELECT is((SELECT account_id FROM convo.messages WHERE wamid = 'wamid.M4'), :'other'::uuid, 'each change routed to its own account');

-- 6. Unknown phone_number_id: kept in convo.unroutable with the reason.
SELECT is(convo.ingest('whatsapp', t.wa(jsonb_build_array(t.msg('wamid.U1', 'text', '{"body": "?"}')), pnid => '9990001')) ->> 'unroutable',
          '1', 'unknown phone_number_id counted as unroutable');
SELECT is((SELECT row(source, address, reason)::text FROM convo.unroutable WHERE address = '9990001'),
          row('whatsapp', '9990001', 'no account has phone_number_id 9990001')::text, 'unroutable payload kept with its reason');
SELECT is((SELECT payload #>> '{messages,0,id}' FROM convo.unroutable WHERE address = '9990001'), 'wamid.U1', 'unroutable payload kept whole');
SELECT is((SELECT count(*) FROM convo.messages WHERE wamid = 'wamid.U1'), 0::bigint, 'no message row for it');
SELECT is(convo.ingest('whatsapp', t.wa(jsonb_build_array(t.msg('wamid.U1', 'text', '{"body": "?"}')), pnid => '9990001')) - 'conversations',
          '{"messages": 0, "duplicates": 1, "statuses": 0, "unroutable": 0, "ignored": 0,
            "echoes": 0, "edits": 0, "revokes": 0, "flagged": 0, "groups": 0, "errors": 0}', 'the same unroutable payload again: a duplicate');
SELECT is((SELECT count(*) FROM convo.unroutable WHERE address = '9990001'), 1::bigint, 'kept once');
SELECT is(convo.ingest('whatsapp', t.wa(jsonb_build_array(t.msg('wamid.U2', 'text', '{"body": "?"}')), pnid => '9990001')) ->> 'unroutable',
          '1', 'another payload for the same number is kept too');
SELECT is((convo.ingest_body('twilio', 'MessageSid=SMu1&From=whatsapp%3A%2B5491177777777&To=whatsapp%3A%2B19990001&Body=x')
           || convo.ingest_body('twilio', 'MessageSid=SMu1&From=whatsapp%3A%2B5491177777777&To=whatsapp%3A%2B19990001&Body=x'))
          -> 'duplicates', '1', 'a twilio webhook for an unknown number twice: kept once');

-- 7. Statuses: applied monotonically, failed keeps its error code, duplicates counted.
SELECT convo.record_outbound(t.conv_of('5491100000001'), 'wamid.O1', '{"type": "text", "text": {"body": "Hola!"}}', '2025-10-29 13:10:00+00');
SELECT convo.record_outbound(t.conv_of('5491100000001'), 'wamid.O2', '{"type": "text", "text": {"body": "?"}}', '2025-10-29 13:11:00+00');
SELECT is(convo.ingest('whatsapp', t.wa(NULL, '[{"id": "wamid.O1", "status": "read", "timestamp": "1761743500"},
                                               {"id": "wamid.O1", "status": "delivered", "timestamp": "1761743400"}]')) ->> 'statuses',
          '2', 'two status events recorded');
SELECT is((SELECT status FROM convo.messages WHERE wamid = 'wamid.O1'), 'read', 'a late delivered does not overwrite read');
SELECT is((SELECT status_at FROM convo.messages WHERE wamid = 'wamid.O1'), '2025-10-29 13:11:40+00'::timestamptz, 'status time of the read');
SELECT is(convo.ingest('whatsapp', t.wa(NULL, '[{"id": "wamid.O1", "status": "read", "timestamp": "1761743500"}]')) ->> 'duplicates',
          '1', 'the same status again is a duplicate');
SELECT convo.ingest('whatsapp', t.wa(NULL, '[{"id": "wamid.O2", "status": "failed", "timestamp": "1761743600",
    "errors": [{"code": 131047, "title": "Re-engagement message"}]}]'));
SELECT is((SELECT row(status, error_code)::text FROM convo.messages WHERE wamid = 'wamid.O2'), '(failed,131047)', 'failed stores the error code');
SELECT is((SELECT error -> 0 ->> 'title' FROM convo.messages WHERE wamid = 'wamid.O2'), 'Re-engagement message', 'and the error object');
-- A status for a message not recorded yet waits; record_outbound applies it.
SELECT convo.ingest('whatsapp', t.wa(NULL, '[{"id": "wamid.O3", "status": "delivered", "timestamp": "1761743700"}]'));
SELECT convo.record_outbound(t.conv_of('5491100000001'), 'wamid.O3', '{"type": "text", "text": {"body": "late"}}');
SELECT is((SELECT status FROM convo.messages WHERE wamid = 'wamid.O3'), 'delivered', 'an early status is applied when the message is recorded');
-- Early deleted and warning events wait too; they mark the message without moving its status.
SELECT convo.ingest('whatsapp', t.wa(NULL, '[{"id": "wamid.O4", "status": "warning", "timestamp": "1761743800"},
                                            {"id": "wamid.O4", "status": "deleted", "timestamp": "1761743900"}]'));
SELECT convo.record_outbound(t.conv_of('5491100000001'), 'wamid.O4', '{"type": "text", "text": {"body": "gone"}}', '2025-10-29 13:20:00+00');
SELECT is((SELECT row(status, deleted_at)::text FROM convo.messages WHERE wamid = 'wamid.O4'),
          row('accepted', '2025-10-29 13:18:20+00'::timestamptz)::text, 'early deleted and warning: deleted_at set, status untouched');

-- 8. Identities: BSUID-only senders, a phone learnt later, system re-keys.
SELECT convo.ingest('whatsapp', t.wa(jsonb_build_array(
    jsonb_build_object('from_user_id', 'US.1001', 'id', 'wamid.B1', 'timestamp', '1761744000', 'type', 'text', 'text', '{"body": "sin número"}'::jsonb)),
    contacts => '[{"profile": {"name": "Username User", "username": "@uu"}, "user_id": "US.1001"}]'));
SELECT is((SELECT row(wa_id, profile_name, username)::text FROM convo.contacts WHERE user_id = 'US.1001'),
          '(,"Username User",@uu)', 'a sender without phone number is keyed by BSUID');
SELECT convo.ingest('whatsapp', t.wa(jsonb_build_array(t.msg('wamid.B2', 'text', '{"body": "x"}', 1761744100, '5491100000001')
    || '{"from_user_id": "AR.5001"}')));
SELECT is((SELECT user_id FROM convo.contacts WHERE wa_id = '5491100000001'), 'AR.5001', 'a BSUID learnt later joins the phone contact');
SELECT is((SELECT count(*) FROM convo.contacts WHERE account_id = :'account' AND (wa_id = '5491100000001' OR user_id = 'AR.5001')),
          1::bigint, 'still one contact');
SELECT convo.ingest('whatsapp', t.wa(jsonb_build_array(
    jsonb_build_object('from', '5491100000001', 'from_user_id', 'AR.5001', 'id', 'wamid.S1', 'timestamp', '1761744200', 'type', 'system',
                       'system', '{"body": "User changed", "type": "user_changed_user_id", "user_id": "AR.5002"}'::jsonb))));
SELECT is((SELECT user_id FROM convo.contacts WHERE wa_id = '5491100000001'), 'AR.5002', 'user_changed_user_id re-keys the contact');
SELECT convo.ingest('whatsapp', t.wa(jsonb_build_array(
    jsonb_build_object('from', '5491100000001', 'id', 'wamid.S2', 'timestamp', '1761744300', 'type', 'system',
                       'system', '{"body": "changed number", "type": "customer_changed_number", "new_wa_id": "5491199999999"}'::jsonb))));
SELECT is((SELECT wa_id FROM convo.contacts WHERE user_id = 'AR.5002'), '5491199999999', 'customer_changed_number moves the phone');

-- 9. Awkward text: 4-byte emoji, SQL metacharacters, 64 KB, NUL escapes (raw body only).
SELECT convo.ingest('whatsapp', t.wa(jsonb_build_array(
    t.msg('wamid.X1', 'text', jsonb_build_object('body', '😀🇦🇷 𝄞'), 1761745000),
    t.msg('wamid.X2', 'text', jsonb_build_object('body', $q$'); DROP TABLE convo.messages; --$q$), 1761745001),
    t.msg('wamid.X3', 'text', jsonb_build_object('body', repeat('ñ', 32768)), 1761745002)),
    contacts => jsonb_build_array(jsonb_build_object('profile', jsonb_build_object('name', $q$O'Brien "\ $q$), 'wa_id', '5491100000001'))));
SELECT is((SELECT body FROM convo.messages WHERE wamid = 'wamid.X1'), '😀🇦🇷 𝄞', '4-byte emoji intact');
SELECT is((SELECT body FROM convo.messages WHERE wamid = 'wamid.X2'), $q$'); DROP TABLE convo.messages; --$q$, 'SQL metacharacters stored as text');
SELECT is((SELECT octet_length(body) FROM convo.messages WHERE wamid = 'wamid.X3'), 65536, '64 KB text intact');
SELECT is((SELECT profile_name FROM convo.contacts WHERE account_id = :'account' AND wa_id = '5491100000001'), $q$O'Brien "\ $q$, 'quotes and backslashes in names');
SELECT is(convo.ingest_body('whatsapp', (t.wa(jsonb_build_array(t.msg('wamid.N1', 'text', '{"body": "aXb"}', 1761745100))))::text
                                         -- the body Meta sends may carry \u0000 escapes, which jsonb refuses
                                         ) ->> 'messages', '1', 'raw body ingested');
SELECT is(convo.ingest_body('whatsapp', replace((t.wa(jsonb_build_array(t.msg('wamid.N2', 'text', '{"body": "aXb"}', 1761745101))))::text,
                                                'aXb', 'a\u0000b')) ->> 'messages', '1', 'a body with \u0000 is ingested');
SELECT is((SELECT body FROM convo.messages WHERE wamid = 'wamid.N2'), 'ab', 'NUL characters dropped from the text');

-- 10. Twilio: form bodies and status callbacks, routed by the business number.
SELECT is(convo.ingest_body('twilio', 'MessageSid=SMa1&SmsStatus=received&From=whatsapp%3A%2B5491177777777&To=whatsapp%3A%2B15550001'
                                       '&Body=Hola+%C2%BFprecio%3F&WaId=5491177777777&ProfileName=Tw+User&NumMedia=0') - 'conversations',
          '{"messages": 1, "duplicates": 0, "statuses": 0, "unroutable": 0, "ignored": 0,
            "echoes": 0, "edits": 0, "revokes": 0, "flagged": 0, "groups": 0, "errors": 0}', 'twilio form body ingested');
SELECT is((SELECT row(m.type, m.body, k.profile_name)::text FROM convo.messages m JOIN convo.contacts k USING (account_id)
            WHERE m.wamid = 'SMa1' AND k.wa_id = '5491177777777'), '(text,"Hola ¿precio?","Tw User")', 'twilio text, sender and name');
SELECT is(convo.ingest('twilio', '{"MessageSid": "MMa2", "From": "whatsapp:+5491177777777", "To": "whatsapp:+15550001",
                                   "NumMedia": "1", "MediaContentType0": "image/jpeg", "MediaUrl0": "https://api.twilio.example/m/1"}') ->> 'messages',
          '1', 'twilio fields as a jsonb object');
SELECT is((SELECT row(type, media_mime, media_id)::text FROM convo.messages WHERE wamid = 'MMa2'),
          '(image,image/jpeg,https://api.twilio.example/m/1)', 'twilio media');
SELECT convo.record_outbound(t.conv_of('5491177777777'), 'SMo1', '{"type": "text", "text": {"body": "ok"}}');
SELECT is(convo.ingest_body('twilio', 'MessageSid=SMo1&MessageStatus=undelivered&ErrorCode=63016&From=whatsapp%3A%2B15550001&To=whatsapp%3A%2B5491177777777')
          ->> 'statuses', '1', 'twilio status callback');
SELECT is((SELECT row(status, error_code)::text FROM convo.messages WHERE wamid = 'SMo1'), '(failed,63016)', 'undelivered is failed with its code');

-- 11. Bad input: clear errors, nothing written.
SELECT throws_ok($$SELECT convo.ingest('whatsapp', '{"hello": "world"}')$$, '22023',
                 'convo.ingest: not a WhatsApp notification: "object" is missing', 'valid JSON that is not a notification');
SELECT throws_ok($$SELECT convo.ingest('whatsapp', '{"object": "page", "entry": []}')$$, '22023',
                 'convo.ingest: not a WhatsApp notification: "object" is "page", not "whatsapp_business_account"', 'another object type');
SELECT throws_ok($$SELECT convo.ingest('whatsapp', '{"object": "whatsapp_business_account"}')$$, '22023',
                 'convo.ingest: not a WhatsApp notification: "entry" array is missing', 'no entry');
SELECT throws_like($$SELECT convo.ingest('whatsapp', t.wa('[{"from": "1", "id": "w", "type": "text"}]'))$$,
                   '%entry[0].changes[0].value.messages[0].timestamp is missing%', 'a message without timestamp names its path');
SELECT throws_like($$SELECT convo.ingest('whatsapp', t.wa('[{"from": "1", "id": "w", "type": "text", "timestamp": "soon"}]'))$$,
                   '%is not a Unix timestamp%', 'a bad timestamp');
SELECT throws_ok($$SELECT convo.ingest_body('whatsapp', '{"object": "whatsapp_bus')$$, '22P02', 'convo: webhook body is not valid JSON',
                 'truncated JSON');
SELECT throws_ok($$SELECT convo.ingest('sms', '{}')$$, '23514', 'value for domain convo.source violates check constraint "source_known"', 'unknown source: refused by its type');
SELECT throws_ok($$SELECT convo.ingest(NULL, '{}')$$, '22004', 'convo.ingest: source must not be NULL', 'NULL source');
SELECT throws_ok($$SELECT convo.ingest('whatsapp', NULL)$$, '22004', 'convo.ingest: payload must not be NULL', 'NULL payload');
SELECT throws_ok($$SELECT convo.ingest_body('twilio', 'From=whatsapp%3A%2B1&To=whatsapp%3A%2B2')$$, '22023',
                 'convo.ingest: not a Twilio WhatsApp webhook: MessageSid is missing', 'twilio without MessageSid');

SELECT * FROM finish();
ROLLBACK;
