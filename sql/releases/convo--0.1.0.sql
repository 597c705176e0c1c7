-- convo data model.
--
-- Glossary
--   account       one WhatsApp business number (a tenant); every tenant table carries account_id
--                 and has it first in its primary key, so the schema can be distributed by account.
--   contact       a customer, known by BSUID (user_id) and/or phone (wa_id).
--   conversation  the thread between one account and one contact; reopened when closed.
--   window        the 24 h customer-service window opened by the customer's last inbound message.
--   entry point   a conversation started from a Click-to-WhatsApp ad or Page button; the business
--                 reply within 24 h opens a 72 h free entry point window.
--   inbox item    a raw webhook body, stored before it is acknowledged, ingested later.
--
-- The indexes the hot queries need (and unique keys such as accounts.phone_number_id) are
-- created by sql/indexes.sql from its list of managed indexes, with the reason for each.

\echo Use "CREATE EXTENSION convo" to load this file. \quit

-- Message status order: a status only ever moves up this ladder. 'failed' sits above 'sent'
-- (the send failed after Meta accepted it) and below 'delivered' (another device got it).
CREATE FUNCTION convo.status_rank(status text) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE status
    WHEN 'pending' THEN 0 WHEN 'accepted' THEN 1 WHEN 'sent' THEN 2 WHEN 'failed' THEN 3
    WHEN 'delivered' THEN 4 WHEN 'read' THEN 5 WHEN 'played' THEN 6 ELSE -1 END;
COMMENT ON FUNCTION convo.status_rank(text) IS 'Position of a message status on the one-way ladder pending < accepted < sent < failed < delivered < read < played';

CREATE TABLE convo.accounts (
    account_id           uuid NOT NULL DEFAULT gen_random_uuid(),
    name                 text NOT NULL CHECK (name <> ''),
    phone_number_id      text NOT NULL CHECK (phone_number_id ~ '^[0-9]+$'),
    display_phone_number text NOT NULL CHECK (display_phone_number ~ '^[0-9]+$'),
    waba_id              text,
    -- Bumped by every change to what all the account's contexts contain (profiles, products,
    -- cached answers): a cached context built from an older version is not used.
    context_version      bigint NOT NULL DEFAULT 0,
    created_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id)
);

-- How an account's assistant behaves: its prompt, models, budget, tools and steps.
-- Written through convo.upsert_bot_profile, which validates it.
CREATE TABLE convo.bot_profiles (
    account_id      uuid NOT NULL REFERENCES convo.accounts ON DELETE CASCADE,
    bot_profile_id  uuid NOT NULL DEFAULT gen_random_uuid(),
    name            text NOT NULL CHECK (name <> ''),
    is_default      boolean NOT NULL DEFAULT false,
    -- Placeholders: {{business_name}} {{customer_name}} {{cart}} {{step}} {{step_instruction}}
    -- {{style}}; empty ones are dropped with their line.
    system_template text NOT NULL DEFAULT
        E'You are the WhatsApp assistant of {{business_name}}.\nCustomer: {{customer_name}}.\nCart: {{cart}}.\nStep: {{step}}: {{step_instruction}}\n{{style}}',
    small_model     text NOT NULL DEFAULT 'gpt-4.1-mini',
    large_model     text NOT NULL DEFAULT 'gpt-4.1',
    history_length  int NOT NULL DEFAULT 5 CHECK (history_length BETWEEN 0 AND 100),
    token_budget    int NOT NULL DEFAULT 1500 CHECK (token_budget BETWEEN 50 AND 200000),
    tools           text[] NOT NULL DEFAULT ARRAY['search_products', 'add_to_cart', 'remove_from_cart',
                        'view_cart', 'update_progress', 'handoff_to_human', 'get_business_info'],
    steps           jsonb NOT NULL DEFAULT '[]',   -- [{"name": "...", "instruction": "..."}]
    business_info   jsonb NOT NULL DEFAULT '{}',   -- {"hours": "...", "address": "...", ...}
    simple_intents  text[],                        -- NULL: the built-in FR/EN/ES list
    fallback_text   text,
    style_rules     text NOT NULL DEFAULT 'Reply briefly, in the customer''s language. No lists unless asked.',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, bot_profile_id),
    UNIQUE (account_id, name)
);
CREATE UNIQUE INDEX bot_profiles_one_default ON convo.bot_profiles (account_id) WHERE is_default;

CREATE TABLE convo.contacts (
    account_id      uuid NOT NULL REFERENCES convo.accounts ON DELETE CASCADE,
    contact_id      uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id         text,          -- business-scoped user id (BSUID), preferred key
    parent_user_id  text,
    wa_id           text,          -- phone digits; may be absent for username users
    username        text,
    profile_name    text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, contact_id),
    CHECK (user_id IS NOT NULL OR wa_id IS NOT NULL)
);

CREATE TABLE convo.conversations (
    account_id          uuid NOT NULL,
    conversation_id     uuid NOT NULL DEFAULT gen_random_uuid(),
    contact_id          uuid NOT NULL,
    status              text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    bot_enabled         boolean NOT NULL DEFAULT true,
    needs_human         boolean NOT NULL DEFAULT false,
    bot_profile_id      uuid,
    current_step        text,
    last_inbound_at     timestamptz,   -- drives the 24 h window
    last_outbound_at    timestamptz,
    last_message_at     timestamptz,
    unread_count        int NOT NULL DEFAULT 0,
    entry_point_source  text,          -- referral source_type: ad, post, ...
    entry_point_at      timestamptz,   -- when the customer came in through the entry point
    entry_point_replied_at timestamptz,-- first business reply within 24 h: starts the 72 h window
    entry_point_referral jsonb,
    -- Bumped by every change to what this conversation's context contains (see context.sql).
    context_version     bigint NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    closed_at           timestamptz,
    PRIMARY KEY (account_id, conversation_id),
    UNIQUE (account_id, contact_id),
    FOREIGN KEY (account_id, contact_id) REFERENCES convo.contacts ON DELETE CASCADE,
    FOREIGN KEY (account_id, bot_profile_id) REFERENCES convo.bot_profiles
);

CREATE TABLE convo.messages (
    account_id       uuid NOT NULL,
    message_id       bigint GENERATED ALWAYS AS IDENTITY,
    conversation_id  uuid NOT NULL,
    wamid            text NOT NULL,
    direction        text NOT NULL CHECK (direction IN ('in', 'out')),
    type             text NOT NULL,
    body             text,            -- text, caption, button title, ...: what a reader sees
    payload          jsonb NOT NULL,  -- the original message object (or the send body)
    reply_to_wamid   text,
    media_id         text,
    media_mime       text,
    media_sha256     text,
    media_storage_url text,
    status           text NOT NULL DEFAULT 'pending' CHECK (convo.status_rank(status) >= 0),
    status_at        timestamptz,
    error_code       int,
    error            jsonb,
    sent_at          timestamptz NOT NULL,           -- timestamp from the payload
    received_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, message_id),
    UNIQUE (account_id, wamid),
    FOREIGN KEY (account_id, conversation_id) REFERENCES convo.conversations ON DELETE CASCADE
);

-- Every status event once, in arrival order. A status may arrive before the message it
-- belongs to is recorded (the send's response and the webhook race): record_outbound
-- applies what is waiting here.
CREATE TABLE convo.message_statuses (
    account_id   uuid NOT NULL REFERENCES convo.accounts ON DELETE CASCADE,
    wamid        text NOT NULL,
    status       text NOT NULL CHECK (convo.status_rank(status) >= 0),
    status_at    timestamptz NOT NULL,
    error_code   int,
    payload      jsonb NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, wamid, status)
);

CREATE TABLE convo.products (
    account_id  uuid NOT NULL REFERENCES convo.accounts ON DELETE CASCADE,
    product_id  uuid NOT NULL DEFAULT gen_random_uuid(),
    sku         text NOT NULL,
    name        text NOT NULL,
    price       numeric(12, 2) NOT NULL CHECK (price >= 0),
    currency    text NOT NULL DEFAULT 'USD',
    stock       int NOT NULL DEFAULT 0,
    attributes  jsonb NOT NULL DEFAULT '{}',
    active      boolean NOT NULL DEFAULT true,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, product_id),
    UNIQUE (account_id, sku)
);

CREATE TABLE convo.carts (
    account_id   uuid NOT NULL,
    cart_id      uuid NOT NULL DEFAULT gen_random_uuid(),
    contact_id   uuid NOT NULL,
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'ordered', 'expired')),
    expires_at   timestamptz NOT NULL DEFAULT now() + interval '24 hours',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, cart_id),
    FOREIGN KEY (account_id, contact_id) REFERENCES convo.contacts ON DELETE CASCADE
);

CREATE TABLE convo.cart_items (
    account_id  uuid NOT NULL,
    cart_id     uuid NOT NULL,
    product_id  uuid NOT NULL,
    quantity    int NOT NULL CHECK (quantity > 0),
    unit_price  numeric(12, 2) NOT NULL,
    added_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, cart_id, product_id),
    FOREIGN KEY (account_id, cart_id) REFERENCES convo.carts ON DELETE CASCADE,
    FOREIGN KEY (account_id, product_id) REFERENCES convo.products
);

CREATE TABLE convo.orders (
    account_id   uuid NOT NULL,
    order_id     uuid NOT NULL DEFAULT gen_random_uuid(),
    contact_id   uuid NOT NULL,
    cart_id      uuid,
    status       text NOT NULL DEFAULT 'placed',
    total        numeric(12, 2) NOT NULL DEFAULT 0,
    currency     text NOT NULL DEFAULT 'USD',
    items        jsonb NOT NULL DEFAULT '[]',
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, order_id),
    FOREIGN KEY (account_id, contact_id) REFERENCES convo.contacts ON DELETE CASCADE
);

CREATE TABLE convo.templates (
    account_id  uuid NOT NULL REFERENCES convo.accounts ON DELETE CASCADE,
    name        text NOT NULL,
    language    text NOT NULL,
    category    text NOT NULL CHECK (category IN ('marketing', 'utility', 'authentication')),
    status      text NOT NULL DEFAULT 'approved',
    components  jsonb NOT NULL DEFAULT '[]',
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, name, language)
);

-- Webhook payloads nobody could route (unknown business number): kept with the reason.
-- No account_id: by definition none is known. A local table, like the inbox.
CREATE TABLE convo.unroutable (
    unroutable_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source         text NOT NULL,
    address        text,          -- the phone_number_id or number we could not match
    reason         text NOT NULL,
    payload        jsonb NOT NULL,
    received_at    timestamptz NOT NULL DEFAULT now()
);

-- Raw webhook bodies, written before the webhook is acknowledged. The body is text, not
-- jsonb: a body may carry the JSON escape \u0000, which jsonb refuses; ingest drops those
-- NUL characters. No account_id: the body is stored before it is routed.
CREATE TABLE convo.inbox (
    inbox_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source          text NOT NULL CHECK (source IN ('whatsapp', 'twilio', 'vapi')),
    body            text NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'processing', 'done', 'dead')),
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),   -- also the lease end while processing
    last_error      text,
    processed_at    timestamptz,
    result          jsonb
);

-- Tunables, one row each; read by the functions that need them.
CREATE TABLE convo.settings (
    name   text PRIMARY KEY,
    value  text NOT NULL,
    description text NOT NULL
);
INSERT INTO convo.settings VALUES
    ('inbox.max_attempts', '5', 'ingest attempts before an inbox item is kept as dead'),
    ('inbox.lease', '60 seconds', 'how long a claimed inbox item stays with its worker before others may claim it'),
    ('inbox.backoff_base', '2 seconds', 'first retry delay; doubles per attempt'),
    ('inbox.backoff_max', '10 minutes', 'longest retry delay'),
    ('response_cache.similarity', '0.75', 'lowest pg_trgm similarity (0.3 to 1) at which a customer''s text matches a cached question; equal normalized texts always match');
SELECT pg_catalog.pg_extension_config_dump('convo.settings', '');
-- Accounts and the caller's account.

-- The account a PostgREST request acts for: claim "account_id" of the JWT, NULL when absent
-- or not a uuid. Row-level security compares against it.
CREATE FUNCTION convo.current_account_id() RETURNS uuid
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
BEGIN
    -- Malformed claims or a non-uuid account_id give no account rather than an error.
    RETURN (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'account_id')::uuid;
EXCEPTION WHEN invalid_text_representation THEN
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION convo.current_account_id() IS 'Account id from the JWT claims of the current PostgREST request (claim account_id), NULL if none';

-- Digits of a phone number as Meta writes them: no '+', spaces, dashes or 'whatsapp:' prefix.
CREATE FUNCTION convo.phone_digits(number text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN regexp_replace(regexp_replace(number, '^whatsapp:', ''), '[\s+().-]', '', 'g');

-- Registers a WhatsApp business number, or updates it when its phone_number_id is known.
CREATE FUNCTION convo.register_account(
    name text, phone_number_id text, display_phone_number text, waba_id text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
#variable_conflict use_column
DECLARE
    digits text := convo.phone_digits(display_phone_number);
    id uuid;
BEGIN
    IF coalesce(name, '') = '' THEN
        RAISE EXCEPTION 'convo.register_account: name must not be empty' USING ERRCODE = '22023';
    END IF;
    IF phone_number_id IS NULL OR phone_number_id !~ '^[0-9]+$' THEN
        RAISE EXCEPTION 'convo.register_account: phone_number_id must be digits, got %', quote_nullable(phone_number_id)
            USING ERRCODE = '22023';
    END IF;
    IF digits IS NULL OR digits !~ '^[0-9]{6,20}$' THEN
        RAISE EXCEPTION 'convo.register_account: display_phone_number must be a phone number, got %', quote_nullable(display_phone_number)
            USING ERRCODE = '22023';
    END IF;

    INSERT INTO convo.accounts AS a (name, phone_number_id, display_phone_number, waba_id)
    VALUES (register_account.name, register_account.phone_number_id, digits, register_account.waba_id)
    ON CONFLICT (phone_number_id) DO UPDATE
        SET name = excluded.name, display_phone_number = excluded.display_phone_number,
            waba_id = coalesce(excluded.waba_id, a.waba_id)
    RETURNING a.account_id INTO id;

    INSERT INTO convo.bot_profiles (account_id, name, is_default)
    VALUES (id, 'default', true)
    ON CONFLICT DO NOTHING;
    RETURN id;
END
$$;
COMMENT ON FUNCTION convo.register_account(text, text, text, text) IS 'Registers a WhatsApp business number (or updates the one with this phone_number_id) and its default bot profile; returns the account id';
-- Triggers that keep each conversation's summary columns in step with its messages, in the
-- same transaction as the message: the window (last_inbound_at), the entry point, the
-- unread count. free_window() reads only these columns, never the messages.

-- SECURITY DEFINER: API callers may not write the window columns themselves (that would let
-- them open their own window); this trigger, owned by the extension's owner, does it for them.
CREATE FUNCTION convo.on_message_inserted() RETURNS trigger
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
COMMENT ON FUNCTION convo.on_message_inserted() IS 'Trigger: an inserted message updates its conversation (window, entry point, unread count, timestamps)';

CREATE TRIGGER message_inserted AFTER INSERT ON convo.messages
    FOR EACH ROW EXECUTE FUNCTION convo.on_message_inserted();

-- Statuses arrive out of order (a late 'delivered' after 'read'): never move backwards.
-- A status off the ladder (rank -1) is left as it is, so that the CHECK constraint refuses
-- it instead of this trigger quietly dropping it.
CREATE FUNCTION convo.on_message_status_change() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    IF convo.status_rank(NEW.status) >= 0
       AND convo.status_rank(NEW.status) < convo.status_rank(OLD.status) THEN
        NEW.status := OLD.status;
        NEW.status_at := OLD.status_at;
        NEW.error_code := OLD.error_code;
        NEW.error := OLD.error;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION convo.on_message_status_change() IS 'Trigger: keeps message statuses monotonic (pending < accepted < sent < failed < delivered < read < played)';

CREATE TRIGGER message_status_monotonic BEFORE UPDATE OF status ON convo.messages
    FOR EACH ROW EXECUTE FUNCTION convo.on_message_status_change();
-- The customer-service window (rules in extension/core/free_window.cpp).

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
-- Ingest: webhook payloads become rows (C++: extension/api/ingest.cpp).

CREATE FUNCTION convo.ingest(source text, payload jsonb) RETURNS jsonb
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'convo_ingest';
COMMENT ON FUNCTION convo.ingest(text, jsonb) IS 'Ingests a webhook payload (source whatsapp: a Cloud API notification; twilio: the form fields as an object); returns {messages, duplicates, statuses, unroutable, ignored, conversations}';

CREATE FUNCTION convo.ingest_body(source text, body text) RETURNS jsonb
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'convo_ingest_body';
COMMENT ON FUNCTION convo.ingest_body(text, text) IS 'Ingests a raw webhook body as stored in the inbox (JSON text, or form-encoded for twilio); \u0000 escapes are dropped from strings';
-- Messages the business sent: the sidecar records each one after the Cloud API accepted it.

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

    -- A status webhook may have come before this call: apply the furthest one.
    SELECT s.status, s.status_at, s.error_code, s.payload INTO waiting
      FROM convo.message_statuses s
     WHERE s.account_id = conv.account_id AND s.wamid = record_outbound.wamid
     ORDER BY convo.status_rank(s.status) DESC LIMIT 1;
    IF FOUND THEN
        UPDATE convo.messages m
           SET status = waiting.status, status_at = waiting.status_at,
               error_code = waiting.error_code, error = waiting.payload -> 'errors'
         WHERE m.account_id = conv.account_id AND m.message_id = id;
    END IF;
    RETURN id;
END
$$;
COMMENT ON FUNCTION convo.record_outbound(uuid, text, jsonb, timestamptz) IS 'Records a message the business sent (message = the Cloud API send body); idempotent by wamid; returns the message id';
-- The inbox: raw webhook bodies, durable before the webhook is acknowledged.
--
-- An inbox item moves through one state machine, only through these functions:
--   pending --claim--> processing --done--> done
--                      processing --fail--> pending (retry after a backoff) | dead (kept)
--                      processing --lease expires--> claimable again (its worker died)
-- Nothing here deletes an item; housekeeping archives old ones.

CREATE FUNCTION convo.setting(name text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog
RETURN (SELECT s.value FROM convo.settings s WHERE s.name = setting.name);
COMMENT ON FUNCTION convo.setting(text) IS 'Value of a convo tunable (table convo.settings)';

-- Stores a raw webhook body; the caller acknowledges the webhook once this has committed.
CREATE FUNCTION convo.inbox_put(source text, body text) RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    id bigint;
BEGIN
    IF source IS NULL OR source NOT IN ('whatsapp', 'twilio', 'vapi') THEN
        RAISE EXCEPTION 'convo.inbox_put: unknown source %', quote_nullable(source)
            USING ERRCODE = '22023', HINT = 'source is one of whatsapp, twilio, vapi';
    END IF;
    IF body IS NULL THEN
        RAISE EXCEPTION 'convo.inbox_put: body must not be NULL' USING ERRCODE = '22004';
    END IF;
    INSERT INTO convo.inbox (source, body) VALUES (source, body) RETURNING inbox_id INTO id;
    -- One wake-up per transaction: identical notifications of a transaction are folded.
    PERFORM pg_notify('convo_inbox', '');
    RETURN id;
END
$$;
COMMENT ON FUNCTION convo.inbox_put(text, text) IS 'Stores a raw webhook body (source whatsapp|twilio|vapi) for ingestion; returns its inbox id';

-- Stores a group of webhook bodies in one statement (the sidecar's group commit: one
-- transaction, one WAL flush for every webhook waiting at that moment). Returns the inbox
-- ids in input order. An element of dead_reasons that is not NULL stores that body as dead
-- on arrival with the reason as its error (a body that can never be ingested, kept for
-- inspection). One wake-up for the workers per call, and only if something is pending.
-- notify = false skips the wake-up: for a writer whose own process runs the ingest workers and
-- wakes them itself. NOTIFY costs more than a message: PostgreSQL serializes every notifying
-- transaction from its pre-commit until its commit is flushed, so concurrent groups that notify
-- cannot share a WAL flush and wait for each other's.
CREATE FUNCTION convo.inbox_put_batch(sources text[], bodies text[], dead_reasons text[] DEFAULT NULL,
                                      notify boolean DEFAULT true)
RETURNS SETOF bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    n int;
    bad text;
    ids regclass := pg_get_serial_sequence('convo.inbox', 'inbox_id')::regclass;
BEGIN
    IF sources IS NULL OR bodies IS NULL THEN
        RAISE EXCEPTION 'convo.inbox_put_batch: sources and bodies must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF coalesce(array_ndims(sources), 1) > 1 OR coalesce(array_ndims(bodies), 1) > 1
       OR coalesce(array_ndims(dead_reasons), 1) > 1 THEN
        RAISE EXCEPTION 'convo.inbox_put_batch: arrays must be one-dimensional' USING ERRCODE = '22023';
    END IF;
    n := cardinality(bodies);
    IF cardinality(sources) <> n OR cardinality(dead_reasons) <> n THEN
        RAISE EXCEPTION 'convo.inbox_put_batch: array lengths differ: sources %, bodies %, dead_reasons %',
            cardinality(sources), n, coalesce(cardinality(dead_reasons)::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF n = 0 THEN
        RETURN;
    END IF;
    IF array_position(sources, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'convo.inbox_put_batch: source % is NULL', array_position(sources, NULL)
            USING ERRCODE = '22004';
    END IF;
    IF array_position(bodies, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'convo.inbox_put_batch: body % is NULL', array_position(bodies, NULL)
            USING ERRCODE = '22004';
    END IF;
    SELECT s INTO bad FROM unnest(sources) s WHERE s NOT IN ('whatsapp', 'twilio', 'vapi') LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'convo.inbox_put_batch: unknown source %', quote_nullable(bad)
            USING ERRCODE = '22023', HINT = 'source is one of whatsapp, twilio, vapi';
    END IF;

    -- Each row takes its id in the same step as its position, so the ids come back in input
    -- order whatever order the INSERT writes them in.
    RETURN QUERY
    WITH input AS MATERIALIZED (
        SELECT u.ord, u.source, u.body, u.reason,
               nextval(ids) AS id
          FROM unnest(sources, bodies, coalesce(dead_reasons, array_fill(NULL::text, ARRAY[n])))
               WITH ORDINALITY AS u(source, body, reason, ord)
         ORDER BY u.ord),
    stored AS (
        INSERT INTO convo.inbox (inbox_id, source, body, state, last_error, processed_at)
        OVERRIDING SYSTEM VALUE
        SELECT i.id, i.source, i.body,
               CASE WHEN i.reason IS NULL THEN 'pending' ELSE 'dead' END,
               i.reason,
               CASE WHEN i.reason IS NOT NULL THEN clock_timestamp() END
          FROM input i
         ORDER BY i.ord)
    SELECT i.id FROM input i ORDER BY i.ord;

    IF notify IS NOT FALSE AND (dead_reasons IS NULL OR array_position(dead_reasons, NULL) IS NOT NULL) THEN
        PERFORM pg_notify('convo_inbox', '');
    END IF;
END
$$;
COMMENT ON FUNCTION convo.inbox_put_batch(text[], text[], text[], boolean) IS 'Stores many raw webhook bodies in one statement (dead on arrival where a reason is given); returns their inbox ids in input order; one NOTIFY convo_inbox unless notify is false';

-- Claims up to n due items for this worker: FIFO, skipping items other workers hold.
CREATE FUNCTION convo.inbox_claim(n int) RETURNS SETOF convo.inbox
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    max_attempts int := convo.setting('inbox.max_attempts')::int;
BEGIN
    IF n IS NULL OR n < 1 OR n > 10000 THEN
        RAISE EXCEPTION 'convo.inbox_claim: n must be between 1 and 10000, got %', quote_nullable(n)
            USING ERRCODE = '22023';
    END IF;
    -- Items whose worker died more often than allowed are kept as dead, not retried forever.
    UPDATE convo.inbox i
       SET state = 'dead', last_error = format('abandoned by its worker %s times', i.attempts),
           processed_at = clock_timestamp()
     WHERE i.state = 'processing' AND i.next_attempt_at <= clock_timestamp()
       AND i.attempts >= max_attempts;

    RETURN QUERY
    WITH due AS (
        SELECT i.inbox_id, i.next_attempt_at FROM convo.inbox i
         WHERE i.state IN ('pending', 'processing') AND i.next_attempt_at <= clock_timestamp()
         ORDER BY i.next_attempt_at, i.inbox_id
         LIMIT n
           FOR UPDATE SKIP LOCKED),
    claimed AS (
        UPDATE convo.inbox i
           SET state = 'processing', attempts = i.attempts + 1,
               next_attempt_at = clock_timestamp() + convo.setting('inbox.lease')::interval
          FROM due
         WHERE i.inbox_id = due.inbox_id
        RETURNING i.*)
    -- In due order (most overdue first), whatever plan the UPDATE gets.
    SELECT claimed.* FROM claimed JOIN due USING (inbox_id) ORDER BY due.next_attempt_at, due.inbox_id;
END
$$;
COMMENT ON FUNCTION convo.inbox_claim(int) IS 'Claims up to n due inbox items (FOR UPDATE SKIP LOCKED) for a lease; returns them';

-- The state of an inbox item, locked for the caller's update. A NULL id is a caller's bug,
-- not an unknown item: 22004, as everywhere else in the API.
CREATE FUNCTION convo.inbox_item_state(id bigint, caller text) RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    s text;
BEGIN
    IF id IS NULL THEN
        RAISE EXCEPTION '%: id must not be NULL', caller USING ERRCODE = '22004';
    END IF;
    SELECT i.state INTO s FROM convo.inbox i WHERE i.inbox_id = id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%: unknown inbox item %', caller, quote_nullable(id) USING ERRCODE = 'P0002';
    END IF;
    RETURN s;
END
$$;
COMMENT ON FUNCTION convo.inbox_item_state(bigint, text) IS 'State of an inbox item, row locked (FOR UPDATE); raises P0002 naming the caller when the item does not exist';

-- Marks a claimed item ingested. False when it was not in processing (already done, dead).
CREATE FUNCTION convo.inbox_done(id bigint, result jsonb DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
BEGIN
    IF convo.inbox_item_state(id, 'convo.inbox_done') <> 'processing' THEN
        RETURN false;
    END IF;
    UPDATE convo.inbox i
       SET state = 'done', processed_at = clock_timestamp(), result = inbox_done.result
     WHERE i.inbox_id = id;
    RETURN true;
END
$$;
COMMENT ON FUNCTION convo.inbox_done(bigint, jsonb) IS 'Marks a claimed inbox item as ingested (with the ingest result); false if it was not being processed';

-- Records a failed attempt: retried after a doubling backoff, or kept as dead once attempts
-- are used up or when the failure is permanent (the body can never be ingested).
CREATE FUNCTION convo.inbox_fail(id bigint, error text, permanent boolean DEFAULT false)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    item convo.inbox;
    delay interval;
BEGIN
    IF convo.inbox_item_state(id, 'convo.inbox_fail') <> 'processing' THEN
        RAISE EXCEPTION 'convo.inbox_fail: inbox item % is not being processed', id USING ERRCODE = '55000';
    END IF;
    SELECT * INTO item FROM convo.inbox i WHERE i.inbox_id = id;
    IF permanent OR item.attempts >= convo.setting('inbox.max_attempts')::int THEN
        UPDATE convo.inbox i SET state = 'dead', last_error = coalesce(error, 'unknown error'),
               processed_at = clock_timestamp()
         WHERE i.inbox_id = id;
        RETURN 'dead';
    END IF;
    -- Doubling per attempt, in seconds of float8 with a bounded exponent: an interval product
    -- overflows (22008) long before the cap applies once max_attempts is set above ~50, and
    -- that error would escape inbox_process's handler and stall the whole inbox.
    delay := make_interval(secs => least(
        extract(epoch FROM convo.setting('inbox.backoff_base')::interval)::float8 * 2 ^ least(item.attempts - 1, 100),
        extract(epoch FROM convo.setting('inbox.backoff_max')::interval)::float8));
    UPDATE convo.inbox i SET state = 'pending', last_error = coalesce(error, 'unknown error'),
           next_attempt_at = clock_timestamp() + delay
     WHERE i.inbox_id = id;
    RETURN 'pending';
END
$$;
COMMENT ON FUNCTION convo.inbox_fail(bigint, text, boolean) IS 'Records a failed ingest attempt: pending again after a backoff, or dead (kept with its error) when permanent or out of attempts';

-- Claims up to n items and ingests each in its own subtransaction: one bad body is marked
-- failed (dead when it can never be ingested) and the others still go in.
CREATE FUNCTION convo.inbox_process(n int DEFAULT 100) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    item convo.inbox;
    res jsonb;
    done_ids bigint[] := '{}';
    done_results jsonb[] := '{}';
    failed int := 0;
    dead int := 0;
    state text;
    msg text;
    code text;
BEGIN
    -- This transaction need not wait for its WAL flush: what it writes is derived from inbox
    -- bodies that were committed durably before the webhook was acknowledged. If a crash
    -- loses it, the claim is lost with it and the items are claimed and ingested again
    -- (idempotently). Local to the caller's transaction.
    PERFORM set_config('synchronous_commit', 'off', true);
    FOR item IN SELECT * FROM convo.inbox_claim(n) LOOP
        BEGIN
            res := convo.ingest_body(item.source, item.body);
            done_ids := done_ids || item.inbox_id;
            done_results := done_results || res;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, code = RETURNED_SQLSTATE;
            -- Data exceptions (class 22: malformed or not a notification) never heal.
            state := convo.inbox_fail(item.inbox_id, code || ': ' || msg, left(code, 2) = '22' OR code = '0A000');
            IF state = 'dead' THEN dead := dead + 1; ELSE failed := failed + 1; END IF;
        END;
    END LOOP;
    -- The claimed rows are this transaction's (locked, in processing): all marked done in one
    -- statement rather than through inbox_done item by item, which checked and locked each row
    -- again and cost about as much as a third of an ingest.
    UPDATE convo.inbox i
       SET state = 'done', processed_at = clock_timestamp(), result = d.result
      FROM unnest(done_ids, done_results) AS d(inbox_id, result)
     WHERE i.inbox_id = d.inbox_id;
    RETURN jsonb_build_object('done', cardinality(done_ids), 'retry', failed, 'dead', dead);
END
$$;
COMMENT ON FUNCTION convo.inbox_process(int) IS 'Claims and ingests up to n inbox items in this transaction, each in a subtransaction; returns {done, retry, dead}';

-- Depth and age of what waits, for health checks.
CREATE FUNCTION convo.inbox_stats() RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog
RETURN (SELECT jsonb_build_object(
        'pending', count(*) FILTER (WHERE i.state IN ('pending', 'processing')),
        'dead', count(*) FILTER (WHERE i.state = 'dead'),
        'oldest_pending_seconds', coalesce(extract(epoch FROM now() - min(i.received_at)
                                      FILTER (WHERE i.state IN ('pending', 'processing'))), 0))
        FROM convo.inbox i);
COMMENT ON FUNCTION convo.inbox_stats() IS 'Inbox depth ({pending, dead, oldest_pending_seconds})';
-- Bot profiles: how an account's assistant behaves (convo.bot_profiles), written through one
-- validating function. An account has at most one default profile (bot_profiles_one_default);
-- conversations without a profile of their own use it.

-- Creates or updates (by account and name) a bot profile. Keys absent on update keep their
-- value; a new profile takes the column defaults for them.
CREATE FUNCTION convo.upsert_bot_profile(account_id uuid, profile jsonb) RETURNS uuid
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
#variable_conflict use_column
DECLARE
    fn constant text := 'convo.upsert_bot_profile: ';
    schema constant jsonb := $json$
        {"type": "object", "required": ["name"], "additionalProperties": false, "properties": {
          "name": {"type": "string", "minLength": 1, "maxLength": 100},
          "system_template": {"type": "string", "minLength": 1, "maxLength": 20000},
          "small_model": {"type": "string", "minLength": 1, "maxLength": 200},
          "large_model": {"type": "string", "minLength": 1, "maxLength": 200},
          "history_length": {"type": "integer", "minimum": 0, "maximum": 100},
          "token_budget": {"type": "integer", "minimum": 50, "maximum": 200000},
          "tools": {"type": "array", "maxItems": 50, "items": {"type": "string"}},
          "steps": {"type": "array", "maxItems": 50, "items": {
              "type": "object", "required": ["name"], "additionalProperties": false, "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 64},
                "instruction": {"type": "string", "maxLength": 2000}}}},
          "business_info": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 2000}},
          "simple_intents": {"type": ["array", "null"], "maxItems": 500,
                             "items": {"type": "string", "minLength": 1, "maxLength": 200}},
          "fallback_text": {"type": ["string", "null"], "maxLength": 4096},
          "style_rules": {"type": "string", "maxLength": 4000},
          "is_default": {"type": "boolean"}}}
    $json$;
    problem text;
    p jsonb := profile;
    profile_name text := profile ->> 'name';
    bad record;
    was_default boolean;
    id uuid;
BEGIN
    IF account_id IS NULL OR profile IS NULL THEN
        RAISE EXCEPTION '%account_id and profile are required', fn USING ERRCODE = '22004';
    END IF;
    problem := convo.json_schema_error(schema, p, 'profile');
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION '%', fn || problem USING ERRCODE = '22023';
    END IF;
    IF btrim(profile_name) = '' THEN
        RAISE EXCEPTION '%name must not be blank', fn USING ERRCODE = '22023';
    END IF;

    -- Tools: known ones, each once.
    SELECT t.ord - 1 AS i, t.tool,
           EXISTS (SELECT 1 FROM convo.tools k WHERE k.name = t.tool) AS known
      INTO bad
      FROM jsonb_array_elements_text(p -> 'tools') WITH ORDINALITY AS t(tool, ord)
     WHERE NOT EXISTS (SELECT 1 FROM convo.tools k WHERE k.name = t.tool)
        OR t.ord > (SELECT min(u.ord) FROM jsonb_array_elements_text(p -> 'tools') WITH ORDINALITY AS u(tool, ord)
                     WHERE u.tool = t.tool)
     ORDER BY t.ord LIMIT 1;
    IF FOUND AND NOT bad.known THEN
        RAISE EXCEPTION '%tools[%] must be one of %, got %', fn, bad.i,
            (SELECT string_agg(k.name, ', ' ORDER BY k.position) FROM convo.tools k), to_jsonb(left(bad.tool, 40))
            USING ERRCODE = '22023';
    ELSIF FOUND THEN
        RAISE EXCEPTION '%tools[%] repeats %', fn, bad.i, to_jsonb(bad.tool) USING ERRCODE = '22023';
    END IF;

    -- Steps: names are what update_progress takes, so each once.
    SELECT s.ord - 1 AS i, s.step ->> 'name' AS step_name INTO bad
      FROM jsonb_array_elements(p -> 'steps') WITH ORDINALITY AS s(step, ord)
     WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(p -> 'steps') WITH ORDINALITY AS o(step, ord)
                    WHERE o.ord < s.ord AND o.step ->> 'name' = s.step ->> 'name')
     ORDER BY s.ord LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION '%steps[%].name repeats the step name %', fn, bad.i, to_jsonb(left(bad.step_name, 40))
            USING ERRCODE = '22023';
    END IF;
    SELECT count(*) AS n, max(length(k)) AS longest, bool_or(btrim(k) = '') AS blank INTO bad
      FROM jsonb_object_keys(CASE WHEN p ? 'business_info' THEN p -> 'business_info' ELSE '{}' END) AS k;
    IF bad.n > 50 THEN
        RAISE EXCEPTION '%business_info must have at most 50 topics, got %', fn, bad.n USING ERRCODE = '22023';
    ELSIF bad.longest > 64 OR bad.blank THEN
        RAISE EXCEPTION '%business_info topics (its keys) must have 1 to 64 characters', fn USING ERRCODE = '22023';
    END IF;

    -- Row-level security applies: another account is unknown here.
    PERFORM FROM convo.accounts a WHERE a.account_id = upsert_bot_profile.account_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%unknown account %', fn, upsert_bot_profile.account_id USING ERRCODE = 'P0002';
    END IF;

    -- Profile writes of one account take turns: two profiles made default at once would
    -- otherwise both un-default the old one and collide on bot_profiles_one_default.
    PERFORM pg_advisory_xact_lock('convo.bot_profiles'::regclass::oid::int,
                                  hashtext(upsert_bot_profile.account_id::text));
    SELECT b.is_default INTO was_default FROM convo.bot_profiles b
     WHERE b.account_id = upsert_bot_profile.account_id AND b.name = profile_name;
    IF was_default AND (p -> 'is_default') = 'false' THEN
        RAISE EXCEPTION '%profile % is the account''s default; make another profile the default instead', fn,
            to_jsonb(profile_name) USING ERRCODE = '22023';
    END IF;
    IF (p -> 'is_default') = 'true' THEN
        UPDATE convo.bot_profiles b SET is_default = false, updated_at = now()
         WHERE b.account_id = upsert_bot_profile.account_id AND b.is_default AND b.name <> profile_name;
    END IF;

    INSERT INTO convo.bot_profiles (account_id, name) VALUES (upsert_bot_profile.account_id, profile_name)
        ON CONFLICT (account_id, name) DO NOTHING;
    UPDATE convo.bot_profiles b SET
        system_template = CASE WHEN p ? 'system_template' THEN p ->> 'system_template' ELSE b.system_template END,
        small_model     = CASE WHEN p ? 'small_model' THEN p ->> 'small_model' ELSE b.small_model END,
        large_model     = CASE WHEN p ? 'large_model' THEN p ->> 'large_model' ELSE b.large_model END,
        history_length  = CASE WHEN p ? 'history_length' THEN (p -> 'history_length')::numeric::int ELSE b.history_length END,
        token_budget    = CASE WHEN p ? 'token_budget' THEN (p -> 'token_budget')::numeric::int ELSE b.token_budget END,
        tools           = CASE WHEN p ? 'tools' THEN ARRAY(SELECT jsonb_array_elements_text(p -> 'tools')) ELSE b.tools END,
        steps           = CASE WHEN p ? 'steps' THEN p -> 'steps' ELSE b.steps END,
        business_info   = CASE WHEN p ? 'business_info' THEN p -> 'business_info' ELSE b.business_info END,
        simple_intents  = CASE WHEN NOT p ? 'simple_intents' THEN b.simple_intents
                               WHEN jsonb_typeof(p -> 'simple_intents') = 'null' THEN NULL
                               ELSE ARRAY(SELECT jsonb_array_elements_text(p -> 'simple_intents')) END,
        fallback_text   = CASE WHEN p ? 'fallback_text' THEN p ->> 'fallback_text' ELSE b.fallback_text END,
        style_rules     = CASE WHEN p ? 'style_rules' THEN p ->> 'style_rules' ELSE b.style_rules END,
        is_default      = CASE WHEN p ? 'is_default' THEN (p -> 'is_default')::boolean ELSE b.is_default END,
        updated_at      = now()
     WHERE b.account_id = upsert_bot_profile.account_id AND b.name = profile_name
    RETURNING b.bot_profile_id INTO id;
    RETURN id;
END
$$;
COMMENT ON FUNCTION convo.upsert_bot_profile(uuid, jsonb) IS 'Creates or updates (by account and name) a bot profile from {name, system_template, small_model, large_model, history_length, token_budget, tools, steps, business_info, simple_intents, fallback_text, style_rules, is_default}; absent keys keep their value; making it the default un-defaults the previous one; returns the profile id';
-- The catalogue: writing products, and the search the assistant's search_products tool runs.
--
-- Search uses pg_trgm (a prerequisite of convo, see convo.control): trigram word similarity
-- tolerates typos and partial words ("runer" finds "Stride Runner"). The functions that use
-- it have SQL-standard bodies, bound to pg_trgm's functions and operators when convo is
-- installed (CREATE EXTENSION puts the schemas of prerequisites on the search_path), so they
-- work whatever schema pg_trgm lives in and whatever the caller's search_path.

-- What the search matches: the name, the attribute values at any depth and the names of
-- attributes that are simply true ("waterproof"), but not the other keys ("color" would match
-- every product). Regular expressions over the jsonb text: several times cheaper per row than
-- walking the document, and this runs for every candidate row of a search.
CREATE FUNCTION convo.product_search_text(name text, attributes jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN name || ' ' || regexp_replace(
    regexp_replace(attributes::text, '"((?:[^"\\]|\\.)*)": true', '\1', 'g'),   -- "waterproof": true -> waterproof
    '"(?:[^"\\]|\\.)*":', '', 'g');                                               -- other keys go
COMMENT ON FUNCTION convo.product_search_text(text, jsonb) IS 'The text search_products matches: the name, attribute values and the names of true attributes';

-- Trigram index for search_products. GIN cannot hold the account id without btree_gin; the
-- planner combines it with the primary key (account_id first) when the catalogue is large.
CREATE INDEX products_search ON convo.products
    USING gin (convo.product_search_text(name, attributes) gin_trgm_ops);

-- Active products of an account matching query (trigram word similarity, best first; every
-- product when query is NULL, by name), with every attribute filter (case-insensitive; an
-- array attribute matches when one element does; a key also matches its plural: size finds
-- sizes), at most max_price, in stock when asked. {"products": [{id, label, price, currency,
-- stock}], "more": whether more matched than max_hits}.
CREATE FUNCTION convo.search_products(
    account_id uuid, query text DEFAULT NULL, attributes jsonb DEFAULT NULL,
    max_price numeric DEFAULT NULL, in_stock boolean DEFAULT false, max_hits int DEFAULT 5)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
-- The generic plan's cost estimate (the attribute filter's subplan) passes jit_above_cost,
-- and compiling it would take far longer than running it.
SET jit = off
BEGIN ATOMIC
    WITH candidates AS (
        -- Two branches, one of which a one-time filter switches off: each keeps its own plan
        -- (the trigram index for a query, the account's rows otherwise).
        SELECT p.product_id, p.name, p.price, p.currency, p.stock, p.attributes,
               word_similarity(search_products.query, convo.product_search_text(p.name, p.attributes)) AS score
          FROM convo.products p
         WHERE search_products.query IS NOT NULL
           AND p.account_id = search_products.account_id AND p.active
           AND search_products.query <% convo.product_search_text(p.name, p.attributes)
        UNION ALL
        SELECT p.product_id, p.name, p.price, p.currency, p.stock, p.attributes, 0
          FROM convo.products p
         WHERE search_products.query IS NULL
           AND p.account_id = search_products.account_id AND p.active
    ), hits AS (
        SELECT c.*, row_number() OVER (ORDER BY c.score DESC, c.name, c.product_id) AS n
          FROM candidates c
         WHERE (search_products.max_price IS NULL OR c.price <= search_products.max_price)
           AND (NOT coalesce(search_products.in_stock, false) OR c.stock > 0)
           AND NOT EXISTS (
                 SELECT 1 FROM jsonb_each_text(search_products.attributes) AS f
                  WHERE NOT EXISTS (
                        SELECT 1
                          FROM jsonb_each(CASE jsonb_typeof(c.attributes) WHEN 'object' THEN c.attributes END) AS a,
                               jsonb_array_elements_text(CASE jsonb_typeof(a.value) WHEN 'array' THEN a.value
                                                         ELSE jsonb_build_array(a.value) END) AS v
                         WHERE lower(a.key) IN (lower(f.key), lower(f.key) || 's')
                           AND lower(v) = lower(f.value)))
         ORDER BY n
         LIMIT greatest(coalesce(search_products.max_hits, 5), 0) + 1
    )
    SELECT jsonb_build_object(
               'products', coalesce(jsonb_agg(jsonb_build_object(
                                'id', h.product_id,
                                'label', CASE WHEN length(h.name) > 60 THEN left(h.name, 59) || '…' ELSE h.name END,
                                'price', h.price, 'currency', h.currency, 'stock', h.stock)
                            ORDER BY h.n) FILTER (WHERE h.n <= coalesce(search_products.max_hits, 5)), '[]'),
               'more', count(*) > greatest(coalesce(search_products.max_hits, 5), 0))
      FROM hits h;
END;
COMMENT ON FUNCTION convo.search_products(uuid, text, jsonb, numeric, boolean, int) IS 'Active products of an account by trigram word similarity and attribute/price/stock filters: {products: [{id, label, price, currency, stock}], more}';

-- Creates or updates (by account and sku) a product; keys absent on update keep their value.
CREATE FUNCTION convo.upsert_product(account_id uuid, product jsonb) RETURNS uuid
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
#variable_conflict use_column
DECLARE
    fn constant text := 'convo.upsert_product: ';
    schema constant jsonb := $json$
        {"type": "object", "required": ["sku"], "additionalProperties": false, "properties": {
          "sku": {"type": "string", "minLength": 1, "maxLength": 64},
          "name": {"type": "string", "minLength": 1, "maxLength": 200},
          "price": {"type": "number", "minimum": 0, "maximum": 9999999999.99},
          "currency": {"type": "string", "minLength": 3, "maxLength": 3},
          "stock": {"type": "integer", "minimum": 0, "maximum": 1000000000},
          "attributes": {"type": "object"},
          "active": {"type": "boolean"}}}
    $json$;
    problem text;
    p jsonb := product;
    new_price numeric;
    id uuid;
    inserted boolean;
BEGIN
    IF account_id IS NULL OR product IS NULL THEN
        RAISE EXCEPTION '%account_id and product are required', fn USING ERRCODE = '22004';
    END IF;
    problem := convo.json_schema_error(schema, p, 'product');
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION '%', fn || problem USING ERRCODE = '22023';
    END IF;
    IF btrim(p ->> 'sku') = '' THEN
        RAISE EXCEPTION '%sku must not be blank', fn USING ERRCODE = '22023';
    END IF;
    IF btrim(p ->> 'name') = '' THEN
        RAISE EXCEPTION '%name must not be blank', fn USING ERRCODE = '22023';
    END IF;
    new_price := (p -> 'price')::numeric;
    IF new_price <> round(new_price, 2) THEN
        RAISE EXCEPTION '%price must have at most 2 decimals, got %', fn, new_price USING ERRCODE = '22023';
    END IF;
    IF p ? 'currency' THEN
        IF upper(p ->> 'currency') !~ '^[A-Z]{3}$' THEN
            RAISE EXCEPTION '%currency must be a 3-letter ISO 4217 code such as "USD", got %', fn, p -> 'currency'
                USING ERRCODE = '22023';
        END IF;
        p := jsonb_set(p, '{currency}', to_jsonb(upper(p ->> 'currency')));
    END IF;
    IF octet_length((p -> 'attributes')::text) > 8192 THEN
        RAISE EXCEPTION '%attributes must take at most 8192 bytes as JSON, got %', fn, octet_length((p -> 'attributes')::text)
            USING ERRCODE = '22023';
    END IF;
    -- Row-level security applies: another account is unknown here.
    PERFORM FROM convo.accounts a WHERE a.account_id = upsert_product.account_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%unknown account %', fn, upsert_product.account_id USING ERRCODE = 'P0002';
    END IF;

    -- Absent keys keep the stored value. A new product must have a name and a price: the
    -- placeholders below are never kept, the insert is undone by the error.
    INSERT INTO convo.products AS x (account_id, sku, name, price, currency, stock, attributes, active)
    VALUES (upsert_product.account_id, p ->> 'sku', coalesce(p ->> 'name', ''), coalesce(new_price, 0),
            coalesce(p ->> 'currency', 'USD'), coalesce((p -> 'stock')::numeric::int, 0),
            coalesce(p -> 'attributes', '{}'), coalesce((p -> 'active')::boolean, true))
    ON CONFLICT (account_id, sku) DO UPDATE SET
        name       = CASE WHEN p ? 'name' THEN excluded.name ELSE x.name END,
        price      = CASE WHEN p ? 'price' THEN excluded.price ELSE x.price END,
        currency   = CASE WHEN p ? 'currency' THEN excluded.currency ELSE x.currency END,
        stock      = CASE WHEN p ? 'stock' THEN excluded.stock ELSE x.stock END,
        attributes = CASE WHEN p ? 'attributes' THEN excluded.attributes ELSE x.attributes END,
        active     = CASE WHEN p ? 'active' THEN excluded.active ELSE x.active END,
        updated_at = now()
    RETURNING x.product_id, x.xmax = 0 INTO id, inserted;
    IF inserted AND NOT (p ? 'name' AND p ? 'price') THEN
        RAISE EXCEPTION '%a new product needs name and price (sku %)', fn, p -> 'sku' USING ERRCODE = '22023';
    END IF;
    RETURN id;
END
$$;
COMMENT ON FUNCTION convo.upsert_product(uuid, jsonb) IS 'Creates or updates (by account and sku) a product from {sku, name, price, currency, stock, attributes, active}; absent keys keep their value; returns the product id';
-- Tools the assistant's language model may call, and the one function that runs them.
--
--   tool       a function the model may call: a name, a short description and a JSON schema of
--              its arguments (convo.tools), sent in the request's `tools` array. A bot profile
--              enables some of them (bot_profiles.tools).
--   tool call  convo.call_tool(conversation, name, arguments): checks that the tool is enabled
--              for the conversation's profile and that the arguments fit its schema, then acts
--              for the conversation's own contact. Mistakes the model can correct come back as
--              {"error": "..."}: a tool result, never an exception.
--   cart       a contact's open cart lives 24 h from its last addition; a contact has at most
--              one open cart (an expired one is marked 'expired' when the next one opens).

-- The validator behind every schema here (extension/core/json_schema.cpp).
CREATE FUNCTION convo.json_schema_error(schema jsonb, value jsonb, name text DEFAULT 'value')
RETURNS text
LANGUAGE c IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'convo_json_schema_error';
COMMENT ON FUNCTION convo.json_schema_error(jsonb, jsonb, text) IS 'The first way value breaks schema, as a sentence naming the key (the value itself is called name); NULL when it conforms. Subset: type, properties, required, additionalProperties, items, minItems, maxItems, enum, minimum, maximum, minLength, maxLength';

-- Reference data, the same for every account; installed below. Descriptions are short: they
-- are sent with every request that enables the tool.
CREATE TABLE convo.tools (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,63}$'),
    position    int NOT NULL UNIQUE,   -- order in tool_definitions: a stable request prefix
    description text NOT NULL CHECK (description <> ''),
    parameters  jsonb NOT NULL CHECK (parameters ->> 'type' = 'object')
);
-- Readable by every API caller (tool_access.sql), writable by no one but the owner.
ALTER TABLE convo.tools ENABLE ROW LEVEL SECURITY;

INSERT INTO convo.tools (position, name, description, parameters) VALUES
(1, 'search_products', 'Search the catalogue. Returns up to 5 products: id, label, price, stock.', $json$
{"type": "object", "additionalProperties": false, "properties": {
  "query": {"type": "string", "minLength": 1, "maxLength": 200, "description": "words to match"},
  "attributes": {"type": "object", "description": "exact attribute values, e.g. {\"size\": \"42\"}",
                 "additionalProperties": {"type": ["string", "number", "boolean"], "maxLength": 100}},
  "max_price": {"type": "number", "minimum": 0},
  "in_stock": {"type": "boolean"}}}
$json$),
(2, 'add_to_cart', 'Add a product to the customer''s cart. Returns the cart.', $json$
{"type": "object", "additionalProperties": false, "required": ["product_id"], "properties": {
  "product_id": {"type": "string", "maxLength": 64, "description": "id from search_products"},
  "quantity": {"type": "integer", "minimum": 1, "maximum": 100, "description": "default 1"}}}
$json$),
(3, 'remove_from_cart', 'Remove a product from the cart, all of it unless quantity is given. Returns the cart.', $json$
{"type": "object", "additionalProperties": false, "required": ["product_id"], "properties": {
  "product_id": {"type": "string", "maxLength": 64},
  "quantity": {"type": "integer", "minimum": 1, "maximum": 100}}}
$json$),
(4, 'view_cart', 'The customer''s cart: items, quantities, total.', $json$
{"type": "object", "additionalProperties": false, "properties": {}}
$json$),
(5, 'update_progress', 'Move the conversation to another step. Returns the step''s instruction.', $json$
{"type": "object", "additionalProperties": false, "required": ["step"], "properties": {
  "step": {"type": "string", "minLength": 1, "maxLength": 64}}}
$json$),
(6, 'handoff_to_human', 'Hand the conversation to a human; you stop replying.', $json$
{"type": "object", "additionalProperties": false, "properties": {
  "reason": {"type": "string", "maxLength": 500}}}
$json$),
(7, 'get_business_info', 'Facts about the business (hours, address, delivery...); all of them without topic.', $json$
{"type": "object", "additionalProperties": false, "properties": {
  "topic": {"type": "string", "minLength": 1, "maxLength": 100}}}
$json$);

-- A schema the validator cannot enforce fails the install rather than the first call.
DO $$
BEGIN
    PERFORM convo.json_schema_error(t.parameters, '{}') FROM convo.tools t;
END
$$;

-- The OpenAI `tools` array for the given tool names, in catalogue order whatever the order of
-- names (the request prefix stays the same, which prompt caches reward).
CREATE FUNCTION convo.tool_definitions(names text[]) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
DECLARE
    unknown text;
BEGIN
    IF names IS NULL THEN
        RAISE EXCEPTION 'convo.tool_definitions: names must not be NULL' USING ERRCODE = '22004';
    END IF;
    SELECT n INTO unknown FROM unnest(names) AS n
     WHERE n IS NULL OR NOT EXISTS (SELECT 1 FROM convo.tools t WHERE t.name = n) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'convo.tool_definitions: unknown tool %', coalesce(to_jsonb(left(unknown, 64))::text, 'NULL')
            USING ERRCODE = '22023',
                  HINT = 'known tools: ' || (SELECT string_agg(t.name, ', ' ORDER BY t.position) FROM convo.tools t);
    END IF;
    RETURN (SELECT coalesce(jsonb_agg(jsonb_build_object('type', 'function', 'function',
                                jsonb_build_object('name', t.name, 'description', t.description,
                                                   'parameters', t.parameters))
                            ORDER BY t.position), '[]')
              FROM convo.tools t WHERE t.name = ANY (names));
END
$$;
COMMENT ON FUNCTION convo.tool_definitions(text[]) IS 'The OpenAI tools array ([{"type": "function", "function": {name, description, parameters}}]) for the given tool names, in catalogue order';

-- One open cart per contact: two tool calls that open a cart at once end up in the same one.
CREATE UNIQUE INDEX carts_one_open ON convo.carts (account_id, contact_id) WHERE status = 'open';

-- A contact's open, unexpired cart as the tools show it: product ids, short labels, quantities,
-- unit prices and line totals, the total and its currency. {"items": [], "total": 0} when none.
CREATE FUNCTION convo.cart_summary(account_id uuid, contact_id uuid) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT jsonb_strip_nulls(jsonb_build_object(
               'items', coalesce(jsonb_agg(jsonb_build_object(
                            'id', i.product_id,
                            'label', CASE WHEN length(p.name) > 40 THEN left(p.name, 39) || '…' ELSE p.name END,
                            'qty', i.quantity,
                            'price', i.unit_price,
                            'line_total', i.quantity * i.unit_price)
                          ORDER BY i.added_at, i.product_id) FILTER (WHERE i.product_id IS NOT NULL), '[]'),
               'total', coalesce(sum(i.quantity * i.unit_price), 0),
               'currency', min(p.currency)))
      FROM (SELECT 1) AS one
      LEFT JOIN convo.carts c
             ON c.account_id = cart_summary.account_id AND c.contact_id = cart_summary.contact_id
            AND c.status = 'open' AND c.expires_at > now()
      LEFT JOIN convo.cart_items i ON i.account_id = c.account_id AND i.cart_id = c.cart_id
      LEFT JOIN convo.products p ON p.account_id = i.account_id AND p.product_id = i.product_id;
END;
COMMENT ON FUNCTION convo.cart_summary(uuid, uuid) IS 'A contact''s open, unexpired cart: {items: [{id, label, qty, price, line_total}], total, currency}';

-- Runs one tool call of the model for a conversation. Raises only for a NULL or unknown
-- conversation (P0002, as under row-level security another account's is unknown); everything
-- the model can get wrong comes back as {"error": "..."} naming the argument.
CREATE FUNCTION convo.call_tool(conversation_id uuid, name text, arguments jsonb DEFAULT '{}')
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
#variable_conflict use_column
DECLARE
    args jsonb := coalesce(arguments, '{}');   -- a call without arguments
    conv record;
    profile record;
    has_profile boolean;
    tool record;
    enabled text;
    problem text;
    product_text text;
    product record;
    cart uuid;
    in_cart int;
    cart_currency text;
    qty int;
    step_name text;
    instruction text;
    topic text;
    info record;
BEGIN
    IF conversation_id IS NULL THEN
        RAISE EXCEPTION 'convo.call_tool: conversation_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    SELECT c.account_id, c.contact_id, c.bot_profile_id INTO conv
      FROM convo.conversations c WHERE c.conversation_id = call_tool.conversation_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'convo.call_tool: unknown conversation %', call_tool.conversation_id
            USING ERRCODE = 'P0002';
    END IF;

    -- The conversation's profile, or the account's default one.
    SELECT b.tools, b.steps, b.business_info INTO profile
      FROM convo.bot_profiles b
     WHERE b.account_id = conv.account_id
       AND (b.bot_profile_id = conv.bot_profile_id OR (conv.bot_profile_id IS NULL AND b.is_default));
    has_profile := FOUND;
    SELECT string_agg(t.name, ', ' ORDER BY t.position) INTO enabled
      FROM convo.tools t WHERE has_profile AND t.name = ANY (profile.tools);

    SELECT t.name, t.parameters INTO tool FROM convo.tools t WHERE t.name = call_tool.name;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('error', format('unknown tool %s; available tools: %s',
            coalesce(to_jsonb(left(call_tool.name, 64))::text, 'null'), coalesce(enabled, 'none')));
    END IF;
    IF NOT has_profile OR NOT tool.name = ANY (profile.tools) THEN
        RETURN jsonb_build_object('error', format('tool %s is not enabled for this conversation; available tools: %s',
            tool.name, coalesce(enabled, 'none')));
    END IF;
    problem := convo.json_schema_error(tool.parameters, args, 'arguments');
    IF problem IS NOT NULL THEN
        RETURN jsonb_build_object('error', problem);
    END IF;

    CASE tool.name
    WHEN 'search_products' THEN
        -- As subqueries: PL/pgSQL would keep a bare call's SQL-function plan for the rest of
        -- the transaction, row-level security quals of the role it was planned for included.
        RETURN (SELECT convo.search_products(conv.account_id, args ->> 'query', args -> 'attributes',
                                             (args -> 'max_price')::numeric,
                                             coalesce((args -> 'in_stock')::boolean, false), 5));

    WHEN 'view_cart' THEN
        RETURN (SELECT convo.cart_summary(conv.account_id, conv.contact_id));

    WHEN 'add_to_cart', 'remove_from_cart' THEN
        product_text := args ->> 'product_id';
        IF product_text !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
            RETURN jsonb_build_object('error', format('product_id must be an id from search_products, got %s',
                to_jsonb(left(product_text, 40))));
        END IF;
        qty := (args -> 'quantity')::numeric::int;
        -- The open cart, locked: concurrent calls for one contact take turns.
        SELECT c.cart_id INTO cart FROM convo.carts c
         WHERE c.account_id = conv.account_id AND c.contact_id = conv.contact_id
           AND c.status = 'open' AND c.expires_at > now()
           FOR UPDATE;

        IF tool.name = 'remove_from_cart' THEN
            SELECT i.quantity INTO in_cart FROM convo.cart_items i
             WHERE i.account_id = conv.account_id AND i.cart_id = cart
               AND i.product_id = product_text::uuid;
            IF cart IS NULL OR in_cart IS NULL THEN
                RETURN jsonb_build_object('error', format('product_id %s is not in the cart', product_text));
            END IF;
            IF qty IS NULL OR qty >= in_cart THEN
                DELETE FROM convo.cart_items i
                 WHERE i.account_id = conv.account_id AND i.cart_id = cart
                   AND i.product_id = product_text::uuid;
            ELSE
                UPDATE convo.cart_items i SET quantity = i.quantity - qty
                 WHERE i.account_id = conv.account_id AND i.cart_id = cart
                   AND i.product_id = product_text::uuid;
            END IF;
            RETURN (SELECT convo.cart_summary(conv.account_id, conv.contact_id));
        END IF;

        -- add_to_cart: the product must be this account's, on sale, in stock and in the
        -- cart's currency.
        qty := coalesce(qty, 1);
        SELECT p.product_id, p.name, p.price, p.currency, p.stock, p.active INTO product
          FROM convo.products p
         WHERE p.account_id = conv.account_id AND p.product_id = product_text::uuid;
        IF NOT FOUND THEN
            RETURN jsonb_build_object('error', format('product_id %s is not a product of this shop; use search_products', product_text));
        END IF;
        IF NOT product.active THEN
            RETURN jsonb_build_object('error', format('product_id %s (%s) is no longer sold', product_text, product.name));
        END IF;
        IF product.stock <= 0 THEN
            RETURN jsonb_build_object('error', format('product_id %s (%s) is out of stock', product_text, product.name));
        END IF;
        IF qty > product.stock THEN
            RETURN jsonb_build_object('error', format('quantity: only %s of %s in stock', product.stock, product.name));
        END IF;
        IF cart IS NULL THEN
            -- Only expired carts can still be open here; mark them, then open a new one (or
            -- take the one a concurrent call just opened).
            UPDATE convo.carts c SET status = 'expired', updated_at = now()
             WHERE c.account_id = conv.account_id AND c.contact_id = conv.contact_id
               AND c.status = 'open' AND c.expires_at <= now();
            INSERT INTO convo.carts (account_id, contact_id) VALUES (conv.account_id, conv.contact_id)
                ON CONFLICT (account_id, contact_id) WHERE status = 'open' DO NOTHING;
            SELECT c.cart_id INTO cart FROM convo.carts c
             WHERE c.account_id = conv.account_id AND c.contact_id = conv.contact_id AND c.status = 'open'
               FOR UPDATE;
        END IF;
        SELECT coalesce(sum(i.quantity) FILTER (WHERE i.product_id = product.product_id), 0)::int,
               min(p.currency)
          INTO in_cart, cart_currency
          FROM convo.cart_items i
          JOIN convo.products p ON p.account_id = i.account_id AND p.product_id = i.product_id
         WHERE i.account_id = conv.account_id AND i.cart_id = cart;
        IF cart_currency IS DISTINCT FROM product.currency AND cart_currency IS NOT NULL THEN
            RETURN jsonb_build_object('error', format('product_id %s is priced in %s but the cart is in %s',
                product_text, product.currency, cart_currency));
        END IF;
        IF in_cart + qty > product.stock THEN
            RETURN jsonb_build_object('error', format('quantity: only %s of %s in stock and %s already in the cart',
                product.stock, product.name, in_cart));
        END IF;
        INSERT INTO convo.cart_items AS i (account_id, cart_id, product_id, quantity, unit_price)
        VALUES (conv.account_id, cart, product.product_id, qty, product.price)
        ON CONFLICT (account_id, cart_id, product_id)
            DO UPDATE SET quantity = i.quantity + excluded.quantity, unit_price = excluded.unit_price;
        -- Adding keeps the cart for another 24 h (the column default's span).
        UPDATE convo.carts c SET expires_at = now() + interval '24 hours', updated_at = now()
         WHERE c.account_id = conv.account_id AND c.cart_id = cart;
        RETURN (SELECT convo.cart_summary(conv.account_id, conv.contact_id));

    WHEN 'update_progress' THEN
        step_name := args ->> 'step';
        SELECT s ->> 'instruction' INTO instruction
          FROM jsonb_array_elements(profile.steps) AS s WHERE s ->> 'name' = step_name;
        IF NOT FOUND THEN
            IF jsonb_array_length(profile.steps) = 0 THEN
                RETURN jsonb_build_object('error', 'this assistant has no steps; do not call update_progress');
            END IF;
            RETURN jsonb_build_object('error', format('step must be one of %s, got %s',
                (SELECT string_agg(to_jsonb(s ->> 'name')::text, ', ' ORDER BY n)
                   FROM jsonb_array_elements(profile.steps) WITH ORDINALITY AS e(s, n)),
                to_jsonb(left(step_name, 40))));
        END IF;
        UPDATE convo.conversations c SET current_step = step_name
         WHERE c.account_id = conv.account_id AND c.conversation_id = call_tool.conversation_id;
        RETURN jsonb_strip_nulls(jsonb_build_object('step', step_name, 'instruction', instruction));

    WHEN 'handoff_to_human' THEN
        UPDATE convo.conversations c SET bot_enabled = false, needs_human = true
         WHERE c.account_id = conv.account_id AND c.conversation_id = call_tool.conversation_id;
        RETURN jsonb_strip_nulls(jsonb_build_object('handed_off', true, 'reason', args ->> 'reason'));

    WHEN 'get_business_info' THEN
        topic := args ->> 'topic';
        IF profile.business_info = '{}' THEN
            RETURN jsonb_build_object('error', 'no business information is on file; offer a human instead');
        END IF;
        IF topic IS NULL THEN
            RETURN profile.business_info;
        END IF;
        -- The topic as written, else ignoring case and surrounding spaces.
        SELECT e.key, e.value INTO info
          FROM jsonb_each(profile.business_info) AS e
         WHERE e.key = topic OR lower(e.key) = lower(btrim(topic))
         ORDER BY e.key = topic DESC LIMIT 1;
        IF NOT FOUND THEN
            RETURN jsonb_build_object('error', format('topic must be one of %s, got %s',
                (SELECT string_agg(to_jsonb(k)::text, ', ' ORDER BY k) FROM jsonb_object_keys(profile.business_info) AS k),
                to_jsonb(left(topic, 40))));
        END IF;
        RETURN jsonb_build_object(info.key, info.value);
    ELSE
        RAISE EXCEPTION 'convo.call_tool: tool % has no implementation', tool.name USING ERRCODE = 'XX000';
    END CASE;
END
$$;
COMMENT ON FUNCTION convo.call_tool(uuid, text, jsonb) IS 'Runs a tool call of the model for a conversation (search_products, add_to_cart, remove_from_cart, view_cart, update_progress, handoff_to_human, get_business_info); bad arguments, unknown or disabled tools give {"error": "..."}';
-- The response cache: an account's frequent questions (opening hours, the price of a service,
-- the address) with the answer to send, so that such a turn needs no language model.
--
--   entry       one question and its answer, for one account, until expires_at.
--   key         what is compared: the normalized text without the greetings in front of it
--               (convo.question_key): "Hola, buenas tardes. ¿Cuál es el horario?" and
--               "¿Cuál es el horario?" have the same key, "cual es el horario".
--   match       a customer's text matches an entry when their keys are equal, or when their
--               pg_trgm similarity reaches the entry's min_similarity (the setting
--               response_cache.similarity). The best match wins.
--   hit         a lookup that found an entry; counted in response_cache_hits.
--
-- pg_trgm is a prerequisite of convo (convo.control). Its functions are reached through two
-- SQL-standard functions below, bound to them when convo is installed (the prerequisites'
-- schemas are then on the search_path): the rest works whatever schema pg_trgm lives in and
-- whatever the caller's search_path, and every other function keeps search_path = pg_catalog.
--
-- Lookups run with the caller's rights: row-level security keeps an account to its own
-- entries. Writing entries (put, remove) is for service_role.

-- The form questions are compared in: accents folded (canonical decomposition, marks dropped;
-- ø, ł, đ, ß, æ, œ... spelled out), lower case, every run of characters other than letters
-- and digits turned into one space, so punctuation, emoji and line breaks go. Needs a UTF8
-- database, as normalize() does.
CREATE FUNCTION convo.normalize_text(input text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN btrim(regexp_replace(lower(
    replace(replace(replace(replace(replace(
        translate(regexp_replace(normalize(input, NFD), '[\u0300-\u036f]+', '', 'g'),
                  'ØøŁłĐđĦħıŦŧÐðÞþ', 'OoLlDdHhiTtDdTt'),
        'ß', 'ss'), 'Æ', 'AE'), 'æ', 'ae'), 'Œ', 'OE'), 'œ', 'oe')),
    '[^[:alnum:]]+', ' ', 'g'));
COMMENT ON FUNCTION convo.normalize_text(text) IS 'Text as the response cache compares it: accents folded, lower case, anything but letters and digits reduced to single spaces';

-- Greetings, French, English and Spanish (and a little Portuguese), as normalized phrase ->
-- 'greeting'. Set aside in front of questions here; route_model's simple intents include them.
CREATE FUNCTION convo.greeting_phrases() RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN jsonb '{
  "hola": "greeting", "holi": "greeting", "holis": "greeting", "buenas": "greeting", "buenos dias": "greeting",
  "buen dia": "greeting", "buenas tardes": "greeting", "buenas noches": "greeting", "que tal": "greeting",
  "como estas": "greeting", "como esta": "greeting", "como va": "greeting", "saludos": "greeting",
  "hello": "greeting", "hi": "greeting", "hey": "greeting", "hi there": "greeting", "good morning": "greeting",
  "good afternoon": "greeting", "good evening": "greeting", "how are you": "greeting",
  "bonjour": "greeting", "bonsoir": "greeting", "salut": "greeting", "coucou": "greeting", "allo": "greeting",
  "ca va": "greeting", "comment ca va": "greeting", "comment allez vous": "greeting", "oi": "greeting",
  "ola": "greeting"
}';
COMMENT ON FUNCTION convo.greeting_phrases() IS 'Built-in greetings: normalized phrase -> greeting';

-- The keys of a phrase list (of those with the given value, if any) as one regular expression
-- alternation, longest first. Normalized phrases hold only letters, digits and spaces: there
-- is nothing to escape. With constant arguments it is evaluated once, when a query is planned.
CREATE FUNCTION convo.phrase_alternation(phrases jsonb, only_value text DEFAULT NULL) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (SELECT string_agg(p.key, '|' ORDER BY length(p.key) DESC, p.key)
          FROM jsonb_each_text(phrases) AS p
         WHERE p.key ~ '^[[:alnum:] ]+$' AND (only_value IS NULL OR p.value = only_value));
COMMENT ON FUNCTION convo.phrase_alternation(jsonb, text) IS 'Keys of a phrase -> value object (optionally only those with one value) as a regular expression alternation, longest first';

-- What the cache compares: the normalized text without the greetings in front of it, unless
-- it is nothing but greetings.
CREATE FUNCTION convo.question_key(input text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN coalesce(nullif(regexp_replace(convo.normalize_text(input),
                                      '^((' || convo.phrase_alternation(convo.greeting_phrases()) || ')( |$))+', ''),
                       ''),
                convo.normalize_text(input));
COMMENT ON FUNCTION convo.question_key(text) IS 'The response cache''s key of a text: normalized, greetings in front set aside (unless nothing else is left)';

-- pg_trgm, bound at install. Inlined into the queries that call them.
CREATE FUNCTION convo.trigram_similarity(a text, b text) RETURNS real
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN similarity(a, b);
COMMENT ON FUNCTION convo.trigram_similarity(text, text) IS 'pg_trgm''s similarity(a, b), whatever schema pg_trgm lives in';

CREATE FUNCTION convo.trigram_count(input text) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN cardinality(show_trgm(input));
COMMENT ON FUNCTION convo.trigram_count(text) IS 'How many distinct trigrams pg_trgm''s similarity() sees in a text';

CREATE TABLE convo.response_cache (
    account_id      uuid NOT NULL REFERENCES convo.accounts ON DELETE CASCADE,
    entry_id        bigint GENERATED ALWAYS AS IDENTITY,
    question        text NOT NULL,    -- as the business wrote it
    question_key    text NOT NULL GENERATED ALWAYS AS (convo.question_key(question)) STORED,
    -- With t and u distinct trigrams, two texts are at most min(t, u) / max(t, u) similar:
    -- entries whose count rules them out are skipped without computing similarity().
    question_trgms  int NOT NULL GENERATED ALWAYS AS (convo.trigram_count(convo.question_key(question))) STORED,
    answer          text NOT NULL,
    -- The setting response_cache.similarity, copied into each entry and kept equal to it by the
    -- trigger below: lookups run with the caller's rights, and API callers may not read
    -- convo.settings.
    min_similarity  real NOT NULL DEFAULT convo.setting('response_cache.similarity')::real,
    expires_at      timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, entry_id),
    UNIQUE (account_id, question_key),
    -- A question needs words; 500 characters keep it well inside a btree entry.
    CHECK (question_key <> '' AND length(question_key) <= 500),
    -- What one WhatsApp text message may hold.
    CHECK (answer <> '' AND length(answer) <= 4096),
    CHECK (min_similarity BETWEEN 0.3 AND 1)
);
-- No trigram index. A GIN index on question_key cannot hold the account id (not without
-- btree_gin), so its scan reads the postings of every account's entries, and accounts ask
-- alike ("cual es el horario"). On 10,500 entries of 61 accounts a GIN bitmap scan took 1.5 to
-- 23 ms, reading one account's 105 entries through the primary key 0.4 ms. An account's cache
-- is its frequent questions: tens to hundreds of entries.

-- Hit counts, apart from the entries. A popular entry is looked up by many conversations at
-- once; one counter per entry would make them queue on its row lock. Each backend counts in
-- its own slot (pg_backend_pid() % 16), so concurrent hits on one entry rarely meet; an
-- entry's hits are the sum over its slots. A hit is not a change of the entry either.
CREATE TABLE convo.response_cache_hits (
    account_id   uuid NOT NULL,
    entry_id     bigint NOT NULL,
    slot         smallint NOT NULL CHECK (slot BETWEEN 0 AND 15),
    hits         bigint NOT NULL DEFAULT 0,
    last_hit_at  timestamptz NOT NULL,
    PRIMARY KEY (account_id, entry_id, slot),
    FOREIGN KEY (account_id, entry_id) REFERENCES convo.response_cache ON DELETE CASCADE
);

-- A new value of response_cache.similarity is checked and copied into every entry, in the
-- same transaction. Runs as whoever changes the setting (service_role or the owner).
CREATE FUNCTION convo.on_cache_similarity_changed() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    v real;
BEGIN
    IF NEW.value ~ '^\s*[0-9]*\.?[0-9]+\s*$' THEN
        v := NEW.value::real;
    END IF;
    -- Below 0.3, trigram similarity pairs questions that share little more than a word.
    IF v IS NULL OR v NOT BETWEEN 0.3 AND 1 THEN
        RAISE EXCEPTION 'convo.settings: response_cache.similarity must be a number from 0.3 to 1, got %',
            quote_literal(NEW.value) USING ERRCODE = '22023';
    END IF;
    UPDATE convo.response_cache e SET min_similarity = v WHERE e.min_similarity <> v;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION convo.on_cache_similarity_changed() IS 'Trigger: checks a new response_cache.similarity (0.3 to 1) and copies it into every cache entry';

CREATE TRIGGER response_cache_similarity AFTER INSERT OR UPDATE ON convo.settings
    FOR EACH ROW WHEN (NEW.name = 'response_cache.similarity')
    EXECUTE FUNCTION convo.on_cache_similarity_changed();

-- Adds an entry, or replaces the answer and lifetime of the entry with the same key (keeping
-- its id and hits). Returns the entry id.
CREATE FUNCTION convo.put_cached_answer(
    account_id uuid, question text, answer text, ttl interval DEFAULT '30 days')
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
#variable_conflict use_column
DECLARE
    fn constant text := 'convo.put_cached_answer: ';
    key text := convo.question_key(question);
    id bigint;
BEGIN
    IF account_id IS NULL OR question IS NULL OR answer IS NULL OR ttl IS NULL THEN
        RAISE EXCEPTION '%account_id, question, answer and ttl are required', fn USING ERRCODE = '22004';
    END IF;
    IF key = '' THEN
        RAISE EXCEPTION '%question has no letters or digits: %', fn, quote_literal(left(question, 100))
            USING ERRCODE = '22023';
    END IF;
    IF length(key) > 500 THEN
        RAISE EXCEPTION '%question is too long: % characters once normalized, at most 500', fn, length(key)
            USING ERRCODE = '22023';
    END IF;
    IF btrim(answer) = '' OR length(answer) > 4096 THEN
        RAISE EXCEPTION '%answer must be 1 to 4096 characters (one WhatsApp text), got %', fn, length(answer)
            USING ERRCODE = '22023';
    END IF;
    IF ttl <= interval '0' THEN
        RAISE EXCEPTION '%ttl must be positive, got %', fn, ttl USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM convo.accounts a WHERE a.account_id = put_cached_answer.account_id) THEN
        RAISE EXCEPTION '%unknown account %', fn, account_id USING ERRCODE = 'P0002';
    END IF;

    INSERT INTO convo.response_cache AS e (account_id, question, answer, expires_at)
    VALUES (put_cached_answer.account_id, put_cached_answer.question, put_cached_answer.answer, now() + ttl)
    ON CONFLICT (account_id, question_key) DO UPDATE
        SET question = excluded.question, answer = excluded.answer, expires_at = excluded.expires_at,
            updated_at = now()
    RETURNING e.entry_id INTO id;
    RETURN id;
END
$$;
COMMENT ON FUNCTION convo.put_cached_answer(uuid, text, text, interval) IS 'Adds a cached answer to a question for an account, or replaces the one with the same key (convo.question_key); used until now() + ttl; returns the entry id';

-- Removes an entry and its hit counts. False when the account has no such entry.
CREATE FUNCTION convo.remove_cached_answer(account_id uuid, entry_id bigint) RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
#variable_conflict use_column
BEGIN
    IF account_id IS NULL OR entry_id IS NULL THEN
        RAISE EXCEPTION 'convo.remove_cached_answer: account_id and entry_id are required' USING ERRCODE = '22004';
    END IF;
    DELETE FROM convo.response_cache e
     WHERE e.account_id = remove_cached_answer.account_id AND e.entry_id = remove_cached_answer.entry_id;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION convo.remove_cached_answer(uuid, bigint) IS 'Removes a cached answer and its hit counts; false if the account has no such entry';

-- The best live entry of an account for a key (convo.question_key), or NULL; counts the hit.
-- An equal key first (one probe of the unique index), else the most similar one at or above
-- its min_similarity among the account's live entries, read through the primary key.
--
-- The hit is counted when the caller may write hit counts and the transaction may write at
-- all (a PostgREST GET is read-only): a lookup never fails for want of counting.
-- response_cache_hits is not among the tables authenticated may write (sql/security.sql), so
-- for now only service_role's lookups are counted.
CREATE FUNCTION convo.response_cache_lookup(account_id uuid, key text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
#variable_conflict use_column
DECLARE
    key_trgms int;
    e record;
BEGIN
    IF account_id IS NULL OR key IS NULL OR key = '' THEN
        RETURN NULL;
    END IF;
    -- Keys are at most 500 characters long.
    SELECT c.entry_id, c.question, c.answer, c.expires_at, 1::real AS sim INTO e
      FROM convo.response_cache c
     WHERE length(response_cache_lookup.key) <= 500
       AND c.account_id = response_cache_lookup.account_id AND c.question_key = response_cache_lookup.key
       AND c.expires_at > now();
    IF NOT FOUND THEN
        key_trgms := convo.trigram_count(key);
        SELECT s.entry_id, s.question, s.answer, s.expires_at, s.sim INTO e
          FROM (SELECT c.entry_id, c.question, c.answer, c.expires_at, c.min_similarity,
                       convo.trigram_similarity(c.question_key, response_cache_lookup.key) AS sim
                  FROM convo.response_cache c
                 WHERE c.account_id = response_cache_lookup.account_id AND c.expires_at > now()
                   -- The trigram count bound, with a margin for float rounding.
                   AND c.question_trgms >= (c.min_similarity - 0.001) * key_trgms
                   AND key_trgms >= (c.min_similarity - 0.001) * c.question_trgms
                OFFSET 0) AS s   -- a fence: similarity() once per entry
         WHERE s.sim >= s.min_similarity
         ORDER BY s.sim DESC, s.entry_id
         LIMIT 1;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
    END IF;

    IF current_setting('transaction_read_only') = 'off'
       AND has_table_privilege('convo.response_cache_hits', 'INSERT')
       AND has_table_privilege('convo.response_cache_hits', 'UPDATE') THEN
        INSERT INTO convo.response_cache_hits AS h (account_id, entry_id, slot, hits, last_hit_at)
        VALUES (response_cache_lookup.account_id, e.entry_id, pg_backend_pid() % 16, 1, now())
        ON CONFLICT (account_id, entry_id, slot) DO UPDATE
            SET hits = h.hits + 1, last_hit_at = greatest(h.last_hit_at, excluded.last_hit_at);
    END IF;
    RETURN jsonb_build_object('entry_id', e.entry_id, 'question', e.question, 'answer', e.answer,
                              'similarity', round(e.sim::numeric, 3), 'expires_at', e.expires_at);
END
$$;
COMMENT ON FUNCTION convo.response_cache_lookup(uuid, text) IS 'The best live cache entry of an account for a key ({entry_id, question, answer, similarity, expires_at}), NULL if none; counts the hit';

-- The cached answer for what a customer of this conversation wrote, or NULL.
CREATE FUNCTION convo.cached_answer(conversation_id uuid, text text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
#variable_conflict use_column
DECLARE
    account uuid;
BEGIN
    IF conversation_id IS NULL OR cached_answer.text IS NULL THEN
        RAISE EXCEPTION 'convo.cached_answer: conversation_id and text are required' USING ERRCODE = '22004';
    END IF;
    -- Row-level security applies: another account's conversation is unknown here.
    SELECT c.account_id INTO account
      FROM convo.conversations c WHERE c.conversation_id = cached_answer.conversation_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'convo.cached_answer: unknown conversation %', conversation_id USING ERRCODE = 'P0002';
    END IF;
    RETURN convo.response_cache_lookup(account, convo.question_key(cached_answer.text));
END
$$;
COMMENT ON FUNCTION convo.cached_answer(uuid, text) IS 'The live cached answer of the conversation''s account matching text ({entry_id, question, answer, similarity, expires_at}), NULL if none; counts the hit';
-- Model routing: which model answers a customer's turn, decided from the text alone, before
-- any request to a language model. In this order:
--
--   cached  the response cache has an answer (sql/response_cache.sql): no model at all.
--   large   the text names something a tool deals with (a product, a price, the cart, an
--           order, a size, stock, buying, delivery, payment, a human...), however short:
--           getting tools right is the large model's job.
--   small   a short simple intent: greeting, thanks, yes, no, ok, goodbye, or emoji only.
--   large   anything else.
--
-- Model names come from the conversation's bot profile, or else the account's default one.
-- Word lists are matched against the normalized text (convo.normalize_text): no accents, no
-- punctuation, lower case.

-- The built-in simple intents: French, English and Spanish (and a little Portuguese), as
-- normalized phrase -> intent; the greetings are the response cache's (convo.greeting_phrases).
-- A text is a simple intent when it is nothing but a sequence of such phrases ("hola buenas
-- tardes", "ok merci", "si por favor").
CREATE FUNCTION convo.simple_intent_phrases() RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN convo.greeting_phrases() || jsonb '{
  "gracias": "thanks", "muchas gracias": "thanks", "muchisimas gracias": "thanks", "mil gracias": "thanks",
  "muy amable": "thanks",
  "de nada": "thanks", "con gusto": "thanks", "thanks": "thanks", "thank you": "thanks", "thanks a lot": "thanks",
  "thank you very much": "thanks", "thx": "thanks", "ty": "thanks", "you re welcome": "thanks",
  "no problem": "thanks", "merci": "thanks", "merci beaucoup": "thanks", "merci bien": "thanks",
  "mille mercis": "thanks", "de rien": "thanks", "obrigado": "thanks", "obrigada": "thanks",
  "si": "yes", "sip": "yes", "claro": "yes", "claro que si": "yes", "por supuesto": "yes", "exacto": "yes",
  "correcto": "yes", "asi es": "yes", "yes": "yes", "yeah": "yes", "yep": "yes", "yup": "yes", "sure": "yes",
  "of course": "yes", "oui": "yes", "ouais": "yes", "bien sur": "yes", "exactement": "yes", "sim": "yes",
  "no": "no", "nop": "no", "nope": "no", "nah": "no", "non": "no", "para nada": "no", "not really": "no",
  "nao": "no",
  "ok": "ok", "okay": "ok", "okey": "ok", "oki": "ok", "vale": "ok", "dale": "ok", "listo": "ok",
  "perfecto": "ok", "genial": "ok", "excelente": "ok", "bien": "ok", "muy bien": "ok", "bueno": "ok",
  "entendido": "ok", "de acuerdo": "ok", "perfect": "ok", "great": "ok", "cool": "ok", "nice": "ok",
  "good": "ok", "very good": "ok", "got it": "ok", "understood": "ok", "excellent": "ok", "d accord": "ok",
  "parfait": "ok", "super": "ok", "tres bien": "ok", "entendu": "ok", "top": "ok", "jaja": "ok", "lol": "ok",
  "mdr": "ok", "xd": "ok", "por favor": "ok", "please": "ok", "pls": "ok", "s il vous plait": "ok", "svp": "ok",
  "adios": "goodbye", "chao": "goodbye", "chau": "goodbye", "hasta luego": "goodbye", "hasta pronto": "goodbye",
  "hasta manana": "goodbye", "nos vemos": "goodbye", "bye": "goodbye", "bye bye": "goodbye",
  "goodbye": "goodbye", "see you": "goodbye", "see you soon": "goodbye", "good night": "goodbye",
  "au revoir": "goodbye", "a bientot": "goodbye", "a plus": "goodbye", "bonne journee": "goodbye",
  "bonne soiree": "goodbye", "bonne nuit": "goodbye", "ciao": "goodbye", "tchao": "goodbye"
}';
COMMENT ON FUNCTION convo.simple_intent_phrases() IS 'Built-in simple intents of route_model: normalized phrase -> greeting | thanks | yes | no | ok | goodbye';

-- Words that call for a tool, as normalized word start -> family. They match the start of a
-- word, so plurals and conjugations count ("precios", "compraria"); a false alarm only costs
-- the large model. Families are reported in route_model's reason.
CREATE FUNCTION convo.tool_words() RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN jsonb '{
  "human": "human", "humano": "human", "humain": "human", "person": "human", "persona": "human",
  "agent": "human", "asesor": "human", "advisor": "human", "conseiller": "human", "operador": "human",
  "operator": "human", "vendedor": "human", "representa": "human", "hablar con": "human",
  "price": "price", "pricing": "price", "cost": "price", "how much": "price", "cheap": "price",
  "expensive": "price", "discount": "price", "offer": "price", "precio": "price", "cuanto": "price",
  "cuanta": "price", "cuesta": "price", "costo": "price", "coste": "price", "valor": "price",
  "barato": "price", "caro": "price", "descuento": "price", "oferta": "price", "promo": "price",
  "rebaja": "price", "prix": "price", "combien": "price", "coute": "price", "tarif": "price",
  "cher": "price", "remise": "price", "solde": "price",
  "cart": "cart", "basket": "cart", "carrito": "cart", "carro": "cart", "cesta": "cart", "panier": "cart",
  "order": "order", "checkout": "order", "track": "order", "refund": "order", "return": "order",
  "pedido": "order", "pedir": "order", "orden": "order", "encargo": "order", "seguimiento": "order",
  "devolucion": "order", "reembolso": "order", "commande": "order", "suivi": "order",
  "rembours": "order", "retour": "order",
  "stock": "stock", "availab": "stock", "sold out": "stock", "do you have": "stock", "disponib": "stock",
  "agotad": "stock", "quedan": "stock", "tienen": "stock", "tienes": "stock", "tenes": "stock",
  "rupture": "stock", "avez vous": "stock", "vous avez": "stock",
  "size": "size", "color": "size", "colour": "size", "talla": "size", "talle": "size", "tamano": "size",
  "medida": "size", "taille": "size", "pointure": "size", "couleur": "size",
  "buy": "buy", "purchase": "buy", "want": "buy", "compr": "buy", "quiero": "buy", "quisiera": "buy",
  "acheter": "buy", "achat": "buy", "achete": "buy", "veux": "buy", "voudrais": "buy",
  "product": "product", "item": "product", "catalog": "product", "model": "product", "article": "product",
  "producto": "product", "articulo": "product", "catalogo": "product", "modelo": "product",
  "produit": "product", "modele": "product", "reference": "product",
  "deliver": "delivery", "shipping": "delivery", "ship": "delivery", "envio": "delivery",
  "enviar": "delivery", "entrega": "delivery", "domicilio": "delivery", "livraison": "delivery",
  "livrer": "delivery", "expedition": "delivery",
  "pay": "payment", "invoice": "payment", "cash": "payment", "card": "payment", "pago": "payment",
  "pagar": "payment", "tarjeta": "payment", "transferencia": "payment", "efectivo": "payment",
  "factura": "payment", "paiement": "payment", "payer": "payment", "carte": "payment", "facture": "payment",
  "hour": "business_info", "open": "business_info", "close": "business_info", "address": "business_info",
  "location": "business_info", "where": "business_info", "horario": "business_info", "hora": "business_info",
  "abren": "business_info", "abierto": "business_info", "cierran": "business_info", "cerrado": "business_info",
  "direccion": "business_info", "ubicacion": "business_info", "donde": "business_info",
  "heure": "business_info", "horaire": "business_info", "ouvert": "business_info", "ferme": "business_info",
  "adresse": "business_info",
  "book": "booking", "appointment": "booking", "reserv": "booking", "cita": "booking", "turno": "booking",
  "agendar": "booking", "rendez vous": "booking"
}';
COMMENT ON FUNCTION convo.tool_words() IS 'Words that make route_model choose the large model: normalized word start -> family (human, price, cart, order, stock, size, buy, product, delivery, payment, business_info, booking)';

-- Which model answers this text in this conversation:
--   {"tier": "cached"|"small"|"large", "model": name or null, "reason": "...", "cached": {...} or null}
-- Reasons: cache_hit:<entry id>, tool_words:<family>, simple_intent:<intent> (emoji, or
-- profile for a profile's own list), no_words (only punctuation, or nothing), default.
-- For the cached tier, model is null (there is nothing to call) and "cached" holds the entry
-- as cached_answer returns it, so that the caller needs no second lookup.
CREATE FUNCTION convo.route_model(conversation_id uuid, text text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
#variable_conflict use_column
DECLARE
    fn constant text := 'convo.route_model: ';
    conv record;
    profile record;
    hit jsonb;
    norm text;
    stem text;
    phrases jsonb;
    longest int;       -- words in the longest phrase
    candidate text;
    words_of text;     -- the candidate words holds
    words text[];
    n int;
    rest boolean[];
    step int[];
BEGIN
    IF conversation_id IS NULL OR route_model.text IS NULL THEN
        RAISE EXCEPTION '%conversation_id and text are required', fn USING ERRCODE = '22004';
    END IF;
    -- Row-level security applies: another account's conversation is unknown here.
    SELECT c.account_id, c.bot_profile_id INTO conv
      FROM convo.conversations c WHERE c.conversation_id = route_model.conversation_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%unknown conversation %', fn, conversation_id USING ERRCODE = 'P0002';
    END IF;
    IF conv.bot_profile_id IS NOT NULL THEN
        SELECT p.small_model, p.large_model, p.simple_intents INTO profile
          FROM convo.bot_profiles p WHERE p.account_id = conv.account_id AND p.bot_profile_id = conv.bot_profile_id;
    ELSE
        SELECT p.small_model, p.large_model, p.simple_intents INTO profile
          FROM convo.bot_profiles p WHERE p.account_id = conv.account_id AND p.is_default;
    END IF;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%account % has no default bot profile', fn, conv.account_id USING ERRCODE = 'P0002',
            HINT = 'Make one of its profiles the default, or give the conversation a bot_profile_id.';
    END IF;

    -- Most accounts have no cached answers: one index probe then spares the lookup.
    IF EXISTS (SELECT 1 FROM convo.response_cache c WHERE c.account_id = conv.account_id) THEN
        hit := convo.response_cache_lookup(conv.account_id, convo.question_key(route_model.text));
    END IF;
    IF hit IS NOT NULL THEN
        RETURN jsonb_build_object('tier', 'cached', 'model', NULL, 'reason', 'cache_hit:' || (hit ->> 'entry_id'),
                                  'cached', hit);
    END IF;

    norm := convo.normalize_text(route_model.text);
    -- The first tool word of the text (leftmost, longest).
    stem := (regexp_match(norm, '\m(' || convo.phrase_alternation(convo.tool_words()) || ')'))[1];
    IF stem IS NOT NULL THEN
        RETURN jsonb_build_object('tier', 'large', 'model', profile.large_model,
                                  'reason', 'tool_words:' || (convo.tool_words() ->> stem), 'cached', NULL);
    END IF;

    IF norm = '' THEN
        -- No letters or digits: a few emoji are a simple intent; punctuation alone, or nothing
        -- (a media message without caption), goes to the large model.
        IF length(route_model.text) <= 32
           AND route_model.text ~ '[\u00A9\u00AE\u203C\u2049\u2122\u2139\u2190-\u21FF\u2300-\u23FF\u24C2\u25A0-\u27BF\u2900-\u297F\u2B00-\u2BFF\u3030\u303D\u3297\u3299\U0001F000-\U0001FAFF]'
        THEN
            RETURN jsonb_build_object('tier', 'small', 'model', profile.small_model, 'reason', 'simple_intent:emoji',
                                      'cached', NULL);
        END IF;
        RETURN jsonb_build_object('tier', 'large', 'model', profile.large_model, 'reason', 'no_words', 'cached', NULL);
    END IF;

    -- Simple intents are short: at most 80 characters and 8 words once normalized.
    IF length(norm) <= 80 AND cardinality(string_to_array(norm, ' ')) <= 8 THEN
        -- A profile's own phrases replace the built-in ones (NULL: the built-in list).
        IF profile.simple_intents IS NULL THEN
            phrases := convo.simple_intent_phrases();
            longest := 4;
        ELSE
            SELECT coalesce(jsonb_object_agg(p.n, 'profile'), '{}'), coalesce(max(cardinality(string_to_array(p.n, ' '))), 0)
              INTO phrases, longest
              FROM (SELECT DISTINCT convo.normalize_text(s) AS n FROM unnest(profile.simple_intents) AS s) AS p
             WHERE p.n <> '';
        END IF;
        -- Letters typed three times or more ("holaaa", "siii") count once; so, in a second try,
        -- do doubled ones ("holaa"); laughter ("jajaja", "hehe") is "jaja".
        FOREACH candidate IN ARRAY ARRAY[
                regexp_replace(regexp_replace(norm, '(.)\1\1+', '\1', 'g'), '\m([jh][aeiou])\1+[jh]?\M', 'jaja', 'g'),
                regexp_replace(regexp_replace(norm, '(.)\1+', '\1', 'g'), '\m([jh][aeiou])\1+[jh]?\M', 'jaja', 'g')] LOOP
            CONTINUE WHEN candidate = words_of;   -- no doubled letters: nothing new to try
            words_of := candidate;
            -- Is the text a sequence of phrases? From the end: rest[i] when words i.. are one;
            -- step[i], the words of the longest phrase that starts such a sequence at i.
            words := string_to_array(candidate, ' ');
            n := cardinality(words);
            rest := array_fill(false, ARRAY[n + 1]);
            step := array_fill(0, ARRAY[n + 1]);
            rest[n + 1] := true;
            FOR i IN REVERSE n..1 LOOP
                FOR len IN REVERSE least(longest, n - i + 1)..1 LOOP
                    IF rest[i + len] AND phrases ? array_to_string(words[i:i + len - 1], ' ') THEN
                        rest[i] := true;
                        step[i] := len;
                        EXIT;
                    END IF;
                END LOOP;
            END LOOP;
            IF rest[1] THEN
                RETURN jsonb_build_object('tier', 'small', 'model', profile.small_model, 'reason',
                    'simple_intent:' || (phrases ->> array_to_string(words[1:step[1]], ' ')), 'cached', NULL);
            END IF;
        END LOOP;
    END IF;

    RETURN jsonb_build_object('tier', 'large', 'model', profile.large_model, 'reason', 'default', 'cached', NULL);
END
$$;
COMMENT ON FUNCTION convo.route_model(uuid, text) IS 'Which model answers text in this conversation: {tier: cached|small|large, model, reason, cached}; a cached answer first, then tool words (large), then short simple intents (small), else large';
-- Context assembly: convo.build_context (C++: extension/api/build_context.cpp) and its cache.
--
-- Staleness is made impossible by versions rather than by deleting cache rows: every change
-- that alters what a context contains bumps conversations.context_version (messages, cart,
-- contact, orders, the conversation itself) or accounts.context_version (bot profiles,
-- products, cached answers, tool definitions), in the same transaction as the change. A cache
-- row records the versions it was built from and is used only while both still match and its
-- valid_until (cart expiry) has not passed. build_context reads the versions before the data,
-- so a change committed while a context is being built leaves a row that no caller will use.

-- UNLOGGED: a cache, rebuilt on demand; never the only copy of anything.
CREATE UNLOGGED TABLE convo.context_cache (
    account_id           uuid NOT NULL,
    conversation_id      uuid NOT NULL,
    options_key          text NOT NULL,   -- the options that shape the context: history, budget, orders
    conversation_version bigint NOT NULL,
    account_version      bigint NOT NULL,
    valid_until          timestamptz,     -- earliest expiry of something inside (an open cart)
    context              jsonb COMPRESSION lz4 NOT NULL,  -- everything but the time-dependent window
    built_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, conversation_id, options_key)
)
-- Rows are kept whole and uncompressed up to a page (most contexts are a few kB): a hit then
-- reads the context as it is, with neither decompression nor a TOAST fetch, and a miss stores it
-- without compressing it. Larger ones are compressed with lz4, much faster to read than pglz.
WITH (toast_tuple_target = 8160);
CREATE INDEX context_cache_conversation ON convo.context_cache (conversation_id, options_key);

-- A row's own change bumps its context_version (unless the statement already did): used for
-- conversations (any change) and accounts (a new name).
CREATE FUNCTION convo.bump_context_version() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    IF NEW.context_version = OLD.context_version THEN
        NEW.context_version := OLD.context_version + 1;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION convo.bump_context_version() IS 'Trigger: a change to a conversation or an account outdates the cached contexts built from it';
CREATE TRIGGER conversation_context_version BEFORE UPDATE ON convo.conversations
    FOR EACH ROW EXECUTE FUNCTION convo.bump_context_version();
CREATE TRIGGER account_context_version BEFORE UPDATE OF name ON convo.accounts
    FOR EACH ROW EXECUTE FUNCTION convo.bump_context_version();

-- Outdates the contexts of the conversation(s) a changed row belongs to. SECURITY DEFINER:
-- API callers may change their cart but not write conversations' version columns themselves.
-- TG_ARGV[0] says how the row names its conversation: 'conversation', 'contact' or 'cart'.
CREATE FUNCTION convo.touch_conversation_context() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    r record := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    account uuid := r.account_id;
    contact uuid;
BEGIN
    IF TG_ARGV[0] = 'conversation' THEN
        UPDATE convo.conversations c SET context_version = c.context_version + 1
         WHERE c.account_id = account AND c.conversation_id = r.conversation_id;
        RETURN NULL;
    ELSIF TG_ARGV[0] = 'cart' THEN
        SELECT k.contact_id INTO contact FROM convo.carts k
         WHERE k.account_id = account AND k.cart_id = r.cart_id;
    ELSE
        contact := r.contact_id;
    END IF;
    UPDATE convo.conversations c SET context_version = c.context_version + 1
     WHERE c.account_id = account AND c.contact_id = contact;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION convo.touch_conversation_context() IS 'Trigger: a change to a message, contact, cart or order outdates the cached contexts of its conversation';

CREATE TRIGGER message_changed_context AFTER UPDATE OF direction, type, body, payload, sent_at OR DELETE
    ON convo.messages FOR EACH ROW EXECUTE FUNCTION convo.touch_conversation_context('conversation');
CREATE TRIGGER contact_changed_context AFTER UPDATE ON convo.contacts
    FOR EACH ROW EXECUTE FUNCTION convo.touch_conversation_context('contact');
CREATE TRIGGER cart_changed_context AFTER INSERT OR UPDATE OR DELETE ON convo.carts
    FOR EACH ROW EXECUTE FUNCTION convo.touch_conversation_context('contact');
CREATE TRIGGER cart_item_changed_context AFTER INSERT OR UPDATE OR DELETE ON convo.cart_items
    FOR EACH ROW EXECUTE FUNCTION convo.touch_conversation_context('cart');
CREATE TRIGGER order_changed_context AFTER INSERT OR UPDATE OR DELETE ON convo.orders
    FOR EACH ROW EXECUTE FUNCTION convo.touch_conversation_context('contact');

-- Outdates every context of the changed row's account (or of all accounts for global rows).
CREATE FUNCTION convo.touch_account_context() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog
AS $$
BEGIN
    IF TG_LEVEL = 'STATEMENT' THEN
        UPDATE convo.accounts a SET context_version = a.context_version + 1;
        RETURN NULL;
    END IF;
    UPDATE convo.accounts a SET context_version = a.context_version + 1
     WHERE a.account_id = (CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END).account_id;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION convo.touch_account_context() IS 'Trigger: a change to a bot profile, product or cached answer outdates the cached contexts of its account';

CREATE TRIGGER bot_profile_changed_context AFTER INSERT OR UPDATE OR DELETE ON convo.bot_profiles
    FOR EACH ROW EXECUTE FUNCTION convo.touch_account_context();
-- A new or changed cached answer changes the model a customer's text routes to.
CREATE TRIGGER cached_answer_changed_context AFTER INSERT OR UPDATE OR DELETE ON convo.response_cache
    FOR EACH ROW EXECUTE FUNCTION convo.touch_account_context();
-- Tool definitions are shared by all accounts.
CREATE TRIGGER tool_changed_context AFTER INSERT OR UPDATE OR DELETE ON convo.tools
    FOR EACH STATEMENT EXECUTE FUNCTION convo.touch_account_context();
-- Stock moves often and is not shown in a context: only what a cart line shows counts.
CREATE TRIGGER product_changed_context AFTER UPDATE OF sku, name, price, currency OR DELETE
    ON convo.products FOR EACH ROW EXECUTE FUNCTION convo.touch_account_context();


CREATE FUNCTION convo.build_context(conversation_id uuid, options jsonb DEFAULT '{}')
RETURNS jsonb
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'convo_build_context';
COMMENT ON FUNCTION convo.build_context(uuid, jsonb) IS 'Everything an assistant needs before an LLM request: OpenAI messages within the token budget, tools, model, window, customer, cart (options: history, max_tokens, include_orders)';
-- Cache tables: what teams keep in Redis (Graph API media metadata, contact lookups, validated
-- tokens, debounce markers, generated responses), kept next to the data instead.
--
-- convo.cache is UNLOGGED: it writes no WAL, is emptied by a crash (and is not replicated), so
-- nothing may be stored only there. Every value in it can be fetched or computed again.
--
-- Hot path in C++ (extension/api/cache.cpp): cache_get, cache_put, cache_try_lock, with kept
-- plans. Expiry is judged against the clock (clock_timestamp()), not the transaction start: a
-- long transaction sees entries expire.
--
-- Hits and misses are counted in each backend's memory and written to convo.cache_counts as
-- appended deltas (never an UPDATE of a shared row, so counting never waits for a lock) every
-- 1000 calls or after 1 s, by the next call of a read-write top-level transaction. See README.

CREATE TABLE convo.cache_namespaces (
    namespace   text PRIMARY KEY CHECK (namespace ~ '^[a-z][a-z0-9_]{0,62}$'),
    default_ttl interval NOT NULL CHECK (default_ttl > interval '0'),
    description text NOT NULL DEFAULT ''
);
INSERT INTO convo.cache_namespaces VALUES
    ('media', '1 hour', 'media metadata from the Graph API (URL, MIME type, sha256)'),
    ('contact_info', '10 minutes', 'contact lookups'),
    ('session', '2 minutes', 'validated tokens'),
    ('debounce', '5 minutes', 'cache_try_lock markers: one caller per key and window'),
    ('response', '1 hour', 'generated responses');
SELECT pg_catalog.pg_extension_config_dump('convo.cache_namespaces', '');
COMMENT ON TABLE convo.cache_namespaces IS
    'Cache namespaces and their default TTL; add a row to add a namespace. Deleting one drops its entries';

CREATE UNLOGGED TABLE convo.cache (
    namespace  text NOT NULL,
    key        text NOT NULL,
    value      jsonb NOT NULL,
    expires_at timestamptz NOT NULL,
    stored_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (namespace, key)
);
-- No index on expires_at: every put moves it, and an index would make each put a non-HOT
-- update; cache_purge finds expired entries with one sequential scan instead.
ALTER TABLE convo.cache SET (fillfactor = 80);
COMMENT ON TABLE convo.cache IS
    'UNLOGGED key/value cache with expiry: emptied by a crash, never the only copy of anything';

-- Hit and miss deltas flushed by backends; summed by cache_stats, compacted by cache_purge.
CREATE UNLOGGED TABLE convo.cache_counts (
    namespace  text NOT NULL,
    hits       bigint NOT NULL,
    misses     bigint NOT NULL,
    flushed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX cache_counts_namespace ON convo.cache_counts (namespace);

INSERT INTO convo.settings VALUES
    ('cache.purge_batch', '1000', 'expired cache entries deleted per statement by cache_purge');

-- A namespace deleted or renamed takes its entries (and counts) with it, so a hit always
-- belongs to a configured namespace.
CREATE FUNCTION convo.cache_namespaces_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    DELETE FROM convo.cache c
     WHERE NOT EXISTS (SELECT 1 FROM convo.cache_namespaces n WHERE n.namespace = c.namespace);
    DELETE FROM convo.cache_counts c
     WHERE NOT EXISTS (SELECT 1 FROM convo.cache_namespaces n WHERE n.namespace = c.namespace);
    RETURN NULL;
END
$$;
CREATE TRIGGER cache_namespaces_changed AFTER DELETE OR UPDATE OF namespace ON convo.cache_namespaces
FOR EACH STATEMENT EXECUTE FUNCTION convo.cache_namespaces_changed();

CREATE FUNCTION convo.cache_get(ns text, key text) RETURNS jsonb
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'convo_cache_get';
COMMENT ON FUNCTION convo.cache_get(text, text) IS
    'The cached value, NULL when absent or expired; counts a hit or a miss';

CREATE FUNCTION convo.cache_put(ns text, key text, value jsonb, ttl interval DEFAULT NULL)
RETURNS timestamptz
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'convo_cache_put';
COMMENT ON FUNCTION convo.cache_put(text, text, jsonb, interval) IS
    'Stores or replaces an entry for ttl (NULL: the namespace default); returns when it expires';

CREATE FUNCTION convo.cache_try_lock(ns text, key text, ttl interval DEFAULT NULL) RETURNS boolean
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'convo_cache_try_lock';
COMMENT ON FUNCTION convo.cache_try_lock(text, text, interval) IS
    'true for the first caller of a key within ttl (NULL: the namespace default), false for the others';

-- Writes this backend's unflushed hit and miss counts now (cache_stats calls it). Returns the
-- number of calls written; 0 in a read-only transaction, which cannot write them.
CREATE FUNCTION convo.cache_flush_counts() RETURNS bigint
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'convo_cache_flush_counts';

CREATE FUNCTION convo.cache_check_namespace(fn text, ns text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
BEGIN
    IF ns IS NULL THEN
        RAISE EXCEPTION '%: ns must not be NULL', fn USING ERRCODE = '22004';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM convo.cache_namespaces n WHERE n.namespace = ns) THEN
        RAISE EXCEPTION '%: unknown namespace %', fn, quote_literal(ns) USING ERRCODE = '22023',
            HINT = 'namespaces are rows of convo.cache_namespaces';
    END IF;
END
$$;

CREATE FUNCTION convo.cache_invalidate(ns text, key text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
BEGIN
    PERFORM convo.cache_check_namespace('convo.cache_invalidate', ns);
    IF key IS NULL THEN
        RAISE EXCEPTION 'convo.cache_invalidate: key must not be NULL' USING ERRCODE = '22004';
    END IF;
    DELETE FROM convo.cache c WHERE c.namespace = ns AND c.key = cache_invalidate.key;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION convo.cache_invalidate(text, text) IS 'Removes one entry; true when there was one';

CREATE FUNCTION convo.cache_clear(ns text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
DECLARE
    n bigint;
BEGIN
    IF ns IS NULL THEN
        DELETE FROM convo.cache;
    ELSE
        PERFORM convo.cache_check_namespace('convo.cache_clear', ns);
        DELETE FROM convo.cache c WHERE c.namespace = ns;
    END IF;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION convo.cache_clear(text) IS
    'Removes every entry of a namespace (NULL: of all namespaces); returns how many';

CREATE FUNCTION convo.cache_stats()
RETURNS TABLE(namespace text, entries bigint, hits bigint, misses bigint, hit_rate numeric, expired bigint)
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
BEGIN
    PERFORM convo.cache_flush_counts();
    RETURN QUERY
    WITH e AS (
        SELECT c.namespace, count(*) FILTER (WHERE c.expires_at > clock_timestamp()) AS live,
               count(*) FILTER (WHERE c.expires_at <= clock_timestamp()) AS dead
          FROM convo.cache c GROUP BY c.namespace
    ), k AS (
        SELECT c.namespace, sum(c.hits)::bigint AS hits, sum(c.misses)::bigint AS misses
          FROM convo.cache_counts c GROUP BY c.namespace
    )
    SELECT n.namespace, coalesce(e.live, 0), coalesce(k.hits, 0), coalesce(k.misses, 0),
           CASE WHEN coalesce(k.hits, 0) + coalesce(k.misses, 0) > 0
                THEN round(k.hits::numeric / (k.hits + k.misses), 4) END,
           coalesce(e.dead, 0)
      FROM convo.cache_namespaces n
      LEFT JOIN e ON e.namespace = n.namespace
      LEFT JOIN k ON k.namespace = n.namespace
     ORDER BY n.namespace;
END
$$;
COMMENT ON FUNCTION convo.cache_stats() IS
    'Per namespace: live entries, hits, misses, hit rate, expired entries awaiting cache_purge';

-- One scan finds the expired entries; they are deleted cache.purge_batch at a time, skipping
-- rows a concurrent put holds (they are being refreshed). Also compacts the count deltas.
CREATE FUNCTION convo.cache_purge() RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
DECLARE
    batch int := greatest(coalesce(convo.setting('cache.purge_batch')::int, 1000), 1);
    victims tid[];
    total bigint := 0;
    n bigint;
    i int := 1;
BEGIN
    SELECT array_agg(c.ctid) INTO victims FROM convo.cache c WHERE c.expires_at <= clock_timestamp();
    WHILE i <= coalesce(array_length(victims, 1), 0) LOOP
        WITH doomed AS (
            SELECT c.ctid FROM convo.cache c
             WHERE c.ctid = ANY (victims[i:i + batch - 1]) AND c.expires_at <= clock_timestamp()
               FOR UPDATE SKIP LOCKED)
        DELETE FROM convo.cache c USING doomed WHERE c.ctid = doomed.ctid;
        GET DIAGNOSTICS n = ROW_COUNT;
        total := total + n;
        i := i + batch;
    END LOOP;

    -- Count deltas: one row per namespace.
    WITH gone AS (DELETE FROM convo.cache_counts RETURNING namespace, hits, misses)
    INSERT INTO convo.cache_counts (namespace, hits, misses)
    SELECT g.namespace, sum(g.hits), sum(g.misses) FROM gone g GROUP BY g.namespace;
    RETURN total;
END
$$;
COMMENT ON FUNCTION convo.cache_purge() IS
    'Deletes expired cache entries in small batches; returns how many';
-- Managed indexes: every index the hot queries need, each with the reason it exists.
--
-- CREATE EXTENSION creates them from the list below. convo.index_status() tells which are
-- present, valid and used; convo.ensure_indexes() creates the missing ones and rebuilds the
-- invalid ones, inside one transaction (it blocks writes to the table while it builds). On a
-- live system use the concurrent path instead: run the statements of
-- convo.ensure_indexes_statements() one by one outside a transaction block, e.g. in psql
--   SELECT statement FROM convo.ensure_indexes_statements() \gexec
-- (scripts/ensure-indexes-concurrently.sh does exactly that and checks the result).

CREATE TABLE convo.managed_indexes (
    index_name  name PRIMARY KEY,
    table_name  name NOT NULL,
    is_unique   boolean NOT NULL DEFAULT false,
    -- What follows "ON convo.<table>": the columns, and a WHERE clause for a partial index.
    definition  text NOT NULL,
    reason      text NOT NULL
);
-- Administration only: service_role (which bypasses RLS) and superusers.
ALTER TABLE convo.managed_indexes ENABLE ROW LEVEL SECURITY;
COMMENT ON TABLE convo.managed_indexes IS 'Indexes convo creates, checks (index_status) and repairs (ensure_indexes), with the reason each exists';

INSERT INTO convo.managed_indexes (index_name, table_name, is_unique, definition, reason) VALUES
    ('accounts_phone_number_id_key', 'accounts', true, '(phone_number_id)',
     'ingest routes every Meta webhook to its account by phone_number_id; one account per number'),
    ('accounts_display_phone_number_key', 'accounts', true, '(display_phone_number)',
     'ingest routes Twilio webhooks by the business number (To); one account per number'),
    ('contacts_account_user_id_key', 'contacts', true, '(account_id, user_id)',
     'ingest finds (or upserts) the contact of an inbound message by its BSUID'),
    ('contacts_account_wa_id_key', 'contacts', true, '(account_id, wa_id)',
     'ingest finds (or upserts) the contact of an inbound message by its phone (wa_id)'),
    ('conversations_conversation_id', 'conversations', false, '(conversation_id)',
     'API functions take a conversation id alone: one index probe instead of a scan'),
    ('conversations_account_updated', 'conversations', false, '(account_id, updated_at DESC)',
     'agent dashboards list an account''s conversations, most recently active first'),
    ('messages_conversation_sent', 'messages', false, '(account_id, conversation_id, sent_at DESC)',
     'build_context reads the last messages of a conversation, newest first'),
    ('messages_inbound_window', 'messages', false, '(account_id, conversation_id, sent_at DESC) WHERE direction = ''in''',
     'the 24 h window depends on the customer''s last inbound message: found without reading replies'),
    ('carts_contact_expiry', 'carts', false, '(account_id, contact_id, expires_at)',
     'the tools find a contact''s current (unexpired) cart'),
    ('carts_open_expiry', 'carts', false, '(expires_at) WHERE status = ''open''',
     'the cart expiry job finds open carts past their expiry without reading closed ones'),
    ('orders_contact_created', 'orders', false, '(account_id, contact_id, created_at DESC)',
     'build_context with include_orders reads a contact''s last orders'),
    ('inbox_claimable', 'inbox', false, '(next_attempt_at, inbox_id) WHERE state IN (''pending'', ''processing'')',
     'inbox_claim takes due items in order without reading done and dead ones'),
    ('inbox_finished', 'inbox', false, '(processed_at) WHERE state IN (''done'', ''dead'')',
     'inbox housekeeping finds finished items older than the retention period');

-- The statement that creates a managed index (CONCURRENTLY for a live system).
CREATE FUNCTION convo.managed_index_ddl(index_name name, concurrent boolean DEFAULT false)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog
RETURN (SELECT format('CREATE %sINDEX %s%I ON convo.%I %s',
                      CASE WHEN m.is_unique THEN 'UNIQUE ' ELSE '' END,
                      CASE WHEN concurrent THEN 'CONCURRENTLY ' ELSE '' END,
                      m.index_name, m.table_name, m.definition)
          FROM convo.managed_indexes m WHERE m.index_name = managed_index_ddl.index_name);
COMMENT ON FUNCTION convo.managed_index_ddl(name, boolean) IS 'CREATE [UNIQUE] INDEX [CONCURRENTLY] statement of a managed index; NULL for a name not in convo.managed_indexes';

-- Tunable: how many sequential scans a convo table must have had before index_status reports
-- that they dominate its index scans.
INSERT INTO convo.settings VALUES
    ('indexes.seq_scan_min', '1000', 'sequential scans (since the last stats reset) from which index_status reports a convo table whose sequential scans outnumber its index scans');

-- One row per managed index, then one per convo table whose sequential scans dominate.
CREATE FUNCTION convo.index_status()
RETURNS TABLE (index_name text, table_name text, present boolean, valid boolean, size_bytes bigint,
               size text, scans bigint, verdict text, detail text)
LANGUAGE sql STABLE
SET search_path = pg_catalog
BEGIN ATOMIC
    WITH managed AS (
        SELECT m.index_name, m.table_name, m.is_unique, i.indexrelid, i.indisvalid,
               s.idx_scan
          FROM convo.managed_indexes m
          LEFT JOIN pg_class c ON c.relname = m.index_name AND c.relkind = 'i'
                              AND c.relnamespace = 'convo'::regnamespace
          LEFT JOIN pg_index i ON i.indexrelid = c.oid
          LEFT JOIN pg_stat_all_indexes s ON s.indexrelid = c.oid)
    SELECT x.index_name::text, x.table_name::text, x.present, x.valid, x.size_bytes, x.size, x.scans, x.verdict, x.detail
      FROM (
        SELECT 1 AS part, m.index_name, m.table_name,
               m.indexrelid IS NOT NULL AS present,
               coalesce(m.indisvalid, false) AS valid,
               pg_relation_size(m.indexrelid) AS size_bytes,
               pg_size_pretty(pg_relation_size(m.indexrelid)) AS size,
               m.idx_scan AS scans,
               CASE WHEN m.indexrelid IS NULL THEN 'missing'
                    WHEN NOT m.indisvalid THEN 'invalid'
                    WHEN NOT m.is_unique AND coalesce(m.idx_scan, 0) = 0 THEN 'unused'
                    ELSE 'ok' END AS verdict,
               CASE WHEN m.indexrelid IS NULL THEN 'not found: convo.ensure_indexes() creates it'
                    WHEN NOT m.indisvalid THEN 'not used by queries (a failed concurrent build?): convo.ensure_indexes() rebuilds it'
                    WHEN NOT m.is_unique AND coalesce(m.idx_scan, 0) = 0 THEN 'no scan since the last statistics reset'
                    WHEN m.is_unique AND coalesce(m.idx_scan, 0) = 0 THEN 'unique: enforces a rule even when never scanned'
                    END AS detail
          FROM managed m
        UNION ALL
        SELECT 2, NULL, t.relname, NULL, NULL, pg_relation_size(t.relid),
               pg_size_pretty(pg_relation_size(t.relid)), t.seq_scan, 'seq_scans',
               format('%s sequential scans (%s rows read) vs %s index scans since the last statistics reset',
                      t.seq_scan, t.seq_tup_read, coalesce(t.idx_scan, 0))
          FROM pg_stat_all_tables t
         WHERE t.schemaname = 'convo'
           AND t.seq_scan >= convo.setting('indexes.seq_scan_min')::bigint
           AND t.seq_scan > coalesce(t.idx_scan, 0)) x
     ORDER BY x.part, x.table_name, x.index_name;
END;
COMMENT ON FUNCTION convo.index_status() IS 'Managed indexes: present, valid, size, scans since the last stats reset, verdict ok|missing|invalid|unused; plus convo tables whose sequential scans dominate (verdict seq_scans)';

-- Creates the missing managed indexes and rebuilds the invalid ones, in this transaction.
-- One row per index acted on: created, rebuilt, or failed (with the error; the others go on).
CREATE FUNCTION convo.ensure_indexes()
RETURNS TABLE (index_name text, action text, detail text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    r record;
    ddl text;
BEGIN
    FOR r IN SELECT s.index_name, s.verdict FROM convo.index_status() s
              WHERE s.verdict IN ('missing', 'invalid') ORDER BY s.index_name LOOP
        ddl := convo.managed_index_ddl(r.index_name);
        index_name := r.index_name;
        BEGIN
            IF r.verdict = 'invalid' THEN
                EXECUTE format('DROP INDEX convo.%I', r.index_name);
            END IF;
            EXECUTE ddl;
            action := CASE r.verdict WHEN 'missing' THEN 'created' ELSE 'rebuilt' END;
            detail := ddl;
        EXCEPTION WHEN OTHERS THEN
            action := 'failed';
            detail := format('%s: %s (SQLSTATE %s)', ddl, SQLERRM, SQLSTATE);
        END;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION convo.ensure_indexes() IS 'Creates missing and rebuilds invalid managed indexes (blocking writes to their tables while building); returns (index_name, action created|rebuilt|failed, detail)';

-- The concurrent path: the statements that repair the managed indexes without blocking writes,
-- in order, each to be run on its own outside a transaction block (psql: \gexec).
CREATE FUNCTION convo.ensure_indexes_statements()
RETURNS TABLE (index_name text, statement text)
LANGUAGE sql STABLE
SET search_path = pg_catalog
BEGIN ATOMIC
    SELECT x.index_name, x.statement
      FROM (SELECT s.index_name, 1 AS step, format('DROP INDEX CONCURRENTLY IF EXISTS convo.%I', s.index_name) AS statement
              FROM convo.index_status() s WHERE s.verdict = 'invalid'
            UNION ALL
            SELECT s.index_name, 2, convo.managed_index_ddl(s.index_name, true)
              FROM convo.index_status() s WHERE s.verdict IN ('missing', 'invalid')) x
     ORDER BY x.index_name, x.step;
END;
COMMENT ON FUNCTION convo.ensure_indexes_statements() IS 'Statements (DROP/CREATE INDEX CONCURRENTLY) that repair the managed indexes on a live system; run each outside a transaction block, e.g. psql \gexec';

-- CREATE EXTENSION: build every managed index.
DO $$
DECLARE
    n name;
BEGIN
    FOR n IN SELECT m.index_name FROM convo.managed_indexes m ORDER BY m.index_name LOOP
        EXECUTE convo.managed_index_ddl(n);
    END LOOP;
END
$$;
-- Maintenance jobs, run by pg_cron (1.4: minute granularity, schedules in UTC).
--
-- Each job is a plain function that can also be called by hand:
--   convo.cache_purge()             expired cache entries (sql/cache.sql)        every minute
--   convo.expire_carts()            open carts past expires_at -> 'expired'       every minute
--   convo.warm_up()                 pg_prewarm of the hot tables and indexes     every 5 minutes
--   convo.archive_inbox()           old done/dead inbox items -> inbox_archive   every 10 minutes
--   convo.refresh_stats()           ANALYZE hot tables, refresh materialized views hourly
--   convo.purge_job_run_details()   cron.job_run_details past its retention      daily
-- convo.schedule_jobs() schedules them (named convo-..., idempotent) and
-- convo.unschedule_jobs() removes exactly those. convo works without pg_cron; only
-- schedule_jobs needs it. warm_up needs the contrib extension pg_prewarm, checked when it runs
-- (and when jobs are scheduled): convo does not require it.

INSERT INTO convo.settings VALUES
    ('inbox.retention', '7 days', 'done and dead inbox items older than this (by processed_at) are moved to convo.inbox_archive'),
    ('jobs.run_details_retention', '7 days', 'cron.job_run_details rows older than this (by end_time) are deleted by convo-job-history'),
    ('warm_up.max_relation_size', '256MB', 'warm_up skips tables and indexes larger than this (they would evict more than they warm)');

-- Finished inbox items past the retention period: kept here, never deleted by convo.
CREATE TABLE convo.inbox_archive (
    inbox_id        bigint PRIMARY KEY,
    source          text NOT NULL,
    body            text NOT NULL,
    received_at     timestamptz NOT NULL,
    state           text NOT NULL CHECK (state IN ('done', 'dead')),
    attempts        int NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    last_error      text,
    processed_at    timestamptz,
    result          jsonb,
    archived_at     timestamptz NOT NULL DEFAULT now()
);
-- Other accounts' payloads, like the inbox: service_role only.
ALTER TABLE convo.inbox_archive ENABLE ROW LEVEL SECURITY;
COMMENT ON TABLE convo.inbox_archive IS 'Done and dead inbox items moved out of convo.inbox after inbox.retention';

-- Moves done and dead inbox items older than the retention (default: setting inbox.retention)
-- to convo.inbox_archive, at most batch of them per call. Returns how many moved.
CREATE FUNCTION convo.archive_inbox(older_than interval DEFAULT NULL, batch int DEFAULT 10000)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    cutoff timestamptz := now() - coalesce(older_than, convo.setting('inbox.retention')::interval);
    n bigint;
BEGIN
    IF batch IS NULL OR batch < 1 THEN
        RAISE EXCEPTION 'convo.archive_inbox: batch must be positive, got %', quote_nullable(batch)
            USING ERRCODE = '22023';
    END IF;
    WITH old AS (
        SELECT i.inbox_id FROM convo.inbox i
         WHERE i.state IN ('done', 'dead') AND i.processed_at < cutoff
         ORDER BY i.processed_at
         LIMIT batch
           FOR UPDATE SKIP LOCKED),
    moved AS (
        DELETE FROM convo.inbox i USING old WHERE i.inbox_id = old.inbox_id
        RETURNING i.*),
    archived AS (
        INSERT INTO convo.inbox_archive (inbox_id, source, body, received_at, state, attempts,
                                         next_attempt_at, last_error, processed_at, result)
        SELECT m.inbox_id, m.source, m.body, m.received_at, m.state, m.attempts,
               m.next_attempt_at, m.last_error, m.processed_at, m.result
          FROM moved m
        RETURNING 1)
    SELECT count(*) INTO n FROM archived;
    RETURN n;
END
$$;
COMMENT ON FUNCTION convo.archive_inbox(interval, int) IS 'Moves done/dead inbox items processed before now() - older_than (default setting inbox.retention) to convo.inbox_archive, up to batch per call; returns the count';

-- Marks open carts past their expiry as expired. Returns how many.
CREATE FUNCTION convo.expire_carts() RETURNS bigint
LANGUAGE sql VOLATILE
SET search_path = pg_catalog
BEGIN ATOMIC
    WITH expired AS (
        UPDATE convo.carts c SET status = 'expired', updated_at = now()
         WHERE c.status = 'open' AND c.expires_at <= now()
        RETURNING 1)
    SELECT count(*) FROM expired;
END;
COMMENT ON FUNCTION convo.expire_carts() IS 'Marks open carts whose expires_at has passed as expired; returns the count';

-- The tables the hot paths read and write.
CREATE FUNCTION convo.hot_tables() RETURNS regclass[]
LANGUAGE sql IMMUTABLE
RETURN ARRAY['convo.accounts', 'convo.bot_profiles', 'convo.contacts', 'convo.conversations',
             'convo.messages', 'convo.message_statuses', 'convo.products', 'convo.carts',
             'convo.cart_items', 'convo.orders', 'convo.tools', 'convo.response_cache',
             'convo.inbox']::regclass[];
COMMENT ON FUNCTION convo.hot_tables() IS 'Tables ANALYZEd by refresh_stats and prewarmed (with their indexes) by warm_up';

-- ANALYZE of the hot tables, then a refresh of convo's materialized views.
CREATE FUNCTION convo.refresh_stats() RETURNS TABLE (relation text, action text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    t regclass;
    v record;
BEGIN
    FOREACH t IN ARRAY convo.hot_tables() LOOP
        EXECUTE format('ANALYZE %s', t);
        relation := t::text; action := 'analyzed';
        RETURN NEXT;
    END LOOP;
    FOR v IN SELECT c.oid::regclass AS r, c.relispopulated AS populated,
                    EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisunique
                                                     AND i.indpred IS NULL AND i.indexprs IS NULL) AS has_key
               FROM pg_class c
              WHERE c.relnamespace = 'convo'::regnamespace AND c.relkind = 'm' ORDER BY 1 LOOP
        -- CONCURRENTLY (readers are not blocked) needs a unique index and a populated view.
        IF v.populated AND v.has_key THEN
            EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %s', v.r);
        ELSE
            EXECUTE format('REFRESH MATERIALIZED VIEW %s', v.r);
        END IF;
        relation := v.r::text; action := 'refreshed';
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION convo.refresh_stats() IS 'ANALYZE of the hot tables and refresh of convo''s materialized views; one row per relation';

-- The schema pg_prewarm is installed in; raises a clear error when it is not.
CREATE FUNCTION convo.pg_prewarm_schema() RETURNS name
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog
AS $$
DECLARE
    s name;
BEGIN
    SELECT n.nspname INTO s FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_prewarm';
    IF s IS NULL THEN
        RAISE EXCEPTION 'convo.warm_up: the extension pg_prewarm is not installed in this database'
            USING ERRCODE = '55000',
                  HINT = 'Run CREATE EXTENSION pg_prewarm (a contrib extension shipped with PostgreSQL).';
    END IF;
    RETURN s;
END
$$;
COMMENT ON FUNCTION convo.pg_prewarm_schema() IS 'Schema of the pg_prewarm extension; raises 55000 with a hint when it is not installed';

-- Loads the hot tables and their valid indexes into shared buffers (pg_prewarm 'buffer' mode).
-- Relations over warm_up.max_relation_size are skipped. One row per relation.
CREATE FUNCTION convo.warm_up() RETURNS TABLE (relation text, blocks bigint, action text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    s name := convo.pg_prewarm_schema();
    max_size bigint := pg_size_bytes(convo.setting('warm_up.max_relation_size'));
    r record;
BEGIN
    FOR r IN SELECT x.rel, pg_relation_size(x.rel) AS bytes
               FROM (SELECT t AS rel, 0 AS ord, t::text AS tname FROM unnest(convo.hot_tables()) t
                     UNION ALL
                     SELECT i.indexrelid::regclass, 1, i.indrelid::regclass::text
                       FROM pg_index i
                      WHERE i.indrelid = ANY (convo.hot_tables()) AND i.indisvalid AND i.indisready) x
              ORDER BY x.tname, x.ord, x.rel::text LOOP
        relation := r.rel::text;
        IF r.bytes > max_size THEN
            blocks := 0; action := format('skipped: %s is over warm_up.max_relation_size', pg_size_pretty(r.bytes));
        ELSE
            EXECUTE format('SELECT %I.pg_prewarm($1)', s) INTO blocks USING r.rel;
            action := 'prewarmed';
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION convo.warm_up() IS 'pg_prewarm of the hot tables and their indexes (needs CREATE EXTENSION pg_prewarm); one row per relation with the blocks read';

-- Raises a clear error when pg_cron is not installed in this database.
CREATE FUNCTION convo.require_pg_cron(caller text) RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION '%: pg_cron is not installed in this database', caller
            USING ERRCODE = '55000',
                  HINT = format('Add pg_cron to shared_preload_libraries, set cron.database_name = %L, '
                                'restart PostgreSQL, then run CREATE EXTENSION pg_cron in this database.',
                                current_database());
    END IF;
END
$$;
COMMENT ON FUNCTION convo.require_pg_cron(text) IS 'Raises 55000 with a hint on enabling pg_cron when it is not installed in this database';

-- Deletes cron.job_run_details rows (of every job the caller may see) older than the retention.
CREATE FUNCTION convo.purge_job_run_details(older_than interval DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    n bigint;
BEGIN
    PERFORM convo.require_pg_cron('convo.purge_job_run_details');
    EXECUTE 'DELETE FROM cron.job_run_details WHERE end_time < now() - $1'
        USING coalesce(older_than, convo.setting('jobs.run_details_retention')::interval);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

COMMENT ON FUNCTION convo.purge_job_run_details(interval) IS 'Deletes cron.job_run_details rows that ended before now() - older_than (default setting jobs.run_details_retention); returns the count';

-- convo's jobs: name, schedule (cron syntax, UTC), command, and the function it needs (a job
-- whose function or prerequisite is missing is not scheduled).
CREATE FUNCTION convo.job_definitions()
RETURNS TABLE (jobname text, schedule text, command text, needs text)
LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
    VALUES ('convo-cache-purge', '* * * * *', 'SELECT convo.cache_purge()', 'convo.cache_purge()'),
           ('convo-expire-carts', '* * * * *', 'SELECT convo.expire_carts()', NULL),
           ('convo-warm-up', '*/5 * * * *', 'SELECT count(*) FROM convo.warm_up()', 'pg_prewarm'),
           ('convo-inbox-archive', '*/10 * * * *', 'SELECT convo.archive_inbox()', NULL),
           ('convo-refresh-stats', '17 * * * *', 'SELECT count(*) FROM convo.refresh_stats()', NULL),
           ('convo-job-history', '23 3 * * *', 'SELECT convo.purge_job_run_details()', NULL);
END;
COMMENT ON FUNCTION convo.job_definitions() IS 'convo''s pg_cron jobs: name, schedule, command, and what the job needs to be scheduled';

-- Schedules convo's jobs for the calling role. Idempotent: a job already scheduled as defined
-- is left alone (same jobid); one whose schedule or command differs is updated in place.
-- A job whose prerequisite is missing is skipped (and unscheduled if it was scheduled).
CREATE FUNCTION convo.schedule_jobs()
RETURNS TABLE (jobname text, schedule text, jobid bigint, action text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    d record;
    existing record;
    available boolean;
BEGIN
    PERFORM convo.require_pg_cron('convo.schedule_jobs');
    FOR d IN SELECT * FROM convo.job_definitions() LOOP
        jobname := d.jobname; schedule := d.schedule;
        available := d.needs IS NULL
                     OR (d.needs LIKE '%(%' AND to_regprocedure(d.needs) IS NOT NULL)
                     OR EXISTS (SELECT 1 FROM pg_extension e WHERE e.extname = d.needs);
        EXECUTE 'SELECT j.jobid, j.schedule, j.command FROM cron.job j
                  WHERE j.jobname = $1 AND j.username = current_user'
           INTO existing USING d.jobname;
        IF NOT available THEN
            IF existing.jobid IS NOT NULL THEN
                EXECUTE 'SELECT cron.unschedule($1)' USING existing.jobid;
            END IF;
            jobid := NULL; action := format('skipped: %s is not installed', d.needs);
        ELSIF existing.jobid IS NOT NULL AND existing.schedule = d.schedule AND existing.command = d.command THEN
            jobid := existing.jobid; action := 'unchanged';
        ELSE
            EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO jobid USING d.jobname, d.schedule, d.command;
            action := CASE WHEN existing.jobid IS NULL THEN 'scheduled' ELSE 'updated' END;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION convo.schedule_jobs() IS 'Schedules convo''s pg_cron jobs (convo-...) for the calling role, idempotently; raises 55000 when pg_cron is not installed';

-- Removes exactly convo's jobs (by name, the calling role's). One row per job removed.
CREATE FUNCTION convo.unschedule_jobs() RETURNS TABLE (jobname text, jobid bigint)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    r record;
BEGIN
    PERFORM convo.require_pg_cron('convo.unschedule_jobs');
    FOR r IN EXECUTE 'SELECT j.jobid, j.jobname::text AS jobname FROM cron.job j
                       WHERE j.username = current_user
                         AND j.jobname IN (SELECT d.jobname FROM convo.job_definitions() d)
                       ORDER BY j.jobname' LOOP
        EXECUTE 'SELECT cron.unschedule($1)' USING r.jobid;
        jobname := r.jobname; jobid := r.jobid;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION convo.unschedule_jobs() IS 'Removes convo''s pg_cron jobs (the names of convo.job_definitions()) of the calling role; returns those removed';
-- PostgREST roles, grants and row-level security, Supabase style.
--
--   anon           no access to any convo data
--   authenticated  the API functions, and its own account's rows only: RLS compares each
--                  row's account_id with the JWT claim account_id (convo.current_account_id())
--   service_role   the sidecar and admin tools: every function, bypasses RLS
--
-- Role names can be changed before CREATE EXTENSION with the settings convo.anon_role,
-- convo.authenticated_role and convo.service_role (e.g. ALTER DATABASE ... SET ...). Roles
-- that do not exist are created NOLOGIN; PostgREST's authenticator must be granted them.

DO $$
DECLARE
    anon text := coalesce(nullif(current_setting('convo.anon_role', true), ''), 'anon');
    authed text := coalesce(nullif(current_setting('convo.authenticated_role', true), ''), 'authenticated');
    service text := coalesce(nullif(current_setting('convo.service_role', true), ''), 'service_role');
    t text;
    tenant_tables text[] := ARRAY['accounts', 'bot_profiles', 'contacts', 'conversations', 'messages',
                                  'message_statuses', 'products', 'carts', 'cart_items', 'orders', 'templates',
                                  'context_cache', 'response_cache', 'response_cache_hits'];
    -- Tables an authenticated caller may change (its own account's rows, through RLS).
    -- Conversations and messages are narrower, below: the window must not be forgeable.
    writable text[] := ARRAY['bot_profiles', 'contacts', 'products', 'carts', 'cart_items',
                             'orders', 'templates', 'context_cache', 'response_cache_hits'];
    -- Functions an authenticated caller may run; everything else is for service_role.
    -- One signature per line.
    api text[] := ARRAY[
        'convo.free_window(uuid, timestamptz)',
        'convo.can_send_freeform(uuid)',
        'convo.record_outbound(uuid, text, jsonb, timestamptz)',
        'convo.current_account_id()',
        'convo.status_rank(text)',
        'convo.phone_digits(text)',
        'convo.upsert_bot_profile(uuid, jsonb)',
        'convo.upsert_product(uuid, jsonb)',
        'convo.product_search_text(text, jsonb)',
        'convo.search_products(uuid, text, jsonb, numeric, boolean, int)',
        'convo.json_schema_error(jsonb, jsonb, text)',
        'convo.tool_definitions(text[])',
        'convo.cart_summary(uuid, uuid)',
        'convo.call_tool(uuid, text, jsonb)',
        'convo.outbound_body(jsonb)',
        'convo.normalize_text(text)',
        'convo.greeting_phrases()',
        'convo.phrase_alternation(jsonb, text)',
        'convo.question_key(text)',
        'convo.trigram_similarity(text, text)',
        'convo.trigram_count(text)',
        'convo.response_cache_lookup(uuid, text)',
        'convo.cached_answer(uuid, text)',
        'convo.simple_intent_phrases()',
        'convo.tool_words()',
        'convo.route_model(uuid, text)',
        'convo.build_context(uuid, jsonb)'
    ];
    f text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = anon) THEN
        EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT', anon);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = authed) THEN
        EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT', authed);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = service) THEN
        EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT BYPASSRLS', service);
    END IF;

    EXECUTE format('GRANT USAGE ON SCHEMA convo TO %I, %I, %I', anon, authed, service);

    -- Functions: nothing for PUBLIC; the API for authenticated; all for service_role.
    EXECUTE 'REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA convo FROM PUBLIC';
    EXECUTE format('GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA convo TO %I', service);
    FOREACH f IN ARRAY api LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', f, authed);
    END LOOP;

    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA convo TO %I', service);
    EXECUTE format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA convo TO %I', service);

    FOREACH t IN ARRAY tenant_tables LOOP
        EXECUTE format('ALTER TABLE convo.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('GRANT SELECT ON convo.%I TO %I', t, authed);
        -- The scalar subquery makes the claim lookup an InitPlan: once per statement.
        EXECUTE format('CREATE POLICY own_account ON convo.%I TO %I '
                       'USING (account_id = (SELECT convo.current_account_id())) '
                       'WITH CHECK (account_id = (SELECT convo.current_account_id()))', t, authed);
    END LOOP;
    FOREACH t IN ARRAY writable LOOP
        EXECUTE format('GRANT INSERT, UPDATE, DELETE ON convo.%I TO %I', t, authed);
    END LOOP;
    -- An agent may hand a conversation over, close it or move its step; the window and entry
    -- point columns are written only by the message trigger, from real messages.
    EXECUTE format('GRANT UPDATE (status, bot_enabled, needs_human, bot_profile_id, current_step, closed_at) '
                   'ON convo.conversations TO %I', authed);
    -- Outbound messages only (record_outbound); inbound ones come from webhooks.
    EXECUTE format('GRANT INSERT, UPDATE (status, status_at, error_code, error) ON convo.messages TO %I', authed);
    EXECUTE format('CREATE POLICY outbound_only ON convo.messages AS RESTRICTIVE FOR INSERT TO %I '
                   'WITH CHECK (direction = ''out'')', authed);

    -- Queue, routing and cache tables hold other accounts' payloads: service_role only.
    FOREACH t IN ARRAY ARRAY['inbox', 'unroutable', 'settings', 'cache', 'cache_namespaces', 'cache_counts'] LOOP
        EXECUTE format('ALTER TABLE convo.%I ENABLE ROW LEVEL SECURITY', t);
    END LOOP;
END
$$;
-- Who may read the tool catalogue (sql/tools.sql). It runs after security.sql, once the API
-- roles exist: the catalogue is the same for every account, so authenticated callers read all
-- of it (tool_definitions and call_tool run with their rights); anon reads nothing.
DO $$
DECLARE
    authed text := coalesce(nullif(current_setting('convo.authenticated_role', true), ''), 'authenticated');
BEGIN
    EXECUTE format('GRANT SELECT ON convo.tools TO %I', authed);
    EXECUTE format('CREATE POLICY catalogue ON convo.tools FOR SELECT TO %I USING (true)', authed);
END
$$;
