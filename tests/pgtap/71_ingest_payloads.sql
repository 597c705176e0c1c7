-- convo.ingest_body with one payload of every shape in Meta's and Twilio's webhook references
-- (the files under tests/payloads/, written for this project): what each shape becomes.
BEGIN;
SELECT plan(132);

CREATE SCHEMA t;
-- The counts of an ingest result that are not zero, without the conversation list.
CREATE FUNCTION t.counts(r jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT coalesce(jsonb_object_agg(key, value), '{}') FROM jsonb_each(r)
     WHERE key <> 'conversations' AND value <> '0'
$$;
CREATE FUNCTION t.wa(body text) RETURNS jsonb LANGUAGE sql AS $$ SELECT t.counts(convo.ingest_body('whatsapp', body)) $$;
CREATE FUNCTION t.tw(body text) RETURNS jsonb LANGUAGE sql AS $$ SELECT t.counts(convo.ingest_body('twilio', body)) $$;
CREATE FUNCTION t.msg(w text) RETURNS convo.messages LANGUAGE sql AS $$ SELECT * FROM convo.messages WHERE wamid = w $$;
CREATE FUNCTION t.conv(wa text) RETURNS convo.conversations LANGUAGE sql AS $$
    SELECT c.* FROM convo.conversations c JOIN convo.contacts k USING (account_id, contact_id) WHERE k.wa_id = wa
$$;

\set meta_account_update `cat tests/payloads/meta/account_update.json`
\set meta_audio_voice `cat tests/payloads/meta/audio_voice.json`
\set meta_button `cat tests/payloads/meta/button.json`
\set meta_contacts `cat tests/payloads/meta/contacts.json`
\set meta_document `cat tests/payloads/meta/document.json`
\set meta_echo_edit `cat tests/payloads/meta/echo_edit.json`
\set meta_echo_image `cat tests/payloads/meta/echo_image.json`
\set meta_echo_text `cat tests/payloads/meta/echo_text.json`
\set meta_edit `cat tests/payloads/meta/edit.json`
\set meta_edit_caption `cat tests/payloads/meta/edit_caption.json`
\set meta_edit_unknown `cat tests/payloads/meta/edit_unknown.json`
\set meta_group_message `cat tests/payloads/meta/group_message.json`
\set meta_image `cat tests/payloads/meta/image.json`
\set meta_interactive_button_reply `cat tests/payloads/meta/interactive_button_reply.json`
\set meta_interactive_list_reply `cat tests/payloads/meta/interactive_list_reply.json`
\set meta_interactive_nfm_reply `cat tests/payloads/meta/interactive_nfm_reply.json`
\set meta_invalid_from `cat tests/payloads/meta/invalid_from.json`
\set meta_location `cat tests/payloads/meta/location.json`
\set meta_order `cat tests/payloads/meta/order.json`
\set meta_reaction `cat tests/payloads/meta/reaction.json`
\set meta_reaction_removed `cat tests/payloads/meta/reaction_removed.json`
\set meta_referral `cat tests/payloads/meta/referral.json`
\set meta_request_welcome `cat tests/payloads/meta/request_welcome.json`
\set meta_revoke `cat tests/payloads/meta/revoke.json`
\set meta_status_deleted `cat tests/payloads/meta/status_deleted.json`
\set meta_status_delivered `cat tests/payloads/meta/status_delivered.json`
\set meta_status_failed `cat tests/payloads/meta/status_failed.json`
\set meta_status_played `cat tests/payloads/meta/status_played.json`
\set meta_status_read `cat tests/payloads/meta/status_read.json`
\set meta_status_sent `cat tests/payloads/meta/status_sent.json`
\set meta_status_unknown_mixed `cat tests/payloads/meta/status_unknown_mixed.json`
\set meta_status_warning `cat tests/payloads/meta/status_warning.json`
\set meta_sticker `cat tests/payloads/meta/sticker.json`
\set meta_system_customer_identity_changed `cat tests/payloads/meta/system_customer_identity_changed.json`
\set meta_system_user_changed_number `cat tests/payloads/meta/system_user_changed_number.json`
\set meta_system_user_changed_user_id `cat tests/payloads/meta/system_user_changed_user_id.json`
\set meta_text `cat tests/payloads/meta/text.json`
\set meta_unsupported `cat tests/payloads/meta/unsupported.json`
\set meta_value_errors `cat tests/payloads/meta/value_errors.json`
\set meta_video `cat tests/payloads/meta/video.json`
\set twilio_bsuid_sender `cat tests/payloads/twilio/bsuid_sender.form`
\set twilio_bsuid_sender_other `cat tests/payloads/twilio/bsuid_sender_other.form`
\set twilio_button `cat tests/payloads/twilio/button.form`
\set twilio_list_reply `cat tests/payloads/twilio/list_reply.form`
\set twilio_location `cat tests/payloads/twilio/location.form`
\set twilio_media_several `cat tests/payloads/twilio/media_several.form`
\set twilio_referral `cat tests/payloads/twilio/referral.form`
\set twilio_sms `cat tests/payloads/twilio/sms.form`
\set twilio_status_delivered `cat tests/payloads/twilio/status_delivered.form`
\set twilio_status_failed `cat tests/payloads/twilio/status_failed.form`
\set twilio_status_read `cat tests/payloads/twilio/status_read.form`
\set twilio_status_unknown `cat tests/payloads/twilio/status_unknown.form`
\set twilio_text `cat tests/payloads/twilio/text.form`

SELECT convo.register_account('Payload Shop', '106540352200001', '15550783800') AS account \gset

-- 1. Customer messages of every type: one row each, a readable body, media kept.
SELECT is(t.wa(:'meta_text'), '{"messages": 1}', 'text');
SELECT is((SELECT row(type, body)::text FROM t.msg('wamid.P.text')), '(text,"Do you ship to Rosario?")', 'text body');
SELECT is((SELECT row(wa_id, user_id, profile_name)::text FROM convo.contacts WHERE wa_id = '16505550101'),
          '(16505550101,US.70001000200030004,"Ana Prueba")', 'the sender: phone, BSUID and name');
SELECT is((SELECT bot_profile_id FROM t.conv('16505550101')), NULL, 'a new conversation leaves its bot profile to the account default');
SELECT is(t.wa(:'meta_image'), '{"messages": 1}', 'image');
SELECT is((SELECT row(body, media_id, media_mime, media_sha256)::text FROM t.msg('wamid.P.image')),
          '("This one",7001000000000001,image/jpeg,u9P3mGc1yN0kQ7f2Zb8xVw4aR6tL0eHs1JdKpQ2rS5c=)', 'image: caption, id, mime type, sha256');
SELECT is((SELECT payload #>> '{image,url}' FROM t.msg('wamid.P.image')), 'https://lookaside.fbsbx.example/whatsapp_business/attachments/?mid=7001', 'image: the url Meta may add stays in the payload');
SELECT is(t.wa(:'meta_audio_voice'), '{"messages": 1}', 'voice note');
SELECT is((SELECT row(type, body, media_mime, payload #>> '{audio,voice}')::text FROM t.msg('wamid.P.voice')),
          '(audio,,"audio/ogg; codecs=opus",true)', 'voice note: no body, mime type, voice flag');
SELECT is(t.wa(:'meta_video'), '{"messages": 1}', 'video');
SELECT is((SELECT body FROM t.msg('wamid.P.video')), 'Unboxing', 'video caption');
SELECT is(t.wa(:'meta_document'), '{"messages": 1}', 'document');
SELECT is((SELECT row(body, payload #>> '{document,filename}')::text FROM t.msg('wamid.P.document')), '("My invoice",invoice-2291.pdf)', 'document caption and file name');
SELECT is(t.wa(:'meta_sticker'), '{"messages": 1}', 'sticker');
SELECT is((SELECT row(type, media_mime)::text FROM t.msg('wamid.P.sticker')), '(sticker,image/webp)', 'sticker media');
SELECT is(t.wa(:'meta_location'), '{"messages": 1}', 'location');
SELECT is((SELECT body FROM t.msg('wamid.P.location')), 'Monumento, Santa Fe 581, Rosario', 'location: name and address');
SELECT is(t.wa(:'meta_contacts'), '{"messages": 1}', 'shared contacts');
SELECT is((SELECT body FROM t.msg('wamid.P.contacts')), 'Bruno Diaz', 'shared contacts: names');
SELECT is(t.wa(:'meta_interactive_button_reply'), '{"messages": 1}', 'reply button');
SELECT is((SELECT row(body, reply_to_wamid)::text FROM t.msg('wamid.P.ibutton')), '("Size 42",wamid.P.out.menu)', 'reply button: title and the message it answers');
SELECT is(t.wa(:'meta_interactive_list_reply'), '{"messages": 1}', 'list reply');
SELECT is((SELECT body FROM t.msg('wamid.P.ilist')), 'Pickup, morning', 'list reply title');
SELECT is(t.wa(:'meta_interactive_nfm_reply'), '{"messages": 1}', 'flow reply');
SELECT is((SELECT row(body, payload #>> '{interactive,nfm_reply,response_json}')::text FROM t.msg('wamid.P.flow')),
          '(Sent,"{""flow_token"":""t-1"",""size"":""42""}")', 'flow reply: body and response kept');
SELECT is(t.wa(:'meta_button'), '{"messages": 1}', 'template quick reply');
SELECT is((SELECT row(body, payload #>> '{button,payload}')::text FROM t.msg('wamid.P.button')), '("Confirm pickup",confirm:8841)', 'template button text and payload');
SELECT is(t.wa(:'meta_reaction'), '{"messages": 1}', 'reaction');
SELECT is((SELECT body FROM t.msg('wamid.P.reaction')), '❤️', 'reaction emoji');
SELECT is(convo.ingest_body('whatsapp', :'meta_reaction_removed') -> 'conversations', '[]', 'a removed reaction awaits no reply');
SELECT is((SELECT row(type, body)::text FROM t.msg('wamid.P.unreaction')), '(reaction,)', 'a removed reaction has no emoji');
SELECT is(t.wa(:'meta_order'), '{"messages": 1}', 'order');
SELECT is((SELECT row(body, jsonb_array_length(payload #> '{order,product_items}'))::text FROM t.msg('wamid.P.order')),
          '("For Saturday please",2)', 'order: text and items');
SELECT is(jsonb_array_length(convo.ingest_body('whatsapp', :'meta_request_welcome') -> 'conversations'), 1, 'request_welcome awaits the welcome message');
SELECT is((SELECT last_inbound_at FROM t.conv('16505550199')), '2025-12-06 05:49:00+00'::timestamptz, 'request_welcome opens the window');
SELECT is(t.wa(:'meta_unsupported'), '{"messages": 1}', 'unsupported');
SELECT is((SELECT row(type, body, payload #>> '{errors,0,code}')::text FROM t.msg('wamid.P.unsupported')), '(unsupported,,131051)', 'unsupported: kept with its error');
SELECT is(t.wa(:'meta_referral'), '{"messages": 1}', 'a click-to-WhatsApp message');
SELECT is((SELECT row(entry_point_source, entry_point_referral ->> 'ctwa_clid')::text FROM t.conv('16505550102')),
          '(ad,ARAkLkA8rmlFeiCktEJQ)', 'the referral starts the entry point');

-- 2. System messages: each type re-keys (or not) as its fields say.
SELECT is(t.wa(:'meta_system_user_changed_number'), '{"messages": 1}', 'user_changed_number');
SELECT is((SELECT count(*) FROM convo.contacts WHERE wa_id = '16505550133'), 1::bigint, 'user_changed_number: the contact has the new number');
SELECT is((SELECT count(*) FROM convo.contacts WHERE wa_id = '16505550103'), 0::bigint, 'and not the old one');
SELECT is((SELECT row(last_inbound_at, unread_count, last_message_at)::text FROM t.conv('16505550133')),
          row(NULL::timestamptz, 0, '2025-12-06 05:50:00+00'::timestamptz)::text, 'a system notice opens no window and is not unread');
SELECT is(t.wa(:'meta_system_user_changed_number'), '{"duplicates": 1}', 'user_changed_number again: a duplicate');
SELECT is((SELECT count(*) FROM convo.contacts WHERE wa_id IN ('16505550103', '16505550133')), 1::bigint,
          'and no contact created for the old number');
SELECT (t.conv('16505550101')).last_inbound_at AS before_notice \gset
SELECT is(t.wa(:'meta_system_user_changed_user_id'), '{"messages": 1}', 'user_changed_user_id without from');
SELECT is((t.conv('16505550101')).last_inbound_at, :'before_notice'::timestamptz, 'nor extends the customer''s window');
SELECT is((SELECT user_id FROM convo.contacts WHERE wa_id = '16505550101'), 'US.70001000200039999', 'user_changed_user_id: found by the previous BSUID, given the new one');
SELECT is(t.wa(:'meta_system_customer_identity_changed'), '{"messages": 1}', 'customer_identity_changed');
SELECT is((SELECT row(wa_id, user_id)::text FROM convo.contacts WHERE wa_id = '16505550101'), '(16505550101,US.70001000200039999)', 'identity change re-keys nothing');

-- 3. Statuses of each value on an outbound message.
SELECT convo.record_outbound((t.conv('16505550101')).conversation_id, 'wamid.P.out.1', '{"type": "text", "text": {"body": "Yes we do"}}', '2025-12-06 05:50:00+00');
SELECT convo.record_outbound((t.conv('16505550101')).conversation_id, 'wamid.P.out.2', '{"type": "audio", "audio": {"id": "9"}}', '2025-12-06 05:50:01+00');
SELECT convo.record_outbound((t.conv('16505550101')).conversation_id, 'wamid.P.out.3', '{"type": "text", "text": {"body": "late"}}', '2025-12-06 05:50:02+00');
SELECT is(t.wa(:'meta_status_sent'), '{"statuses": 1}', 'sent, with conversation and pricing');
SELECT is((SELECT payload #>> '{pricing,type}' FROM convo.message_statuses WHERE wamid = 'wamid.P.out.1' AND status = 'sent'), 'free_customer_service', 'pricing kept with the event');
SELECT is(t.wa(:'meta_status_delivered'), '{"statuses": 1}', 'delivered');
SELECT is(t.wa(:'meta_status_read'), '{"statuses": 1}', 'read');
SELECT is((SELECT status FROM t.msg('wamid.P.out.1')), 'read', 'the message is read');
SELECT is(t.wa(:'meta_status_played'), '{"statuses": 1}', 'played');
SELECT is((SELECT status FROM t.msg('wamid.P.out.2')), 'played', 'a voice message played');
SELECT is(t.wa(:'meta_status_failed'), '{"statuses": 1}', 'failed');
SELECT is((SELECT row(status, error_code, error -> 0 #>> '{error_data,details}')::text FROM t.msg('wamid.P.out.3')),
          '(failed,131047,"More than 24 hours passed since the customer last wrote.")', 'failed: code and error object');
SELECT is(t.wa(:'meta_status_deleted'), '{"statuses": 1}', 'deleted: an event of its own, not a duplicate of sent');
SELECT is((SELECT row(status, deleted_at)::text FROM t.msg('wamid.P.out.1')), row('read', '2025-12-06 05:52:20+00'::timestamptz)::text,
          'deleted: the message stays read and is marked deleted');
SELECT is(t.wa(:'meta_status_warning'), '{"statuses": 1}', 'warning: an event of its own');
SELECT is((SELECT row(status, error_code)::text FROM t.msg('wamid.P.out.1')), '(read,)', 'warning moves nothing on the message');
SELECT is((SELECT array_agg(status ORDER BY status) FROM convo.message_statuses WHERE wamid = 'wamid.P.out.1'),
          '{deleted,delivered,read,sent,warning}', 'every status of the message recorded once');
SELECT is(t.wa(:'meta_status_deleted') || t.wa(:'meta_status_warning'), '{"duplicates": 1}', 'deleted and warning again: duplicates');
SELECT is(t.wa(:'meta_status_unknown_mixed'), '{"messages": 1, "statuses": 1, "flagged": 1}', 'an unknown status is flagged, the rest ingested');
SELECT is((SELECT row(kind, wamid, reason)::text FROM convo.webhook_events WHERE event_key = 'wamid.P.out.2:exploded'),
          '(unknown_status,wamid.P.out.2,"entry[0].changes[0].value.statuses[0]: unknown status ""exploded""")', 'the unknown status is kept with the reason');
SELECT is((SELECT payload ->> 'status' FROM convo.webhook_events WHERE event_key = 'wamid.P.out.2:exploded'), 'exploded', 'and its payload');
SELECT is(t.wa(:'meta_status_unknown_mixed'), '{"duplicates": 3}', 'the same payload again changes nothing');

-- 4. Value-level errors: kept per account, counted.
SELECT is(t.wa(:'meta_value_errors'), '{"errors": 2}', 'two value-level errors kept');
SELECT is((SELECT row(error_code, error_title, error_message, error_details)::text FROM convo.webhook_events
            WHERE kind = 'error' AND error_code = 130429),
          '(130429,"Rate limit hit","(#130429) Rate limit hit","Cloud API message throughput has been reached.")', 'code, title, message, details');
SELECT is((SELECT count(*) FROM convo.webhook_events WHERE kind = 'error' AND account_id = :'account' AND occurred_at IS NOT NULL), 2::bigint, 'each with its account and time');
SELECT is(t.wa(:'meta_value_errors'), '{"duplicates": 2}', 'the same errors again: duplicates');

-- 5. Echoes: what the shop owner wrote from the WhatsApp Business app.
SELECT (t.conv('16505550101')).last_inbound_at AS ana_window \gset
SELECT is(t.wa(:'meta_echo_text'), '{"echoes": 1}', 'an echo is stored');
SELECT is((SELECT row(direction, type, body, status, origin)::text FROM t.msg('wamid.P.echo.1')),
          '(out,text,"Hi Ana, I''ll keep the 42 for you. Marta",sent,business_app)', 'as an outbound message of the conversation');
SELECT is((SELECT conversation_id FROM t.msg('wamid.P.echo.1')), (t.conv('16505550101')).conversation_id, 'in the customer''s conversation (to = +16505550101)');
SELECT is((SELECT row(last_inbound_at = :'ana_window', human_replied_at, unread_count)::text FROM t.conv('16505550101')),
          row(true, '2025-12-06 05:53:20+00'::timestamptz, 0)::text, 'the window is untouched, a human replied, nothing unread');
SELECT is(convo.ingest_body('whatsapp', :'meta_echo_image') -> 'conversations', '[]', 'an echo awaits no reply');
SELECT is((SELECT row(k.wa_id, c.last_inbound_at)::text FROM t.msg('wamid.P.echo.2') m JOIN convo.conversations c USING (account_id, conversation_id)
             JOIN convo.contacts k USING (account_id, contact_id)), '(16505550104,)', 'an echo to a new customer opens no window');
SELECT is(t.wa(:'meta_echo_text'), '{"duplicates": 1}', 'the same echo again: a duplicate');
-- A status of an echo may come before the echo: applied when the echo arrives.
SELECT is(t.wa(replace(replace(:'meta_status_read', 'wamid.P.out.1', 'wamid.P.echo.3'), '1765000310', '1765000415')), '{"statuses": 1}', 'an echo''s read status before the echo');
SELECT is(t.wa(replace(:'meta_echo_image', 'wamid.P.echo.2', 'wamid.P.echo.3')), '{"echoes": 1}', 'then the echo');
SELECT is((SELECT row(status, status_at)::text FROM t.msg('wamid.P.echo.3')), row('read', '2025-12-06 05:53:35+00'::timestamptz)::text, 'the echo is read');
SELECT is(t.wa(:'meta_echo_edit'), '{"edits": 1}', 'the owner edits an echo');
SELECT is((SELECT row(body, edits -> 0 ->> 'body')::text FROM t.msg('wamid.P.echo.1')),
          '("Hi Ana, I''ll keep the 42 until Friday. Marta","Hi Ana, I''ll keep the 42 for you. Marta")', 'the echo says the new text and keeps the old one');

-- 6. Edits and revokes change the original; unknown originals are kept flagged.
SELECT is(convo.ingest_body('whatsapp', :'meta_edit') - 'conversations', t.counts('{"edits": 1}') || '{"messages": 0}' || (SELECT jsonb_object_agg(k, 0) FROM unnest(ARRAY['duplicates', 'statuses', 'unroutable', 'ignored', 'echoes', 'revokes', 'flagged', 'groups', 'errors']) k),
          'an edit is applied, nothing inserted');
SELECT is(convo.ingest_body('whatsapp', '{"object": "whatsapp_business_account", "entry": []}') -> 'conversations', '[]', 'an edit awaits no reply');
SELECT is((SELECT row(body, edited_at, edits -> 0 ->> 'body', edits -> 0 ->> 'edit_wamid')::text FROM t.msg('wamid.P.text')),
          row('Do you ship to Rosario and Funes?', '2025-12-06 05:55:00+00'::timestamptz, 'Do you ship to Rosario?', 'wamid.P.edit.1')::text,
          'the original says the new text; what it said before is kept');
SELECT is((SELECT count(*) FROM convo.messages WHERE wamid = 'wamid.P.edit.1'), 0::bigint, 'no message row for the edit');
SELECT is(convo.ingest_body('whatsapp', :'meta_edit') -> 'duplicates', '1', 'the same edit again: a duplicate');
SELECT is(jsonb_array_length((t.msg('wamid.P.text')).edits), 1, 'applied once');
SELECT is(t.wa(:'meta_edit_caption'), '{"edits": 1}', 'a caption edit');
SELECT is((SELECT row(body, media_id)::text FROM t.msg('wamid.P.image')), '("This one, in black",7001000000000001)', 'the caption changes, the media stays');
SELECT is(t.wa(:'meta_edit_unknown'), '{"flagged": 1}', 'an edit of an unknown message is flagged');
SELECT is((SELECT row(kind, payload #>> '{edit,original_message_id}')::text FROM convo.webhook_events WHERE wamid = 'wamid.P.edit.3'),
          '(unknown_target,wamid.P.never)', 'as unknown_target, with the whole edit');
SELECT is(t.wa(:'meta_revoke'), '{"revokes": 1}', 'a revoke');
SELECT is((SELECT row(deleted_at, body)::text FROM t.msg('wamid.P.video')), row('2025-12-06 05:55:30+00'::timestamptz, 'Unboxing')::text,
          'the original is marked deleted, its content kept for the record');

-- 7. Group messages and bad senders are kept aside, the rest ingested.
SELECT is(t.wa(:'meta_group_message'), '{"groups": 1}', 'a group message is kept aside');
SELECT is((SELECT count(*) FROM convo.contacts WHERE wa_id = '16505550105'), 0::bigint, 'no contact, no conversation, no window for its sender');
SELECT is((SELECT reason FROM convo.webhook_events WHERE wamid = 'wamid.P.group.1'), 'a message in group Y2FwaV9ncm91cDoxNjUwNTU1MDEwNQ==', 'kept with its group');
SELECT is(t.wa(:'meta_invalid_from'), '{"messages": 1, "flagged": 2}', 'senders that are not phone numbers are flagged, the good message ingested');
SELECT is((SELECT count(*) FROM convo.contacts WHERE wa_id IN ('<WHATSAPP_USER_PHONE_NUMBER>', '12')), 0::bigint, 'no contact for them');
SELECT is((SELECT kind FROM convo.webhook_events WHERE wamid = 'wamid.P.bad.1'), 'invalid_sender', 'kept as invalid_sender');
SELECT is(t.wa(:'meta_account_update'), '{"ignored": 1}', 'other fields are ignored');

-- 8. Twilio: senders, media, location, button, referral, SMS, status callbacks.
SELECT is(t.tw(:'twilio_text'), '{"messages": 1}', 'twilio text');
SELECT is((SELECT row(m.body, k.wa_id, k.profile_name)::text FROM t.msg('SM00000000000000000000000000000101') m
             JOIN convo.conversations c USING (account_id, conversation_id) JOIN convo.contacts k USING (account_id, contact_id)),
          '("Hola, ¿abren el domingo?",16505550110,"Eva Twilio")', 'twilio text, phone and name');
SELECT is(t.tw(:'twilio_media_several'), '{"messages": 1}', 'twilio with three media');
SELECT is((SELECT row(type, media_mime, jsonb_array_length(payload -> 'media'), payload #>> '{media,2,content_type}')::text
             FROM t.msg('MM00000000000000000000000000000102')), '(image,image/jpeg,3,application/pdf)', 'every media kept, the first in the columns');
SELECT is(t.tw(:'twilio_location'), '{"messages": 1}', 'twilio location');
SELECT is((SELECT row(type, body)::text FROM t.msg('SM00000000000000000000000000000103')), '(location,Monumento)', 'twilio location: its label');
SELECT is(t.tw(:'twilio_button'), '{"messages": 1}', 'twilio button');
SELECT is((SELECT row(type, body, reply_to_wamid)::text FROM t.msg('SM00000000000000000000000000000104')),
          '(button,Confirm,SM00000000000000000000000000000900)', 'twilio button: text and the message it answers');
SELECT is(t.tw(:'twilio_list_reply'), '{"messages": 1}', 'twilio list picker choice');
SELECT is((SELECT row(type, body)::text FROM t.msg('SM00000000000000000000000000000109')), '(interactive,"Pickup, morning")', 'twilio list choice: its title');
SELECT is(t.tw(:'twilio_bsuid_sender'), '{"messages": 1}', 'a BSUID sender');
SELECT is(t.tw(:'twilio_bsuid_sender_other'), '{"messages": 1}', 'another BSUID with the same digits');
SELECT is((SELECT array_agg(row(user_id, wa_id)::text ORDER BY user_id) FROM convo.contacts WHERE user_id IN ('US.1234', 'GB.1234')),
          '{"(GB.1234,)","(US.1234,)"}', 'two contacts keyed by BSUID, no phone made of their digits');
SELECT is((SELECT count(*) FROM convo.contacts WHERE wa_id = '1234'), 0::bigint, 'never the digits as wa_id');
SELECT is(t.tw(:'twilio_referral'), '{"messages": 1}', 'twilio referral');
SELECT is((SELECT entry_point_source FROM t.conv('16505550111')), 'ad', 'twilio referral starts the entry point');
SELECT is(t.tw(:'twilio_sms'), '{"flagged": 1}', 'an SMS is not a WhatsApp message: kept flagged');
SELECT is((SELECT count(*) FROM convo.contacts WHERE wa_id = '16505550112'), 0::bigint, 'no contact, no conversation, no window');
SELECT is((SELECT kind FROM convo.webhook_events WHERE wamid = 'SM00000000000000000000000000000108'), 'sms', 'kept as sms');
SELECT convo.record_outbound((t.conv('16505550110')).conversation_id, 'SM00000000000000000000000000000201', '{"type": "text", "text": {"body": "Sí"}}');
SELECT convo.record_outbound((t.conv('16505550110')).conversation_id, 'SM00000000000000000000000000000202', '{"type": "text", "text": {"body": "?"}}');
SELECT is(t.tw(:'twilio_status_read') || t.tw(:'twilio_status_delivered'), '{"statuses": 1}', 'twilio read, then a late delivered');
SELECT is((SELECT status FROM t.msg('SM00000000000000000000000000000201')), 'read', 'the late delivered does not undo read');
SELECT is(t.tw(:'twilio_status_failed'), '{"statuses": 1}', 'twilio undelivered');
SELECT is((SELECT row(status, error_code)::text FROM t.msg('SM00000000000000000000000000000202')), '(failed,63016)', 'undelivered is failed with its code');
SELECT is(t.tw(:'twilio_status_unknown'), '{"flagged": 1}', 'an unknown Twilio status is flagged');
SELECT is(t.tw(:'twilio_status_unknown'), '{"duplicates": 1}', 'once');

-- 9. Kept events are tenant rows: an account's agents see its own, nobody else's.
SELECT convo.register_account('Other Payload Shop', '106540352200002', '15550783801') AS other \gset
CALL test.as_request('authenticated', jsonb_build_object('account_id', :'account'));
SELECT cmp_ok((SELECT count(*) FROM convo.webhook_events), '>', 0::bigint, 'an account sees its kept events');
CALL test.as_request('authenticated', jsonb_build_object('account_id', :'other'));
SELECT is((SELECT count(*) FROM convo.webhook_events), 0::bigint, 'another account sees none of them');
SELECT throws_ok($$INSERT INTO convo.webhook_events (account_id, kind, event_key, source, reason, occurred_at, payload)
                   VALUES (convo.current_account_id(), 'error', 'k', 'whatsapp', 'forged', now(), '{}')$$,
                 '42501', NULL, 'and no agent writes them');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
