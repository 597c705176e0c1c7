-- The outbox: every message the business sends goes through it, decided against the window
-- when it is queued (convo.send) and handed to a sender (the sidecar) by the worker functions.
--
-- An outbox item moves through one state machine, only through these functions:
--   send:     -> queued | awaiting_window (a free-form message outside the window)
--   queued   --outbox_claim--> sending (leased, attempts + 1)
--   sending  --outbox_sent--> sent (recorded as a message through record_outbound)
--   sending  --outbox_failed--> queued (retryable, after a backoff) | failed (permanent, or
--                                out of attempts)
--   sending  --lease expires--> unknown: the worker died after it may have sent; never sent
--                               again blindly (a status echoing the outbox id resolves it)
--   awaiting_window --the customer's next inbound message--> queued (message trigger)
--   awaiting_window --outbox.awaiting_window_expiry passes--> failed (outbox_expire)
--   queued (window closed meanwhile) --outbox_claim--> awaiting_window, once (outbox_rewait)
--   sending --outbox_failed with 131047/470/63016--> awaiting_window, once (outbox_rewait)
--   unknown --outbox_sent, or a status echoing the outbox id--> sent;
--   unknown --outbox_failed--> as from sending
-- next_attempt_at is when a queued item is due, the lease end of a sending one and the
-- expiry of one awaiting the window.
--
-- Needs: tables.sql (accounts.channel, templates.reengagement), common.sql (convo.setting),
-- free_window.sql (the window rule, never re-implemented here), outbound.sql
-- (record_outbound). message_triggers.sql releases awaiting_window items; indexes.sql
-- indexes the claim and the release; security.sql grants and turns on row-level security.

INSERT INTO convo.settings VALUES
    ('outbox.max_attempts', '8', 'send attempts before an outbox item that keeps failing with retryable errors is kept as failed'),
    ('outbox.lease', '30 seconds', 'how long a claimed outbox item stays with its worker; past it an item still sending becomes unknown'),
    ('outbox.backoff_base', '1 second', 'retry delay cap of the first retry; doubles per attempt (full jitter: a random delay up to the cap)'),
    ('outbox.backoff_max', '5 minutes', 'largest retry delay cap (a Retry-After the sender reports may be longer)'),
    ('outbox.awaiting_window_expiry', '24 hours', 'how long a free-form message waits for the customer to reopen the window before it is failed'),
    ('outbox.customer_name_fallback', 'there', 'the customer_name parameter of the re-engagement template for a contact without a profile name');

-- An outbox tunable (outbox.*) for convo.send, whose callers (authenticated) may not read
-- convo.settings. SECURITY DEFINER for that alone: it reads nothing but outbox.* rows.
CREATE FUNCTION convo.outbox_setting(name text) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog
RETURN (SELECT s.value FROM convo.settings s WHERE s.name = outbox_setting.name AND s.name LIKE 'outbox.%');
COMMENT ON FUNCTION convo.outbox_setting(text) IS 'Value of an outbox.* tunable of convo.settings, for callers that may not read the table (NULL for any other name)';

-- The kind of a Cloud API send body: text (also a body without "type", as the Cloud API
-- takes it), template, interactive, media, reaction, or read (a read receipt, with or without
-- the typing indicator). NULL for anything else (location, contacts: not sent through here yet).
CREATE FUNCTION convo.outbox_kind(body jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN jsonb_typeof(body) <> 'object' THEN NULL
    WHEN body ->> 'status' = 'read' THEN 'read'
    ELSE CASE coalesce(body ->> 'type', 'text')
        WHEN 'text' THEN 'text' WHEN 'template' THEN 'template' WHEN 'interactive' THEN 'interactive'
        WHEN 'reaction' THEN 'reaction'
        WHEN 'image' THEN 'media' WHEN 'audio' THEN 'media' WHEN 'video' THEN 'media'
        WHEN 'document' THEN 'media' WHEN 'sticker' THEN 'media' END END;
COMMENT ON FUNCTION convo.outbox_kind(jsonb) IS 'Kind of a Cloud API send body: text, template, interactive, media, reaction or read; NULL when the outbox does not send it';

CREATE TABLE convo.outbox (
    account_id      uuid NOT NULL,
    outbox_id       uuid NOT NULL DEFAULT gen_random_uuid(),
    conversation_id uuid NOT NULL,
    -- The account's channel when the item was queued: it goes out the way it was decided.
    channel         text NOT NULL CONSTRAINT outbox_channel_check CHECK (channel IN ('whatsapp', 'twilio')),
    kind            text NOT NULL CONSTRAINT outbox_kind_check
                    CHECK (kind IN ('text', 'template', 'interactive', 'media', 'reaction', 'read')),
    -- The Cloud API send body, complete (recipient, biz_opaque_callback_data = outbox_id).
    body            jsonb NOT NULL CONSTRAINT outbox_body_check CHECK (kind = convo.outbox_kind(body)),
    state           text NOT NULL DEFAULT 'queued' CONSTRAINT outbox_state_check
                    CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'awaiting_window', 'unknown')),
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    last_error_code text,      -- Meta's or Twilio's code as the sender got it, or convo's own word
    wamid           text,      -- the wamid (Twilio: the message SID) once sent
    -- For an item awaiting the window: the re-engagement template queued to reopen it.
    reengagement_outbox_id uuid,
    idempotency_key text,
    request_digest  text,      -- md5 of the request a key was first used with
    result          jsonb,     -- what send answered, returned again for the same key
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    PRIMARY KEY (account_id, outbox_id),
    CONSTRAINT outbox_idempotency_key UNIQUE (account_id, idempotency_key),
    FOREIGN KEY (account_id, conversation_id) REFERENCES convo.conversations ON DELETE CASCADE
);
COMMENT ON TABLE convo.outbox IS 'Messages to send, decided against the window when queued (convo.send), claimed by senders with a lease';

-- Refuses a send body the Cloud API would refuse, before anything is queued: 22023 for a
-- missing or wrong part (naming it), 22001 for a text over the Cloud API's 4096 characters.
CREATE FUNCTION convo.outbox_check_body(message jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog
AS $$
DECLARE
    kind text := convo.outbox_kind(message);
    part jsonb;
BEGIN
    IF message IS NULL THEN
        RAISE EXCEPTION 'convo.send: message must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF jsonb_typeof(message) <> 'object' THEN
        RAISE EXCEPTION 'convo.send: message must be a JSON object (a Cloud API send body), got %', jsonb_typeof(message)
            USING ERRCODE = '22023';
    END IF;
    IF kind IS NULL THEN
        RAISE EXCEPTION 'convo.send: message type % is not one the outbox sends', message ->> 'type'
            USING ERRCODE = '22023',
                  HINT = 'text, template, interactive, image, audio, video, document, sticker, reaction, or a read receipt ({"status": "read", "message_id": ...})';
    END IF;
    part := CASE kind WHEN 'read' THEN message ELSE message -> coalesce(message ->> 'type', 'text') END;
    IF jsonb_typeof(part) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'convo.send: a % message needs an object "%"', kind, coalesce(message ->> 'type', 'text')
            USING ERRCODE = '22023';
    END IF;
    CASE kind
    WHEN 'text' THEN
        IF coalesce(part ->> 'body', '') = '' OR jsonb_typeof(part -> 'body') <> 'string' THEN
            RAISE EXCEPTION 'convo.send: text.body must be a non-empty string' USING ERRCODE = '22023';
        END IF;
        IF char_length(part ->> 'body') > 4096 THEN
            RAISE EXCEPTION 'convo.send: text.body has % characters, the Cloud API takes at most 4096',
                char_length(part ->> 'body') USING ERRCODE = '22001';
        END IF;
    WHEN 'template' THEN
        IF coalesce(part ->> 'name', '') = '' THEN
            RAISE EXCEPTION 'convo.send: template.name is missing' USING ERRCODE = '22023';
        END IF;
        IF coalesce(part #>> '{language,code}', '') = '' THEN
            RAISE EXCEPTION 'convo.send: template.language.code is missing' USING ERRCODE = '22023';
        END IF;
    WHEN 'interactive' THEN
        IF coalesce(part ->> 'type', '') = '' THEN
            RAISE EXCEPTION 'convo.send: interactive.type is missing' USING ERRCODE = '22023';
        END IF;
    WHEN 'media' THEN
        IF coalesce(part ->> 'id', part ->> 'link', '') = '' THEN
            RAISE EXCEPTION 'convo.send: a % message needs %.id or %.link', message ->> 'type',
                message ->> 'type', message ->> 'type' USING ERRCODE = '22023';
        END IF;
    WHEN 'reaction' THEN
        IF coalesce(part ->> 'message_id', '') = '' THEN
            RAISE EXCEPTION 'convo.send: reaction.message_id is missing' USING ERRCODE = '22023';
        END IF;
    WHEN 'read' THEN
        IF coalesce(part ->> 'message_id', '') = '' THEN
            RAISE EXCEPTION 'convo.send: a read receipt needs message_id' USING ERRCODE = '22023';
        END IF;
    END CASE;
    RETURN kind;
END
$$;
COMMENT ON FUNCTION convo.outbox_check_body(jsonb) IS 'Kind of a send body after checking it (22023 naming a missing or wrong part, 22001 for a text over 4096 characters)';

-- The account's re-engagement template as a send body, its parameters filled from the
-- contact and the account. The template's BODY may use {{customer_name}} and
-- {{business_name}} (named parameters) or {{1}} (customer name) and {{2}} (business name);
-- any other placeholder, or one outside the BODY, cannot be filled: 22023, as for an account
-- without an approved re-engagement template.
CREATE FUNCTION convo.reengagement_template(account_id uuid, contact_id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog
AS $$
#variable_conflict use_column
DECLARE
    t record;
    customer text;
    business text;
    ph text;
    phs text[];
    params jsonb := '[]';
BEGIN
    SELECT tp.name, tp.language, tp.status, tp.components INTO t
      FROM convo.templates tp WHERE tp.account_id = reengagement_template.account_id AND tp.reengagement;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'convo.send: the window is closed and account % has no re-engagement template', account_id
            USING ERRCODE = '22023',
                  HINT = 'Mark an approved template of the account: UPDATE convo.templates SET reengagement = true WHERE ...; or send a template yourself.';
    END IF;
    IF lower(t.status) <> 'approved' THEN
        RAISE EXCEPTION 'convo.send: the re-engagement template % (%) of account % is not approved (status %)',
            t.name, t.language, account_id, t.status USING ERRCODE = '22023';
    END IF;
    SELECT coalesce(nullif(c.profile_name, ''), nullif(c.username, ''), convo.outbox_setting('outbox.customer_name_fallback')),
           a.name INTO customer, business
      FROM convo.contacts c JOIN convo.accounts a ON a.account_id = c.account_id
     WHERE c.account_id = reengagement_template.account_id AND c.contact_id = reengagement_template.contact_id;
    IF EXISTS (SELECT 1 FROM jsonb_array_elements(t.components) x
                WHERE upper(x ->> 'type') <> 'BODY' AND x::text ~ '\{\{') THEN
        RAISE EXCEPTION 'convo.send: the re-engagement template % (%) has placeholders outside its body, which convo cannot fill',
            t.name, t.language USING ERRCODE = '22023';
    END IF;
    SELECT coalesce(array_agg(DISTINCT m[1] ORDER BY m[1]), '{}') INTO phs
      FROM jsonb_array_elements(t.components) x,
           regexp_matches(x ->> 'text', '\{\{\s*([^}\s]+)\s*\}\}', 'g') AS m
     WHERE upper(x ->> 'type') = 'BODY';
    FOREACH ph IN ARRAY phs LOOP
        IF ph NOT IN ('1', '2', 'customer_name', 'business_name') THEN
            RAISE EXCEPTION 'convo.send: the re-engagement template % (%) has the placeholder {{%}}, which convo cannot fill',
                t.name, t.language, ph
                USING ERRCODE = '22023', HINT = 'Placeholders convo fills: {{customer_name}} and {{business_name}}, or {{1}} (customer name) and {{2}} (business name).';
        END IF;
    END LOOP;
    -- Positional parameters go in order and must all be there: {{2}} alone cannot be sent.
    IF '2' = ANY (phs) AND NOT '1' = ANY (phs) OR (phs && ARRAY['1', '2'] AND phs && ARRAY['customer_name', 'business_name']) THEN
        RAISE EXCEPTION 'convo.send: the re-engagement template % (%) mixes or skips placeholders: %', t.name, t.language, phs
            USING ERRCODE = '22023';
    END IF;
    FOREACH ph IN ARRAY phs LOOP
        params := params || CASE WHEN ph IN ('customer_name', 'business_name')
            THEN jsonb_build_object('type', 'text', 'parameter_name', ph,
                                    'text', CASE ph WHEN 'customer_name' THEN customer ELSE business END)
            ELSE jsonb_build_object('type', 'text', 'text', CASE ph WHEN '1' THEN customer ELSE business END) END;
    END LOOP;
    RETURN jsonb_build_object('type', 'template', 'template', jsonb_build_object(
        'name', t.name, 'language', jsonb_build_object('code', t.language),
        'components', CASE WHEN jsonb_array_length(params) = 0 THEN '[]'::jsonb
                           ELSE jsonb_build_array(jsonb_build_object('type', 'body', 'parameters', params)) END));
END
$$;
COMMENT ON FUNCTION convo.reengagement_template(uuid, uuid) IS 'The account''s approved re-engagement template as a send body, with {{customer_name}}/{{1}} and {{business_name}}/{{2}} filled; 22023 naming what to configure when there is none';

-- The answer send gave the first time a key was used, or 23505 when the key was first used
-- with another request. NULL when the key is new.
CREATE FUNCTION convo.outbox_replay(account_id uuid, key text, digest text) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog
AS $$
#variable_conflict use_column
DECLARE
    first record;
BEGIN
    SELECT o.outbox_id, o.request_digest, o.result INTO first
      FROM convo.outbox o WHERE o.account_id = outbox_replay.account_id AND o.idempotency_key = key;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF first.request_digest IS DISTINCT FROM digest THEN
        RAISE EXCEPTION 'convo.send: idempotency key % was first used with another conversation or message (outbox item %)',
            key, first.outbox_id USING ERRCODE = '23505', CONSTRAINT = 'outbox_idempotency_key';
    END IF;
    RETURN first.result;
END
$$;
COMMENT ON FUNCTION convo.outbox_replay(uuid, text, text) IS 'send''s first answer for an idempotency key (NULL for a new key); 23505 when the key came with another request';

-- Queues a message for a conversation, deciding in this transaction from the window
-- (convo.free_window) what may go out, so that no send fails with 131047 (Twilio 63016)
-- because of us:
--   a template, a read receipt: queued as given;
--   inside the 24 h window: queued as given (kind freeform);
--   outside it: the account's re-engagement template is queued (once per wait) and the message
--   waits as awaiting_window until the customer writes again (kind awaiting_window).
-- options: {"idempotency_key": "..."}: the same key again returns the first answer.
-- Row-level security applies: another account's conversation is unknown (P0002).
CREATE FUNCTION convo.send(conversation_id uuid, message jsonb, options jsonb DEFAULT '{}')
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
#variable_conflict use_column
DECLARE
    conv record;
    kind text;
    key text;
    digest text;
    answer jsonb;
    id uuid := gen_random_uuid();
    tpl_id uuid;
    tpl_body jsonb;
    addressing jsonb;
    state text := 'queued';
    due timestamptz := now();
    decision text;
    reason text;
    inserted uuid;
BEGIN
    IF conversation_id IS NULL THEN
        RAISE EXCEPTION 'convo.send: conversation_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    options := coalesce(options, '{}');
    IF jsonb_typeof(options) <> 'object' THEN
        RAISE EXCEPTION 'convo.send: options must be a JSON object, got %', jsonb_typeof(options) USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT 1 FROM jsonb_object_keys(options) k WHERE k <> 'idempotency_key') THEN
        RAISE EXCEPTION 'convo.send: unknown option %',
            (SELECT min(k) FROM jsonb_object_keys(options) k WHERE k <> 'idempotency_key')
            USING ERRCODE = '22023', HINT = 'The options are: idempotency_key.';
    END IF;
    IF options ? 'idempotency_key' AND (jsonb_typeof(options -> 'idempotency_key') <> 'string'
                                        OR char_length(options ->> 'idempotency_key') NOT BETWEEN 1 AND 200) THEN
        RAISE EXCEPTION 'convo.send: idempotency_key must be a string of 1 to 200 characters' USING ERRCODE = '22023';
    END IF;
    key := options ->> 'idempotency_key';
    kind := convo.outbox_check_body(message);

    SELECT c.account_id, c.contact_id, a.channel, ct.wa_id, ct.user_id INTO conv
      FROM convo.conversations c
      JOIN convo.accounts a ON a.account_id = c.account_id
      JOIN convo.contacts ct ON ct.account_id = c.account_id AND ct.contact_id = c.contact_id
     WHERE c.conversation_id = send.conversation_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'convo.send: unknown conversation %', conversation_id USING ERRCODE = 'P0002';
    END IF;

    IF key IS NOT NULL THEN
        digest := md5(jsonb_build_object('conversation_id', conversation_id, 'message', message)::text);
        answer := convo.outbox_replay(conv.account_id, key, digest);
        IF answer IS NOT NULL THEN
            RETURN answer;
        END IF;
    END IF;

    IF kind IN ('template', 'read') THEN
        decision := CASE kind WHEN 'template' THEN 'template' ELSE 'freeform' END;
        reason := CASE kind WHEN 'template' THEN 'a template may be sent whether the window is open or not'
                            ELSE 'a read receipt needs no window' END;
    ELSIF (convo.free_window(conversation_id) ->> 'open')::boolean THEN
        decision := 'freeform';
        reason := 'inside the 24 h customer service window';
    ELSE
        decision := 'awaiting_window';
        state := 'awaiting_window';
        due := now() + convo.outbox_setting('outbox.awaiting_window_expiry')::interval;
        -- One re-engagement template per wait: messages queued meanwhile wait for its answer.
        SELECT o.reengagement_outbox_id INTO tpl_id
          FROM convo.outbox o
         WHERE o.account_id = conv.account_id AND o.conversation_id = send.conversation_id
           AND o.state = 'awaiting_window'
         ORDER BY o.created_at LIMIT 1;
        IF tpl_id IS NOT NULL THEN
            reason := 'outside the 24 h window: waits for the customer''s answer to the re-engagement template already queued';
        ELSE
            tpl_body := convo.reengagement_template(conv.account_id, conv.contact_id);
            tpl_id := gen_random_uuid();
            reason := format('outside the 24 h window: the re-engagement template %s is queued and this message waits for the customer''s answer',
                             tpl_body #>> '{template,name}');
        END IF;
    END IF;

    answer := jsonb_build_object('outbox_id', id, 'kind', decision, 'reason', reason);
    IF state = 'awaiting_window' THEN
        answer := answer || jsonb_build_object('template_outbox_id', tpl_id);
    END IF;
    -- Who it goes to is the conversation's contact, whatever the message says; the outbox id
    -- rides along in biz_opaque_callback_data, which Meta echoes in the statuses.
    addressing := CASE WHEN kind = 'read' THEN jsonb_build_object('messaging_product', 'whatsapp')
        ELSE jsonb_strip_nulls(jsonb_build_object('messaging_product', 'whatsapp', 'recipient_type', 'individual',
                 'to', conv.wa_id, 'recipient', CASE WHEN conv.wa_id IS NULL THEN conv.user_id END)) END;

    INSERT INTO convo.outbox AS o (account_id, outbox_id, conversation_id, channel, kind, body, state, next_attempt_at,
                                   reengagement_outbox_id, idempotency_key, request_digest, result)
    VALUES (conv.account_id, id, conversation_id, conv.channel, kind,
            (message - 'to' - 'recipient') || addressing
                || CASE WHEN kind = 'read' THEN '{}' ELSE jsonb_build_object('biz_opaque_callback_data', id::text) END,
            state, due, CASE WHEN state = 'awaiting_window' THEN tpl_id END, key, digest, answer)
    ON CONFLICT ON CONSTRAINT outbox_idempotency_key DO NOTHING
    RETURNING o.outbox_id INTO inserted;
    IF inserted IS NULL THEN
        -- A concurrent call with the same key committed first: its answer, or its conflict.
        RETURN convo.outbox_replay(conv.account_id, key, digest);
    END IF;
    IF tpl_body IS NOT NULL THEN
        INSERT INTO convo.outbox (account_id, outbox_id, conversation_id, channel, kind, body)
        VALUES (conv.account_id, tpl_id, conversation_id, conv.channel, 'template',
                tpl_body || addressing || jsonb_build_object('biz_opaque_callback_data', tpl_id::text));
    END IF;
    RETURN answer;
END
$$;
COMMENT ON FUNCTION convo.send(uuid, jsonb, jsonb) IS 'Queues a message decided against the window: as given inside it (or a template, a read receipt), else the re-engagement template and the message awaiting_window; returns {outbox_id, kind freeform|template|awaiting_window, reason[, template_outbox_id]}';

-- Items whose worker's lease ended while sending become unknown: the worker may have sent
-- them before it died, and Meta takes no idempotency key, so sending again could send twice.
-- A status that echoes the outbox id (biz_opaque_callback_data) resolves them. Returns how many.
CREATE FUNCTION convo.outbox_expire_leases() RETURNS bigint
LANGUAGE sql VOLATILE
SET search_path = pg_catalog
BEGIN ATOMIC
    WITH lost AS (
        UPDATE convo.outbox o
           SET state = 'unknown', last_error_code = 'lease_expired',
               last_error = format('the worker''s lease ended while sending (attempt %s): it may have been sent', o.attempts)
         WHERE o.state = 'sending' AND o.next_attempt_at <= clock_timestamp()
        RETURNING 1)
    SELECT count(*) FROM lost;
END;
COMMENT ON FUNCTION convo.outbox_expire_leases() IS 'Marks outbox items still sending past their lease as unknown (never re-sent blindly); returns the count';

-- A free-form item that did not go out while the window was open (it waited in a backoff, or
-- the sender got 131047 / Twilio 63016): it waits for the window as send would have made it
-- wait, with the account's re-engagement template queued once per wait (none when the account
-- has no usable one: the item still waits for the customer, and says why). Once only: an item
-- that has waited already is failed with the code. Returns the item's new state.
CREATE FUNCTION convo.outbox_rewait(item convo.outbox, code text, error text) RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    tpl_id uuid;
    tpl_body jsonb;
    why text := error;
BEGIN
    IF item.reengagement_outbox_id IS NOT NULL OR item.last_error_code IN ('window_closed', '131047', '470', '63016') THEN
        UPDATE convo.outbox o SET state = 'failed', last_error_code = code,
               last_error = format('%s (it had waited for the window once already)', error)
         WHERE o.account_id = item.account_id AND o.outbox_id = item.outbox_id;
        RETURN 'failed';
    END IF;
    SELECT o.reengagement_outbox_id INTO tpl_id
      FROM convo.outbox o
     WHERE o.account_id = item.account_id AND o.conversation_id = item.conversation_id
       AND o.state = 'awaiting_window' AND o.reengagement_outbox_id IS NOT NULL
     ORDER BY o.created_at LIMIT 1;
    IF tpl_id IS NULL THEN
        BEGIN
            tpl_body := convo.reengagement_template(item.account_id,
                (SELECT c.contact_id FROM convo.conversations c
                  WHERE c.account_id = item.account_id AND c.conversation_id = item.conversation_id));
            tpl_id := gen_random_uuid();
            INSERT INTO convo.outbox (account_id, outbox_id, conversation_id, channel, kind, body)
            VALUES (item.account_id, tpl_id, item.conversation_id, item.channel, 'template',
                    tpl_body || jsonb_strip_nulls(jsonb_build_object('messaging_product', 'whatsapp', 'recipient_type', 'individual',
                                    'to', item.body -> 'to', 'recipient', item.body -> 'recipient'))
                             || jsonb_build_object('biz_opaque_callback_data', tpl_id::text));
        EXCEPTION WHEN invalid_parameter_value THEN
            why := format('%s; no re-engagement template was queued: %s', error, SQLERRM);
        END;
    END IF;
    UPDATE convo.outbox o
       SET state = 'awaiting_window', reengagement_outbox_id = tpl_id, last_error_code = code, last_error = why,
           next_attempt_at = now() + convo.setting('outbox.awaiting_window_expiry')::interval
     WHERE o.account_id = item.account_id AND o.outbox_id = item.outbox_id;
    RETURN 'awaiting_window';
END
$$;
COMMENT ON FUNCTION convo.outbox_rewait(convo.outbox, text, text) IS 'Puts a free-form outbox item that missed the window back to awaiting_window, queuing the re-engagement template once per wait; failed if it had waited once already; returns the new state';

-- Claims up to n due queued items for this worker, oldest due first, skipping items other
-- workers hold: each goes to sending with a lease (outbox.lease) and one more attempt. A
-- free-form item whose window closed while it was queued is not handed out: it waits for the
-- window again (outbox_rewait), so that we never cause a 131047.
CREATE FUNCTION convo.outbox_claim(n int) RETURNS SETOF convo.outbox
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    item convo.outbox;
    accounts uuid[] := '{}';
    ids uuid[] := '{}';
BEGIN
    IF n IS NULL OR n < 1 OR n > 10000 THEN
        RAISE EXCEPTION 'convo.outbox_claim: n must be between 1 and 10000, got %', quote_nullable(n)
            USING ERRCODE = '22023';
    END IF;
    PERFORM convo.outbox_expire_leases();
    FOR item IN SELECT * FROM convo.outbox o
                 WHERE o.state = 'queued' AND o.next_attempt_at <= clock_timestamp()
                 ORDER BY o.next_attempt_at, o.created_at
                 LIMIT n
                   FOR UPDATE SKIP LOCKED LOOP
        IF item.kind NOT IN ('template', 'read') AND NOT convo.can_send_freeform(item.conversation_id) THEN
            PERFORM convo.outbox_rewait(item, 'window_closed', 'the 24 h window closed before it was sent');
        ELSE
            accounts := accounts || item.account_id;
            ids := ids || item.outbox_id;
        END IF;
    END LOOP;
    RETURN QUERY
    WITH claimed AS (
        UPDATE convo.outbox o
           SET state = 'sending', attempts = o.attempts + 1,
               next_attempt_at = clock_timestamp() + convo.setting('outbox.lease')::interval
          FROM unnest(accounts, ids) AS c(account_id, outbox_id)
         WHERE o.account_id = c.account_id AND o.outbox_id = c.outbox_id
        RETURNING o.*)
    -- In due order (the order they were locked in), whatever plan the UPDATE gets.
    SELECT claimed.* FROM claimed
      JOIN unnest(ids) WITH ORDINALITY AS d(outbox_id, ord) USING (outbox_id)
     ORDER BY d.ord;
END
$$;
COMMENT ON FUNCTION convo.outbox_claim(int) IS 'Claims up to n due queued outbox items (FOR UPDATE SKIP LOCKED) for a lease (outbox.lease), attempts + 1, and returns them; free-form items whose window closed meanwhile wait for it again instead';

-- An outbox item, locked for the caller's update; P0002 naming the caller when unknown.
CREATE FUNCTION convo.outbox_item(id uuid, caller text) RETURNS convo.outbox
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    item convo.outbox;
BEGIN
    IF id IS NULL THEN
        RAISE EXCEPTION '%: outbox_id must not be NULL', caller USING ERRCODE = '22004';
    END IF;
    SELECT * INTO item FROM convo.outbox o WHERE o.outbox_id = id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%: unknown outbox item %', caller, id USING ERRCODE = 'P0002';
    END IF;
    RETURN item;
END
$$;
COMMENT ON FUNCTION convo.outbox_item(uuid, text) IS 'An outbox item, row locked (FOR UPDATE); P0002 naming the caller when it does not exist';

-- The sender got the message accepted: the item is sent, and the message is recorded
-- through record_outbound in this transaction, so that the conversation, the entry point
-- and the history see it at once. A read receipt records no message (it is not one).
-- Also resolves an unknown item (its status came with the outbox id). Returns the message
-- id (NULL for a read receipt); the same call again returns it again.
CREATE FUNCTION convo.outbox_sent(outbox_id uuid, wamid text, sent_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    item convo.outbox := convo.outbox_item(outbox_id, 'convo.outbox_sent');
    message_id bigint;
BEGIN
    IF sent_at IS NULL THEN
        RAISE EXCEPTION 'convo.outbox_sent: sent_at must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF item.kind <> 'read' AND coalesce(wamid, '') = '' THEN
        RAISE EXCEPTION 'convo.outbox_sent: wamid is required for a % message', item.kind USING ERRCODE = '22004';
    END IF;
    IF item.state = 'sent' AND item.wamid IS NOT DISTINCT FROM outbox_sent.wamid THEN
        NULL;   -- the same report again
    ELSIF item.state NOT IN ('sending', 'unknown') THEN
        RAISE EXCEPTION 'convo.outbox_sent: outbox item % is %, not sending', outbox_id, item.state
            USING ERRCODE = '55000';
    ELSE
        UPDATE convo.outbox o
           SET state = 'sent', wamid = outbox_sent.wamid, sent_at = outbox_sent.sent_at
         WHERE o.account_id = item.account_id AND o.outbox_id = item.outbox_id;
    END IF;
    IF item.kind = 'read' THEN
        RETURN NULL;
    END IF;
    -- The send body as it went out is the message's payload. Idempotent by wamid.
    message_id := convo.record_outbound(item.conversation_id, wamid, item.body, sent_at);
    RETURN message_id;
END
$$;
COMMENT ON FUNCTION convo.outbox_sent(uuid, text, timestamptz) IS 'Marks an outbox item sent (from sending or unknown) with its wamid and records the message through record_outbound in the same transaction; returns the message id (NULL for a read receipt)';

-- A status of the Cloud API echoes the outbox id we sent in biz_opaque_callback_data: proof
-- that Meta took the message, with its wamid. It resolves an item whose worker died (unknown)
-- or has not reported yet (sending) to sent, through outbox_sent, in ingest's transaction.
-- Only the status's own account's item; any other callback data is the caller's and ignored.
CREATE FUNCTION convo.on_status_resolve_outbox() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    id uuid;
BEGIN
    IF convo.status_rank(NEW.status) >= 0 AND NEW.payload ->> 'biz_opaque_callback_data'
           ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        id := (NEW.payload ->> 'biz_opaque_callback_data')::uuid;
        IF EXISTS (SELECT 1 FROM convo.outbox o
                    WHERE o.account_id = NEW.account_id AND o.outbox_id = id AND o.state IN ('sending', 'unknown')) THEN
            PERFORM convo.outbox_sent(id, NEW.wamid, NEW.status_at);
        END IF;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION convo.on_status_resolve_outbox() IS 'Trigger: a status whose biz_opaque_callback_data is an outbox id of its account resolves that sending or unknown item to sent (outbox_sent)';

-- Only statuses that carry callback data enter the function: every status ingest pays nothing else.
CREATE TRIGGER status_resolves_outbox AFTER INSERT ON convo.message_statuses
    FOR EACH ROW WHEN (NEW.payload ? 'biz_opaque_callback_data') EXECUTE FUNCTION convo.on_status_resolve_outbox();

-- A send attempt failed. Outside the window (131047, 470, 63016): awaiting_window again, once
-- (outbox_rewait). Retryable (5xx, timeouts, 429 and rate-limit codes): queued again
-- after an exponential backoff with full jitter (a random delay up to base * 2^(attempt-1),
-- capped at outbox.backoff_max), never before retry_after; failed once outbox.max_attempts
-- are used. Permanent: failed with the code, never retried. Returns the new state.
CREATE FUNCTION convo.outbox_failed(outbox_id uuid, code text, error text, retryable boolean,
                                    retry_after interval DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    item convo.outbox := convo.outbox_item(outbox_id, 'convo.outbox_failed');
    delay float8;
BEGIN
    IF retryable IS NULL THEN
        RAISE EXCEPTION 'convo.outbox_failed: retryable must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF retry_after < interval '0' THEN
        RAISE EXCEPTION 'convo.outbox_failed: retry_after must not be negative, got %', retry_after USING ERRCODE = '22023';
    END IF;
    IF item.state NOT IN ('sending', 'unknown') THEN
        RAISE EXCEPTION 'convo.outbox_failed: outbox item % is %, not sending', outbox_id, item.state
            USING ERRCODE = '55000';
    END IF;
    -- Meta's and Twilio's "outside the window" (131047, 470, 63016): the message was not
    -- delivered; it waits for the window again, once, as send would have made it wait.
    IF code IN ('131047', '470', '63016') AND item.kind NOT IN ('template', 'read') THEN
        RETURN convo.outbox_rewait(item, code, coalesce(error, 'outside the customer service window'));
    END IF;
    IF NOT retryable OR item.attempts >= convo.setting('outbox.max_attempts')::int THEN
        UPDATE convo.outbox o
           SET state = 'failed', last_error_code = code,
               last_error = CASE WHEN retryable THEN format('%s (after %s attempts)', coalesce(error, 'unknown error'), item.attempts)
                                 ELSE coalesce(error, 'unknown error') END
         WHERE o.account_id = item.account_id AND o.outbox_id = item.outbox_id;
        RETURN 'failed';
    END IF;
    delay := random() * convo.backoff_cap(convo.setting('outbox.backoff_base')::interval,
                                          convo.setting('outbox.backoff_max')::interval, item.attempts);
    delay := greatest(delay, coalesce(extract(epoch FROM retry_after)::float8, 0));
    UPDATE convo.outbox o
       SET state = 'queued', last_error_code = code, last_error = coalesce(error, 'unknown error'),
           next_attempt_at = clock_timestamp() + make_interval(secs => delay)
     WHERE o.account_id = item.account_id AND o.outbox_id = item.outbox_id;
    RETURN 'queued';
END
$$;
COMMENT ON FUNCTION convo.outbox_failed(uuid, text, text, boolean, interval) IS 'Records a failed send: awaiting_window again once for 131047/470/63016; queued again after a full-jitter exponential backoff (at least retry_after) while retryable and attempts remain, else failed with the code; returns the new state';

-- Housekeeping, for a pg_cron job: leases ended while sending -> unknown; messages that
-- waited for the window longer than outbox.awaiting_window_expiry -> failed. Returns
-- {"unknown": n, "expired": n}.
CREATE FUNCTION convo.outbox_expire() RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    unknown bigint := convo.outbox_expire_leases();
    expired bigint;
BEGIN
    UPDATE convo.outbox o
       SET state = 'failed', last_error_code = 'window_not_reopened',
           last_error = 'the customer did not write again before outbox.awaiting_window_expiry'
     WHERE o.state = 'awaiting_window' AND o.next_attempt_at <= clock_timestamp();
    GET DIAGNOSTICS expired = ROW_COUNT;
    RETURN jsonb_build_object('unknown', unknown, 'expired', expired);
END
$$;
COMMENT ON FUNCTION convo.outbox_expire() IS 'Outbox housekeeping: items sending past their lease become unknown, items awaiting the window past outbox.awaiting_window_expiry become failed; returns {unknown, expired}';
