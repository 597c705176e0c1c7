-- The customer-service window (rules in extension/core/free_window.cpp).
--
-- Needs: tables.sql (the conversation's summary columns, kept by message_triggers.sql).

CREATE FUNCTION convo.free_window(conversation_id uuid, at timestamptz DEFAULT now())
RETURNS jsonb
LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'convo_free_window';
COMMENT ON FUNCTION convo.free_window(uuid, timestamptz) IS 'Whether a free-form message may be sent at `at`: {open, expires_at, seconds_left, entry_point_until, template_required}; reads the conversation row only';

CREATE FUNCTION convo.can_send_freeform(conversation_id uuid)
RETURNS boolean
LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'convo_can_send_freeform';
COMMENT ON FUNCTION convo.can_send_freeform(uuid) IS 'Short form of free_window(conversation_id) ->> ''open''';
