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

-- on_message_inserted (echoes): re-created once, with its final text, in the outbox section.

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

    -- Status webhooks may have come before this call.
    PERFORM convo.apply_waiting_statuses(conv.account_id, record_outbound.wamid);
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
    -- record_outbound, which authenticated may call, applies waiting statuses through it.
    EXECUTE 'REVOKE EXECUTE ON FUNCTION convo.apply_waiting_statuses(uuid, text) FROM PUBLIC';
    EXECUTE format('GRANT EXECUTE ON FUNCTION convo.apply_waiting_statuses(uuid, text) TO %I, %I', service, authed);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON convo.webhook_events TO %I', service);
    EXECUTE 'ALTER TABLE convo.webhook_events ENABLE ROW LEVEL SECURITY';
    EXECUTE format('GRANT SELECT ON convo.webhook_events TO %I', authed);
    EXECUTE format('CREATE POLICY own_account ON convo.webhook_events TO %I '
                   'USING (account_id = (SELECT convo.current_account_id())) '
                   'WITH CHECK (account_id = (SELECT convo.current_account_id()))', authed);
    EXECUTE format('GRANT UPDATE (deleted_at) ON convo.messages TO %I', authed);
END
$$;

-- ============================================================================================
-- One owner per concept: the source domain, the limits, the effective profile, the cart's
-- one shape, routing split from its profile read, the entry point's reply recorded as a fact.
-- The functions it re-creates are written as the install script has them now, other parts'
-- changes to them included: a later change to one of them belongs here too.
-- ============================================================================================

-- The one list of sources.
CREATE DOMAIN convo.source AS text
    CONSTRAINT source_known CHECK (VALUE IN ('whatsapp', 'twilio', 'vapi'));
COMMENT ON DOMAIN convo.source IS 'A webhook source: whatsapp (Meta Cloud API), twilio or vapi';

ALTER TABLE convo.inbox DROP CONSTRAINT inbox_source_check;
ALTER TABLE convo.inbox ALTER COLUMN source TYPE convo.source;
ALTER TABLE convo.inbox_archive ALTER COLUMN source TYPE convo.source;
ALTER TABLE convo.unroutable ALTER COLUMN source TYPE convo.source;
ALTER TABLE convo.webhook_events ALTER COLUMN source TYPE convo.source;

-- The limits, and the bot profile columns that take them.
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

ALTER TABLE convo.bot_profiles ALTER COLUMN history_length SET DEFAULT convo.limit_value('history_length', 'default');
ALTER TABLE convo.bot_profiles ALTER COLUMN token_budget SET DEFAULT convo.limit_value('token_budget', 'default');
ALTER TABLE convo.bot_profiles DROP CONSTRAINT bot_profiles_history_length_check;
ALTER TABLE convo.bot_profiles ADD CONSTRAINT bot_profiles_history_length_check CHECK (history_length
    BETWEEN convo.limit_value('history_length', 'min') AND convo.limit_value('history_length', 'max'));
ALTER TABLE convo.bot_profiles DROP CONSTRAINT bot_profiles_token_budget_check;
ALTER TABLE convo.bot_profiles ADD CONSTRAINT bot_profiles_token_budget_check CHECK (token_budget
    BETWEEN convo.limit_value('token_budget', 'min') AND convo.limit_value('token_budget', 'max'));

-- Functions whose source argument is now a convo.source.
DROP FUNCTION convo.inbox_put(text, text);
CREATE FUNCTION convo.inbox_put(source convo.source, body text) RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    id bigint;
BEGIN
    IF source IS NULL THEN
        RAISE EXCEPTION 'convo.inbox_put: source must not be NULL' USING ERRCODE = '22004';
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
COMMENT ON FUNCTION convo.inbox_put(convo.source, text) IS 'Stores a raw webhook body (source whatsapp|twilio|vapi) for ingestion; returns its inbox id';

CREATE OR REPLACE FUNCTION convo.inbox_put_batch(sources text[], bodies text[], dead_reasons text[] DEFAULT NULL,
                                      notify boolean DEFAULT true)
RETURNS SETOF bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    n int;
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
    -- The sidecar passes text[]; each source becomes a convo.source, which refuses an unknown
    -- one (23514) before anything is stored.
    PERFORM sources::convo.source[];

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

DROP FUNCTION convo.ingest(text, jsonb);
DROP FUNCTION convo.ingest_body(text, text);
CREATE FUNCTION convo.ingest(source convo.source, payload jsonb) RETURNS jsonb
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'convo_ingest';
COMMENT ON FUNCTION convo.ingest(convo.source, jsonb) IS 'Ingests a webhook payload (source whatsapp: a Cloud API notification; twilio: the form fields as an object); returns {messages, duplicates, statuses, unroutable, ignored, echoes, edits, revokes, flagged, groups, errors, conversations}';

CREATE FUNCTION convo.ingest_body(source convo.source, body text) RETURNS jsonb
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'convo_ingest_body';
COMMENT ON FUNCTION convo.ingest_body(convo.source, text) IS 'Ingests a raw webhook body as stored in the inbox (JSON text, or form-encoded for twilio); \u0000 escapes are dropped from strings';

-- on_message_inserted (the entry point's reply recorded as a fact): re-created once, with its
-- final text, in the outbox section.

-- The effective profile, and the functions that take their profile from it.
CREATE OR REPLACE FUNCTION convo.upsert_bot_profile(account_id uuid, profile jsonb) RETURNS uuid
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
#variable_conflict use_column
DECLARE
    fn constant text := 'convo.upsert_bot_profile: ';
    -- The bounds of history_length and token_budget are convo.limits()'.
    schema constant jsonb := jsonb_set(jsonb_set($json$
        {"type": "object", "required": ["name"], "additionalProperties": false, "properties": {
          "name": {"type": "string", "minLength": 1, "maxLength": 100},
          "system_template": {"type": "string", "minLength": 1, "maxLength": 20000},
          "small_model": {"type": "string", "minLength": 1, "maxLength": 200},
          "large_model": {"type": "string", "minLength": 1, "maxLength": 200},
          "history_length": {"type": "integer"},
          "token_budget": {"type": "integer"},
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
    $json$,
        '{properties,history_length}', jsonb_build_object('type', 'integer',
            'minimum', convo.limit_value('history_length', 'min'), 'maximum', convo.limit_value('history_length', 'max'))),
        '{properties,token_budget}', jsonb_build_object('type', 'integer',
            'minimum', convo.limit_value('token_budget', 'min'), 'maximum', convo.limit_value('token_budget', 'max')));
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

CREATE FUNCTION convo.effective_profile(account_id uuid, bot_profile_id uuid)
RETURNS SETOF convo.bot_profiles
LANGUAGE sql STABLE
AS $$
    SELECT b.* FROM convo.bot_profiles b
     WHERE b.account_id = effective_profile.account_id
       AND b.bot_profile_id = coalesce(effective_profile.bot_profile_id,
               (SELECT d.bot_profile_id FROM convo.bot_profiles d
                 WHERE d.account_id = effective_profile.account_id AND d.is_default))
$$;
COMMENT ON FUNCTION convo.effective_profile(uuid, uuid) IS 'The bot profile a conversation follows: bot_profile_id if given, else the account''s default; no row when the account has none (see convo.no_bot_profile)';

CREATE FUNCTION convo.no_bot_profile(account_id uuid, caller text) RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog
AS $$
BEGIN
    RAISE EXCEPTION '%: account % has no default bot profile', caller, account_id
        USING ERRCODE = '55000',
              HINT = 'Make one of its profiles the default (convo.upsert_bot_profile with "is_default": true), or give the conversation a bot_profile_id.';
END
$$;
COMMENT ON FUNCTION convo.no_bot_profile(uuid, text) IS 'Raises 55000: the account has no bot profile for the conversation (what every caller of effective_profile says)';

CREATE FUNCTION convo.open_cart(account_id uuid, contact_id uuid)
RETURNS TABLE (summary jsonb, prompt_line text, expires_at timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT jsonb_strip_nulls(jsonb_build_object(
               'items', coalesce(jsonb_agg(jsonb_build_object(
                            'product_id', l.product_id,
                            'label', CASE WHEN length(l.name) > convo.limit_value('label_chars', 'max')
                                          THEN left(l.name, convo.limit_value('label_chars', 'max') - 1) || '…'
                                          ELSE l.name END,
                            'quantity', l.quantity,
                            'unit_price', l.unit_price,
                            'line_total', l.quantity * l.unit_price)
                          ORDER BY l.added_at, l.product_id)
                          FILTER (WHERE l.n <= convo.limit_value('cart_lines', 'max')), '[]'),
               'total', coalesce(sum(l.quantity * l.unit_price), 0),
               'currency', min(l.currency),
               'more', nullif(count(*) FILTER (WHERE l.n > convo.limit_value('cart_lines', 'max')), 0))),
           CASE WHEN count(l.product_id) > 0 THEN
               format('%s %s, %s %s', sum(l.quantity), CASE WHEN sum(l.quantity) = 1 THEN 'item' ELSE 'items' END,
                      sum(l.quantity * l.unit_price), min(l.currency)) END,
           min(l.cart_expires_at)
      FROM (SELECT 1) AS one
      LEFT JOIN (SELECT i.product_id, p.name, i.quantity, i.unit_price, p.currency, i.added_at,
                        c.expires_at AS cart_expires_at,
                        row_number() OVER (ORDER BY i.added_at, i.product_id) AS n
                   FROM convo.carts c
                   JOIN convo.cart_items i ON i.account_id = c.account_id AND i.cart_id = c.cart_id
                   JOIN convo.products p ON p.account_id = i.account_id AND p.product_id = i.product_id
                  WHERE c.account_id = open_cart.account_id AND c.contact_id = open_cart.contact_id
                    AND c.status = 'open' AND c.expires_at > now()) AS l ON true;
END;
COMMENT ON FUNCTION convo.open_cart(uuid, uuid) IS 'A contact''s open, unexpired cart: its summary ({items: [{product_id, label, quantity, unit_price, line_total}], total, currency}), its prompt line ("3 items, 59.97 USD") and when it expires';

CREATE OR REPLACE FUNCTION convo.cart_summary(account_id uuid, contact_id uuid) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT c.summary FROM convo.open_cart(cart_summary.account_id, cart_summary.contact_id) AS c;
END;
COMMENT ON FUNCTION convo.cart_summary(uuid, uuid) IS 'A contact''s open, unexpired cart as the model sees it: {items: [{product_id, label, quantity, unit_price, line_total}], total, currency} (convo.open_cart)';

CREATE OR REPLACE FUNCTION convo.call_tool(conversation_id uuid, name text, arguments jsonb DEFAULT '{}')
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
#variable_conflict use_column
DECLARE
    args jsonb := coalesce(arguments, '{}');   -- a call without arguments
    conv record;
    profile convo.bot_profiles;
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

    SELECT p.* INTO profile FROM convo.effective_profile(conv.account_id, conv.bot_profile_id) AS p;
    IF NOT FOUND THEN
        PERFORM convo.no_bot_profile(conv.account_id, 'convo.call_tool');
    END IF;
    SELECT string_agg(t.name, ', ' ORDER BY t.position) INTO enabled
      FROM convo.tools t WHERE t.name = ANY (profile.tools);

    SELECT t.name, t.parameters INTO tool FROM convo.tools t WHERE t.name = call_tool.name;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('error', format('unknown tool %s; available tools: %s',
            coalesce(to_jsonb(left(call_tool.name, 64))::text, 'null'), coalesce(enabled, 'none')));
    END IF;
    IF NOT tool.name = ANY (profile.tools) THEN
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

CREATE FUNCTION convo.route_text(account_id uuid, small_model text, large_model text,
                                 simple_intents text[], text text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
#variable_conflict use_column
DECLARE
    fn constant text := 'convo.route_text: ';
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
    IF route_text.account_id IS NULL OR route_text.text IS NULL THEN
        RAISE EXCEPTION '%account_id and text are required', fn USING ERRCODE = '22004';
    END IF;

    -- Most accounts have no cached answers: one index probe then spares the lookup. Asked for
    -- the first entry in primary key order: a generic plan of EXISTS may pick a sequential
    -- scan that expects an early match, and reads every other account's entries when the
    -- account has none.
    IF (SELECT c.entry_id FROM convo.response_cache c WHERE c.account_id = route_text.account_id
         ORDER BY c.entry_id LIMIT 1) IS NOT NULL THEN
        hit := convo.response_cache_lookup(route_text.account_id, convo.question_key(route_text.text));
    END IF;
    IF hit IS NOT NULL THEN
        RETURN jsonb_build_object('tier', 'cached', 'model', NULL, 'reason', 'cache_hit:' || (hit ->> 'entry_id'),
                                  'cached', hit);
    END IF;

    norm := convo.normalize_text(route_text.text);
    -- The first tool word of the text (leftmost, longest).
    stem := (regexp_match(norm, '\m(' || convo.phrase_alternation(convo.tool_words()) || ')'))[1];
    IF stem IS NOT NULL THEN
        RETURN jsonb_build_object('tier', 'large', 'model', route_text.large_model,
                                  'reason', 'tool_words:' || (convo.tool_words() ->> stem), 'cached', NULL);
    END IF;

    IF norm = '' THEN
        -- No letters or digits: a few emoji are a simple intent; punctuation alone, or nothing
        -- (a media message without caption), goes to the large model.
        IF length(route_text.text) <= 32
           AND route_text.text ~ '[\u00A9\u00AE\u203C\u2049\u2122\u2139\u2190-\u21FF\u2300-\u23FF\u24C2\u25A0-\u27BF\u2900-\u297F\u2B00-\u2BFF\u3030\u303D\u3297\u3299\U0001F000-\U0001FAFF]'
        THEN
            RETURN jsonb_build_object('tier', 'small', 'model', route_text.small_model, 'reason', 'simple_intent:emoji',
                                      'cached', NULL);
        END IF;
        RETURN jsonb_build_object('tier', 'large', 'model', route_text.large_model, 'reason', 'no_words', 'cached', NULL);
    END IF;

    -- Simple intents are short: at most 80 characters and 8 words once normalized.
    IF length(norm) <= 80 AND cardinality(string_to_array(norm, ' ')) <= 8 THEN
        -- A profile's own phrases replace the built-in ones (NULL: the built-in list).
        IF route_text.simple_intents IS NULL THEN
            phrases := convo.simple_intent_phrases();
            longest := 4;
        ELSE
            SELECT coalesce(jsonb_object_agg(p.n, 'profile'), '{}'), coalesce(max(cardinality(string_to_array(p.n, ' '))), 0)
              INTO phrases, longest
              FROM (SELECT DISTINCT convo.normalize_text(s) AS n FROM unnest(route_text.simple_intents) AS s) AS p
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
                RETURN jsonb_build_object('tier', 'small', 'model', route_text.small_model, 'reason',
                    'simple_intent:' || (phrases ->> array_to_string(words[1:step[1]], ' ')), 'cached', NULL);
            END IF;
        END LOOP;
    END IF;

    RETURN jsonb_build_object('tier', 'large', 'model', route_text.large_model, 'reason', 'default', 'cached', NULL);
END
$$;
COMMENT ON FUNCTION convo.route_text(uuid, text, text, text[], text) IS 'Which model answers text for an account and its profile''s models and simple intents: {tier: cached|small|large, model, reason, cached}; a cached answer first, then tool words (large), then short simple intents (small), else large';

CREATE OR REPLACE FUNCTION convo.route_model(conversation_id uuid, text text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
#variable_conflict use_column
DECLARE
    conv record;
    profile convo.bot_profiles;
BEGIN
    IF conversation_id IS NULL OR route_model.text IS NULL THEN
        RAISE EXCEPTION 'convo.route_model: conversation_id and text are required' USING ERRCODE = '22004';
    END IF;
    -- Row-level security applies: another account's conversation is unknown here.
    SELECT c.account_id, c.bot_profile_id INTO conv
      FROM convo.conversations c WHERE c.conversation_id = route_model.conversation_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'convo.route_model: unknown conversation %', conversation_id USING ERRCODE = 'P0002';
    END IF;
    SELECT p.* INTO profile FROM convo.effective_profile(conv.account_id, conv.bot_profile_id) AS p;
    IF NOT FOUND THEN
        PERFORM convo.no_bot_profile(conv.account_id, 'convo.route_model');
    END IF;
    RETURN convo.route_text(conv.account_id, profile.small_model, profile.large_model, profile.simple_intents,
                            route_model.text);
END
$$;
COMMENT ON FUNCTION convo.route_model(uuid, text) IS 'Which model answers text in this conversation: {tier: cached|small|large, model, reason, cached}; a cached answer first, then tool words (large), then short simple intents (small), else large';

-- build_context reads through the owners above; 0.1.0's C entry point stays for databases
-- not yet upgraded. Contexts cached by 0.1.0 hold its cart shape: they go.
CREATE OR REPLACE FUNCTION convo.build_context(conversation_id uuid, options jsonb DEFAULT '{}')
RETURNS jsonb
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'convo_build_context_0_2';
COMMENT ON FUNCTION convo.build_context(uuid, jsonb) IS 'Everything an assistant needs before an LLM request: OpenAI messages within the token budget, tools, model, window, customer, cart (options: history, max_tokens, include_orders)';
TRUNCATE convo.context_cache;

-- Grants of the new and re-created functions, as sql/security.sql gives them.
DO $$
DECLARE
    authed text := coalesce(nullif(current_setting('convo.authenticated_role', true), ''), 'authenticated');
    service text := coalesce(nullif(current_setting('convo.service_role', true), ''), 'service_role');
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY['convo.limits()', 'convo.limit_value(text, text)', 'convo.inbox_put(convo.source, text)',
                             'convo.ingest(convo.source, jsonb)', 'convo.ingest_body(convo.source, text)',
                             'convo.effective_profile(uuid, uuid)', 'convo.no_bot_profile(uuid, text)', 'convo.open_cart(uuid, uuid)',
                             'convo.route_text(uuid, text, text, text[], text)'] LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', f, service);
    END LOOP;
    FOREACH f IN ARRAY ARRAY['convo.limits()', 'convo.limit_value(text, text)', 'convo.effective_profile(uuid, uuid)', 'convo.no_bot_profile(uuid, text)',
                             'convo.open_cart(uuid, uuid)', 'convo.route_text(uuid, text, text, text[], text)'] LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', f, authed);
    END LOOP;
END
$$;

-- ---------------------------------------------------------------------------------------
-- Backups (sql/backup.sql): pg_dump keeps every table that holds data, with its identity
-- sequence, and of the reference tables only the rows a user added or changed; the caches
-- rebuilt on demand are left out (convo.not_dumped()).
-- ---------------------------------------------------------------------------------------

-- The row as convo wrote it, at the end of each reference table, as the install script's
-- CREATE TABLEs have it.
ALTER TABLE convo.settings
    ADD COLUMN installed jsonb CONSTRAINT settings_installed_check CHECK (jsonb_typeof(installed) = 'object');
ALTER TABLE convo.cache_namespaces
    ADD COLUMN installed jsonb CONSTRAINT cache_namespaces_installed_check CHECK (jsonb_typeof(installed) = 'object');
ALTER TABLE convo.tools
    ADD COLUMN installed jsonb CONSTRAINT tools_installed_check CHECK (jsonb_typeof(installed) = 'object');
ALTER TABLE convo.managed_indexes
    ADD COLUMN installed jsonb CONSTRAINT managed_indexes_installed_check CHECK (jsonb_typeof(installed) = 'object');

-- The tables pg_dump leaves out, each with the reason: caches, rebuilt on demand.
CREATE FUNCTION convo.not_dumped() RETURNS TABLE (table_name text, reason text)
LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
    VALUES ('context_cache', 'build_context''s cache, rebuilt on demand from the tables it was built from (UNLOGGED: a crash empties it too)'),
           ('cache', 'values that can be fetched or computed again, never the only copy of anything (UNLOGGED: a crash empties it too)'),
           ('cache_counts', 'hit and miss statistics of convo.cache, lost with it (UNLOGGED: a crash empties it too)');
END;
COMMENT ON FUNCTION convo.not_dumped() IS 'The tables of schema convo whose rows pg_dump does not keep, with the reason; every other table is marked with pg_extension_config_dump';

-- Before an insert into a reference table: a row with the key of a row still as convo wrote
-- it replaces that row (keeping its installed), instead of failing on the key. TG_ARGV[0]
-- names the key column. This is how a restore puts back a user's change to a reference row.
CREATE FUNCTION convo.merge_reference_row() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    key name := TG_ARGV[0];
    cols text;
    vals text;
    merged bigint;
BEGIN
    -- Every column but the key (an UPDATE OF the key would fire triggers on renames),
    -- installed, and generated ones.
    SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum),
           string_agg('($1).' || quote_ident(a.attname), ', ' ORDER BY a.attnum)
      INTO cols, vals
      FROM pg_attribute a
     WHERE a.attrelid = TG_RELID AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
       AND a.attname NOT IN (key, 'installed');
    EXECUTE format('UPDATE %s t SET (%s) = ROW(%s) WHERE t.%I = ($1).%I AND t.installed IS NOT NULL '
                   'AND jsonb_populate_record(t, t.installed) IS NOT DISTINCT FROM t',
                   TG_RELID::regclass, cols, vals, key, key)
        USING NEW;
    GET DIAGNOSTICS merged = ROW_COUNT;
    IF merged > 0 THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION convo.merge_reference_row() IS 'Trigger: an inserted reference row (settings, cache namespaces, tools, managed indexes) replaces the row with its key while that row is as convo installed it; how a restore puts back a user''s changes';

-- Data: everything a user or a webhook wrote.
SELECT pg_catalog.pg_extension_config_dump('convo.accounts', '');
SELECT pg_catalog.pg_extension_config_dump('convo.bot_profiles', '');
SELECT pg_catalog.pg_extension_config_dump('convo.contacts', '');
SELECT pg_catalog.pg_extension_config_dump('convo.conversations', '');
SELECT pg_catalog.pg_extension_config_dump('convo.messages', '');
SELECT pg_catalog.pg_extension_config_dump(pg_get_serial_sequence('convo.messages', 'message_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump('convo.message_statuses', '');
SELECT pg_catalog.pg_extension_config_dump('convo.products', '');
SELECT pg_catalog.pg_extension_config_dump('convo.carts', '');
SELECT pg_catalog.pg_extension_config_dump('convo.cart_items', '');
SELECT pg_catalog.pg_extension_config_dump('convo.orders', '');
SELECT pg_catalog.pg_extension_config_dump('convo.templates', '');
SELECT pg_catalog.pg_extension_config_dump('convo.webhook_events', '');
SELECT pg_catalog.pg_extension_config_dump('convo.unroutable', '');
SELECT pg_catalog.pg_extension_config_dump(pg_get_serial_sequence('convo.unroutable', 'unroutable_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump('convo.inbox', '');
SELECT pg_catalog.pg_extension_config_dump(pg_get_serial_sequence('convo.inbox', 'inbox_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump('convo.inbox_archive', '');
SELECT pg_catalog.pg_extension_config_dump('convo.response_cache', '');
SELECT pg_catalog.pg_extension_config_dump(pg_get_serial_sequence('convo.response_cache', 'entry_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump('convo.response_cache_hits', '');

-- Reference rows: the ones a user added or changed. pg_dump runs the condition with an empty
-- search_path, hence pg_catalog.
SELECT pg_catalog.pg_extension_config_dump('convo.settings',
    'WHERE installed IS NULL OR pg_catalog.jsonb_populate_record(settings, installed) IS DISTINCT FROM settings');
SELECT pg_catalog.pg_extension_config_dump('convo.cache_namespaces',
    'WHERE installed IS NULL OR pg_catalog.jsonb_populate_record(cache_namespaces, installed) IS DISTINCT FROM cache_namespaces');
SELECT pg_catalog.pg_extension_config_dump('convo.tools',
    'WHERE installed IS NULL OR pg_catalog.jsonb_populate_record(tools, installed) IS DISTINCT FROM tools');
SELECT pg_catalog.pg_extension_config_dump('convo.managed_indexes',
    'WHERE installed IS NULL OR pg_catalog.jsonb_populate_record(managed_indexes, installed) IS DISTINCT FROM managed_indexes');

COMMENT ON COLUMN convo.settings.installed IS 'The row as convo installed it (NULL: added by a user); pg_dump keeps the rows that differ from it';
COMMENT ON COLUMN convo.cache_namespaces.installed IS 'The row as convo installed it (NULL: added by a user); pg_dump keeps the rows that differ from it';
COMMENT ON COLUMN convo.tools.installed IS 'The row as convo installed it (NULL: added by a user); pg_dump keeps the rows that differ from it';
COMMENT ON COLUMN convo.managed_indexes.installed IS 'The row as convo installed it (NULL: added by a user); pg_dump keeps the rows that differ from it';

CREATE TRIGGER merge_reference_row BEFORE INSERT ON convo.settings
    FOR EACH ROW EXECUTE FUNCTION convo.merge_reference_row('name');
CREATE TRIGGER merge_reference_row BEFORE INSERT ON convo.cache_namespaces
    FOR EACH ROW EXECUTE FUNCTION convo.merge_reference_row('namespace');
CREATE TRIGGER merge_reference_row BEFORE INSERT ON convo.tools
    FOR EACH ROW EXECUTE FUNCTION convo.merge_reference_row('name');
CREATE TRIGGER merge_reference_row BEFORE INSERT ON convo.managed_indexes
    FOR EACH ROW EXECUTE FUNCTION convo.merge_reference_row('index_name');
ALTER TABLE convo.settings ENABLE ALWAYS TRIGGER merge_reference_row;
ALTER TABLE convo.cache_namespaces ENABLE ALWAYS TRIGGER merge_reference_row;
ALTER TABLE convo.tools ENABLE ALWAYS TRIGGER merge_reference_row;
ALTER TABLE convo.managed_indexes ENABLE ALWAYS TRIGGER merge_reference_row;

-- The reference rows as this version writes them (0.1.0 wrote the same). A setting or a
-- namespace tuned under 0.1.0 keeps its value and is known as changed, so pg_dump keeps it.
UPDATE convo.settings t SET installed = to_jsonb(d)
  FROM (VALUES
    ('inbox.max_attempts', '5', 'ingest attempts before an inbox item is kept as dead'),
    ('inbox.lease', '60 seconds', 'how long a claimed inbox item stays with its worker before others may claim it'),
    ('inbox.backoff_base', '2 seconds', 'first retry delay; doubles per attempt'),
    ('inbox.backoff_max', '10 minutes', 'longest retry delay'),
    ('response_cache.similarity', '0.75', 'lowest pg_trgm similarity (0.3 to 1) at which a customer''s text matches a cached question; equal normalized texts always match'),
    ('cache.purge_batch', '1000', 'expired cache entries deleted per statement by cache_purge'),
    ('indexes.seq_scan_min', '1000', 'sequential scans (since the last stats reset) from which index_status reports a convo table whose sequential scans outnumber its index scans'),
    ('inbox.retention', '7 days', 'done and dead inbox items older than this (by processed_at) are moved to convo.inbox_archive'),
    ('jobs.run_details_retention', '7 days', 'cron.job_run_details rows older than this (by end_time) are deleted by convo-job-history'),
    ('warm_up.max_relation_size', '256MB', 'warm_up skips tables and indexes larger than this (they would evict more than they warm)')
  ) AS d(name, value, description)
 WHERE t.name = d.name;
UPDATE convo.cache_namespaces t SET installed = to_jsonb(d)
  FROM (VALUES
    ('media', interval '1 hour', 'media metadata from the Graph API (URL, MIME type, sha256)'),
    ('contact_info', interval '10 minutes', 'contact lookups'),
    ('session', interval '2 minutes', 'validated tokens'),
    ('debounce', interval '5 minutes', 'cache_try_lock markers: one caller per key and window'),
    ('response', interval '1 hour', 'generated responses')
  ) AS d(namespace, default_ttl, description)
 WHERE t.namespace = d.namespace;
-- Tools and managed indexes only their owner could change: taken as they are. The tools'
-- statement trigger is held back: nothing a context shows changes here, and cached contexts
-- stay valid.
ALTER TABLE convo.tools DISABLE TRIGGER tool_changed_context;
UPDATE convo.tools t SET installed = to_jsonb(t) - 'installed'
 WHERE t.name IN ('search_products', 'add_to_cart', 'remove_from_cart', 'view_cart', 'update_progress',
                  'handoff_to_human', 'get_business_info');
ALTER TABLE convo.tools ENABLE TRIGGER tool_changed_context;
UPDATE convo.managed_indexes t SET installed = to_jsonb(t) - 'installed'
 WHERE t.index_name IN ('accounts_phone_number_id_key', 'accounts_display_phone_number_key',
                        'contacts_account_user_id_key', 'contacts_account_wa_id_key',
                        'conversations_conversation_id', 'conversations_account_updated',
                        'messages_conversation_sent', 'messages_inbound_window', 'carts_contact_expiry',
                        'carts_open_expiry', 'orders_contact_created', 'inbox_claimable', 'inbox_finished');

-- As security.sql gives every function: service_role's, nobody else's.
DO $$
DECLARE
    service text := coalesce(nullif(current_setting('convo.service_role', true), ''), 'service_role');
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY['convo.not_dumped()', 'convo.merge_reference_row()'] LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', f, service);
    END LOOP;
END
$$;

-- ---------------------------------------------------------------------------------------
-- A message its sender deleted leaves the assistant's context: its deletion outdates the
-- cached contexts of its conversation.
-- ---------------------------------------------------------------------------------------

DROP TRIGGER message_changed_context ON convo.messages;
-- deleted_at: a message its sender deleted leaves the assistant's context (it shows as deleted).
CREATE TRIGGER message_changed_context AFTER UPDATE OF direction, type, body, payload, sent_at, deleted_at OR DELETE
    ON convo.messages FOR EACH ROW EXECUTE FUNCTION convo.touch_conversation_context('conversation');

-- ---------------------------------------------------------------------------------------
-- The outbox (sql/outbox.sql): convo.send decides from the window what is queued, the
-- worker functions move items through their states, an inbound message releases what
-- awaited the window. The accounts' channel and the templates' re-engagement mark, as the
-- install script's CREATE TABLEs have them (at the end of each table).
-- ---------------------------------------------------------------------------------------

ALTER TABLE convo.accounts ADD COLUMN
    -- How this number sends (convo.outbox): whatsapp (Meta's Cloud API) or twilio. Nothing
    -- else in the data tells them apart: a Twilio number is routed by its display number, a
    -- Cloud API one by phone_number_id, and an account has both columns.
    channel              text NOT NULL DEFAULT 'whatsapp'
                         CONSTRAINT accounts_channel_check CHECK (channel IN ('whatsapp', 'twilio'));
ALTER TABLE convo.templates ADD COLUMN
    -- The template convo.send puts in place of a free-form message once the 24 h window has
    -- closed (sql/outbox.sql); at most one per account.
    reengagement boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX templates_one_reengagement ON convo.templates (account_id) WHERE reengagement;

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

-- The outbox's managed indexes (sql/indexes.sql), built now as CREATE EXTENSION builds them.
INSERT INTO convo.managed_indexes (index_name, table_name, is_unique, definition, reason) VALUES
    ('outbox_due', 'outbox', false, '(state, next_attempt_at, created_at) WHERE state IN (''queued'', ''sending'', ''awaiting_window'')',
     'outbox_claim takes due queued items in order, and outbox_expire finds ended leases and expired waits, without reading sent and failed ones'),
    ('outbox_awaiting_window', 'outbox', false, '(account_id, conversation_id) WHERE state = ''awaiting_window''',
     'every inbound message releases its conversation''s items awaiting the window: one probe of a small index');
DO $$
BEGIN
    EXECUTE convo.managed_index_ddl('outbox_awaiting_window');
    EXECUTE convo.managed_index_ddl('outbox_due');
END
$$;

-- The message trigger's final text (every part's change to it: echoes, system notices, the entry
-- point's reply as a fact, and here the release of the items awaiting the window).
CREATE OR REPLACE FUNCTION convo.on_message_inserted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog
AS $$
BEGIN
    IF NEW.direction = 'in' AND NEW.type = 'system' THEN
        -- A notice from WhatsApp about the customer (a new number, a new BSUID), not something
        -- the customer wrote: it neither opens the window nor counts as unread or reopens.
        UPDATE convo.conversations c SET
            last_message_at = greatest(c.last_message_at, NEW.sent_at),
            updated_at = now()
        WHERE c.account_id = NEW.account_id AND c.conversation_id = NEW.conversation_id;
    ELSIF NEW.direction = 'in' THEN
        UPDATE convo.conversations c SET
            last_inbound_at = greatest(c.last_inbound_at, NEW.sent_at),
            last_message_at = greatest(c.last_message_at, NEW.sent_at),
            unread_count = c.unread_count + 1,
            status = 'open',
            closed_at = NULL,
            -- A referral (ad or post click) starts a new entry point; the 72 h free window
            -- opens only when the business answers it within 24 h (core/free_window.cpp).
            entry_point_source = CASE WHEN NEW.payload ? 'referral'
                THEN coalesce(NEW.payload #>> '{referral,source_type}', 'unknown') ELSE c.entry_point_source END,
            entry_point_at = CASE WHEN NEW.payload ? 'referral' THEN NEW.sent_at ELSE c.entry_point_at END,
            entry_point_replied_at = CASE WHEN NEW.payload ? 'referral' THEN NULL ELSE c.entry_point_replied_at END,
            entry_point_referral = CASE WHEN NEW.payload ? 'referral' THEN NEW.payload -> 'referral' ELSE c.entry_point_referral END,
            updated_at = now()
        WHERE c.account_id = NEW.account_id AND c.conversation_id = NEW.conversation_id;
        -- The customer reopened the window: what waited for it (sql/outbox.sql) goes out now,
        -- in the order it was queued; what waited too long stays for outbox_expire.
        UPDATE convo.outbox o SET state = 'queued', next_attempt_at = now()
         WHERE o.account_id = NEW.account_id AND o.conversation_id = NEW.conversation_id
           AND o.state = 'awaiting_window' AND o.next_attempt_at > now();
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
        -- Outbound messages never open or extend the window. Only a fact is recorded here:
        -- the first business reply since the entry point (the earliest, whatever order replies
        -- are recorded in). Whether it came in time to open the 72 h window is decided by
        -- core/free_window.cpp alone.
        UPDATE convo.conversations c SET
            last_outbound_at = greatest(c.last_outbound_at, NEW.sent_at),
            last_message_at = greatest(c.last_message_at, NEW.sent_at),
            unread_count = 0,
            entry_point_replied_at = CASE
                WHEN NEW.sent_at >= c.entry_point_at THEN least(c.entry_point_replied_at, NEW.sent_at)
                ELSE c.entry_point_replied_at END,
            updated_at = now()
        WHERE c.account_id = NEW.account_id AND c.conversation_id = NEW.conversation_id;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION convo.on_message_inserted() IS 'Trigger: an inserted message updates its conversation (window, entry point, unread count, timestamps, human reply from the Business app); an inbound one releases the outbox items awaiting the window';

-- Grants and row-level security, as sql/security.sql gives them; pg_dump keeps the outbox
-- (sql/backup.sql); the new reference rows as this version writes them.
DO $$
DECLARE
    authed text := coalesce(nullif(current_setting('convo.authenticated_role', true), ''), 'authenticated');
    service text := coalesce(nullif(current_setting('convo.service_role', true), ''), 'service_role');
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY['convo.outbox_setting(text)', 'convo.outbox_kind(jsonb)', 'convo.outbox_check_body(jsonb)',
                             'convo.reengagement_template(uuid, uuid)', 'convo.outbox_replay(uuid, text, text)',
                             'convo.send(uuid, jsonb, jsonb)', 'convo.outbox_expire_leases()', 'convo.outbox_claim(int)',
                             'convo.outbox_item(uuid, text)', 'convo.outbox_sent(uuid, text, timestamptz)',
                             'convo.outbox_failed(uuid, text, text, boolean, interval)', 'convo.outbox_expire()',
                             'convo.outbox_rewait(convo.outbox, text, text)', 'convo.on_status_resolve_outbox()'] LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', f, service);
    END LOOP;
    FOREACH f IN ARRAY ARRAY['convo.send(uuid, jsonb, jsonb)', 'convo.outbox_kind(jsonb)', 'convo.outbox_check_body(jsonb)',
                             'convo.outbox_replay(uuid, text, text)', 'convo.outbox_setting(text)',
                             'convo.reengagement_template(uuid, uuid)'] LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', f, authed);
    END LOOP;
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON convo.outbox TO %I', service);
    EXECUTE 'ALTER TABLE convo.outbox ENABLE ROW LEVEL SECURITY';
    EXECUTE format('GRANT SELECT ON convo.outbox TO %I', authed);
    EXECUTE format('CREATE POLICY own_account ON convo.outbox TO %I '
                   'USING (account_id = (SELECT convo.current_account_id())) '
                   'WITH CHECK (account_id = (SELECT convo.current_account_id()))', authed);
    EXECUTE format('GRANT INSERT ON convo.outbox TO %I', authed);
    EXECUTE format('CREATE POLICY send_rules ON convo.outbox AS RESTRICTIVE FOR INSERT TO %I '
                   'WITH CHECK (state IN (''queued'', ''awaiting_window'') AND attempts = 0 AND wamid IS NULL '
                   'AND sent_at IS NULL AND (state = ''awaiting_window'' OR kind IN (''template'', ''read'') '
                   'OR convo.can_send_freeform(conversation_id)))', authed);
END
$$;
SELECT pg_catalog.pg_extension_config_dump('convo.outbox', '');
UPDATE convo.settings t SET installed = to_jsonb(t) - 'installed' WHERE t.name LIKE 'outbox.%';
UPDATE convo.managed_indexes t SET installed = to_jsonb(t) - 'installed'
 WHERE t.index_name IN ('outbox_due', 'outbox_awaiting_window');

-- The outbox's housekeeping job (sql/jobs.sql): job_definitions with its final text.
CREATE OR REPLACE FUNCTION convo.job_definitions()
RETURNS TABLE (jobname text, schedule text, command text, needs text)
LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
    VALUES ('convo-cache-purge', '* * * * *', 'SELECT convo.cache_purge()', 'convo.cache_purge()'),
           ('convo-expire-carts', '* * * * *', 'SELECT convo.expire_carts()', NULL),
           ('convo-warm-up', '*/5 * * * *', 'SELECT count(*) FROM convo.warm_up()', 'pg_prewarm'),
           ('convo-inbox-archive', '*/10 * * * *', 'SELECT convo.archive_inbox()', NULL),
           ('convo-outbox-expire', '* * * * *', 'SELECT convo.outbox_expire()', NULL),
           ('convo-refresh-stats', '17 * * * *', 'SELECT count(*) FROM convo.refresh_stats()', NULL),
           ('convo-job-history', '23 3 * * *', 'SELECT convo.purge_job_run_details()', NULL);
END;
COMMENT ON FUNCTION convo.job_definitions() IS 'convo''s pg_cron jobs: name, schedule, command, and what the job needs to be scheduled';

-- ---------------------------------------------------------------------------------------
-- Retry delays have one owner, convo.backoff_cap (sql/common.sql), for the inbox and the
-- outbox alike.
-- ---------------------------------------------------------------------------------------
-- The longest delay before retry number attempt (1 for the first): base doubled per attempt,
-- capped at max, in seconds. float8 with a bounded exponent: an interval product overflows
-- (22008) long before the cap applies once attempts pass ~50, and that error would escape the
-- callers' handlers. The inbox waits exactly this; the outbox a random part of it (full jitter).
CREATE FUNCTION convo.backoff_cap(base interval, max interval, attempt int) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN least(extract(epoch FROM base)::float8 * 2 ^ least(greatest(attempt, 1) - 1, 100),
             extract(epoch FROM max)::float8);
COMMENT ON FUNCTION convo.backoff_cap(interval, interval, int) IS 'Seconds of the longest delay before retry number attempt: base doubled per attempt, capped at max';
DO $$
DECLARE
    service text := coalesce(nullif(current_setting('convo.service_role', true), ''), 'service_role');
BEGIN
    EXECUTE 'REVOKE EXECUTE ON FUNCTION convo.backoff_cap(interval, interval, int) FROM PUBLIC';
    EXECUTE format('GRANT EXECUTE ON FUNCTION convo.backoff_cap(interval, interval, int) TO %I', service);
END
$$;

CREATE OR REPLACE FUNCTION convo.inbox_fail(id bigint, error text, permanent boolean DEFAULT false)
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
    -- Doubling per attempt, capped (an overflow here would stall the whole inbox).
    delay := make_interval(secs => convo.backoff_cap(convo.setting('inbox.backoff_base')::interval,
                                                     convo.setting('inbox.backoff_max')::interval, item.attempts));
    UPDATE convo.inbox i SET state = 'pending', last_error = coalesce(error, 'unknown error'),
           next_attempt_at = clock_timestamp() + delay
     WHERE i.inbox_id = id;
    RETURN 'pending';
END
$$;
COMMENT ON FUNCTION convo.inbox_fail(bigint, text, boolean) IS 'Records a failed ingest attempt: pending again after a backoff, or dead (kept with its error) when permanent or out of attempts';
