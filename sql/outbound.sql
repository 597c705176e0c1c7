-- Messages the business sent: the sidecar records each one after the Cloud API accepted it.
--
-- Needs: tables.sql, message_triggers.sql (fired by its inserts).

-- What a reader sees of a Cloud API send body. The Cloud API takes a body without "type" as
-- text; so does record_outbound, and the body must follow it.
CREATE FUNCTION convo.outbound_body(message jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE coalesce(message ->> 'type', 'text')
    WHEN 'text' THEN message #>> '{text,body}'
    WHEN 'template' THEN 'template:' || (message #>> '{template,name}')
    WHEN 'interactive' THEN message #>> '{interactive,body,text}'
    WHEN 'reaction' THEN message #>> '{reaction,emoji}'
    ELSE message #>> ARRAY[message ->> 'type', 'caption'] END;
COMMENT ON FUNCTION convo.outbound_body(jsonb) IS 'What a reader sees of a Cloud API send body: the text, template:<name>, the interactive body, the reaction emoji or the media caption';

-- Applies the status events that arrived before their outbound message was stored (the send's
-- response and the status webhook race): the furthest one on the ladder (the monotonic trigger
-- keeps a further status the message already has), then a deletion. Called by
-- record_outbound for the Cloud API's messages and by ingest for echoes.
CREATE FUNCTION convo.apply_waiting_statuses(account_id uuid, wamid text) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
#variable_conflict use_column
BEGIN
    UPDATE convo.messages m
       SET status = w.status, status_at = w.status_at, error_code = w.error_code, error = w.payload -> 'errors'
      FROM (SELECT s.status, s.status_at, s.error_code, s.payload FROM convo.message_statuses s
             WHERE s.account_id = apply_waiting_statuses.account_id AND s.wamid = apply_waiting_statuses.wamid
               AND convo.status_rank(s.status) >= 0
             ORDER BY convo.status_rank(s.status) DESC LIMIT 1) w
     WHERE m.account_id = apply_waiting_statuses.account_id AND m.wamid = apply_waiting_statuses.wamid;
    UPDATE convo.messages m SET deleted_at = d.status_at
      FROM convo.message_statuses d
     WHERE d.account_id = apply_waiting_statuses.account_id AND d.wamid = apply_waiting_statuses.wamid
       AND d.status = 'deleted'
       AND m.account_id = apply_waiting_statuses.account_id AND m.wamid = apply_waiting_statuses.wamid
       AND m.deleted_at IS NULL;
END
$$;
COMMENT ON FUNCTION convo.apply_waiting_statuses(uuid, text) IS 'Applies to a stored outbound message the status events that arrived before it: the furthest delivery status, then a deletion';

CREATE FUNCTION convo.record_outbound(
    conversation_id uuid, wamid text, message jsonb, sent_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
#variable_conflict use_column
DECLARE
    conv record;
    id bigint;
    msg_type text;
    waiting record;
BEGIN
    IF conversation_id IS NULL OR coalesce(wamid, '') = '' OR message IS NULL OR sent_at IS NULL THEN
        RAISE EXCEPTION 'convo.record_outbound: conversation_id, wamid, message and sent_at are required'
            USING ERRCODE = '22004';
    END IF;
    IF jsonb_typeof(message) <> 'object' THEN
        RAISE EXCEPTION 'convo.record_outbound: message must be a JSON object (the Cloud API send body), got %',
            jsonb_typeof(message) USING ERRCODE = '22023';
    END IF;
    -- Row-level security applies: another account's conversation is unknown here.
    SELECT c.account_id, c.conversation_id INTO conv
      FROM convo.conversations c WHERE c.conversation_id = record_outbound.conversation_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'convo.record_outbound: unknown conversation %', record_outbound.conversation_id
            USING ERRCODE = 'P0002';
    END IF;
    msg_type := coalesce(message ->> 'type', 'text');

    INSERT INTO convo.messages AS m (account_id, conversation_id, wamid, direction, type, body,
                                     payload, reply_to_wamid, status, status_at, sent_at)
    VALUES (conv.account_id, conv.conversation_id, wamid, 'out', msg_type, convo.outbound_body(message),
            message, message #>> '{context,message_id}', 'accepted', sent_at, sent_at)
    ON CONFLICT (account_id, wamid) DO NOTHING
    RETURNING m.message_id INTO id;

    IF id IS NULL THEN
        SELECT m.message_id, m.conversation_id, m.direction INTO waiting
          FROM convo.messages m WHERE m.account_id = conv.account_id AND m.wamid = record_outbound.wamid;
        IF waiting.direction <> 'out' THEN
            RAISE EXCEPTION 'convo.record_outbound: wamid % is a message the customer sent', wamid
                USING ERRCODE = '23505';
        END IF;
        IF waiting.conversation_id <> conv.conversation_id THEN
            RAISE EXCEPTION 'convo.record_outbound: wamid % already belongs to another conversation', wamid
                USING ERRCODE = '23505';
        END IF;
        RETURN waiting.message_id;
    END IF;

    -- Status webhooks may have come before this call.
    PERFORM convo.apply_waiting_statuses(conv.account_id, record_outbound.wamid);
    RETURN id;
END
$$;
COMMENT ON FUNCTION convo.record_outbound(uuid, text, jsonb, timestamptz) IS 'Records a message the business sent (message = the Cloud API send body); idempotent by wamid; returns the message id';
