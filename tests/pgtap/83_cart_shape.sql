-- The cart's one shape (convo.open_cart, convo.cart_summary): what view_cart and build_context
-- both show, labels cut by characters, the line cap and the prompt line.
BEGIN;
SELECT plan(12);

INSERT INTO convo.accounts (account_id, name, phone_number_id, display_phone_number) VALUES
    ('a0000000-0000-4000-8000-000000000083', 'Shop C', '100000000000083', '15550000083');
INSERT INTO convo.bot_profiles (account_id, name, is_default) VALUES ('a0000000-0000-4000-8000-000000000083', 'shop', true);
INSERT INTO convo.contacts (account_id, contact_id, wa_id) VALUES
    ('a0000000-0000-4000-8000-000000000083', 'c0000000-0000-4000-8000-000000000083', '5491100000831');
INSERT INTO convo.conversations (account_id, conversation_id, contact_id) VALUES
    ('a0000000-0000-4000-8000-000000000083', 'f0000000-0000-4000-8000-000000000083', 'c0000000-0000-4000-8000-000000000083');
-- 52 products: names at the cut with multi-byte characters, and enough for the line cap.
INSERT INTO convo.products (account_id, product_id, sku, name, price, currency, stock) VALUES
    ('a0000000-0000-4000-8000-000000000083', 'd0000000-0000-4000-8000-000000000001', 'N1', repeat('a', 38) || 'ñandú rojo', 10.00, 'USD', 100),
    ('a0000000-0000-4000-8000-000000000083', 'd0000000-0000-4000-8000-000000000002', 'N2', repeat('b', 39) || '👟👟', 1.50, 'USD', 100),
    ('a0000000-0000-4000-8000-000000000083', 'd0000000-0000-4000-8000-000000000003', 'N3', repeat('é', 40), 2.25, 'USD', 100);
INSERT INTO convo.products (account_id, product_id, sku, name, price, currency, stock)
SELECT 'a0000000-0000-4000-8000-000000000083', ('d0000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, 'X' || i, 'Extra ' || i, 1.00, 'USD', 100
  FROM generate_series(10, 58) i;

CREATE FUNCTION pg_temp.cart() RETURNS jsonb LANGUAGE sql AS $$
    SELECT convo.cart_summary('a0000000-0000-4000-8000-000000000083', 'c0000000-0000-4000-8000-000000000083') $$;
CREATE FUNCTION pg_temp.add(product text, quantity int DEFAULT 1) RETURNS jsonb LANGUAGE sql AS $$
    SELECT convo.call_tool('f0000000-0000-4000-8000-000000000083', 'add_to_cart',
                           jsonb_build_object('product_id', product, 'quantity', quantity)) $$;

SELECT is((SELECT summary FROM convo.open_cart('a0000000-0000-4000-8000-000000000083', 'c0000000-0000-4000-8000-000000000083')),
          '{"items": [], "total": 0}'::jsonb, 'no cart: no items, total 0');
SELECT is((SELECT row(prompt_line, expires_at)::text FROM convo.open_cart('a0000000-0000-4000-8000-000000000083', 'c0000000-0000-4000-8000-000000000083')),
          '(,)', 'and neither a prompt line nor an expiry');

SELECT pg_temp.add('d0000000-0000-4000-8000-000000000001', 2);
SELECT is(pg_temp.cart() -> 'items' -> 0,
          jsonb_build_object('product_id', 'd0000000-0000-4000-8000-000000000001', 'label', repeat('a', 38) || 'ñ…',
                             'quantity', 2, 'unit_price', 10.00, 'line_total', 20.00),
          'a 48-character name with ñ at the cut: 39 characters and …, ñ whole');
SELECT is((SELECT prompt_line FROM convo.open_cart('a0000000-0000-4000-8000-000000000083', 'c0000000-0000-4000-8000-000000000083')),
          '2 items, 20.00 USD', 'the prompt line: units, total, currency');
SELECT pg_temp.add('d0000000-0000-4000-8000-000000000002');
SELECT is(pg_temp.cart() #>> '{items,1,label}', repeat('b', 39) || '…', 'an emoji past the cut is left out whole');
SELECT pg_temp.add('d0000000-0000-4000-8000-000000000003');
SELECT is(pg_temp.cart() #>> '{items,2,label}', repeat('é', 40), 'exactly 40 two-byte characters: not cut (80 bytes)');
SELECT is(pg_temp.cart() -> 'total', '23.75'::jsonb, 'money as exact numbers');
SELECT pg_temp.add('d0000000-0000-4000-8000-000000000003') AS added \gset
SELECT is(:'added'::jsonb, pg_temp.cart(), 'the cart tools return exactly cart_summary');

-- More lines than a cart shows: the total still counts them all.
SELECT pg_temp.add('d0000000-0000-4000-8000-' || lpad(i::text, 12, '0')) FROM generate_series(10, 58) i \g /dev/null
SELECT is(jsonb_array_length(pg_temp.cart() -> 'items'), (convo.limits() #>> '{cart_lines,max}')::int, 'at most cart_lines lines');
SELECT is(pg_temp.cart() -> 'more', '2'::jsonb, '"more" counts the lines not shown');
SELECT is(pg_temp.cart() -> 'total', to_jsonb(26.00 + 49.00), 'the total counts every line');
SELECT is(convo.build_context('f0000000-0000-4000-8000-000000000083') -> 'cart', pg_temp.cart(),
          'build_context embeds the same object');

SELECT * FROM finish();
ROLLBACK;
