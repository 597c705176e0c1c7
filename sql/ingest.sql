-- Ingest: webhook payloads become rows (C++: extension/api/ingest.cpp).
--
-- Needs: tables.sql (convo.source), message_triggers.sql (fired by its inserts).

-- The idempotency key of a payload that has no id of its own (an unroutable change, one of
-- Meta's value-level errors): jsonb's text form is canonical, so equal objects digest equally.
CREATE FUNCTION convo.payload_digest(payload jsonb) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN encode(sha256(convert_to(payload::text, 'UTF8')), 'hex');
COMMENT ON FUNCTION convo.payload_digest(jsonb) IS 'Hex SHA-256 of a jsonb value''s canonical text: the key of payloads without an id of their own';

CREATE FUNCTION convo.ingest(source convo.source, payload jsonb) RETURNS jsonb
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'convo_ingest';
COMMENT ON FUNCTION convo.ingest(convo.source, jsonb) IS 'Ingests a webhook payload (source whatsapp: a Cloud API notification; twilio: the form fields as an object); returns {messages, duplicates, statuses, unroutable, ignored, echoes, edits, revokes, flagged, groups, errors, conversations}';

CREATE FUNCTION convo.ingest_body(source convo.source, body text) RETURNS jsonb
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'convo_ingest_body';
COMMENT ON FUNCTION convo.ingest_body(convo.source, text) IS 'Ingests a raw webhook body as stored in the inbox (JSON text, or form-encoded for twilio); \u0000 escapes are dropped from strings';
