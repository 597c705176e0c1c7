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
INSERT INTO convo.bot_profiles (account_id, name, is_default)
SELECT account_id, 'default', true FROM convo_bench.accounts;

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
           CASE WHEN s.type IN ('image', 'audio') THEN (1839200000000000 + s.i * 10000 + s.k)::text END AS media_id,
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
COMMIT;

-- Settles hint bits and the visibility map, and keeps autovacuum from starting mid-benchmark.
VACUUM (ANALYZE) convo.contacts, convo.conversations, convo.messages,
                 convo_bench.ids, convo_bench.pool;

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
