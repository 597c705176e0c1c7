-- One Cloud API notification with one inbound text message, ingested. The sender comes from
-- the pool (an existing contact, or for fresh rows a new customer); the wamid is unique per
-- call (:run tells runs apart, :client_id clients, :r calls).
\set k random(1, :pool)
\set r random(100000000000, 999999999999)
SELECT convo.ingest('whatsapp', jsonb_build_object(
           'object', 'whatsapp_business_account',
           'entry', jsonb_build_array(jsonb_build_object(
               'id', p.waba_id,
               'changes', jsonb_build_array(jsonb_build_object(
                   'field', 'messages',
                   'value', jsonb_build_object(
                       'messaging_product', 'whatsapp',
                       'metadata', jsonb_build_object('display_phone_number', p.display_phone_number,
                                                      'phone_number_id', p.phone_number_id),
                       'contacts', jsonb_build_array(jsonb_build_object(
                           'profile', jsonb_build_object('name', p.profile_name), 'wa_id', w.wa_id)),
                       'messages', jsonb_build_array(m.message))))))))
  FROM convo_bench.pool p
 CROSS JOIN LATERAL (SELECT CASE WHEN p.fresh THEN p.wa_id || :r ELSE p.wa_id END AS wa_id) w
 CROSS JOIN LATERAL (SELECT jsonb_build_object(
           'from', w.wa_id, 'id', 'wamid.bench.' || :run || '.' || :client_id || '.' || :r,
           'timestamp', extract(epoch FROM now())::bigint::text, 'type', 'text',
           'text', jsonb_build_object('body', 'Hola, sigue disponible el pedido ' || :r || '?')) AS message) m
 WHERE p.k = :k;
