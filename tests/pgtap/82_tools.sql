-- Tools: the catalogue, tool_definitions, json_schema_error and convo.call_tool with each tool,
-- its argument checks, the cart arithmetic and expiry, and calls across accounts.
BEGIN;
SELECT plan(152);

-- Account A (a profile with every tool and one with view_cart only), account B (no steps, no
-- business info) and account N (no profile at all), each with customers and conversations.
INSERT INTO convo.accounts (account_id, name, phone_number_id, display_phone_number) VALUES
    ('a0000000-0000-4000-8000-000000000082', 'Shop A', '100000000000082', '15550000082'),
    ('b0000000-0000-4000-8000-000000000082', 'Shop B', '200000000000082', '15550000820'),
    ('a1000000-0000-4000-8000-000000000082', 'Shop N', '300000000000082', '15550000821');
INSERT INTO convo.bot_profiles (account_id, bot_profile_id, name, is_default, steps, business_info) VALUES
    ('a0000000-0000-4000-8000-000000000082', '60000000-0000-4000-8000-000000000082', 'shop', true,
     '[{"name": "greet", "instruction": "Welcome the customer"}, {"name": "checkout", "instruction": "Confirm the address"}]',
     '{"hours": "Mon-Fri 9-18", "Address": "1 Main St"}'),
    ('b0000000-0000-4000-8000-000000000082', '61000000-0000-4000-8000-000000000082', 'shop', true, '[]', '{}');
INSERT INTO convo.bot_profiles (account_id, bot_profile_id, name, tools) VALUES
    ('a0000000-0000-4000-8000-000000000082', '70000000-0000-4000-8000-000000000082', 'quiet', ARRAY['view_cart']);
INSERT INTO convo.contacts (account_id, contact_id, wa_id) VALUES
    ('a0000000-0000-4000-8000-000000000082', 'c0000000-0000-4000-8000-0000000082a1', '5491100000821'),
    ('a0000000-0000-4000-8000-000000000082', 'c0000000-0000-4000-8000-0000000082a2', '5491100000822'),
    ('b0000000-0000-4000-8000-000000000082', 'c0000000-0000-4000-8000-0000000082b1', '5491100000821'),
    ('a1000000-0000-4000-8000-000000000082', 'c0000000-0000-4000-8000-0000000082c1', '5491100000821');
INSERT INTO convo.conversations (account_id, conversation_id, contact_id, bot_profile_id) VALUES
    ('a0000000-0000-4000-8000-000000000082', 'f0000000-0000-4000-8000-0000000082a1', 'c0000000-0000-4000-8000-0000000082a1', NULL),
    ('a0000000-0000-4000-8000-000000000082', 'f0000000-0000-4000-8000-0000000082a2', 'c0000000-0000-4000-8000-0000000082a2',
     '70000000-0000-4000-8000-000000000082'),
    ('b0000000-0000-4000-8000-000000000082', 'f0000000-0000-4000-8000-0000000082b1', 'c0000000-0000-4000-8000-0000000082b1', NULL),
    ('a1000000-0000-4000-8000-000000000082', 'f0000000-0000-4000-8000-0000000082c1', 'c0000000-0000-4000-8000-0000000082c1', NULL);
INSERT INTO convo.products (account_id, product_id, sku, name, price, currency, stock, attributes, active) VALUES
    ('a0000000-0000-4000-8000-000000000082', 'd0000000-0000-4000-8000-000000000821', 'TEE', 'Basic Tee', 19.90, 'USD', 10,
     '{"color": "black", "sizes": ["S", "M"]}', true),
    ('a0000000-0000-4000-8000-000000000082', 'd0000000-0000-4000-8000-000000000822', 'RUN', 'Stride Runner', 89.90, 'USD', 3,
     '{"color": "white", "sizes": [42]}', true),
    ('a0000000-0000-4000-8000-000000000082', 'd0000000-0000-4000-8000-000000000823', 'OUT', 'Sold Out Sandal', 30.00, 'USD', 0, '{}', true),
    ('a0000000-0000-4000-8000-000000000082', 'd0000000-0000-4000-8000-000000000824', 'OLD', 'Retired Runner', 40.00, 'USD', 5, '{}', false),
    ('a0000000-0000-4000-8000-000000000082', 'd0000000-0000-4000-8000-000000000825', 'EUR', 'Euro Scarf', 25.00, 'EUR', 5, '{}', true),
    ('a0000000-0000-4000-8000-000000000082', 'd0000000-0000-4000-8000-000000000826', 'LONG',
     'Extraordinarily Comfortable Everyday Walking Shoe With Memory Foam', 59.00, 'USD', 2, '{}', true),
    ('b0000000-0000-4000-8000-000000000082', 'e0000000-0000-4000-8000-000000000821', 'B-RUN', 'Stride Runner B', 9.00, 'USD', 99, '{}', true);

-- A call on conversation A1 (the default profile), for brevity.
CREATE FUNCTION pg_temp.a1(tool text, arguments jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE sql AS $$ SELECT convo.call_tool('f0000000-0000-4000-8000-0000000082a1', tool, arguments) $$;
-- Its error message alone.
CREATE FUNCTION pg_temp.a1_error(tool text, arguments jsonb DEFAULT '{}') RETURNS text
LANGUAGE sql AS $$ SELECT pg_temp.a1(tool, arguments) ->> 'error' $$;
-- Contact A1's carts.
CREATE FUNCTION pg_temp.carts_a1() RETURNS TABLE (status text, items bigint)
LANGUAGE sql AS $$
    SELECT c.status, (SELECT count(*) FROM convo.cart_items i WHERE i.account_id = c.account_id AND i.cart_id = c.cart_id)
      FROM convo.carts c
     WHERE c.account_id = 'a0000000-0000-4000-8000-000000000082' AND c.contact_id = 'c0000000-0000-4000-8000-0000000082a1'
     ORDER BY c.created_at, c.status;
$$;

-- The catalogue -------------------------------------------------------------------------------

SELECT results_eq('SELECT name FROM convo.tools ORDER BY position',
    ARRAY['search_products', 'add_to_cart', 'remove_from_cart', 'view_cart', 'update_progress', 'handoff_to_human',
          'get_business_info'], 'seven tools are installed, in a fixed order');
SELECT lives_ok($$SELECT convo.json_schema_error(parameters, '{}') FROM convo.tools$$,
    'every tool schema is in the subset the validator enforces');
SELECT is_empty($$SELECT name FROM convo.tools WHERE parameters -> 'additionalProperties' IS DISTINCT FROM 'false'$$,
    'every tool schema refuses unknown arguments');
SELECT is_empty('SELECT name FROM convo.tools WHERE length(description) > 90',
    'descriptions stay short: they are sent with every request');

-- tool_definitions -----------------------------------------------------------------------------

SELECT is(convo.tool_definitions(ARRAY['view_cart']),
    $$[{"type": "function", "function": {"name": "view_cart", "description": "The customer's cart: items, quantities, total.",
        "parameters": {"type": "object", "properties": {}, "additionalProperties": false}}}]$$::jsonb,
    'the OpenAI tools array: type function, with name, description and parameters');
SELECT is(jsonb_path_query_array(convo.tool_definitions(ARRAY['get_business_info', 'search_products', 'view_cart']), '$[*].function.name'),
    '["search_products", "view_cart", "get_business_info"]'::jsonb, 'in catalogue order, not the order asked');
SELECT is(convo.tool_definitions(ARRAY['view_cart', 'add_to_cart']), convo.tool_definitions(ARRAY['add_to_cart', 'view_cart']),
    'the same names in any order give the same array (a stable request prefix)');
SELECT is(jsonb_array_length(convo.tool_definitions(ARRAY['view_cart', 'view_cart'])), 1, 'a name given twice is defined once');
SELECT is(convo.tool_definitions('{}'), '[]'::jsonb, 'no names: an empty array');
SELECT is(convo.tool_definitions((SELECT tools FROM convo.bot_profiles WHERE bot_profile_id = '60000000-0000-4000-8000-000000000082')),
    (SELECT jsonb_agg(jsonb_build_object('type', 'function', 'function',
                      jsonb_build_object('name', name, 'description', description, 'parameters', parameters)) ORDER BY position)
       FROM convo.tools),
    'a default profile''s tools: all seven, from the catalogue');
SELECT throws_ok($$SELECT convo.tool_definitions(ARRAY['view_cart', 'teleport'])$$, '22023',
    'convo.tool_definitions: unknown tool "teleport"', 'an unknown name is refused');
SELECT throws_ok($$SELECT convo.tool_definitions(ARRAY[$n$x"'); DROP TABLE convo.tools; --$n$])$$, '22023',
    $m$convo.tool_definitions: unknown tool "x\"'); DROP TABLE convo.tools; --"$m$, 'SQL in a name is just an unknown name');
SELECT throws_ok($$SELECT convo.tool_definitions(ARRAY[NULL, 'view_cart'])$$, '22023',
    'convo.tool_definitions: unknown tool NULL', 'a NULL name is refused');
SELECT throws_ok($$SELECT convo.tool_definitions(NULL)$$, '22004', 'convo.tool_definitions: names must not be NULL',
    'NULL names');

-- json_schema_error as SQL ---------------------------------------------------------------------

SELECT is(convo.json_schema_error('{"type": "object", "required": ["a"]}', '{"a": 1}'), NULL, 'a conforming value: NULL');
SELECT is(convo.json_schema_error('{"type": "object"}', '[]'), 'value must be an object, got an array',
    'the value is called "value" unless named');
SELECT is(convo.json_schema_error('{"type": "object"}', '[]', 'arguments'), 'arguments must be an object, got an array', 'or as named');
SELECT is(convo.json_schema_error('{"type": "object"}', '[]', NULL), 'value must be an object, got an array', 'a NULL name is "value"');
SELECT is(convo.json_schema_error('{"type": "string", "maxLength": 2}', '"🌮🌮🌮"', 's'), 's must have at most 2 characters, got 3',
    'a scalar document; 4-byte emoji are one character each');
SELECT is(convo.json_schema_error('{"type": "integer", "maximum": 10}', '1e400', 'n'), 'n must be an integer, got a number too large',
    'a number too large for a double');
SELECT is(convo.json_schema_error('{"type": "integer", "maximum": 10}', '12345678901234567890', 'n'),
    'n must be an integer <= 10, got 12345678901234567168', 'an integer beyond bigint');
SELECT is(convo.json_schema_error('{"type": "number", "minimum": 0}', '-0.000000000000000000001', 'n'),
    'n must be a number >= 0, got -1e-21', 'a tiny negative number');
SELECT is(convo.json_schema_error('{"type": "object"}', (repeat('[', 10000) || repeat(']', 10000))::jsonb),
    'value must be an object, got an array', 'a value nested 10000 deep is read without recursion');
SELECT is(convo.json_schema_error('{"properties": {"a": {"type": "boolean"}}}', '{"a": null, "b": {"c": [1, "x", null]}}', 'v'),
    'a must be a boolean, got null', 'nulls inside objects are values');
SELECT throws_ok($$SELECT convo.json_schema_error('{"properties": {"d": {"type": "string", "format": "date"}}}', '{}')$$, '22023',
    'convo.json_schema_error: schema at properties.d: unsupported keyword "format"', 'a keyword outside the subset is refused');
SELECT throws_ok(format($$SELECT convo.json_schema_error('%s', '{}')$$, repeat('{"items": ', 40) || '{}' || repeat('}', 40)), '22023',
    NULL, 'a schema nested too deeply is refused');
SELECT throws_ok($$SELECT convo.json_schema_error(NULL, '{}')$$, '22004', 'convo.json_schema_error: schema must not be NULL', 'a NULL schema');
SELECT throws_ok($$SELECT convo.json_schema_error('{}', NULL)$$, '22004', 'convo.json_schema_error: value must not be NULL', 'a NULL value');

-- call_tool: the conversation, the tool, the profile --------------------------------------------

SELECT has_function('convo', 'call_tool', ARRAY['uuid', 'text', 'jsonb']);
SELECT isnt_definer('convo', 'call_tool', ARRAY['uuid', 'text', 'jsonb'], 'call_tool runs with the caller''s rights');
SELECT throws_ok($$SELECT convo.call_tool('00000000-0000-4000-8000-000000000000', 'view_cart', '{}')$$, 'P0002',
    'convo.call_tool: unknown conversation 00000000-0000-4000-8000-000000000000', 'an unknown conversation raises P0002');
SELECT throws_ok($$SELECT convo.call_tool(NULL, 'view_cart', '{}')$$, '22004', 'convo.call_tool: conversation_id must not be NULL',
    'a NULL conversation raises 22004');
SELECT is(pg_temp.a1('teleport'),
    '{"error": "unknown tool \"teleport\"; available tools: search_products, add_to_cart, remove_from_cart, view_cart, update_progress, handoff_to_human, get_business_info"}'::jsonb,
    'an unknown tool is an error result listing the tools this conversation has');
SELECT is(pg_temp.a1_error(NULL), 'unknown tool null; available tools: search_products, add_to_cart, remove_from_cart, view_cart, update_progress, handoff_to_human, get_business_info',
    'so is a NULL tool name');
SELECT is(pg_temp.a1_error($$🙂'; DROP TABLE convo.carts; --$$),
    $$unknown tool "🙂'; DROP TABLE convo.carts; --"; available tools: search_products, add_to_cart, remove_from_cart, view_cart, update_progress, handoff_to_human, get_business_info$$,
    'and one spelt with SQL and emoji');
SELECT is(convo.call_tool('f0000000-0000-4000-8000-0000000082a2', 'search_products', '{"query": "tee"}'),
    '{"error": "tool search_products is not enabled for this conversation; available tools: view_cart"}'::jsonb,
    'a tool the conversation''s own profile does not enable is an error result');
SELECT is(convo.call_tool('f0000000-0000-4000-8000-0000000082a2', 'view_cart', '{}'), '{"items": [], "total": 0}'::jsonb,
    'the conversation''s own profile is used rather than the account''s default');
SELECT throws_ok($$SELECT convo.call_tool('f0000000-0000-4000-8000-0000000082c1', 'view_cart', '{}')$$, '55000',
    'convo.call_tool: account a1000000-0000-4000-8000-000000000082 has no default bot profile',
    'an account without any profile has no assistant: 55000, as build_context and route_model say');
SELECT is(pg_temp.a1('view_cart', NULL), '{"items": [], "total": 0}'::jsonb, 'NULL arguments are no arguments');
SELECT is(pg_temp.a1_error('view_cart', '[]'), 'arguments must be an object, got an array', 'arguments that are an array');
SELECT is(pg_temp.a1_error('view_cart', 'null'), 'arguments must be an object, got null', 'arguments that are JSON null');
SELECT is(pg_temp.a1_error('view_cart', '"{}"'), 'arguments must be an object, got "{}"', 'arguments left as a JSON string');

-- Arguments are checked against each tool's schema ----------------------------------------------

SELECT is(pg_temp.a1_error('search_products', '{"query": 5}'), 'query must be a string, got 5', 'search_products: query type');
SELECT is(pg_temp.a1_error('search_products', '{"query": ""}'), 'query must not be empty', 'search_products: empty query');
SELECT is(pg_temp.a1_error('search_products', format('{"query": "%s"}', repeat('🌮', 201))::jsonb),
    'query must have 1 to 200 characters, got 201', 'search_products: huge query');
SELECT is(pg_temp.a1_error('search_products', '{"max_price": -1}'), 'max_price must be a number >= 0, got -1', 'search_products: negative max_price');
SELECT is(pg_temp.a1_error('search_products', '{"max_price": "10"}'), 'max_price must be a number, got "10"', 'search_products: max_price as text');
SELECT is(pg_temp.a1_error('search_products', '{"attributes": "red"}'), 'attributes must be an object, got "red"', 'search_products: attributes type');
SELECT is(pg_temp.a1_error('search_products', '{"attributes": {"size": [42]}}'),
    'attributes.size must be a string, a number or a boolean, got an array', 'search_products: an attribute value that is a list');
SELECT is(pg_temp.a1_error('search_products', '{"in_stock": "yes"}'), 'in_stock must be a boolean, got "yes"', 'search_products: in_stock type');
SELECT is(pg_temp.a1_error('search_products', '{"q": "tee"}'), 'unknown key q; expected one of: attributes, in_stock, max_price, query',
    'search_products: an unknown argument');
SELECT is(pg_temp.a1_error('add_to_cart', '{}'), 'product_id is required', 'add_to_cart: product_id is required');
SELECT is(pg_temp.a1_error('add_to_cart', '{"product_id": 821}'), 'product_id must be a string, got 821', 'add_to_cart: product_id type');
SELECT is(pg_temp.a1_error('add_to_cart', '{"product_id": "Basic Tee"}'), 'product_id must be an id from search_products, got "Basic Tee"',
    'add_to_cart: a product name instead of an id');
SELECT is(pg_temp.a1_error('add_to_cart', $${"product_id": "'; DELETE FROM convo.carts; --"}$$),
    $$product_id must be an id from search_products, got "'; DELETE FROM convo.carts; --"$$, 'add_to_cart: SQL as an id');
SELECT is(pg_temp.a1_error('add_to_cart', '{"product_id": "d0000000-0000-4000-8000-000000000821", "quantity": 0}'),
    'quantity must be an integer between 1 and 100, got 0', 'add_to_cart: quantity 0');
SELECT is(pg_temp.a1_error('add_to_cart', '{"product_id": "d0000000-0000-4000-8000-000000000821", "quantity": 101}'),
    'quantity must be an integer between 1 and 100, got 101', 'add_to_cart: quantity 101');
SELECT is(pg_temp.a1_error('add_to_cart', '{"product_id": "d0000000-0000-4000-8000-000000000821", "quantity": "2"}'),
    'quantity must be an integer, got "2"', 'add_to_cart: quantity as text');
SELECT is(pg_temp.a1_error('add_to_cart', '{"product_id": "d0000000-0000-4000-8000-000000000821", "quantity": 1.5}'),
    'quantity must be an integer, got 1.5', 'add_to_cart: half a product');
SELECT is(pg_temp.a1_error('add_to_cart', '{"product_id": "d0000000-0000-4000-8000-000000000821", "quantity": 1e400}'),
    'quantity must be an integer, got a number too large', 'add_to_cart: a huge quantity');
SELECT is(pg_temp.a1_error('add_to_cart', '{"product_id": "d0000000-0000-4000-8000-000000000821", "qty": 2}'),
    'unknown key qty; expected one of: product_id, quantity', 'add_to_cart: a misspelt argument');
SELECT is(pg_temp.a1_error('remove_from_cart', '{"quantity": 1}'), 'product_id is required', 'remove_from_cart: product_id is required');
SELECT is(pg_temp.a1_error('remove_from_cart', '{"product_id": "d0000000-0000-4000-8000-000000000821", "quantity": -1}'),
    'quantity must be an integer between 1 and 100, got -1', 'remove_from_cart: a negative quantity');
SELECT is(pg_temp.a1_error('remove_from_cart', '{"product_id": "nope"}'), 'product_id must be an id from search_products, got "nope"',
    'remove_from_cart: not an id');
SELECT is(pg_temp.a1_error('view_cart', '{"all": true}'), 'unknown key all; no keys are expected', 'view_cart takes no arguments');
SELECT is(pg_temp.a1_error('update_progress', '{}'), 'step is required', 'update_progress: step is required');
SELECT is(pg_temp.a1_error('update_progress', '{"step": ""}'), 'step must not be empty', 'update_progress: empty step');
SELECT is(pg_temp.a1_error('update_progress', '{"step": 2}'), 'step must be a string, got 2', 'update_progress: step type');
SELECT is(pg_temp.a1_error('handoff_to_human', '{"reason": 5}'), 'reason must be a string, got 5', 'handoff_to_human: reason type');
SELECT is(pg_temp.a1_error('handoff_to_human', format('{"reason": "%s"}', repeat('x', 501))::jsonb),
    'reason must have at most 500 characters, got 501', 'handoff_to_human: a huge reason');
SELECT is(pg_temp.a1_error('get_business_info', '{"topic": ""}'), 'topic must not be empty', 'get_business_info: empty topic');
SELECT is(pg_temp.a1_error('get_business_info', '{"topic": ["hours"]}'), 'topic must be a string, got an array', 'get_business_info: topic type');
SELECT is_empty($$SELECT 1 FROM convo.carts WHERE account_id = 'a0000000-0000-4000-8000-000000000082'$$,
    'refused calls opened no cart');
SELECT results_eq($$SELECT bot_enabled, needs_human, current_step FROM convo.conversations
                     WHERE conversation_id = 'f0000000-0000-4000-8000-0000000082a1'$$,
    $$VALUES (true, false, NULL::text)$$, 'and changed nothing in the conversation');

-- search_products -----------------------------------------------------------------------------

SELECT is(pg_temp.a1('search_products', '{"query": "runner"}'),
    '{"more": false, "products": [{"id": "d0000000-0000-4000-8000-000000000822", "label": "Stride Runner", "price": 89.90, "currency": "USD", "stock": 3}]}'::jsonb,
    'active products of the conversation''s account only: not the retired runner, not B''s');
SELECT is(pg_temp.a1('search_products', '{"attributes": {"size": 42, "color": "White"}, "max_price": 100, "in_stock": true}') -> 'products' -> 0 ->> 'label',
    'Stride Runner', 'filters without a query');
SELECT is(pg_temp.a1('search_products', '{"query": "tee", "max_price": 10}'), '{"more": false, "products": []}'::jsonb, 'max_price filters');
SELECT is(pg_temp.a1('search_products', '{"query": "sandal", "in_stock": true}'), '{"more": false, "products": []}'::jsonb, 'in_stock filters');
SELECT is(jsonb_array_length(pg_temp.a1('search_products', '{}') -> 'products'), 5, 'no arguments: the first five products');
INSERT INTO convo.products (account_id, sku, name, price, stock)
SELECT 'a0000000-0000-4000-8000-000000000082', 'KID-' || i, 'Stride Runner Kids ' || i, 20 + i, 5 FROM generate_series(1, 6) i;
SELECT is(jsonb_array_length(pg_temp.a1('search_products', '{"query": "runner"}') -> 'products'), 5, 'seven runners: five hits');
SELECT is(pg_temp.a1('search_products', '{"query": "runner"}') -> 'more', 'true'::jsonb, 'and more: true');
SELECT is_empty($$SELECT k FROM jsonb_array_elements(convo.call_tool('f0000000-0000-4000-8000-0000000082a1', 'search_products', '{"query": "runner"}') -> 'products') h,
                          jsonb_object_keys(h) k WHERE k NOT IN ('id', 'label', 'price', 'currency', 'stock')$$,
    'hits are compact: id, label, price, currency, stock');
SELECT is(convo.call_tool('f0000000-0000-4000-8000-0000000082b1', 'search_products', '{"query": "runner"}') -> 'products' -> 0 ->> 'id',
    'e0000000-0000-4000-8000-000000000821', 'B''s conversation finds B''s runner');
SELECT is(pg_temp.a1('search_products', $${"query": "'; DROP TABLE convo.products; --🙂"}$$), '{"more": false, "products": []}'::jsonb,
    'SQL and emoji in a query are just text');

-- The cart ------------------------------------------------------------------------------------

SELECT is(pg_temp.a1('view_cart'), '{"items": [], "total": 0}'::jsonb, 'no cart yet: empty, total 0');
SELECT is(pg_temp.a1('add_to_cart', '{"product_id": "d0000000-0000-4000-8000-000000000821", "quantity": 2}'),
    $${"items": [{"product_id": "d0000000-0000-4000-8000-000000000821", "label": "Basic Tee", "quantity": 2, "unit_price": 19.90, "line_total": 39.80}],
       "total": 39.80, "currency": "USD"}$$::jsonb,
    'adding returns the cart: product ids, short labels, quantities, unit prices, line totals, total, currency');
SELECT results_eq('SELECT * FROM pg_temp.carts_a1()', $$VALUES ('open', 1::bigint)$$, 'one open cart was opened for the contact');
SELECT is((SELECT expires_at FROM convo.carts WHERE contact_id = 'c0000000-0000-4000-8000-0000000082a1'), now() + interval '24 hours',
    'it expires 24 h after the addition');
SELECT is(pg_temp.a1('add_to_cart', '{"product_id": "d0000000-0000-4000-8000-000000000821"}') -> 'items' -> 0 -> 'quantity', '3'::jsonb,
    'adding the same product again adds to its quantity (1 by default)');
SELECT is(pg_temp.a1('add_to_cart', '{"product_id": "D0000000-0000-4000-8000-000000000822", "quantity": 1.0}') -> 'total', '149.60'::jsonb,
    'a second product: 3 × 19.90 + 89.90 (an upper-case id and 1.0 are fine)');
SELECT is(pg_temp.a1('remove_from_cart', '{"product_id": "d0000000-0000-4000-8000-000000000821", "quantity": 1}'),
    $${"items": [{"product_id": "d0000000-0000-4000-8000-000000000821", "label": "Basic Tee", "quantity": 2, "unit_price": 19.90, "line_total": 39.80},
                 {"product_id": "d0000000-0000-4000-8000-000000000822", "label": "Stride Runner", "quantity": 1, "unit_price": 89.90, "line_total": 89.90}],
       "total": 129.70, "currency": "USD"}$$::jsonb,
    'removing a quantity lowers it');
SELECT is(pg_temp.a1('remove_from_cart', '{"product_id": "d0000000-0000-4000-8000-000000000822"}') -> 'total', '39.80'::jsonb,
    'removing without a quantity removes the product');
SELECT is(pg_temp.a1('remove_from_cart', '{"product_id": "d0000000-0000-4000-8000-000000000821", "quantity": 5}'),
    '{"items": [], "total": 0}'::jsonb, 'removing more than there is removes it all');
SELECT is(pg_temp.a1_error('remove_from_cart', '{"product_id": "d0000000-0000-4000-8000-000000000821"}'),
    'product_id d0000000-0000-4000-8000-000000000821 is not in the cart', 'removing what is not in the cart is an error result');
SELECT results_eq('SELECT * FROM pg_temp.carts_a1()', $$VALUES ('open', 0::bigint)$$, 'still one cart, now empty');

-- What may be added.
SELECT is(pg_temp.a1_error('add_to_cart', '{"product_id": "d0000000-0000-4000-8000-000000000822", "quantity": 4}'),
    'quantity: only 3 of Stride Runner in stock', 'not more than the stock');
SELECT is(pg_temp.a1('add_to_cart', '{"product_id": "d0000000-0000-4000-8000-000000000822", "quantity": 2}') -> 'total', '179.80'::jsonb,
    'two runners fit');
SELECT is(pg_temp.a1_error('add_to_cart', '{"product_id": "d0000000-0000-4000-8000-000000000822", "quantity": 2}'),
    'quantity: only 3 of Stride Runner in stock and 2 already in the cart', 'the stock counts what is already in the cart');
SELECT is(pg_temp.a1_error('add_to_cart', '{"product_id": "d0000000-0000-4000-8000-000000000823"}'),
    'product_id d0000000-0000-4000-8000-000000000823 (Sold Out Sandal) is out of stock', 'a sold-out product');
SELECT is(pg_temp.a1_error('add_to_cart', '{"product_id": "d0000000-0000-4000-8000-000000000824"}'),
    'product_id d0000000-0000-4000-8000-000000000824 (Retired Runner) is no longer sold', 'an inactive product');
SELECT is(pg_temp.a1_error('add_to_cart', '{"product_id": "d0000000-0000-4000-8000-000000000825"}'),
    'product_id d0000000-0000-4000-8000-000000000825 is priced in EUR but the cart is in USD', 'a product in another currency');
SELECT is(pg_temp.a1_error('add_to_cart', '{"product_id": "00000000-0000-4000-8000-000000000000"}'),
    'product_id 00000000-0000-4000-8000-000000000000 is not a product of this shop; use search_products', 'an unknown product');
SELECT is(pg_temp.a1_error('add_to_cart', '{"product_id": "e0000000-0000-4000-8000-000000000821"}'),
    'product_id e0000000-0000-4000-8000-000000000821 is not a product of this shop; use search_products',
    'another account''s product, even for a caller that sees every account');
UPDATE convo.products SET price = 79.90 WHERE product_id = 'd0000000-0000-4000-8000-000000000822';
SELECT is(pg_temp.a1('add_to_cart', '{"product_id": "d0000000-0000-4000-8000-000000000822"}') -> 'items' -> 0,
    '{"product_id": "d0000000-0000-4000-8000-000000000822", "label": "Stride Runner", "quantity": 3, "unit_price": 79.90, "line_total": 239.70}'::jsonb,
    'adding again takes the current price for the line');
SELECT is(pg_temp.a1('add_to_cart', '{"product_id": "d0000000-0000-4000-8000-000000000826"}') -> 'items' -> 1 ->> 'label',
    'Extraordinarily Comfortable Everyday Wa…', 'long names are cut to 40 characters in the cart');
SELECT is_empty($$SELECT k FROM jsonb_array_elements(convo.cart_summary('a0000000-0000-4000-8000-000000000082', 'c0000000-0000-4000-8000-0000000082a1') -> 'items') i,
                          jsonb_object_keys(i) k WHERE k NOT IN ('product_id', 'label', 'quantity', 'unit_price', 'line_total')$$,
    'cart lines are compact: product_id, label, quantity, unit_price, line_total (named as the cart tools'' arguments)');
SELECT is(convo.cart_summary('b0000000-0000-4000-8000-000000000082', 'c0000000-0000-4000-8000-0000000082b1'), '{"items": [], "total": 0}'::jsonb,
    'B''s customer has no cart: nothing leaked into it');

-- Expiry.
UPDATE convo.carts SET expires_at = now() + interval '1 hour' WHERE contact_id = 'c0000000-0000-4000-8000-0000000082a1';
SELECT is(pg_temp.a1('remove_from_cart', '{"product_id": "d0000000-0000-4000-8000-000000000826"}') -> 'total', '239.70'::jsonb, 'removing');
SELECT is((SELECT expires_at FROM convo.carts WHERE contact_id = 'c0000000-0000-4000-8000-0000000082a1'), now() + interval '1 hour',
    'does not extend the cart');
SELECT is(pg_temp.a1('add_to_cart', '{"product_id": "d0000000-0000-4000-8000-000000000821"}') -> 'total', '259.60'::jsonb, 'adding');
SELECT is((SELECT expires_at FROM convo.carts WHERE contact_id = 'c0000000-0000-4000-8000-0000000082a1'), now() + interval '24 hours',
    'extends it to 24 h again');
UPDATE convo.carts SET expires_at = now() - interval '1 second' WHERE contact_id = 'c0000000-0000-4000-8000-0000000082a1';
SELECT is(pg_temp.a1('view_cart'), '{"items": [], "total": 0}'::jsonb, 'an expired cart is no cart');
SELECT is(pg_temp.a1_error('remove_from_cart', '{"product_id": "d0000000-0000-4000-8000-000000000821"}'),
    'product_id d0000000-0000-4000-8000-000000000821 is not in the cart', 'nothing can be removed from it');
SELECT is(pg_temp.a1('add_to_cart', '{"product_id": "d0000000-0000-4000-8000-000000000825"}') -> 'items' -> 0 ->> 'label',
    'Euro Scarf', 'adding opens a new cart, whose currency is free again');
SELECT results_eq('SELECT * FROM pg_temp.carts_a1()', $$VALUES ('expired', 2::bigint), ('open', 1::bigint)$$,
    'the old cart is kept as expired with its items; the new one is open');
SELECT throws_ok($$INSERT INTO convo.carts (account_id, contact_id)
                   VALUES ('a0000000-0000-4000-8000-000000000082', 'c0000000-0000-4000-8000-0000000082a1')$$,
    '23505', NULL, 'a contact cannot have two open carts');

-- update_progress, handoff_to_human, get_business_info -----------------------------------------

SELECT is(pg_temp.a1('update_progress', '{"step": "pay"}'),
    '{"error": "step must be one of \"greet\", \"checkout\", got \"pay\""}'::jsonb, 'an unknown step lists the profile''s steps');
SELECT is(pg_temp.a1_error('update_progress', '{"step": "Checkout"}'), 'step must be one of "greet", "checkout", got "Checkout"',
    'step names are exact');
SELECT is(pg_temp.a1_error('update_progress', '{"step": "👋🏽"}'), 'step must be one of "greet", "checkout", got "👋🏽"',
    'an emoji step');
SELECT is((SELECT current_step FROM convo.conversations WHERE conversation_id = 'f0000000-0000-4000-8000-0000000082a1'), NULL,
    'a refused step leaves the conversation where it was');
SELECT is(pg_temp.a1('update_progress', '{"step": "checkout"}'), '{"step": "checkout", "instruction": "Confirm the address"}'::jsonb,
    'a known step returns its instruction');
SELECT is((SELECT current_step FROM convo.conversations WHERE conversation_id = 'f0000000-0000-4000-8000-0000000082a1'), 'checkout',
    'and moves the conversation to it');
SELECT is(convo.call_tool('f0000000-0000-4000-8000-0000000082b1', 'update_progress', '{"step": "greet"}'),
    '{"error": "this assistant has no steps; do not call update_progress"}'::jsonb, 'a profile without steps');

SELECT is(pg_temp.a1('get_business_info'), '{"hours": "Mon-Fri 9-18", "Address": "1 Main St"}'::jsonb, 'all business info without a topic');
SELECT is(pg_temp.a1('get_business_info', '{"topic": "hours"}'), '{"hours": "Mon-Fri 9-18"}'::jsonb, 'one topic');
SELECT is(pg_temp.a1('get_business_info', '{"topic": " address "}'), '{"Address": "1 Main St"}'::jsonb,
    'a topic matches ignoring case and surrounding spaces');
SELECT is(pg_temp.a1_error('get_business_info', '{"topic": "parking 🅿️"}'), 'topic must be one of "Address", "hours", got "parking 🅿️"',
    'an unknown topic lists the known ones');
SELECT is(convo.call_tool('f0000000-0000-4000-8000-0000000082b1', 'get_business_info', '{}'),
    '{"error": "no business information is on file; offer a human instead"}'::jsonb, 'a profile without business info');

SELECT is(pg_temp.a1('handoff_to_human', '{"reason": "wants a refund 💸"}'), '{"handed_off": true, "reason": "wants a refund 💸"}'::jsonb,
    'handing off returns the reason');
SELECT results_eq($$SELECT bot_enabled, needs_human FROM convo.conversations WHERE conversation_id = 'f0000000-0000-4000-8000-0000000082a1'$$,
    $$VALUES (false, true)$$, 'and switches the bot off for a human');
SELECT is(convo.call_tool('f0000000-0000-4000-8000-0000000082b1', 'handoff_to_human', '{}'), '{"handed_off": true}'::jsonb,
    'the reason is optional');

-- As PostgREST requests ------------------------------------------------------------------------

-- test.as_request (tests/sql/postgrest_request.sql) replays PostgREST's per-request settings.
UPDATE convo.conversations SET bot_enabled = true, needs_human = false, current_step = NULL
 WHERE account_id = 'b0000000-0000-4000-8000-000000000082';

CALL test.as_request('authenticated', '{"sub": "user-a", "account_id": "a0000000-0000-4000-8000-000000000082"}');
SELECT throws_ok($$SELECT convo.call_tool('f0000000-0000-4000-8000-0000000082b1', 'view_cart', '{}')$$, 'P0002',
    'convo.call_tool: unknown conversation f0000000-0000-4000-8000-0000000082b1', 'A calling a tool on B''s conversation: unknown');
SELECT throws_ok($$SELECT convo.call_tool('f0000000-0000-4000-8000-0000000082b1', 'handoff_to_human', '{"reason": "take over"}')$$, 'P0002',
    'convo.call_tool: unknown conversation f0000000-0000-4000-8000-0000000082b1', 'A cannot hand off B''s conversation');
SELECT throws_ok($$SELECT convo.call_tool('f0000000-0000-4000-8000-0000000082b1', 'add_to_cart', '{"product_id": "e0000000-0000-4000-8000-000000000821"}')$$,
    'P0002', 'convo.call_tool: unknown conversation f0000000-0000-4000-8000-0000000082b1', 'A cannot fill B''s customer''s cart');
SELECT is(convo.call_tool('f0000000-0000-4000-8000-0000000082a1', 'add_to_cart', '{"product_id": "e0000000-0000-4000-8000-000000000821"}'),
    '{"error": "product_id e0000000-0000-4000-8000-000000000821 is not a product of this shop; use search_products"}'::jsonb,
    'adding B''s product to A''s cart is an error result');
SELECT is(convo.call_tool('f0000000-0000-4000-8000-0000000082a1', 'search_products', '{"query": "stride runner b"}') -> 'products' @> '[{"id": "e0000000-0000-4000-8000-000000000821"}]',
    false, 'A''s search never shows B''s products');
SELECT is(convo.call_tool('f0000000-0000-4000-8000-0000000082a1', 'add_to_cart', '{"product_id": "d0000000-0000-4000-8000-000000000825", "quantity": 2}') -> 'total',
    '75.00'::jsonb, 'A adds to its own customer''s cart under row-level security');
SELECT is(convo.call_tool('f0000000-0000-4000-8000-0000000082a1', 'update_progress', '{"step": "greet"}') ->> 'step', 'greet',
    'A moves its own conversation''s step (column grants suffice)');
SELECT is(convo.call_tool('f0000000-0000-4000-8000-0000000082a1', 'handoff_to_human', '{}'), '{"handed_off": true}'::jsonb,
    'A hands off its own conversation');
SELECT is(jsonb_array_length(convo.tool_definitions(ARRAY['view_cart', 'search_products'])), 2, 'A reads tool definitions');
SELECT is((SELECT count(*) FROM convo.tools), 7::bigint, 'the tool catalogue is readable by every account');
SELECT throws_ok($$INSERT INTO convo.tools (name, position, description, parameters) VALUES ('x', 99, 'x', '{"type": "object"}')$$,
    '42501', 'permission denied for table tools', 'but not writable');
SELECT is(convo.json_schema_error('{"type": "string"}', '1'), 'value must be a string, got 1', 'A may validate with json_schema_error');
CALL test.as_request('authenticated', '{"sub": "user-x"}');
SELECT throws_ok($$SELECT convo.call_tool('f0000000-0000-4000-8000-0000000082a1', 'view_cart', '{}')$$, 'P0002', NULL,
    'without an account claim no conversation exists');
CALL test.as_request('anon');
SELECT throws_ok($$SELECT convo.call_tool('f0000000-0000-4000-8000-0000000082a1', 'view_cart', '{}')$$, '42501',
    'permission denied for function call_tool', 'anon cannot call tools');
SELECT throws_ok($$SELECT convo.tool_definitions(ARRAY['view_cart'])$$, '42501', 'permission denied for function tool_definitions',
    'anon cannot read tool definitions');
SELECT throws_ok('SELECT * FROM convo.tools', '42501', 'permission denied for table tools', 'nor the catalogue');
CALL test.as_request('service_role');
SELECT is(convo.call_tool('f0000000-0000-4000-8000-0000000082b1', 'add_to_cart', '{"product_id": "d0000000-0000-4000-8000-000000000821"}') ->> 'error',
    'product_id d0000000-0000-4000-8000-000000000821 is not a product of this shop; use search_products',
    'service_role sees every account, yet A''s product cannot go into B''s cart');
SELECT is(convo.call_tool('f0000000-0000-4000-8000-0000000082b1', 'add_to_cart', '{"product_id": "e0000000-0000-4000-8000-000000000821"}') -> 'total',
    '9.00'::jsonb, 'service_role fills B''s cart with B''s product');

RESET ROLE;
SELECT results_eq($$SELECT bot_enabled, needs_human, current_step FROM convo.conversations WHERE conversation_id = 'f0000000-0000-4000-8000-0000000082b1'$$,
    $$VALUES (true, false, NULL::text)$$, 'B''s conversation is as it was');
SELECT results_eq($$SELECT product_id, quantity FROM convo.cart_items WHERE account_id = 'b0000000-0000-4000-8000-000000000082'$$,
    $$VALUES ('e0000000-0000-4000-8000-000000000821'::uuid, 1)$$, 'B''s cart holds B''s product only');
SELECT is_empty($$SELECT 1 FROM convo.cart_items i JOIN convo.carts c USING (account_id, cart_id)
                   WHERE i.account_id = 'a0000000-0000-4000-8000-000000000082' AND c.contact_id <> 'c0000000-0000-4000-8000-0000000082a1'$$,
    'A''s calls touched A''s one customer only');

SELECT * FROM finish();
ROLLBACK;
