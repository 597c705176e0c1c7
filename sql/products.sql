-- The catalogue: writing products, and the search the assistant's search_products tool runs.
--
-- Search uses pg_trgm (a prerequisite of convo, see convo.control): trigram word similarity
-- tolerates typos and partial words ("runer" finds "Stride Runner"). The functions that use
-- it have SQL-standard bodies, bound to pg_trgm's functions and operators when convo is
-- installed (CREATE EXTENSION puts the schemas of prerequisites on the search_path), so they
-- work whatever schema pg_trgm lives in and whatever the caller's search_path.
--
-- Needs: tables.sql, pg_trgm; when run, tools.sql (convo.json_schema_error).

-- What the search matches: the name, the attribute values at any depth and the names of
-- attributes that are simply true ("waterproof"), but not the other keys ("color" would match
-- every product). Regular expressions over the jsonb text: several times cheaper per row than
-- walking the document, and this runs for every candidate row of a search.
CREATE FUNCTION convo.product_search_text(name text, attributes jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN name || ' ' || regexp_replace(
    regexp_replace(attributes::text, '"((?:[^"\\]|\\.)*)": true', '\1', 'g'),   -- "waterproof": true -> waterproof
    '"(?:[^"\\]|\\.)*":', '', 'g');                                               -- other keys go
COMMENT ON FUNCTION convo.product_search_text(text, jsonb) IS 'The text search_products matches: the name, attribute values and the names of true attributes';

-- Trigram index for search_products. GIN cannot hold the account id without btree_gin; the
-- planner combines it with the primary key (account_id first) when the catalogue is large.
CREATE INDEX products_search ON convo.products
    USING gin (convo.product_search_text(name, attributes) gin_trgm_ops);

-- Active products of an account matching query (trigram word similarity, best first; every
-- product when query is NULL, by name), with every attribute filter (case-insensitive; an
-- array attribute matches when one element does; a key also matches its plural: size finds
-- sizes), at most max_price, in stock when asked. {"products": [{id, label, price, currency,
-- stock}], "more": whether more matched than max_hits}.
CREATE FUNCTION convo.search_products(
    account_id uuid, query text DEFAULT NULL, attributes jsonb DEFAULT NULL,
    max_price numeric DEFAULT NULL, in_stock boolean DEFAULT false, max_hits int DEFAULT 5)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
-- The generic plan's cost estimate (the attribute filter's subplan) passes jit_above_cost,
-- and compiling it would take far longer than running it.
SET jit = off
BEGIN ATOMIC
    WITH candidates AS (
        -- Two branches, one of which a one-time filter switches off: each keeps its own plan
        -- (the trigram index for a query, the account's rows otherwise).
        SELECT p.product_id, p.name, p.price, p.currency, p.stock, p.attributes,
               word_similarity(search_products.query, convo.product_search_text(p.name, p.attributes)) AS score
          FROM convo.products p
         WHERE search_products.query IS NOT NULL
           AND p.account_id = search_products.account_id AND p.active
           AND search_products.query <% convo.product_search_text(p.name, p.attributes)
        UNION ALL
        SELECT p.product_id, p.name, p.price, p.currency, p.stock, p.attributes, 0
          FROM convo.products p
         WHERE search_products.query IS NULL
           AND p.account_id = search_products.account_id AND p.active
    ), hits AS (
        SELECT c.*, row_number() OVER (ORDER BY c.score DESC, c.name, c.product_id) AS n
          FROM candidates c
         WHERE (search_products.max_price IS NULL OR c.price <= search_products.max_price)
           AND (NOT coalesce(search_products.in_stock, false) OR c.stock > 0)
           AND NOT EXISTS (
                 SELECT 1 FROM jsonb_each_text(search_products.attributes) AS f
                  WHERE NOT EXISTS (
                        SELECT 1
                          FROM jsonb_each(CASE jsonb_typeof(c.attributes) WHEN 'object' THEN c.attributes END) AS a,
                               jsonb_array_elements_text(CASE jsonb_typeof(a.value) WHEN 'array' THEN a.value
                                                         ELSE jsonb_build_array(a.value) END) AS v
                         WHERE lower(a.key) IN (lower(f.key), lower(f.key) || 's')
                           AND lower(v) = lower(f.value)))
         ORDER BY n
         LIMIT greatest(coalesce(search_products.max_hits, 5), 0) + 1
    )
    SELECT jsonb_build_object(
               'products', coalesce(jsonb_agg(jsonb_build_object(
                                'id', h.product_id,
                                'label', CASE WHEN length(h.name) > 60 THEN left(h.name, 59) || '…' ELSE h.name END,
                                'price', h.price, 'currency', h.currency, 'stock', h.stock)
                            ORDER BY h.n) FILTER (WHERE h.n <= coalesce(search_products.max_hits, 5)), '[]'),
               'more', count(*) > greatest(coalesce(search_products.max_hits, 5), 0))
      FROM hits h;
END;
COMMENT ON FUNCTION convo.search_products(uuid, text, jsonb, numeric, boolean, int) IS 'Active products of an account by trigram word similarity and attribute/price/stock filters: {products: [{id, label, price, currency, stock}], more}';

-- Creates or updates (by account and sku) a product; keys absent on update keep their value.
CREATE FUNCTION convo.upsert_product(account_id uuid, product jsonb) RETURNS uuid
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
#variable_conflict use_column
DECLARE
    fn constant text := 'convo.upsert_product: ';
    schema constant jsonb := $json$
        {"type": "object", "required": ["sku"], "additionalProperties": false, "properties": {
          "sku": {"type": "string", "minLength": 1, "maxLength": 64},
          "name": {"type": "string", "minLength": 1, "maxLength": 200},
          "price": {"type": "number", "minimum": 0, "maximum": 9999999999.99},
          "currency": {"type": "string", "minLength": 3, "maxLength": 3},
          "stock": {"type": "integer", "minimum": 0, "maximum": 1000000000},
          "attributes": {"type": "object"},
          "active": {"type": "boolean"}}}
    $json$;
    problem text;
    p jsonb := product;
    new_price numeric;
    id uuid;
    inserted boolean;
BEGIN
    IF account_id IS NULL OR product IS NULL THEN
        RAISE EXCEPTION '%account_id and product are required', fn USING ERRCODE = '22004';
    END IF;
    problem := convo.json_schema_error(schema, p, 'product');
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION '%', fn || problem USING ERRCODE = '22023';
    END IF;
    IF btrim(p ->> 'sku') = '' THEN
        RAISE EXCEPTION '%sku must not be blank', fn USING ERRCODE = '22023';
    END IF;
    IF btrim(p ->> 'name') = '' THEN
        RAISE EXCEPTION '%name must not be blank', fn USING ERRCODE = '22023';
    END IF;
    new_price := (p -> 'price')::numeric;
    IF new_price <> round(new_price, 2) THEN
        RAISE EXCEPTION '%price must have at most 2 decimals, got %', fn, new_price USING ERRCODE = '22023';
    END IF;
    IF p ? 'currency' THEN
        IF upper(p ->> 'currency') !~ '^[A-Z]{3}$' THEN
            RAISE EXCEPTION '%currency must be a 3-letter ISO 4217 code such as "USD", got %', fn, p -> 'currency'
                USING ERRCODE = '22023';
        END IF;
        p := jsonb_set(p, '{currency}', to_jsonb(upper(p ->> 'currency')));
    END IF;
    IF octet_length((p -> 'attributes')::text) > 8192 THEN
        RAISE EXCEPTION '%attributes must take at most 8192 bytes as JSON, got %', fn, octet_length((p -> 'attributes')::text)
            USING ERRCODE = '22023';
    END IF;
    -- Row-level security applies: another account is unknown here.
    PERFORM FROM convo.accounts a WHERE a.account_id = upsert_product.account_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%unknown account %', fn, upsert_product.account_id USING ERRCODE = 'P0002';
    END IF;

    -- Absent keys keep the stored value. A new product must have a name and a price: the
    -- placeholders below are never kept, the insert is undone by the error.
    INSERT INTO convo.products AS x (account_id, sku, name, price, currency, stock, attributes, active)
    VALUES (upsert_product.account_id, p ->> 'sku', coalesce(p ->> 'name', ''), coalesce(new_price, 0),
            coalesce(p ->> 'currency', 'USD'), coalesce((p -> 'stock')::numeric::int, 0),
            coalesce(p -> 'attributes', '{}'), coalesce((p -> 'active')::boolean, true))
    ON CONFLICT (account_id, sku) DO UPDATE SET
        name       = CASE WHEN p ? 'name' THEN excluded.name ELSE x.name END,
        price      = CASE WHEN p ? 'price' THEN excluded.price ELSE x.price END,
        currency   = CASE WHEN p ? 'currency' THEN excluded.currency ELSE x.currency END,
        stock      = CASE WHEN p ? 'stock' THEN excluded.stock ELSE x.stock END,
        attributes = CASE WHEN p ? 'attributes' THEN excluded.attributes ELSE x.attributes END,
        active     = CASE WHEN p ? 'active' THEN excluded.active ELSE x.active END,
        updated_at = now()
    RETURNING x.product_id, x.xmax = 0 INTO id, inserted;
    IF inserted AND NOT (p ? 'name' AND p ? 'price') THEN
        RAISE EXCEPTION '%a new product needs name and price (sku %)', fn, p -> 'sku' USING ERRCODE = '22023';
    END IF;
    RETURN id;
END
$$;
COMMENT ON FUNCTION convo.upsert_product(uuid, jsonb) IS 'Creates or updates (by account and sku) a product from {sku, name, price, currency, stock, attributes, active}; absent keys keep their value; returns the product id';
