-- Bot profiles: how an account's assistant behaves (convo.bot_profiles), written through one
-- validating function. An account has at most one default profile (bot_profiles_one_default);
-- conversations without a profile of their own use it (convo.effective_profile).
--
-- Needs: tables.sql (convo.bot_profiles, convo.limits); when run, tools.sql (convo.tools,
-- convo.json_schema_error).

-- Creates or updates (by account and name) a bot profile. Keys absent on update keep their
-- value; a new profile takes the column defaults for them.
CREATE FUNCTION convo.upsert_bot_profile(account_id uuid, profile jsonb) RETURNS uuid
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

-- The profile a conversation follows: its own (conversations.bot_profile_id), else its account's
-- default. The one place this rule is written: build_context, call_tool and route_model all get
-- the profile from here. No row when the account has neither; every caller then says so the
-- same way, through convo.no_bot_profile. A SQL function, inlined into the statement that reads
-- it (build_context keeps that statement's plan): one index probe. Its body is a string, parsed
-- when a caller's statement is planned, so that b.* is the table's row as it is then (a standard
-- body would fix the columns it had at install); every name in it is schema-qualified.
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

-- What build_context, call_tool and route_model say when effective_profile finds no profile:
-- without one there is no assistant to run. 55000 naming the account; caller names the function.
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
