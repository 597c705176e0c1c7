-- Benchmark data for convo: accounts, contacts, conversations and messages, set-based.
--
--   psql -v scale=1 -f tests/bench/generate.sql     (run as a superuser, on an empty convo)
--
-- scale 1 gives 100k conversations (one contact each) and about 2M messages over the last
-- 30 days, spread over 20 accounts of very different sizes. Message counts are skewed: a few
-- conversations hold thousands of messages, most hold a handful.
--
-- Messages are inserted with the message_inserted trigger disabled (one UPDATE per row would
-- dominate); the conversations' summary columns are then computed in one UPDATE from the
-- messages, as the trigger would have left them. Everything else (constraints, foreign keys,
-- indexes, the other triggers) stays on.
--
-- Besides the data, schema convo_bench holds what the pgbench scripts draw from:
--   convo_bench.ids   n -> a conversation, uniformly over conversations
--   convo_bench.pool  k -> a sender for ingest: an account's number and a contact's wa_id;
--                     most are existing contacts, the rows with fresh = true stand for
--                     customers writing for the first time (the script makes the wa_id unique)
--   convo_bench.hot   n -> one of up to 1000 conversations (a random sample) whose contact is
--                     not in the pool: ingest never writes to them, so the contexts cached for
--                     them stay valid for the whole run

\set ON_ERROR_STOP 1
\if :{?scale}
\else
\set scale 1
\endif

SET client_min_messages = warning;
SET work_mem = '512MB';
SET maintenance_work_mem = '512MB';
SET jit = off;
SELECT setseed(0.4242) AS seeded \gset

DROP SCHEMA IF EXISTS convo_bench CASCADE;
CREATE SCHEMA convo_bench;

CREATE TABLE convo_bench.params AS
SELECT s AS scale,
       greatest(round(100000 * s)::int, 10) AS conversations,
       greatest(round(40 * s)::int, 2) AS long_conversations,
       20 AS accounts,
       10000 AS pool
  FROM (SELECT (:'scale')::numeric AS s) p;

BEGIN;

-- Accounts, each with its default bot profile (what convo.register_account creates).
CREATE TABLE convo_bench.accounts AS
SELECT a, gen_random_uuid() AS account_id,
       (106540000000000 + a)::text AS phone_number_id,
       '155501' || lpad(a::text, 5, '0') AS display_phone_number,
       (301200000000000 + a)::text AS waba_id
  FROM generate_series(1, (SELECT accounts FROM convo_bench.params)) a;
INSERT INTO convo.accounts (account_id, name, phone_number_id, display_phone_number, waba_id, created_at)
SELECT account_id, 'Bench shop ' || a, phone_number_id, display_phone_number, waba_id, now() - interval '90 days'
  FROM convo_bench.accounts;
-- The default profile's template, models, budget and tools are the column defaults; steps and
-- business info as a shop would fill them in (build_context shows the current step's instruction).
INSERT INTO convo.bot_profiles (account_id, name, is_default, steps, business_info)
SELECT account_id, 'default', true,
       '[{"name": "greeting", "instruction": "Greet the customer and ask what they are looking for."},
         {"name": "browsing", "instruction": "Help them choose: search the catalogue, suggest two or three products."},
         {"name": "cart", "instruction": "Confirm the cart, offer a matching accessory once."},
         {"name": "checkout", "instruction": "Confirm size, colour and delivery address before placing the order."},
         {"name": "support", "instruction": "Solve the order problem or hand over to a human."}]',
       jsonb_build_object('name', 'Bench Shop ' || a, 'hours', 'Mon-Fri 9:00-18:00, Sat 10:00-14:00',
                          'address', 'Av. Corrientes ' || (1000 + a), 'delivery', '48 h, free over 60 USD')
  FROM convo_bench.accounts;

-- One row per conversation with everything the messages are derived from. Conversation i
-- belongs to account 1 + floor(20 u^2): account 1 gets about a fifth, account 20 about 2.5%.
-- The first long_conversations rows get 2000-8000 messages; the others a log-uniform 1-80
-- (median 9, mean about 18). Last activity leans to the recent past (half in the last 7.5
-- days, a fifth in the last 36 h); most conversations are a burst of minutes, a fifth spread
-- over days.
CREATE TEMP TABLE gen_conv AS
WITH base AS (
    SELECT i,
           1 + floor(p.accounts * random() ^ 2)::int AS a,
           CASE WHEN i <= p.long_conversations THEN 2000 + floor(random() * 6001)::int
                ELSE floor(exp(random() * ln(81)))::int END AS msgs,
           now() - interval '30 days' * (CASE WHEN i <= p.long_conversations THEN 0.002 * random()
                                              ELSE random() ^ 2 END) AS last_at,
           random() AS spread,
           random() < 0.05 AS from_ad,
           (ARRAY['Ana Ruiz', 'Bruno Costa', 'Carla Mendes', 'Diego Alves', 'Elena Sousa',
                  'Fabio Lima', 'Gabriela Rocha', 'Hugo Pereira', 'Ines Duarte', 'Joao Nunes',
                  'Karina Vidal', 'Luis Ortega'])[1 + floor(random() * 12)::int] AS profile_name
      FROM convo_bench.params p, generate_series(1, p.conversations) i)
SELECT b.i, acc.account_id, gen_random_uuid() AS conversation_id, gen_random_uuid() AS contact_id,
       (5491100000000 + b.i)::text AS wa_id, b.profile_name, b.msgs, b.from_ad, s.first_at, b.last_at,
       b.last_at - s.first_at AS span
  FROM base b
  JOIN convo_bench.accounts acc ON acc.a = b.a
  CROSS JOIN LATERAL (SELECT b.last_at - least(
        b.last_at - (now() - interval '30 days'),
        CASE WHEN b.i <= 2 * (SELECT long_conversations FROM convo_bench.params) OR b.spread < 0.2
             THEN (b.last_at - (now() - interval '30 days')) * random()
             ELSE b.msgs * interval '90 seconds' * (0.5 + random()) END) AS first_at) s;

-- Contacts: every one has a phone (wa_id); about a third also carry a BSUID.
INSERT INTO convo.contacts (account_id, contact_id, user_id, wa_id, profile_name, created_at, updated_at)
SELECT account_id, contact_id,
       CASE WHEN random() < 0.3 THEN 'AR.' || (81000000000000000 + i)::text END,
       wa_id, profile_name, first_at, last_at
  FROM gen_conv;

INSERT INTO convo.conversations (account_id, conversation_id, contact_id, bot_profile_id,
                                 needs_human, bot_enabled, current_step, created_at, updated_at)
SELECT g.account_id, g.conversation_id, g.contact_id, bp.bot_profile_id,
       g.i % 25 = 0, g.i % 25 <> 0,
       (ARRAY['greeting', 'browsing', 'cart', 'checkout', 'support', NULL])[1 + g.i % 6],
       g.first_at, g.last_at
  FROM gen_conv g
  JOIN convo.bot_profiles bp ON bp.account_id = g.account_id AND bp.is_default;

ALTER TABLE convo.messages DISABLE TRIGGER message_inserted;

-- Messages in arrival order (message ids and heap order follow time, as in production: a
-- conversation's messages are scattered over the table). The customer writes first; after
-- that about 45% inbound. Inbound payloads are Cloud API message objects, outbound ones send
-- bodies. The first message of a conversation that came from an ad carries the referral.
INSERT INTO convo.messages (account_id, conversation_id, wamid, direction, type, body, payload,
                            media_id, media_mime, status, status_at, error_code, sent_at, received_at)
SELECT m.account_id, m.conversation_id, m.wamid, m.direction, m.type, m.body,
       CASE WHEN m.direction = 'in' THEN
           jsonb_build_object('from', m.wa_id, 'id', m.wamid,
                              'timestamp', extract(epoch FROM m.sent_at)::bigint::text, 'type', m.type)
           || CASE m.type
                  WHEN 'text' THEN jsonb_build_object('text', jsonb_build_object('body', m.body))
                  WHEN 'image' THEN jsonb_build_object('image', jsonb_build_object(
                      'id', m.media_id, 'mime_type', 'image/jpeg', 'sha256', md5(m.wamid), 'caption', m.body))
                  WHEN 'audio' THEN jsonb_build_object('audio', jsonb_build_object(
                      'id', m.media_id, 'mime_type', 'audio/ogg; codecs=opus', 'sha256', md5(m.wamid), 'voice', true))
                  ELSE jsonb_build_object('interactive', jsonb_build_object(
                      'type', 'button_reply', 'button_reply', jsonb_build_object('id', 'opt_' || m.k % 4, 'title', m.body)))
              END
           || CASE WHEN m.k = 1 AND m.from_ad THEN jsonb_build_object('referral', jsonb_build_object(
                  'source_type', 'ad', 'source_id', '1202' || (m.k + m.msgs), 'headline', 'Spring sale'))
              ELSE '{}' END
       ELSE
           jsonb_build_object('messaging_product', 'whatsapp', 'recipient_type', 'individual',
                              'to', m.wa_id, 'type', m.type)
           || CASE m.type
                  WHEN 'template' THEN jsonb_build_object('template', jsonb_build_object(
                      'name', 'order_update', 'language', jsonb_build_object('code', 'es')))
                  WHEN 'interactive' THEN jsonb_build_object('interactive', jsonb_build_object(
                      'type', 'button', 'body', jsonb_build_object('text', m.body)))
                  ELSE jsonb_build_object('text', jsonb_build_object('body', m.body))
              END
       END,
       m.media_id, CASE m.type WHEN 'image' THEN 'image/jpeg' WHEN 'audio' THEN 'audio/ogg; codecs=opus' END,
       m.status,
       CASE WHEN m.direction = 'out' THEN m.sent_at + interval '1 second' * (1 + m.k % 90) END,
       CASE WHEN m.status = 'failed' THEN 131047 END,
       m.sent_at, m.sent_at + interval '1 second' * (m.k % 3)
  FROM (
    SELECT s.*, 'wamid.HBgN' || md5(s.conversation_id::text || s.k) AS wamid,
           CASE WHEN s.type IN ('image', 'audio') THEN (1839200000000000 + s.i::bigint * 10000 + s.k)::text END AS media_id,
           CASE WHEN s.type = 'audio' THEN NULL
                WHEN s.direction = 'in' THEN (ARRAY[
                    'Hola, tienen turnos para manana?', 'Cuanto cuesta el envio?', 'ok', 'Gracias!',
                    'Quiero cambiar la direccion de entrega del pedido que hice ayer por la tarde',
                    'Tienen talle M en azul?', 'Si', 'A que hora abren el sabado?'])[1 + (s.k * 7 + s.i) % 8]
                ELSE (ARRAY[
                    'Hola! Claro, tenemos turnos manana a las 10:00 y a las 15:30. Cual prefieres?',
                    'El envio cuesta 4,50 y llega en 48 horas.', 'Listo, tu pedido quedo actualizado.',
                    'Te paso con una persona del equipo.', 'Gracias por escribirnos!',
                    'Si, tenemos talle M en azul. Te lo agrego al carrito?'])[1 + (s.k * 5 + s.i) % 6]
           END AS body,
           CASE WHEN s.direction = 'in' THEN 'delivered'
                ELSE (ARRAY['read', 'read', 'read', 'read', 'read', 'read', 'read',
                            'delivered', 'delivered', 'sent', 'failed'])[1 + (s.k * 3 + s.i) % 11] END AS status
      FROM (
        SELECT g.i, g.account_id, g.conversation_id, g.wa_id, g.msgs, g.from_ad, k, d.direction, t.type,
               g.first_at + g.span * ((k - 1 + random()) / g.msgs) AS sent_at
          FROM gen_conv g
         CROSS JOIN LATERAL generate_series(1, g.msgs) k
         CROSS JOIN LATERAL (SELECT CASE WHEN k = 1 OR random() < 0.45 THEN 'in' ELSE 'out' END AS direction,
                                    random() AS r) d
         CROSS JOIN LATERAL (SELECT CASE WHEN d.direction = 'in' THEN
                                        CASE WHEN d.r < 0.80 THEN 'text' WHEN d.r < 0.88 THEN 'image'
                                             WHEN d.r < 0.95 THEN 'audio' ELSE 'interactive' END
                                    ELSE CASE WHEN d.r < 0.85 THEN 'text' WHEN d.r < 0.95 THEN 'interactive'
                                              ELSE 'template' END END AS type) t
         ORDER BY sent_at
        OFFSET 0) s
    OFFSET 0) m;

-- The summary columns, as message_inserted leaves them: last inbound/outbound/message times,
-- unread = inbound messages after the last outbound one, the entry point of ad conversations
-- (replied when the business answered within 24 h), closed after a week of silence.
UPDATE convo.conversations c
   SET last_inbound_at = a.last_in, last_outbound_at = a.last_out, last_message_at = a.last_at,
       unread_count = a.unread,
       entry_point_source = CASE WHEN g.from_ad THEN 'ad' END,
       entry_point_at = CASE WHEN g.from_ad THEN a.first_at END,
       entry_point_replied_at = CASE WHEN g.from_ad THEN a.first_reply END,
       entry_point_referral = CASE WHEN g.from_ad THEN a.referral END,
       status = CASE WHEN a.last_at < now() - interval '7 days' THEN 'closed' ELSE 'open' END,
       closed_at = CASE WHEN a.last_at < now() - interval '7 days' THEN a.last_at + interval '1 day' END,
       updated_at = a.last_at
  FROM (SELECT m.account_id, m.conversation_id,
               max(m.sent_at) FILTER (WHERE m.direction = 'in') AS last_in,
               max(m.sent_at) FILTER (WHERE m.direction = 'out') AS last_out,
               max(m.sent_at) AS last_at,
               min(m.sent_at) AS first_at,
               count(*) FILTER (WHERE m.direction = 'in' AND m.sent_at > l.last_out) AS unread,
               min(m.sent_at) FILTER (WHERE m.direction = 'out' AND m.sent_at < l.first_in + interval '24 hours')
                   AS first_reply,
               (array_agg(m.payload -> 'referral') FILTER (WHERE m.payload ? 'referral'))[1] AS referral
          FROM convo.messages m
          JOIN (SELECT account_id, conversation_id,
                       coalesce(max(sent_at) FILTER (WHERE direction = 'out'), '-infinity') AS last_out,
                       min(sent_at) FILTER (WHERE direction = 'in') AS first_in
                  FROM convo.messages GROUP BY 1, 2) l USING (account_id, conversation_id)
         GROUP BY 1, 2) a
  JOIN gen_conv g ON g.account_id = a.account_id AND g.conversation_id = a.conversation_id
 WHERE c.account_id = a.account_id AND c.conversation_id = a.conversation_id;

ALTER TABLE convo.messages ENABLE TRIGGER message_inserted;

-- The catalogue, carts and orders (what build_context reads besides the conversation). The
-- triggers that outdate cached contexts are off meanwhile (one UPDATE of a conversation per
-- row, and there is nothing cached yet); foreign keys and indexes stay on.
--   products   200 per account whatever the scale, 5% of them no longer sold; a few names
--              longer than a cart label (40 characters)
--   carts      an open cart of 1-3 lines for about 20% of the contacts, expiring 12-23 h from
--              now (the benchmark runs well within that)
--   orders     1-2 past orders for about 5% of the contacts
ALTER TABLE convo.carts DISABLE TRIGGER USER;
ALTER TABLE convo.cart_items DISABLE TRIGGER USER;
ALTER TABLE convo.orders DISABLE TRIGGER USER;

CREATE TEMP TABLE gen_product AS
SELECT acc.account_id, p, gen_random_uuid() AS product_id,
       (ARRAY['Zapatilla Runner', 'Remera basica', 'Buzo canguro', 'Jean recto', 'Campera rompeviento',
              'Gorra trucker', 'Medias deportivas pack x3', 'Mochila urbana',
              'Zapatilla Trail Pro impermeable con suela reforzada',
              'Botin de cuero engrasado cosido a mano'])[1 + p % 10]
           || ' ' || (ARRAY['azul', 'negro', 'blanco', 'rojo', 'verde'])[1 + (p / 10) % 5]
           || ' ' || (ARRAY['S', 'M', 'L', 'XL'])[1 + (p / 50) % 4] AS name,
       (ARRAY['azul', 'negro', 'blanco', 'rojo', 'verde'])[1 + (p / 10) % 5] AS color,
       (ARRAY['S', 'M', 'L', 'XL'])[1 + (p / 50) % 4] AS size,
       round((5 + random() * 145)::numeric, 2) AS price
  FROM convo_bench.accounts acc
 CROSS JOIN generate_series(1, 200) p;
INSERT INTO convo.products (account_id, product_id, sku, name, price, currency, stock, attributes, active,
                            updated_at)
SELECT account_id, product_id, 'SKU-' || lpad(p::text, 4, '0'), name, price, 'USD', floor(random() * 40)::int,
       jsonb_build_object('color', color, 'size', size) || CASE WHEN p % 10 = 8 THEN jsonb '{"waterproof": true}' ELSE jsonb '{}' END,
       p % 20 <> 0, now() - interval '60 days'
  FROM gen_product;

CREATE TEMP TABLE gen_cart AS
SELECT account_id, gen_random_uuid() AS cart_id, contact_id, 1 + floor(random() * 3)::int AS lines,
       floor(random() * 200)::int AS first, last_at
  FROM gen_conv
 WHERE random() < 0.2;
INSERT INTO convo.carts (account_id, cart_id, contact_id, status, expires_at, created_at, updated_at)
SELECT account_id, cart_id, contact_id, 'open', now() + interval '12 hours' + random() * interval '11 hours',
       last_at - interval '20 minutes', last_at
  FROM gen_cart;
INSERT INTO convo.cart_items (account_id, cart_id, product_id, quantity, unit_price, added_at)
SELECT k.account_id, k.cart_id, p.product_id, 1 + floor(random() * 2)::int, p.price,
       k.last_at - interval '20 minutes' + l * interval '1 minute'
  FROM gen_cart k
 CROSS JOIN generate_series(1, 3) l
  JOIN gen_product p ON p.account_id = k.account_id AND p.p = 1 + (k.first + 67 * l) % 200
 WHERE l <= k.lines;

INSERT INTO convo.orders (account_id, contact_id, status, total, currency, items, created_at)
SELECT g.account_id, g.contact_id, (ARRAY['delivered', 'delivered', 'shipped', 'paid', 'cancelled'])[1 + floor(random() * 5)::int],
       p.price * g.qty, 'USD',
       jsonb_build_array(jsonb_build_object('product_id', p.product_id, 'label', left(p.name, 40), 'qty', g.qty,
                                            'unit_price', p.price)),
       g.first_at + (g.last_at - g.first_at) * random()
  FROM (SELECT account_id, contact_id, first_at, last_at, 1 + floor(random() * 2)::int AS n,
               1 + floor(random() * 2)::int AS qty, floor(random() * 200)::int AS pick
          FROM gen_conv WHERE random() < 0.05) g
 CROSS JOIN generate_series(1, 2) j
  JOIN gen_product p ON p.account_id = g.account_id AND p.p = 1 + (g.pick + 31 * j) % 200
 WHERE j <= g.n;

ALTER TABLE convo.carts ENABLE TRIGGER USER;
ALTER TABLE convo.cart_items ENABLE TRIGGER USER;
ALTER TABLE convo.orders ENABLE TRIGGER USER;

-- What the pgbench scripts draw from (see the header).
CREATE TABLE convo_bench.ids (n int PRIMARY KEY, account_id uuid NOT NULL, conversation_id uuid NOT NULL);
INSERT INTO convo_bench.ids
SELECT row_number() OVER (ORDER BY random()), account_id, conversation_id FROM gen_conv;

CREATE TABLE convo_bench.pool (
    k int PRIMARY KEY, account_id uuid NOT NULL, phone_number_id text NOT NULL,
    display_phone_number text NOT NULL, waba_id text NOT NULL,
    wa_id text NOT NULL, profile_name text NOT NULL, fresh boolean NOT NULL);
INSERT INTO convo_bench.pool
SELECT row_number() OVER (ORDER BY random()), acc.account_id, acc.phone_number_id,
       acc.display_phone_number, acc.waba_id, s.wa_id, s.profile_name, s.fresh
  FROM (SELECT * FROM (SELECT account_id, wa_id, profile_name, false AS fresh
                         FROM gen_conv ORDER BY random()
                        LIMIT (SELECT pool * 49 / 50 FROM convo_bench.params)) existing
        UNION ALL
        SELECT acc.account_id, '79', 'Nuevo Cliente', true
          FROM generate_series(1, (SELECT pool / 50 FROM convo_bench.params)) f
          JOIN convo_bench.accounts acc ON acc.a = 1 + f % (SELECT accounts FROM convo_bench.params)) s
  JOIN convo_bench.accounts acc USING (account_id);

CREATE TABLE convo_bench.hot (n int PRIMARY KEY, account_id uuid NOT NULL, conversation_id uuid NOT NULL);
INSERT INTO convo_bench.hot
SELECT row_number() OVER (ORDER BY i.n), i.account_id, i.conversation_id
  FROM convo_bench.ids i
  JOIN gen_conv g ON g.account_id = i.account_id AND g.conversation_id = i.conversation_id
 WHERE NOT EXISTS (SELECT 1 FROM convo_bench.pool p WHERE p.account_id = g.account_id AND p.wa_id = g.wa_id)
 ORDER BY i.n
 LIMIT 1000;
COMMIT;

-- Settles hint bits and the visibility map, and keeps autovacuum from starting mid-benchmark.
VACUUM (ANALYZE) convo.contacts, convo.conversations, convo.messages, convo.bot_profiles,
                 convo.products, convo.carts, convo.cart_items, convo.orders,
                 convo_bench.ids, convo_bench.pool, convo_bench.hot;

-- What was generated.
WITH per_conversation AS (
    SELECT count(*) AS n, count(*) FILTER (WHERE direction = 'in') AS inbound
      FROM convo.messages GROUP BY account_id, conversation_id)
SELECT (SELECT count(*) FROM convo.accounts) AS accounts,
       count(*) AS conversations, sum(n) AS messages,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY n) AS median_length,
       max(n) AS longest,
       count(*) FILTER (WHERE n >= 1000) AS over_1000,
       round(100.0 * sum(inbound) / sum(n)) AS pct_inbound,
       (SELECT count(*) FROM convo.conversations WHERE last_inbound_at > now() - interval '24 hours')
           AS open_windows
  FROM per_conversation;
SELECT (SELECT count(*) FROM convo.products) AS products,
       (SELECT count(*) FROM convo.carts WHERE status = 'open') AS open_carts,
       (SELECT count(*) FROM convo.cart_items) AS cart_lines,
       (SELECT count(*) FROM convo.orders) AS orders,
       (SELECT count(*) FROM convo_bench.hot) AS hot_conversations;
