-- Tools the assistant's language model may call, and the one function that runs them.
--
--   tool       a function the model may call: a name, a short description and a JSON schema of
--              its arguments (convo.tools), sent in the request's `tools` array. A bot profile
--              enables some of them (bot_profiles.tools).
--   tool call  convo.call_tool(conversation, name, arguments): checks that the tool is enabled
--              for the conversation's profile (convo.effective_profile) and that the arguments
--              fit its schema, then acts
--              for the conversation's own contact. Mistakes the model can correct come back as
--              {"error": "..."}: a tool result, never an exception.
--   cart       a contact's open cart lives 24 h from its last addition; a contact has at most
--              one open cart (an expired one is marked 'expired' when the next one opens).
--
-- Needs: tables.sql (carts, products, convo.limits), bot_profiles.sql (convo.effective_profile),
-- products.sql (convo.search_products).

-- The validator behind every schema here (extension/core/json_schema.cpp).
CREATE FUNCTION convo.json_schema_error(schema jsonb, value jsonb, name text DEFAULT 'value')
RETURNS text
LANGUAGE c IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'convo_json_schema_error';
COMMENT ON FUNCTION convo.json_schema_error(jsonb, jsonb, text) IS 'The first way value breaks schema, as a sentence naming the key (the value itself is called name); NULL when it conforms. Subset: type, properties, required, additionalProperties, items, minItems, maxItems, enum, minimum, maximum, minLength, maxLength';

-- Reference data, the same for every account; installed below. Descriptions are short: they
-- are sent with every request that enables the tool.
CREATE TABLE convo.tools (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,63}$'),
    position    int NOT NULL UNIQUE,   -- order in tool_definitions: a stable request prefix
    description text NOT NULL CHECK (description <> ''),
    parameters  jsonb NOT NULL CHECK (parameters ->> 'type' = 'object'),
    -- The row as convo wrote it (sql/backup.sql).
    installed   jsonb CONSTRAINT tools_installed_check CHECK (jsonb_typeof(installed) = 'object')
);
-- Readable by every API caller (tool_access.sql), writable by no one but the owner.
ALTER TABLE convo.tools ENABLE ROW LEVEL SECURITY;

INSERT INTO convo.tools (position, name, description, parameters) VALUES
(1, 'search_products', 'Search the catalogue. Returns up to 5 products: id, label, price, stock.', $json$
{"type": "object", "additionalProperties": false, "properties": {
  "query": {"type": "string", "minLength": 1, "maxLength": 200, "description": "words to match"},
  "attributes": {"type": "object", "description": "exact attribute values, e.g. {\"size\": \"42\"}",
                 "additionalProperties": {"type": ["string", "number", "boolean"], "maxLength": 100}},
  "max_price": {"type": "number", "minimum": 0},
  "in_stock": {"type": "boolean"}}}
$json$),
(2, 'add_to_cart', 'Add a product to the customer''s cart. Returns the cart.', $json$
{"type": "object", "additionalProperties": false, "required": ["product_id"], "properties": {
  "product_id": {"type": "string", "maxLength": 64, "description": "id from search_products"},
  "quantity": {"type": "integer", "minimum": 1, "maximum": 100, "description": "default 1"}}}
$json$),
(3, 'remove_from_cart', 'Remove a product from the cart, all of it unless quantity is given. Returns the cart.', $json$
{"type": "object", "additionalProperties": false, "required": ["product_id"], "properties": {
  "product_id": {"type": "string", "maxLength": 64},
  "quantity": {"type": "integer", "minimum": 1, "maximum": 100}}}
$json$),
(4, 'view_cart', 'The customer''s cart: items, quantities, total.', $json$
{"type": "object", "additionalProperties": false, "properties": {}}
$json$),
(5, 'update_progress', 'Move the conversation to another step. Returns the step''s instruction.', $json$
{"type": "object", "additionalProperties": false, "required": ["step"], "properties": {
  "step": {"type": "string", "minLength": 1, "maxLength": 64}}}
$json$),
(6, 'handoff_to_human', 'Hand the conversation to a human; you stop replying.', $json$
{"type": "object", "additionalProperties": false, "properties": {
  "reason": {"type": "string", "maxLength": 500}}}
$json$),
(7, 'get_business_info', 'Facts about the business (hours, address, delivery...); all of them without topic.', $json$
{"type": "object", "additionalProperties": false, "properties": {
  "topic": {"type": "string", "minLength": 1, "maxLength": 100}}}
$json$);

-- A schema the validator cannot enforce fails the install rather than the first call.
DO $$
BEGIN
    PERFORM convo.json_schema_error(t.parameters, '{}') FROM convo.tools t;
END
$$;

-- The OpenAI `tools` array for the given tool names, in catalogue order whatever the order of
-- names (the request prefix stays the same, which prompt caches reward).
CREATE FUNCTION convo.tool_definitions(names text[]) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
DECLARE
    unknown text;
BEGIN
    IF names IS NULL THEN
        RAISE EXCEPTION 'convo.tool_definitions: names must not be NULL' USING ERRCODE = '22004';
    END IF;
    SELECT n INTO unknown FROM unnest(names) AS n
     WHERE n IS NULL OR NOT EXISTS (SELECT 1 FROM convo.tools t WHERE t.name = n) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'convo.tool_definitions: unknown tool %', coalesce(to_jsonb(left(unknown, 64))::text, 'NULL')
            USING ERRCODE = '22023',
                  HINT = 'known tools: ' || (SELECT string_agg(t.name, ', ' ORDER BY t.position) FROM convo.tools t);
    END IF;
    RETURN (SELECT coalesce(jsonb_agg(jsonb_build_object('type', 'function', 'function',
                                jsonb_build_object('name', t.name, 'description', t.description,
                                                   'parameters', t.parameters))
                            ORDER BY t.position), '[]')
              FROM convo.tools t WHERE t.name = ANY (names));
END
$$;
COMMENT ON FUNCTION convo.tool_definitions(text[]) IS 'The OpenAI tools array ([{"type": "function", "function": {name, description, parameters}}]) for the given tool names, in catalogue order';

-- One open cart per contact: two tool calls that open a cart at once end up in the same one.
CREATE UNIQUE INDEX carts_one_open ON convo.carts (account_id, contact_id) WHERE status = 'open';

-- The one shape of a cart, as the model sees it everywhere (view_cart and the other cart tools,
-- build_context's "cart" and its {{cart}} prompt line): a contact's open, unexpired cart.
--   summary      {"items": [{"product_id", "label", "quantity", "unit_price", "line_total"}],
--                 "total", "currency"}; keys named as the cart tools' arguments are, money as
--                 exact numbers, labels cut to label_chars characters (never bytes) with "…",
--                 at most cart_lines lines ("more": how many are not shown; the total counts
--                 them). {"items": [], "total": 0} when there is no cart.
--   prompt_line  "3 items, 59.97 USD" (units, total, currency); NULL when the cart is empty.
--   expires_at   when the open cart expires; NULL when there is none.
-- A set-returning SQL function, inlined into the statements that read it (build_context keeps
-- its plan): one row, always. Its standard body is bound when convo is installed, whatever the
-- caller's search_path.
CREATE FUNCTION convo.open_cart(account_id uuid, contact_id uuid)
RETURNS TABLE (summary jsonb, prompt_line text, expires_at timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT jsonb_strip_nulls(jsonb_build_object(
               'items', coalesce(jsonb_agg(jsonb_build_object(
                            'product_id', l.product_id,
                            'label', CASE WHEN length(l.name) > convo.limit_value('label_chars', 'max')
                                          THEN left(l.name, convo.limit_value('label_chars', 'max') - 1) || '…'
                                          ELSE l.name END,
                            'quantity', l.quantity,
                            'unit_price', l.unit_price,
                            'line_total', l.quantity * l.unit_price)
                          ORDER BY l.added_at, l.product_id)
                          FILTER (WHERE l.n <= convo.limit_value('cart_lines', 'max')), '[]'),
               'total', coalesce(sum(l.quantity * l.unit_price), 0),
               'currency', min(l.currency),
               'more', nullif(count(*) FILTER (WHERE l.n > convo.limit_value('cart_lines', 'max')), 0))),
           CASE WHEN count(l.product_id) > 0 THEN
               format('%s %s, %s %s', sum(l.quantity), CASE WHEN sum(l.quantity) = 1 THEN 'item' ELSE 'items' END,
                      sum(l.quantity * l.unit_price), min(l.currency)) END,
           min(l.cart_expires_at)
      FROM (SELECT 1) AS one
      LEFT JOIN (SELECT i.product_id, p.name, i.quantity, i.unit_price, p.currency, i.added_at,
                        c.expires_at AS cart_expires_at,
                        row_number() OVER (ORDER BY i.added_at, i.product_id) AS n
                   FROM convo.carts c
                   JOIN convo.cart_items i ON i.account_id = c.account_id AND i.cart_id = c.cart_id
                   JOIN convo.products p ON p.account_id = i.account_id AND p.product_id = i.product_id
                  WHERE c.account_id = open_cart.account_id AND c.contact_id = open_cart.contact_id
                    AND c.status = 'open' AND c.expires_at > now()) AS l ON true;
END;
COMMENT ON FUNCTION convo.open_cart(uuid, uuid) IS 'A contact''s open, unexpired cart: its summary ({items: [{product_id, label, quantity, unit_price, line_total}], total, currency}), its prompt line ("3 items, 59.97 USD") and when it expires';

-- The cart as a tool result: open_cart's summary.
CREATE FUNCTION convo.cart_summary(account_id uuid, contact_id uuid) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT c.summary FROM convo.open_cart(cart_summary.account_id, cart_summary.contact_id) AS c;
END;
COMMENT ON FUNCTION convo.cart_summary(uuid, uuid) IS 'A contact''s open, unexpired cart as the model sees it: {items: [{product_id, label, quantity, unit_price, line_total}], total, currency} (convo.open_cart)';

-- Runs one tool call of the model for a conversation. Raises only for a NULL or unknown
-- conversation (P0002, as under row-level security another account's is unknown) and for an
-- account without a bot profile (55000, convo.no_bot_profile); everything the model can get
-- wrong comes back as {"error": "..."} naming the argument.
CREATE FUNCTION convo.call_tool(conversation_id uuid, name text, arguments jsonb DEFAULT '{}')
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
#variable_conflict use_column
DECLARE
    args jsonb := coalesce(arguments, '{}');   -- a call without arguments
    conv record;
    profile convo.bot_profiles;
    tool record;
    enabled text;
    problem text;
    product_text text;
    product record;
    cart uuid;
    in_cart int;
    cart_currency text;
    qty int;
    step_name text;
    instruction text;
    topic text;
    info record;
BEGIN
    IF conversation_id IS NULL THEN
        RAISE EXCEPTION 'convo.call_tool: conversation_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    SELECT c.account_id, c.contact_id, c.bot_profile_id INTO conv
      FROM convo.conversations c WHERE c.conversation_id = call_tool.conversation_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'convo.call_tool: unknown conversation %', call_tool.conversation_id
            USING ERRCODE = 'P0002';
    END IF;

    SELECT p.* INTO profile FROM convo.effective_profile(conv.account_id, conv.bot_profile_id) AS p;
    IF NOT FOUND THEN
        PERFORM convo.no_bot_profile(conv.account_id, 'convo.call_tool');
    END IF;
    SELECT string_agg(t.name, ', ' ORDER BY t.position) INTO enabled
      FROM convo.tools t WHERE t.name = ANY (profile.tools);

    SELECT t.name, t.parameters INTO tool FROM convo.tools t WHERE t.name = call_tool.name;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('error', format('unknown tool %s; available tools: %s',
            coalesce(to_jsonb(left(call_tool.name, 64))::text, 'null'), coalesce(enabled, 'none')));
    END IF;
    IF NOT tool.name = ANY (profile.tools) THEN
        RETURN jsonb_build_object('error', format('tool %s is not enabled for this conversation; available tools: %s',
            tool.name, coalesce(enabled, 'none')));
    END IF;
    problem := convo.json_schema_error(tool.parameters, args, 'arguments');
    IF problem IS NOT NULL THEN
        RETURN jsonb_build_object('error', problem);
    END IF;

    CASE tool.name
    WHEN 'search_products' THEN
        -- As subqueries: PL/pgSQL would keep a bare call's SQL-function plan for the rest of
        -- the transaction, row-level security quals of the role it was planned for included.
        RETURN (SELECT convo.search_products(conv.account_id, args ->> 'query', args -> 'attributes',
                                             (args -> 'max_price')::numeric,
                                             coalesce((args -> 'in_stock')::boolean, false), 5));

    WHEN 'view_cart' THEN
        RETURN (SELECT convo.cart_summary(conv.account_id, conv.contact_id));

    WHEN 'add_to_cart', 'remove_from_cart' THEN
        product_text := args ->> 'product_id';
        IF product_text !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
            RETURN jsonb_build_object('error', format('product_id must be an id from search_products, got %s',
                to_jsonb(left(product_text, 40))));
        END IF;
        qty := (args -> 'quantity')::numeric::int;
        -- The open cart, locked: concurrent calls for one contact take turns.
        SELECT c.cart_id INTO cart FROM convo.carts c
         WHERE c.account_id = conv.account_id AND c.contact_id = conv.contact_id
           AND c.status = 'open' AND c.expires_at > now()
           FOR UPDATE;

        IF tool.name = 'remove_from_cart' THEN
            SELECT i.quantity INTO in_cart FROM convo.cart_items i
             WHERE i.account_id = conv.account_id AND i.cart_id = cart
               AND i.product_id = product_text::uuid;
            IF cart IS NULL OR in_cart IS NULL THEN
                RETURN jsonb_build_object('error', format('product_id %s is not in the cart', product_text));
            END IF;
            IF qty IS NULL OR qty >= in_cart THEN
                DELETE FROM convo.cart_items i
                 WHERE i.account_id = conv.account_id AND i.cart_id = cart
                   AND i.product_id = product_text::uuid;
            ELSE
                UPDATE convo.cart_items i SET quantity = i.quantity - qty
                 WHERE i.account_id = conv.account_id AND i.cart_id = cart
                   AND i.product_id = product_text::uuid;
            END IF;
            RETURN (SELECT convo.cart_summary(conv.account_id, conv.contact_id));
        END IF;

        -- add_to_cart: the product must be this account's, on sale, in stock and in the
        -- cart's currency.
        qty := coalesce(qty, 1);
        SELECT p.product_id, p.name, p.price, p.currency, p.stock, p.active INTO product
          FROM convo.products p
         WHERE p.account_id = conv.account_id AND p.product_id = product_text::uuid;
        IF NOT FOUND THEN
            RETURN jsonb_build_object('error', format('product_id %s is not a product of this shop; use search_products', product_text));
        END IF;
        IF NOT product.active THEN
            RETURN jsonb_build_object('error', format('product_id %s (%s) is no longer sold', product_text, product.name));
        END IF;
        IF product.stock <= 0 THEN
            RETURN jsonb_build_object('error', format('product_id %s (%s) is out of stock', product_text, product.name));
        END IF;
        IF qty > product.stock THEN
            RETURN jsonb_build_object('error', format('quantity: only %s of %s in stock', product.stock, product.name));
        END IF;
        IF cart IS NULL THEN
            -- Only expired carts can still be open here; mark them, then open a new one (or
            -- take the one a concurrent call just opened).
            UPDATE convo.carts c SET status = 'expired', updated_at = now()
             WHERE c.account_id = conv.account_id AND c.contact_id = conv.contact_id
               AND c.status = 'open' AND c.expires_at <= now();
            INSERT INTO convo.carts (account_id, contact_id) VALUES (conv.account_id, conv.contact_id)
                ON CONFLICT (account_id, contact_id) WHERE status = 'open' DO NOTHING;
            SELECT c.cart_id INTO cart FROM convo.carts c
             WHERE c.account_id = conv.account_id AND c.contact_id = conv.contact_id AND c.status = 'open'
               FOR UPDATE;
        END IF;
        SELECT coalesce(sum(i.quantity) FILTER (WHERE i.product_id = product.product_id), 0)::int,
               min(p.currency)
          INTO in_cart, cart_currency
          FROM convo.cart_items i
          JOIN convo.products p ON p.account_id = i.account_id AND p.product_id = i.product_id
         WHERE i.account_id = conv.account_id AND i.cart_id = cart;
        IF cart_currency IS DISTINCT FROM product.currency AND cart_currency IS NOT NULL THEN
            RETURN jsonb_build_object('error', format('product_id %s is priced in %s but the cart is in %s',
                product_text, product.currency, cart_currency));
        END IF;
        IF in_cart + qty > product.stock THEN
            RETURN jsonb_build_object('error', format('quantity: only %s of %s in stock and %s already in the cart',
                product.stock, product.name, in_cart));
        END IF;
        INSERT INTO convo.cart_items AS i (account_id, cart_id, product_id, quantity, unit_price)
        VALUES (conv.account_id, cart, product.product_id, qty, product.price)
        ON CONFLICT (account_id, cart_id, product_id)
            DO UPDATE SET quantity = i.quantity + excluded.quantity, unit_price = excluded.unit_price;
        -- Adding keeps the cart for another 24 h (the column default's span).
        UPDATE convo.carts c SET expires_at = now() + interval '24 hours', updated_at = now()
         WHERE c.account_id = conv.account_id AND c.cart_id = cart;
        RETURN (SELECT convo.cart_summary(conv.account_id, conv.contact_id));

    WHEN 'update_progress' THEN
        step_name := args ->> 'step';
        SELECT s ->> 'instruction' INTO instruction
          FROM jsonb_array_elements(profile.steps) AS s WHERE s ->> 'name' = step_name;
        IF NOT FOUND THEN
            IF jsonb_array_length(profile.steps) = 0 THEN
                RETURN jsonb_build_object('error', 'this assistant has no steps; do not call update_progress');
            END IF;
            RETURN jsonb_build_object('error', format('step must be one of %s, got %s',
                (SELECT string_agg(to_jsonb(s ->> 'name')::text, ', ' ORDER BY n)
                   FROM jsonb_array_elements(profile.steps) WITH ORDINALITY AS e(s, n)),
                to_jsonb(left(step_name, 40))));
        END IF;
        UPDATE convo.conversations c SET current_step = step_name
         WHERE c.account_id = conv.account_id AND c.conversation_id = call_tool.conversation_id;
        RETURN jsonb_strip_nulls(jsonb_build_object('step', step_name, 'instruction', instruction));

    WHEN 'handoff_to_human' THEN
        UPDATE convo.conversations c SET bot_enabled = false, needs_human = true
         WHERE c.account_id = conv.account_id AND c.conversation_id = call_tool.conversation_id;
        RETURN jsonb_strip_nulls(jsonb_build_object('handed_off', true, 'reason', args ->> 'reason'));

    WHEN 'get_business_info' THEN
        topic := args ->> 'topic';
        IF profile.business_info = '{}' THEN
            RETURN jsonb_build_object('error', 'no business information is on file; offer a human instead');
        END IF;
        IF topic IS NULL THEN
            RETURN profile.business_info;
        END IF;
        -- The topic as written, else ignoring case and surrounding spaces.
        SELECT e.key, e.value INTO info
          FROM jsonb_each(profile.business_info) AS e
         WHERE e.key = topic OR lower(e.key) = lower(btrim(topic))
         ORDER BY e.key = topic DESC LIMIT 1;
        IF NOT FOUND THEN
            RETURN jsonb_build_object('error', format('topic must be one of %s, got %s',
                (SELECT string_agg(to_jsonb(k)::text, ', ' ORDER BY k) FROM jsonb_object_keys(profile.business_info) AS k),
                to_jsonb(left(topic, 40))));
        END IF;
        RETURN jsonb_build_object(info.key, info.value);
    ELSE
        RAISE EXCEPTION 'convo.call_tool: tool % has no implementation', tool.name USING ERRCODE = 'XX000';
    END CASE;
END
$$;
COMMENT ON FUNCTION convo.call_tool(uuid, text, jsonb) IS 'Runs a tool call of the model for a conversation (search_products, add_to_cart, remove_from_cart, view_cart, update_progress, handoff_to_human, get_business_info); bad arguments, unknown or disabled tools give {"error": "..."}';
