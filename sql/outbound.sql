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

    -- A status webhook may have come before this call: apply the furthest one on the ladder.
    SELECT s.status, s.status_at, s.error_code, s.payload INTO waiting
      FROM convo.message_statuses s
     WHERE s.account_id = conv.account_id AND s.wamid = record_outbound.wamid
       AND convo.status_rank(s.status) >= 0
     ORDER BY convo.status_rank(s.status) DESC LIMIT 1;
    IF FOUND THEN
        UPDATE convo.messages m
           SET status = waiting.status, status_at = waiting.status_at,
               error_code = waiting.error_code, error = waiting.payload -> 'errors'
         WHERE m.account_id = conv.account_id AND m.message_id = id;
    END IF;
    -- A 'deleted' event that came first marks the message deleted.
    SELECT s.status_at INTO waiting FROM convo.message_statuses s
     WHERE s.account_id = conv.account_id AND s.wamid = record_outbound.wamid AND s.status = 'deleted';
    IF FOUND THEN
        UPDATE convo.messages m SET deleted_at = waiting.status_at
         WHERE m.account_id = conv.account_id AND m.message_id = id;
    END IF;
    RETURN id;
END
$$;
COMMENT ON FUNCTION convo.record_outbound(uuid, text, jsonb, timestamptz) IS 'Records a message the business sent (message = the Cloud API send body); idempotent by wamid; returns the message id';
