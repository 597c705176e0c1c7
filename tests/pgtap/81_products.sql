-- convo.upsert_product and convo.search_products: writing the catalogue by sku, refusing bad
-- products, and the trigram search with its filters and its cap.
BEGIN;
SELECT plan(82);

INSERT INTO convo.accounts (account_id, name, phone_number_id, display_phone_number) VALUES
    ('a0000000-0000-4000-8000-000000000081', 'Shoe Shop', '100000000000081', '15550000081'),
    ('b0000000-0000-4000-8000-000000000081', 'Other Shop', '200000000000081', '15550000810');

-- Writing products -----------------------------------------------------------------------------

SELECT has_function('convo', 'upsert_product', ARRAY['uuid', 'jsonb']);
SELECT isnt_definer('convo', 'upsert_product', ARRAY['uuid', 'jsonb'], 'upsert_product runs with the caller''s rights');

SELECT convo.upsert_product('a0000000-0000-4000-8000-000000000081', $${
    "sku": "RUN-WHT-42", "name": "Stride Runner (white)", "price": 89.90, "currency": "EUR", "stock": 14,
    "attributes": {"brand": "Stride", "color": "white", "sizes": [41, 42, 43]}, "active": true}$$) AS runner \gset
SELECT isnt(:'runner'::uuid, NULL, 'a new product gets an id');
SELECT results_eq(format('SELECT sku, name, price, currency, stock, attributes, active FROM convo.products WHERE product_id = %L', :'runner'),
    $$VALUES ('RUN-WHT-42', 'Stride Runner (white)', 89.90::numeric, 'EUR', 14,
              '{"brand": "Stride", "color": "white", "sizes": [41, 42, 43]}'::jsonb, true)$$,
    'every key is stored');

SELECT convo.upsert_product('a0000000-0000-4000-8000-000000000081', '{"sku": "TEE", "name": "Basic Tee", "price": 0}') AS tee \gset
SELECT results_eq(format('SELECT price, currency, stock, attributes, active FROM convo.products WHERE product_id = %L', :'tee'),
    $$VALUES (0.00::numeric, 'USD', 0, '{}'::jsonb, true)$$,
    'a new product needs only sku, name and price (0 is a price); the rest takes the defaults');

UPDATE convo.products SET updated_at = now() - interval '1 day' WHERE product_id = :'runner';
SELECT is(convo.upsert_product('a0000000-0000-4000-8000-000000000081', '{"sku": "RUN-WHT-42", "stock": 3.0, "currency": "usd"}'),
    :'runner'::uuid, 'updating by sku returns the same id');
SELECT results_eq(format('SELECT name, price, currency, stock, attributes, active, updated_at FROM convo.products WHERE product_id = %L', :'runner'),
    $$VALUES ('Stride Runner (white)', 89.90::numeric, 'USD', 3, '{"brand": "Stride", "color": "white", "sizes": [41, 42, 43]}'::jsonb,
              true, now())$$,
    'given keys change (currency upper-cased, 3.0 is 3), absent keys keep their value, updated_at is bumped');
SELECT convo.upsert_product('a0000000-0000-4000-8000-000000000081', '{"sku": "RUN-WHT-42", "active": false, "attributes": {}}') AS ignored \gset
SELECT results_eq(format('SELECT active, attributes, stock FROM convo.products WHERE product_id = %L', :'runner'),
    $$VALUES (false, '{}'::jsonb, 3)$$, 'a product can be taken off sale and its attributes emptied');
SELECT convo.upsert_product('b0000000-0000-4000-8000-000000000081', '{"sku": "RUN-WHT-42", "name": "B runner", "price": 1}') AS b_runner \gset
SELECT isnt(:'b_runner'::uuid, :'runner'::uuid, 'skus are per account: the same sku in another account is another product');

SELECT convo.upsert_product('a0000000-0000-4000-8000-000000000081',
    $${"sku": "'; DROP TABLE convo.products; --", "name": "Taco \"🌮\" O'Brien", "price": 9999999999.99,
       "attributes": {"emoji": "🌮🌯", "note": "a\\b"}}$$) AS odd \gset
SELECT results_eq(format('SELECT sku, name, price, attributes ->> ''emoji'' FROM convo.products WHERE product_id = %L', :'odd'),
    $$VALUES ($s$'; DROP TABLE convo.products; --$s$, 'Taco "🌮" O''Brien', 9999999999.99::numeric, '🌮🌯')$$,
    'quotes, SQL and 4-byte emoji are data; the largest price fits');

CREATE FUNCTION pg_temp.refused(product text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM convo.upsert_product('a0000000-0000-4000-8000-000000000081', product::jsonb);
    RETURN 'accepted';
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN regexp_replace(SQLERRM, '^convo\.upsert_product: ', '');
END
$$;

SELECT is(pg_temp.refused('{"sku": "NEW"}'), 'a new product needs name and price (sku "NEW")', 'a new product without name or price');
SELECT is(pg_temp.refused('{"sku": "NEW", "name": "New"}'), 'a new product needs name and price (sku "NEW")', 'without price');
SELECT is((SELECT count(*) FROM convo.products WHERE sku = 'NEW'), 0::bigint, 'and nothing was written');
SELECT is(pg_temp.refused('{"name": "x", "price": 1}'), 'sku is required', 'the sku is required');
SELECT is(pg_temp.refused('{"sku": "", "name": "x", "price": 1}'), 'sku must not be empty', 'an empty sku');
SELECT is(pg_temp.refused('{"sku": "  ", "name": "x", "price": 1}'), 'sku must not be blank', 'a blank sku');
SELECT is(pg_temp.refused('{"sku": "X", "name": " ", "price": 1}'), 'name must not be blank', 'a blank name');
SELECT is(pg_temp.refused('{"sku": 42, "name": "x", "price": 1}'), 'sku must be a string, got 42', 'a numeric sku');
SELECT is(pg_temp.refused('{"sku": "X", "name": "x", "price": -0.01}'), 'price must be a number between 0 and 9999999999.99, got -0.01',
    'a negative price');
SELECT is(pg_temp.refused('{"sku": "X", "name": "x", "price": 10000000000}'), 'price must be a number between 0 and 9999999999.99, got 10000000000',
    'a price beyond numeric(12, 2)');
SELECT is(pg_temp.refused('{"sku": "X", "name": "x", "price": 1e400}'), 'price must be a number between 0 and 9999999999.99, got a number too large',
    'a price beyond double');
SELECT is(pg_temp.refused('{"sku": "X", "name": "x", "price": 1.999}'), 'price must have at most 2 decimals, got 1.999',
    'a price with 3 decimals is refused rather than rounded');
SELECT is(pg_temp.refused('{"sku": "X", "name": "x", "price": "9.99"}'), 'price must be a number, got "9.99"', 'a price in a string');
SELECT is(pg_temp.refused('{"sku": "X", "name": "x", "price": 1, "stock": -1}'), 'stock must be an integer between 0 and 1000000000, got -1',
    'a negative stock');
SELECT is(pg_temp.refused('{"sku": "X", "name": "x", "price": 1, "stock": 1.5}'), 'stock must be an integer, got 1.5', 'a fractional stock');
SELECT is(pg_temp.refused('{"sku": "X", "name": "x", "price": 1, "currency": "US"}'), 'currency must have 3 characters, got 2',
    'a 2-letter currency');
SELECT is(pg_temp.refused('{"sku": "X", "name": "x", "price": 1, "currency": "U$D"}'),
    'currency must be a 3-letter ISO 4217 code such as "USD", got "U$D"', 'a currency that is not letters');
SELECT is(pg_temp.refused('{"sku": "X", "name": "x", "price": 1, "currency": "💶💶💶"}'),
    'currency must be a 3-letter ISO 4217 code such as "USD", got "💶💶💶"', 'three emoji are three characters, not a currency');
SELECT is(pg_temp.refused('{"sku": "X", "name": "x", "price": 1, "attributes": ["red"]}'), 'attributes must be an object, got an array',
    'attributes are an object');
SELECT is(pg_temp.refused(format('{"sku": "X", "name": "x", "price": 1, "attributes": {"story": "%s"}}', repeat('x', 9000))),
    'attributes must take at most 8192 bytes as JSON, got 9013', 'huge attributes');
SELECT is(pg_temp.refused(format('{"sku": "X", "name": "%s", "price": 1}', repeat('🙂', 201))),
    'name must have 1 to 200 characters, got 201', 'a name of 201 emoji');
SELECT is(pg_temp.refused('{"sku": "X", "name": "x", "price": 1, "active": "yes"}'), 'active must be a boolean, got "yes"', 'active is a boolean');
SELECT is(pg_temp.refused('{"sku": "X", "name": "x", "price": 1, "colour": "red"}'),
    'unknown key colour; expected one of: active, attributes, currency, name, price, sku, stock', 'an unknown key');
SELECT is(pg_temp.refused('[]'), 'product must be an object, got an array', 'the product is an object');
SELECT throws_ok($$SELECT convo.upsert_product(NULL, '{"sku": "X"}')$$, '22004',
    'convo.upsert_product: account_id and product are required', 'a NULL account id');
SELECT throws_ok($$SELECT convo.upsert_product('a0000000-0000-4000-8000-000000000081', NULL)$$, '22004',
    'convo.upsert_product: account_id and product are required', 'a NULL product');
SELECT throws_ok($$SELECT convo.upsert_product('00000000-0000-4000-8000-000000000000', '{"sku": "X", "name": "x", "price": 1}')$$,
    'P0002', 'convo.upsert_product: unknown account 00000000-0000-4000-8000-000000000000', 'an unknown account');

-- A catalogue to search ------------------------------------------------------------------------

DELETE FROM convo.products WHERE account_id IN ('a0000000-0000-4000-8000-000000000081', 'b0000000-0000-4000-8000-000000000081');
INSERT INTO convo.products (account_id, product_id, sku, name, price, stock, attributes, active) VALUES
    ('a0000000-0000-4000-8000-000000000081', 'd0000000-0000-4000-8000-000000000811', 'R-WHT', 'Stride Runner (white)', 89.90, 14,
     '{"brand": "Stride", "color": "white", "sizes": [41, 42, 43]}', true),
    ('a0000000-0000-4000-8000-000000000081', 'd0000000-0000-4000-8000-000000000812', 'R-BLK', 'Stride Runner (black)', 79.90, 0,
     '{"brand": "Stride", "color": "black", "sizes": [42]}', true),
    ('a0000000-0000-4000-8000-000000000081', 'd0000000-0000-4000-8000-000000000813', 'R-OLD', 'Stride Runner Classic', 49.00, 5,
     '{"brand": "Stride", "color": "white", "sizes": [42]}', false),
    ('a0000000-0000-4000-8000-000000000081', 'd0000000-0000-4000-8000-000000000814', 'TRAIL', 'Stride Trail Pro', 129.00, 6,
     '{"brand": "Stride", "color": "olive", "waterproof": true, "sizes": [40, 41]}', true),
    ('a0000000-0000-4000-8000-000000000081', 'd0000000-0000-4000-8000-000000000815', 'TEE-M', 'Basic Tee', 19.90, 40,
     '{"brand": "Loomwell", "color": "White", "size": "M", "material": {"main": "cotton"}}', true),
    ('a0000000-0000-4000-8000-000000000081', 'd0000000-0000-4000-8000-000000000816', 'LONG',
     'Extraordinarily Comfortable Everyday Walking Shoe With Memory Foam Insole', 59.00, 2, '{"brand": "Comfy"}', true),
    ('b0000000-0000-4000-8000-000000000081', 'e0000000-0000-4000-8000-000000000811', 'B-RUN', 'Stride Runner (B)', 9.00, 99,
     '{"brand": "Stride", "color": "white", "sizes": [42]}', true);

-- The ids of a search, in order.
CREATE FUNCTION pg_temp.hits(result jsonb) RETURNS text[]
LANGUAGE sql AS $$ SELECT coalesce(array_agg(h ->> 'label' ORDER BY n), '{}') FROM jsonb_array_elements(result -> 'products') WITH ORDINALITY AS e(h, n) $$;

SELECT has_function('convo', 'search_products', ARRAY['uuid', 'text', 'jsonb', 'numeric', 'boolean', 'integer']);
SELECT has_index('convo', 'products', 'products_search', 'the trigram index exists');
SELECT is(convo.search_products('a0000000-0000-4000-8000-000000000081', 'runner'),
    $${"more": false, "products": [
        {"id": "d0000000-0000-4000-8000-000000000812", "label": "Stride Runner (black)", "price": 79.90, "stock": 0, "currency": "USD"},
        {"id": "d0000000-0000-4000-8000-000000000811", "label": "Stride Runner (white)", "price": 89.90, "stock": 14, "currency": "USD"}]}$$::jsonb,
    'a hit is id, label, price, currency and stock: nothing else of the product');
SELECT is(pg_temp.hits(convo.search_products('a0000000-0000-4000-8000-000000000081', 'runer')),
    ARRAY['Stride Runner (black)', 'Stride Runner (white)'], 'a typo still finds the runners (trigram word similarity)');
SELECT is(pg_temp.hits(convo.search_products('a0000000-0000-4000-8000-000000000081', 'RUNNER')), ARRAY['Stride Runner (black)', 'Stride Runner (white)'],
    'case does not matter');
SELECT is(pg_temp.hits(convo.search_products('a0000000-0000-4000-8000-000000000081', 'stride trail')), ARRAY['Stride Trail Pro'],
    'the best match comes first; weaker ones stay under the similarity threshold');
SELECT is(pg_temp.hits(convo.search_products('a0000000-0000-4000-8000-000000000081', 'olive')), ARRAY['Stride Trail Pro'],
    'attribute values are searched');
SELECT is(pg_temp.hits(convo.search_products('a0000000-0000-4000-8000-000000000081', 'waterproof')), ARRAY['Stride Trail Pro'],
    'so are the names of attributes that are true');
SELECT is(pg_temp.hits(convo.search_products('a0000000-0000-4000-8000-000000000081', 'cotton')), ARRAY['Basic Tee'],
    'and nested attribute values');
SELECT is(pg_temp.hits(convo.search_products('a0000000-0000-4000-8000-000000000081', 'material')), '{}'::text[],
    'other attribute names are not searched (every product has a color)');
SELECT is(pg_temp.hits(convo.search_products('a0000000-0000-4000-8000-000000000081', 'classic')), '{}'::text[],
    'inactive products are never found');
SELECT is(convo.search_products('a0000000-0000-4000-8000-000000000081', 'pizza'), '{"more": false, "products": []}'::jsonb,
    'no match: an empty list');
SELECT is(pg_temp.hits(convo.search_products('a0000000-0000-4000-8000-000000000081', 'memory foam')),
    ARRAY['Extraordinarily Comfortable Everyday Walking Shoe With Memo…'], 'long names are cut to 60 characters in the label');
SELECT is(convo.search_products('a0000000-0000-4000-8000-000000000081', $$'; DROP TABLE convo.products; --$$),
    '{"more": false, "products": []}'::jsonb, 'SQL in the query is just text');
SELECT is(convo.search_products('a0000000-0000-4000-8000-000000000081', '🌮🌮'), '{"more": false, "products": []}'::jsonb,
    'a query of emoji finds nothing and raises nothing');
SELECT is(pg_temp.hits(convo.search_products('a0000000-0000-4000-8000-000000000081', 'stride')),
    ARRAY['Stride Runner (black)', 'Stride Runner (white)', 'Stride Trail Pro'], 'only the account''s own products');
SELECT is(pg_temp.hits(convo.search_products('a0000000-0000-4000-8000-000000000081')),
    ARRAY['Basic Tee', 'Extraordinarily Comfortable Everyday Walking Shoe With Memo…', 'Stride Runner (black)',
          'Stride Runner (white)', 'Stride Trail Pro'], 'without a query: every active product, by name');

-- Filters.
SELECT is(pg_temp.hits(convo.search_products('a0000000-0000-4000-8000-000000000081', 'runner', NULL, NULL, true)),
    ARRAY['Stride Runner (white)'], 'in_stock leaves out products with no stock');
SELECT is(pg_temp.hits(convo.search_products('a0000000-0000-4000-8000-000000000081', 'runner', NULL, 80)),
    ARRAY['Stride Runner (black)'], 'max_price is inclusive of nothing above it');
SELECT is(pg_temp.hits(convo.search_products('a0000000-0000-4000-8000-000000000081', 'runner', NULL, 79.90)),
    ARRAY['Stride Runner (black)'], 'and includes the price itself');
SELECT is(pg_temp.hits(convo.search_products('a0000000-0000-4000-8000-000000000081', NULL, '{"color": "WHITE"}')),
    ARRAY['Basic Tee', 'Stride Runner (white)'], 'attribute filters ignore case');
SELECT is(pg_temp.hits(convo.search_products('a0000000-0000-4000-8000-000000000081', NULL, '{"Brand": "stride", "color": "white"}')),
    ARRAY['Stride Runner (white)'], 'every filter must match, keys ignoring case too');
SELECT is(pg_temp.hits(convo.search_products('a0000000-0000-4000-8000-000000000081', NULL, '{"size": "42"}')),
    ARRAY['Stride Runner (black)', 'Stride Runner (white)'], 'an array attribute matches one of its elements; size finds sizes');
SELECT is(pg_temp.hits(convo.search_products('a0000000-0000-4000-8000-000000000081', NULL, '{"sizes": 41}')),
    ARRAY['Stride Runner (white)', 'Stride Trail Pro'], 'numbers match their text');
SELECT is(pg_temp.hits(convo.search_products('a0000000-0000-4000-8000-000000000081', NULL, '{"waterproof": true}')),
    ARRAY['Stride Trail Pro'], 'booleans too');
SELECT is(pg_temp.hits(convo.search_products('a0000000-0000-4000-8000-000000000081', NULL, '{"size": "M"}')), ARRAY['Basic Tee'],
    'a plain attribute matches by equality');
SELECT is(pg_temp.hits(convo.search_products('a0000000-0000-4000-8000-000000000081', NULL, '{"color": "purple"}')), '{}'::text[],
    'a value no product has: nothing');
SELECT is(pg_temp.hits(convo.search_products('a0000000-0000-4000-8000-000000000081', NULL, '{"heel": "low"}')), '{}'::text[],
    'an attribute no product has: nothing');
SELECT is(pg_temp.hits(convo.search_products('a0000000-0000-4000-8000-000000000081', 'runner', '{"size": "42"}', 85, false)),
    ARRAY['Stride Runner (black)'], 'query and filters together');

-- At most max_hits (5 for the tool), with "more" when there were others.
INSERT INTO convo.products (account_id, sku, name, price, stock)
SELECT 'a0000000-0000-4000-8000-000000000081', 'RK-' || i, 'Stride Runner Kids ' || i, 30 + i, 1 FROM generate_series(1, 6) i;
SELECT is(jsonb_array_length(convo.search_products('a0000000-0000-4000-8000-000000000081', 'runner') -> 'products'), 5,
    'eight runners match: five are returned');
SELECT is(convo.search_products('a0000000-0000-4000-8000-000000000081', 'runner') -> 'more', 'true'::jsonb, 'and more is true');
SELECT is(jsonb_array_length(convo.search_products('a0000000-0000-4000-8000-000000000081', 'runner', NULL, NULL, false, 8) -> 'products'), 8,
    'max_hits raises the cap');
SELECT is(convo.search_products('a0000000-0000-4000-8000-000000000081', 'runner', NULL, NULL, false, 8) -> 'more', 'false'::jsonb,
    'more is false when all fit');
SELECT is(convo.search_products('a0000000-0000-4000-8000-000000000081', 'runner', NULL, NULL, false, 0),
    '{"more": true, "products": []}'::jsonb, 'max_hits 0: none, but more');
SELECT is(convo.search_products(NULL, 'runner'), '{"more": false, "products": []}'::jsonb, 'no account: nothing');

-- Where pg_trgm lives does not matter to callers: the search was bound to it at install.
SET LOCAL search_path = pg_catalog;
SELECT jsonb_array_length(convo.search_products('a0000000-0000-4000-8000-000000000081', 'runer') -> 'products') AS found \gset
RESET search_path;
SELECT is(:found, 5, 'search works with pg_trgm''s schema off the search_path');
SELECT is((SELECT count(*) FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
            WHERE d.classid = 'pg_extension'::regclass AND d.objid = (SELECT oid FROM pg_extension WHERE extname = 'convo')
              AND e.extname = 'pg_trgm'), 1::bigint, 'convo requires pg_trgm');

-- The planner can use the trigram index (it prefers a scan on tiny tables, hence no seqscan).
CREATE FUNCTION pg_temp.plan_of(query text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    line text;
    plan text := '';
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
        plan := plan || line || E'\n';
    END LOOP;
    RETURN plan;
END
$$;
SET LOCAL enable_seqscan = off;
SELECT matches(pg_temp.plan_of($$SELECT product_id FROM convo.products
                                  WHERE 'runner' <% convo.product_search_text(name, attributes)$$),
    'products_search', 'a word-similarity match uses the products_search index');
RESET enable_seqscan;

-- As PostgREST requests ------------------------------------------------------------------------

-- test.as_request (tests/sql/postgrest_request.sql) replays PostgREST's per-request settings.

CALL test.as_request('authenticated', '{"sub": "user-a", "account_id": "a0000000-0000-4000-8000-000000000081"}');
SELECT lives_ok($$SELECT convo.upsert_product('a0000000-0000-4000-8000-000000000081', '{"sku": "API-1", "name": "From the API", "price": 5}')$$,
    'authenticated writes a product of its own account');
SELECT throws_ok($$SELECT convo.upsert_product('b0000000-0000-4000-8000-000000000081', '{"sku": "B-RUN", "price": 0}')$$,
    'P0002', 'convo.upsert_product: unknown account b0000000-0000-4000-8000-000000000081',
    'another account is unknown to it: its prices cannot be changed');
SELECT is(convo.search_products('b0000000-0000-4000-8000-000000000081', 'runner'), '{"more": false, "products": []}'::jsonb,
    'searching another account''s catalogue finds nothing');
SELECT is(pg_temp.hits(convo.search_products('a0000000-0000-4000-8000-000000000081', 'from the api')), ARRAY['From the API'],
    'its own catalogue is searchable');
CALL test.as_request('anon');
SELECT throws_ok($$SELECT convo.upsert_product('a0000000-0000-4000-8000-000000000081', '{"sku": "ANON", "name": "x", "price": 1}')$$,
    '42501', 'permission denied for function upsert_product', 'anon cannot write products');
SELECT throws_ok($$SELECT convo.search_products('a0000000-0000-4000-8000-000000000081', 'runner')$$,
    '42501', 'permission denied for function search_products', 'anon cannot search');
RESET ROLE;
SELECT results_eq($$SELECT sku, price FROM convo.products WHERE account_id = 'b0000000-0000-4000-8000-000000000081'$$,
    $$VALUES ('B-RUN', 9.00::numeric)$$, 'B''s catalogue is as it was');

SELECT * FROM finish();
ROLLBACK;
