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
--
-- Needs: nothing (the first part). Every other part needs it.

\echo Use "CREATE EXTENSION convo" to load this file. \quit

-- Where a webhook body comes from: the one list of sources. The inbox (and its archive), the
-- unroutable log, the kept webhook events and ingest take this type, so an unknown source is
-- refused by the type itself (23514) wherever it enters. A new source is a new value here.
CREATE DOMAIN convo.source AS text
    CONSTRAINT source_known CHECK (VALUE IN ('whatsapp', 'twilio', 'vapi'));
COMMENT ON DOMAIN convo.source IS 'A webhook source: whatsapp (Meta Cloud API), twilio or vapi';

-- Bounds and defaults of what sizes an assistant's context, in one place: the bot_profiles
-- CHECKs and column defaults below, upsert_bot_profile's schema, build_context's options (read
-- by the C++ at first use) and the cart's shape (convo.cart_summary) all take them from here.
--   history_length  messages of history in a context
--   token_budget    tokens a context may use
--   cart_lines      lines a cart shows (its total counts them all)
--   label_chars     characters of a product name in a cart line (cut with "…")
CREATE FUNCTION convo.limits() RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN jsonb '{"history_length": {"min": 0, "max": 100, "default": 5},
               "token_budget": {"min": 50, "max": 200000, "default": 1500},
               "cart_lines": {"max": 50},
               "label_chars": {"max": 40}}';
COMMENT ON FUNCTION convo.limits() IS 'Bounds and defaults of history_length, token_budget, cart_lines and label_chars: the one place they are written';

-- One bound of convo.limits() (min, max or default), for CHECKs and column defaults.
CREATE FUNCTION convo.limit_value(name text, bound text) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN (convo.limits() -> name ->> bound)::int;
COMMENT ON FUNCTION convo.limit_value(text, text) IS 'One bound (min, max, default) of a limit in convo.limits()';

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
    -- How this number sends (convo.outbox): whatsapp (Meta's Cloud API) or twilio. Nothing
    -- else in the data tells them apart: a Twilio number is routed by its display number, a
    -- Cloud API one by phone_number_id, and an account has both columns.
    channel              text NOT NULL DEFAULT 'whatsapp'
                         CONSTRAINT accounts_channel_check CHECK (channel IN ('whatsapp', 'twilio')),
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
    history_length  int NOT NULL DEFAULT convo.limit_value('history_length', 'default')
                    CONSTRAINT bot_profiles_history_length_check CHECK (history_length
                        BETWEEN convo.limit_value('history_length', 'min') AND convo.limit_value('history_length', 'max')),
    token_budget    int NOT NULL DEFAULT convo.limit_value('token_budget', 'default')
                    CONSTRAINT bot_profiles_token_budget_check CHECK (token_budget
                        BETWEEN convo.limit_value('token_budget', 'min') AND convo.limit_value('token_budget', 'max')),
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
    entry_point_replied_at timestamptz,-- first business reply since then (in time for the 72 h: free_window)
    entry_point_referral jsonb,
    -- Bumped by every change to what this conversation's context contains (see context.sql).
    context_version     bigint NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    closed_at           timestamptz,
    -- Last message a person sent from the WhatsApp Business app (an echo): a human is on it.
    human_replied_at    timestamptz,
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
    -- 'business_app': an outbound message a person sent from the WhatsApp Business app on a
    -- coexistence number (an echo); NULL for the customer's and the Cloud API's messages.
    origin           text CONSTRAINT messages_origin_check CHECK (origin IN ('business_app')),
    edited_at        timestamptz,                    -- last edit applied (body and payload are the edited ones)
    -- What the message said before each edit: [{edit_wamid, edited_at, body, payload}], oldest first.
    edits            jsonb NOT NULL DEFAULT '[]' CONSTRAINT messages_edits_check CHECK (jsonb_typeof(edits) = 'array'),
    deleted_at       timestamptz,                    -- deleted by its sender (revoke) or reported deleted
    PRIMARY KEY (account_id, message_id),
    UNIQUE (account_id, wamid),
    FOREIGN KEY (account_id, conversation_id) REFERENCES convo.conversations ON DELETE CASCADE
);

-- Every status event once, in arrival order. A status may arrive before the message it
-- belongs to is recorded (the send's response and the webhook race): record_outbound
-- applies what is waiting here. Besides the ladder, 'deleted' (the message was deleted:
-- sets messages.deleted_at) and 'warning' (Meta warns about its content) are kept as events
-- of their own; neither moves the message's status.
CREATE TABLE convo.message_statuses (
    account_id   uuid NOT NULL REFERENCES convo.accounts ON DELETE CASCADE,
    wamid        text NOT NULL,
    status       text NOT NULL CONSTRAINT message_statuses_status_check
                 CHECK (convo.status_rank(status) >= 0 OR status IN ('deleted', 'warning')),
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
    -- The template convo.send puts in place of a free-form message once the 24 h window has
    -- closed (sql/outbox.sql); at most one per account.
    reengagement boolean NOT NULL DEFAULT false,
    PRIMARY KEY (account_id, name, language)
);
CREATE UNIQUE INDEX templates_one_reengagement ON convo.templates (account_id) WHERE reengagement;

-- Webhook payloads nobody could route (unknown business number): kept with the reason.
-- No account_id: by definition none is known. A local table, like the inbox.
CREATE TABLE convo.unroutable (
    unroutable_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source         convo.source NOT NULL,
    address        text,          -- the phone_number_id or number we could not match
    reason         text NOT NULL,
    payload        jsonb NOT NULL,
    received_at    timestamptz NOT NULL DEFAULT now(),
    -- convo.payload_digest(payload): the same payload delivered twice is kept once. NULL only
    -- for rows kept before 0.2.0.
    digest         text,
    CONSTRAINT unroutable_digest_key UNIQUE (source, digest)
);

-- Webhook events kept aside instead of becoming messages, one row each with its original
-- object, for someone to see:
--   error           Meta's value-level errors (value.errors[]: code, title, message, details)
--   group_message   a message in a WhatsApp group: not part of any one-to-one conversation
--   unknown_status  a status value convo does not know (the rest of the webhook is ingested)
--   invalid_sender  a sender that is neither a phone number (7-15 digits) nor a BSUID
--   unknown_target  an edit or revoke of a message convo never stored
--   sms             a Twilio SMS reaching a WhatsApp number: not a WhatsApp message
-- event_key makes each event once: its wamid (with the status for statuses), or a digest of
-- the object when it has no id (errors).
CREATE TABLE convo.webhook_events (
    account_id     uuid NOT NULL REFERENCES convo.accounts ON DELETE CASCADE,
    kind           text NOT NULL CONSTRAINT webhook_events_kind_check CHECK (kind IN
                       ('error', 'group_message', 'unknown_status', 'invalid_sender', 'unknown_target', 'sms')),
    event_key      text NOT NULL,
    source         convo.source NOT NULL,
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

-- Raw webhook bodies, written before the webhook is acknowledged. The body is text, not
-- jsonb: a body may carry the JSON escape \u0000, which jsonb refuses; ingest drops those
-- NUL characters. No account_id: the body is stored before it is routed.
CREATE TABLE convo.inbox (
    inbox_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source          convo.source NOT NULL,
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
    description text NOT NULL,
    -- The row as convo wrote it (NULL for a row someone added): a row that differs from it
    -- is a user's change, and that is what pg_dump keeps (sql/backup.sql).
    installed   jsonb CONSTRAINT settings_installed_check CHECK (jsonb_typeof(installed) = 'object')
);
INSERT INTO convo.settings VALUES
    ('inbox.max_attempts', '5', 'ingest attempts before an inbox item is kept as dead'),
    ('inbox.lease', '60 seconds', 'how long a claimed inbox item stays with its worker before others may claim it'),
    ('inbox.backoff_base', '2 seconds', 'first retry delay; doubles per attempt'),
    ('inbox.backoff_max', '10 minutes', 'longest retry delay'),
    ('response_cache.similarity', '0.75', 'lowest pg_trgm similarity (0.3 to 1) at which a customer''s text matches a cached question; equal normalized texts always match');
