-- convo.build_context: messages within the budget, tools, model, window, customer, cart, and a
-- cache that is never stale.
BEGIN;
SELECT plan(79);

CREATE SCHEMA t;
CREATE FUNCTION t.notification(messages jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('object', 'whatsapp_business_account', 'entry', jsonb_build_array(jsonb_build_object(
        'id', 'w', 'changes', jsonb_build_array(jsonb_build_object('field', 'messages', 'value', jsonb_build_object(
            'metadata', jsonb_build_object('phone_number_id', '8880001'),
            'contacts', '[{"profile": {"name": "Lucía"}, "wa_id": "5491188800001"}]'::jsonb,
            'messages', messages))))))
$$;
CREATE FUNCTION t.msg(n int, type text, content jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('from', '5491188800001', 'id', 'wamid.ctx.' || n, 'timestamp', (1761742800 + n * 60)::text,
                              'type', type, type, content)
$$;
CREATE FUNCTION t.ctx(options jsonb DEFAULT '{}') RETURNS jsonb LANGUAGE sql AS $$
    SELECT convo.build_context((SELECT conversation_id FROM convo.conversations c JOIN convo.contacts k USING (account_id, contact_id)
                                 WHERE k.wa_id = '5491188800001'), options)
$$;
CREATE FUNCTION t.contents(ctx jsonb) RETURNS text[] LANGUAGE sql AS $$
    SELECT array_agg(m ->> 'content' ORDER BY i) FROM jsonb_array_elements(ctx -> 'messages') WITH ORDINALITY AS x(m, i) WHERE i > 1
$$;
CREATE FUNCTION t.roles(ctx jsonb) RETURNS text[] LANGUAGE sql AS $$
    SELECT array_agg(m ->> 'role' ORDER BY i) FROM jsonb_array_elements(ctx -> 'messages') WITH ORDINALITY AS x(m, i)
$$;

SELECT convo.register_account('Zapatería Sol', '8880001', '18880001') AS account \gset
UPDATE convo.bot_profiles SET steps = '[{"name": "browse", "instruction": "Help them pick a model."},
                                         {"name": "checkout", "instruction": "Confirm size and address."}]'
 WHERE account_id = :'account';
SELECT convo.ingest('whatsapp', t.notification(jsonb_build_array(t.msg(1, 'text', '{"body": "Hola"}'))));
SELECT conversation_id AS conv FROM convo.conversations WHERE account_id = :'account' \gset

-- 1. Shape, and a conversation with one message.
SELECT t.ctx() AS c1 \gset
SELECT is((SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(:'c1'::jsonb) k),
          ARRAY['budget', 'cached', 'cart', 'customer', 'messages', 'model', 'tools', 'window'], 'the context''s parts');
SELECT is(:'c1'::jsonb ->> 'cached', 'false', 'first call: built');
SELECT is(t.roles(:'c1'), ARRAY['system', 'user'], 'system message, then the customer''s');
SELECT ok((:'c1'::jsonb #>> '{messages,0,content}') LIKE '%Zapatería Sol%', 'the system message names the business');
SELECT ok((:'c1'::jsonb #>> '{messages,0,content}') LIKE '%Lucía%', 'and the customer');
SELECT ok((:'c1'::jsonb #>> '{messages,0,content}') NOT LIKE '%{{%', 'no placeholder left');
SELECT ok((:'c1'::jsonb #>> '{messages,0,content}') NOT LIKE '%Cart%', 'an empty cart''s line is dropped');
SELECT is(:'c1'::jsonb -> 'window', convo.free_window(:'conv'), 'the window is free_window''s');
SELECT is(:'c1'::jsonb #>> '{customer,name}', 'Lucía', 'customer name');
SELECT is(:'c1'::jsonb #>> '{customer,wa_id}', '5491188800001', 'customer wa_id');
SELECT is(:'c1'::jsonb -> 'cart', '{"items": [], "total": 0}', 'no cart: the empty cart, as view_cart shows it');
SELECT is(jsonb_typeof(:'c1'::jsonb -> 'tools'), 'array', 'tools is an array');
SELECT is((SELECT count(*) FROM jsonb_array_elements(:'c1'::jsonb -> 'tools') x WHERE x ->> 'type' = 'function' AND x #>> '{function,name}' IS NOT NULL),
          jsonb_array_length(:'c1'::jsonb -> 'tools')::bigint, 'every tool in the OpenAI format');
SELECT ok(jsonb_array_length(:'c1'::jsonb -> 'tools') = (SELECT cardinality(tools) FROM convo.bot_profiles WHERE account_id = :'account' AND is_default),
          'one definition per enabled tool');
SELECT ok(:'c1'::jsonb #>> '{model,tier}' IN ('cached', 'small', 'large'), 'a model tier');
SELECT is(:'c1'::jsonb #>> '{model,model}', 'gpt-4.1-mini', 'a greeting goes to the profile''s small model');

-- 2. The cache: a second call is a hit with the same content; the window is not stored.
SELECT t.ctx() AS c2 \gset
SELECT is(:'c2'::jsonb ->> 'cached', 'true', 'second call: from the cache');
SELECT is(:'c2'::jsonb - 'cached', :'c1'::jsonb - 'cached', 'same context');
SELECT ok(NOT (SELECT context ? 'window' FROM convo.context_cache WHERE conversation_id = :'conv' LIMIT 1), 'the window is never cached');
SELECT is(t.ctx('{"history": 3}') ->> 'cached', 'false', 'other options: another cache entry');

-- 3. History: order, roles, placeholders of every type.
SELECT convo.ingest('whatsapp', t.notification(jsonb_build_array(
    t.msg(2, 'image', '{"id": "m1", "mime_type": "image/jpeg", "caption": "este modelo"}'),
    t.msg(3, 'audio', '{"id": "m2", "mime_type": "audio/ogg", "voice": true}'),
    t.msg(4, 'document', '{"id": "m3", "mime_type": "application/pdf", "filename": "talles.pdf"}'),
    t.msg(5, 'location', '{"latitude": 1, "longitude": 2, "name": "Casa"}'),
    t.msg(6, 'sticker', '{"id": "m4", "mime_type": "image/webp"}'),
    t.msg(7, 'interactive', '{"type": "button_reply", "button_reply": {"id": "b", "title": "Talle 42"}}'),
    t.msg(8, 'reaction', '{"message_id": "x", "emoji": "👍"}'),
    t.msg(9, 'unsupported', '{"type": "poll"}'),
    t.msg(10, 'video', '{"id": "m5", "mime_type": "video/mp4"}'),
    t.msg(11, 'button', '{"text": "Confirmar", "payload": "ok"}')
)));
SELECT convo.record_outbound(:'conv', 'wamid.ctx.out1', '{"type": "template", "template": {"name": "promo_sol", "language": {"code": "es"}}}',
                             '2025-10-29 13:12:00+00');
SELECT convo.record_outbound(:'conv', 'wamid.ctx.out2', '{"type": "text", "text": {"body": "¿Algo más?"}}', '2025-10-29 13:13:00+00');
SELECT t.ctx('{"history": 20}') AS c3 \gset
SELECT is(:'c3'::jsonb ->> 'cached', 'false', 'a new message outdates the cached context');
SELECT is(t.contents(:'c3'), ARRAY['Hola', '[image] este modelo', '[voice note]', '[document: talles.pdf]', '[location] Casa',
                                   '[sticker]', 'Talle 42', '[reaction 👍]', '[unsupported message]', '[video]', 'Confirmar',
                                   '[template: promo_sol]', '¿Algo más?'],
          'history in chronological order, with a placeholder per type');
SELECT is(t.roles(:'c3'), ARRAY['system', 'user', 'user', 'user', 'user', 'user', 'user', 'user', 'user', 'user', 'user', 'user',
                                'assistant', 'assistant'], 'inbound → user, outbound → assistant');
SELECT is(jsonb_array_length(t.ctx() -> 'messages'), 6, 'default history: the profile''s 5 messages');
SELECT is(t.contents(t.ctx('{"history": 2}')), ARRAY['Confirmar', '[template: promo_sol]', '¿Algo más?'],
          'history 2 still keeps the latest customer message');
SELECT is(t.contents(t.ctx('{"history": 0}')), ARRAY['Confirmar'], 'history 0: the latest customer message only');

-- 4. The budget: oldest dropped first; the system and latest customer messages never.
SELECT t.ctx('{"history": 20, "max_tokens": 2000}') AS big \gset
SELECT ok((:'big'::jsonb #>> '{budget,used}')::int <= 2000, 'used within the limit');
SELECT is((:'big'::jsonb #>> '{budget,dropped}')::int, 0, 'nothing dropped with room');
SELECT ((:'big'::jsonb #>> '{budget,used}')::int - 20) AS tight \gset
SELECT t.ctx(jsonb_build_object('history', 20, 'max_tokens', :tight)) AS trimmed \gset
SELECT ok((:'trimmed'::jsonb #>> '{budget,used}')::int <= :tight, 'a tighter budget is respected');
SELECT ok((:'trimmed'::jsonb #>> '{budget,dropped}')::int >= 1, 'by dropping history');
SELECT is(t.contents(:'trimmed'), (t.contents(:'big'))[(:'trimmed'::jsonb #>> '{budget,dropped}')::int + 1 :],
          'the oldest went first: what is kept is the newest part of the history');
SELECT is((t.contents(:'trimmed'))[cardinality(t.contents(:'trimmed'))], '¿Algo más?', 'the newest stayed');
SELECT is(:'trimmed'::jsonb #>> '{budget,truncated}', 'false', 'nothing truncated');
-- A huge latest customer message alone exceeds the budget: truncated, and said so.
SELECT convo.ingest('whatsapp', t.notification(jsonb_build_array(t.msg(20, 'text', jsonb_build_object('body', repeat('zapatos rojos ', 2000))))));
SELECT t.ctx('{"max_tokens": 1200}') AS huge \gset
SELECT is(:'huge'::jsonb #>> '{budget,truncated}', 'true', 'an oversized latest message is truncated');
SELECT ok((:'huge'::jsonb #>> '{budget,used}')::int <= 1200, 'and the budget holds');
SELECT is(:'huge'::jsonb #>> '{budget,over_budget}', 'false', 'not over budget');
-- A budget smaller than the system message and tools: a minimum of the message is kept, and said so.
SELECT t.ctx('{"max_tokens": 100}') AS tiny \gset
SELECT is(:'tiny'::jsonb #>> '{budget,over_budget}', 'true', 'a budget below system + tools is reported as exceeded');
SELECT ok(length(:'tiny'::jsonb #>> '{messages,1,content}') > 10, 'the latest customer message is not emptied');
SELECT is(t.roles(:'huge'), ARRAY['system', 'user'], 'system and latest customer message only');
SELECT ok(right(:'huge'::jsonb #>> '{messages,1,content}', 1) = '…', 'the cut is marked');

-- 5. Every kind of change outdates the cached context.
SELECT t.ctx() ->> 'cached' AS warm \gset
SELECT is(t.ctx() ->> 'cached', 'true', 'warm cache');
UPDATE convo.contacts SET profile_name = 'Lucía F.' WHERE wa_id = '5491188800001';
SELECT ok((t.ctx() #>> '{messages,0,content}') LIKE '%Lucía F.%', 'contact renamed: the new name is used');
UPDATE convo.conversations SET current_step = 'checkout' WHERE conversation_id = :'conv';
SELECT ok((t.ctx() #>> '{messages,0,content}') LIKE '%Confirm size and address.%', 'step moved: its instruction is used');
UPDATE convo.bot_profiles SET style_rules = 'Siempre en español rioplatense.' WHERE account_id = :'account';
SELECT ok((t.ctx() #>> '{messages,0,content}') LIKE '%rioplatense%', 'profile changed: the new style is used');
INSERT INTO convo.products (account_id, sku, name, price, stock) VALUES (:'account', 'SOL-42', 'Zapatilla Sol 42', 30.50, 5)
RETURNING product_id AS product \gset
INSERT INTO convo.carts (account_id, contact_id) SELECT :'account', contact_id FROM convo.contacts WHERE wa_id = '5491188800001'
RETURNING cart_id AS cart \gset
INSERT INTO convo.cart_items (account_id, cart_id, product_id, quantity, unit_price) VALUES (:'account', :'cart', :'product', 2, 30.50);
SELECT t.ctx() AS withcart \gset
SELECT is(:'withcart'::jsonb ->> 'cached', 'false', 'cart changed: rebuilt');
SELECT is(:'withcart'::jsonb -> 'cart', jsonb_build_object('items', jsonb_build_array(jsonb_build_object(
              'product_id', :'product', 'label', 'Zapatilla Sol 42', 'quantity', 2, 'unit_price', 30.50, 'line_total', 61.00)),
              'total', 61.00, 'currency', 'USD'), 'the cart: product ids, labels, quantities, unit prices, line totals, total');
SELECT is(:'withcart'::jsonb -> 'cart', convo.cart_summary(:'account', (SELECT contact_id FROM convo.conversations WHERE conversation_id = :'conv')),
          'exactly the cart the cart tools return (one shape)');
SELECT ok((:'withcart'::jsonb #>> '{messages,0,content}') LIKE '%2 items, 61.00 USD%', 'the system message summarises the cart');
UPDATE convo.products SET name = 'Zapatilla Sol Roja 42' WHERE product_id = :'product';
SELECT is(t.ctx() #>> '{cart,items,0,label}', 'Zapatilla Sol Roja 42', 'product renamed: the cart label follows');
UPDATE convo.products SET stock = 4 WHERE product_id = :'product';
SELECT is(t.ctx() ->> 'cached', 'true', 'a stock change (not shown) keeps the cache');
UPDATE convo.cart_items SET quantity = 3 WHERE cart_id = :'cart';
SELECT is(t.ctx() #>> '{cart,total}', '91.50', 'quantity changed: the new total');
SELECT ok((t.ctx() #>> '{messages,0,content}') LIKE '%3 items, 91.50 USD%', 'and the new prompt line');
-- A long name with a multi-byte character at the cut: cut by characters, never inside one.
UPDATE convo.products SET name = repeat('a', 38) || 'ñandú 👟 rojo' WHERE product_id = :'product';
SELECT is(t.ctx() #>> '{cart,items,0,label}', repeat('a', 38) || 'ñ…', 'a label is cut to 40 characters, ñ kept whole');
UPDATE convo.products SET name = repeat('a', 38) || '👟👟👟' WHERE product_id = :'product';
SELECT is(t.ctx() #>> '{cart,items,0,label}', repeat('a', 38) || '👟…', 'an emoji at the cut is kept whole');
SELECT ok(convert_to(t.ctx() #>> '{cart,items,0,label}', 'UTF8') IS NOT NULL, 'valid UTF-8 after the cut');
UPDATE convo.products SET name = 'Zapatilla Sol Roja 42' WHERE product_id = :'product';
UPDATE convo.context_cache SET valid_until = now() - interval '1 second' WHERE conversation_id = :'conv';
SELECT is(t.ctx() ->> 'cached', 'false', 'a context past its valid_until (cart expiry) is rebuilt');
INSERT INTO convo.orders (account_id, contact_id, total, status) SELECT :'account', contact_id, 91.50, 'paid' FROM convo.contacts WHERE wa_id = '5491188800001';
SELECT is(t.ctx('{"include_orders": true}') #>> '{orders,0,status}', 'paid', 'orders only when asked for');
SELECT ok(NOT (t.ctx() ? 'orders'), 'and not otherwise');
SELECT convo.ingest('whatsapp', t.notification(jsonb_build_array(t.msg(21, 'text', '{"body": "¿A qué hora abren los domingos?"}'))));
SELECT t.ctx() ->> 'cached' AS warm2 \gset
SELECT is(t.ctx() ->> 'cached', 'true', 'warm again');
SELECT convo.put_cached_answer(:'account', 'a que hora abren los domingos', 'De 10 a 14.');
SELECT is(t.ctx() #>> '{model,tier}', 'cached', 'a new cached answer: the latest message now routes to the cache');
SELECT is(t.ctx() ->> 'cached', 'false', 'and a context routed to an expiring answer is not kept');
UPDATE convo.tools SET description = description || ' ' WHERE name = 'view_cart';
SELECT ok((SELECT bool_and(a.context_version > 0) FROM convo.accounts a), 'a tool definition change outdates every account''s contexts');
-- Tool definitions are kept per session between calls: a change, even one that reuses the
-- version number of a rolled-back change, must reach the next context.
SELECT t.ctx() AS before_tools \gset
SAVEPOINT tools;
UPDATE convo.tools SET description = 'Rolled back.' WHERE name = 'view_cart';
SELECT is((SELECT x #>> '{function,description}' FROM jsonb_array_elements(t.ctx() -> 'tools') x WHERE x #>> '{function,name}' = 'view_cart'),
          'Rolled back.', 'a changed tool definition reaches the context');
ROLLBACK TO SAVEPOINT tools;
UPDATE convo.tools SET description = 'Kept.' WHERE name = 'view_cart';
SELECT is((SELECT x #>> '{function,description}' FROM jsonb_array_elements(t.ctx() -> 'tools') x WHERE x #>> '{function,name}' = 'view_cart'),
          'Kept.', 'after a rolled-back change, the next change reaches the context');
SELECT ok((:'before_tools'::jsonb #>> '{budget,used}')::int <> (t.ctx() #>> '{budget,used}')::int,
          'and the tokens counted for the tools follow');
UPDATE convo.accounts SET name = 'Zapatería Luna' WHERE account_id = :'account';
SELECT ok((t.ctx() #>> '{messages,0,content}') LIKE '%Zapatería Luna%', 'account renamed: the new business name');
-- The customer edits, then deletes, their latest message: the context follows, and never
-- shows the deleted words.
SELECT t.ctx() ->> 'cached' AS warm3 \gset
SELECT convo.ingest('whatsapp', t.notification(jsonb_build_array(t.msg(22, 'edit',
    '{"original_message_id": "wamid.ctx.21", "message": {"type": "text", "text": {"body": "¿Abren los sábados?"}}}'))));
SELECT is((SELECT array_agg(c) FROM unnest(t.contents(t.ctx())) c WHERE c LIKE '%bren%'), ARRAY['¿Abren los sábados?'],
          'an edited message: the context shows the new words only');
SELECT convo.ingest('whatsapp', t.notification(jsonb_build_array(t.msg(23, 'revoke', '{"original_message_id": "wamid.ctx.21"}'))));
SELECT t.ctx() AS revoked \gset
SELECT is(:'revoked'::jsonb ->> 'cached', 'false', 'a deleted message outdates the cached context');
SELECT is((t.contents(:'revoked'::jsonb))[array_length(t.contents(:'revoked'::jsonb), 1)], '[message deleted]',
          'the deleted message shows as deleted');
SELECT ok(NOT (:'revoked'::text LIKE '%bren los%'), 'and its words are nowhere in the context');

-- 6. Bad input.
SELECT throws_ok($$SELECT convo.build_context('00000000-0000-0000-0000-0000000000aa')$$, 'P0002',
                 'convo.build_context: unknown conversation 00000000-0000-0000-0000-0000000000aa', 'unknown conversation');
SELECT throws_ok($$SELECT convo.build_context(NULL)$$, '22004', 'convo.build_context: conversation_id must not be NULL', 'NULL id');
SELECT throws_like($$SELECT t.ctx('[1]')$$, 'convo.build_context: options must be a JSON object%', 'options not an object');
SELECT throws_ok($$SELECT t.ctx('{"history": "5"}')$$, '22023', 'convo.build_context: options.history must be an integer', 'history of the wrong type');
SELECT throws_ok($$SELECT t.ctx('{"max_tokens": 10}')$$, '22023', 'convo.build_context: options.max_tokens must be between 50 and 200000, got 10', 'budget out of range');
SELECT throws_ok($$SELECT t.ctx('{"histroy": 5}')$$, '22023', 'convo.build_context: unknown option "histroy"', 'a typo in an option');
-- No profile at all: no assistant, said as call_tool and route_model say it.
UPDATE convo.conversations SET bot_profile_id = NULL WHERE conversation_id = :'conv';
DELETE FROM convo.bot_profiles WHERE account_id = :'account';
SELECT throws_ok($$SELECT t.ctx()$$, '55000', format('convo.build_context: account %s has no default bot profile', :'account'),
                 'an account without a bot profile: 55000 naming it');
SELECT throws_ok(format($$SELECT convo.route_model(%L, 'hola')$$, :'conv'), '55000',
                 format('convo.route_model: account %s has no default bot profile', :'account'), 'route_model agrees');
SELECT throws_ok(format($$SELECT convo.call_tool(%L, 'view_cart')$$, :'conv'), '55000',
                 format('convo.call_tool: account %s has no default bot profile', :'account'), 'and call_tool');

SELECT * FROM finish();
ROLLBACK;
