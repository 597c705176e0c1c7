-- The floor ingest is measured against: the same sender and message object, stored with one
-- plain INSERT into a table as wide as convo.messages (no routing, contacts, conversations,
-- dedup, trigger).
\set k random(1, :pool)
\set r random(100000000000, 999999999999)
INSERT INTO convo_bench.plain_messages (account_id, wa_id, wamid, direction, type, body, payload, sent_at)
SELECT p.account_id, w.wa_id, m.message ->> 'id', 'in', 'text', m.message #>> '{text,body}', m.message, now()
  FROM convo_bench.pool p
 CROSS JOIN LATERAL (SELECT CASE WHEN p.fresh THEN p.wa_id || :r ELSE p.wa_id END AS wa_id) w
 CROSS JOIN LATERAL (SELECT jsonb_build_object(
           'from', w.wa_id, 'id', 'wamid.bench.' || :run || '.' || :client_id || '.' || :r,
           'timestamp', extract(epoch FROM now())::bigint::text, 'type', 'text',
           'text', jsonb_build_object('body', 'Hola, sigue disponible el pedido ' || :r || '?')) AS message) m
 WHERE p.k = :k;
