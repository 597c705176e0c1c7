-- Ingest: webhook payloads become rows (C++: extension/api/ingest.cpp).

CREATE FUNCTION convo.ingest(source text, payload jsonb) RETURNS jsonb
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'convo_ingest';
COMMENT ON FUNCTION convo.ingest(text, jsonb) IS 'Ingests a webhook payload (source whatsapp: a Cloud API notification; twilio: the form fields as an object); returns {messages, duplicates, statuses, unroutable, ignored, conversations}';

CREATE FUNCTION convo.ingest_body(source text, body text) RETURNS jsonb
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'convo_ingest_body';
COMMENT ON FUNCTION convo.ingest_body(text, text) IS 'Ingests a raw webhook body as stored in the inbox (JSON text, or form-encoded for twilio); \u0000 escapes are dropped from strings';
