-- convo 0.1.0 -> 0.2.0, run by ALTER EXTENSION convo UPDATE.
--
-- Each section below brings one change of the install script (sql/*.sql) to an existing
-- database, in the same words: the upgrade test (tests/scenarios/upgrade.sh) compares the
-- upgraded schema with a fresh install, object by object, and checks that data survives.

\echo Use "ALTER EXTENSION convo UPDATE" to load this file. \quit

-- ---------------------------------------------------------------------------------------
-- Real-world payloads: echoes, edits, revokes, deleted/warning statuses, events kept aside
-- (convo.webhook_events), unroutable payloads kept once.
-- ---------------------------------------------------------------------------------------

ALTER TABLE convo.conversations ADD COLUMN human_replied_at timestamptz;

ALTER TABLE convo.messages
    ADD COLUMN origin text CONSTRAINT messages_origin_check CHECK (origin IN ('business_app')),
    ADD COLUMN edited_at timestamptz,
    ADD COLUMN edits jsonb NOT NULL DEFAULT '[]' CONSTRAINT messages_edits_check CHECK (jsonb_typeof(edits) = 'array'),
    ADD COLUMN deleted_at timestamptz;

ALTER TABLE convo.message_statuses
    DROP CONSTRAINT message_statuses_status_check,
    ADD CONSTRAINT message_statuses_status_check
        CHECK (convo.status_rank(status) >= 0 OR status IN ('deleted', 'warning'));

-- Rows kept before this version have no digest (NULL): they stay as they are.
ALTER TABLE convo.unroutable
    ADD COLUMN digest text,
    ADD CONSTRAINT unroutable_digest_key UNIQUE (source, digest);

CREATE TABLE convo.webhook_events (
    account_id     uuid NOT NULL REFERENCES convo.accounts ON DELETE CASCADE,
    kind           text NOT NULL CONSTRAINT webhook_events_kind_check CHECK (kind IN
                       ('error', 'group_message', 'unknown_status', 'invalid_sender', 'unknown_target', 'sms')),
    event_key      text NOT NULL,
    source         text NOT NULL,
    reason         text NOT NULL,
    wamid          text,
    error_code     int,
    error_title    text,
    error_message  text,
    error_details  text,
    occurred_at    timestamptz NOT NULL,   -- the payload's time, else when it was received
    payload        jsonb NOT NULL,
    received_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT webhook_events_pkey PRIMARY KEY (account_id, kind, event_key)
);

CREATE FUNCTION convo.payload_digest(payload jsonb) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN encode(sha256(convert_to(payload::text, 'UTF8')), 'hex');
COMMENT ON FUNCTION convo.payload_digest(jsonb) IS 'Hex SHA-256 of a jsonb value''s canonical text: the key of payloads without an id of their own';

CREATE OR REPLACE FUNCTION convo.on_message_inserted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog
AS $$
BEGIN
    IF NEW.direction = 'in' THEN
        UPDATE convo.conversations c SET
            last_inbound_at = greatest(c.last_inbound_at, NEW.sent_at),
            last_message_at = greatest(c.last_message_at, NEW.sent_at),
            unread_count = c.unread_count + 1,
            status = 'open',
            closed_at = NULL,
            -- A referral (ad or post click) starts a new entry point; the 72 h free window
            -- opens only when the business answers it within 24 h (see on outbound below).
            entry_point_source = CASE WHEN NEW.payload ? 'referral'
                THEN coalesce(NEW.payload #>> '{referral,source_type}', 'unknown') ELSE c.entry_point_source END,
            entry_point_at = CASE WHEN NEW.payload ? 'referral' THEN NEW.sent_at ELSE c.entry_point_at END,
            entry_point_replied_at = CASE WHEN NEW.payload ? 'referral' THEN NULL ELSE c.entry_point_replied_at END,
            entry_point_referral = CASE WHEN NEW.payload ? 'referral' THEN NEW.payload -> 'referral' ELSE c.entry_point_referral END,
            updated_at = now()
        WHERE c.account_id = NEW.account_id AND c.conversation_id = NEW.conversation_id;
    ELSIF NEW.origin = 'business_app' THEN
        -- A person wrote from the WhatsApp Business app (an echo). Outbound, so it never opens
        -- the window; not a Cloud API reply, so it does not start the entry point's free 72 h
        -- either. It marks the conversation as handled by a human.
        UPDATE convo.conversations c SET
            last_outbound_at = greatest(c.last_outbound_at, NEW.sent_at),
            last_message_at = greatest(c.last_message_at, NEW.sent_at),
            unread_count = 0,
            human_replied_at = greatest(c.human_replied_at, NEW.sent_at),
            updated_at = now()
        WHERE c.account_id = NEW.account_id AND c.conversation_id = NEW.conversation_id;
    ELSE
        -- Outbound messages never open or extend the window.
        UPDATE convo.conversations c SET
            last_outbound_at = greatest(c.last_outbound_at, NEW.sent_at),
            last_message_at = greatest(c.last_message_at, NEW.sent_at),
            unread_count = 0,
            entry_point_replied_at = CASE
                WHEN c.entry_point_at IS NOT NULL AND c.entry_point_replied_at IS NULL
                     AND NEW.sent_at >= c.entry_point_at
                     AND NEW.sent_at < c.entry_point_at + interval '24 hours'
                THEN NEW.sent_at ELSE c.entry_point_replied_at END,
            updated_at = now()
        WHERE c.account_id = NEW.account_id AND c.conversation_id = NEW.conversation_id;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION convo.on_message_inserted() IS 'Trigger: an inserted message updates its conversation (window, entry point, unread count, timestamps, human reply from the Business app)';

CREATE OR REPLACE FUNCTION convo.record_outbound(
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

COMMENT ON FUNCTION convo.ingest(text, jsonb) IS 'Ingests a webhook payload (source whatsapp: a Cloud API notification; twilio: the form fields as an object); returns {messages, duplicates, statuses, unroutable, ignored, echoes, edits, revokes, flagged, groups, errors, conversations}';

-- Grants and row-level security, as sql/security.sql gives them.
DO $$
DECLARE
    authed text := coalesce(nullif(current_setting('convo.authenticated_role', true), ''), 'authenticated');
    service text := coalesce(nullif(current_setting('convo.service_role', true), ''), 'service_role');
BEGIN
    EXECUTE 'REVOKE EXECUTE ON FUNCTION convo.payload_digest(jsonb) FROM PUBLIC';
    EXECUTE format('GRANT EXECUTE ON FUNCTION convo.payload_digest(jsonb) TO %I', service);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON convo.webhook_events TO %I', service);
    EXECUTE 'ALTER TABLE convo.webhook_events ENABLE ROW LEVEL SECURITY';
    EXECUTE format('GRANT SELECT ON convo.webhook_events TO %I', authed);
    EXECUTE format('CREATE POLICY own_account ON convo.webhook_events TO %I '
                   'USING (account_id = (SELECT convo.current_account_id())) '
                   'WITH CHECK (account_id = (SELECT convo.current_account_id()))', authed);
    EXECUTE format('GRANT UPDATE (deleted_at) ON convo.messages TO %I', authed);
END
$$;
