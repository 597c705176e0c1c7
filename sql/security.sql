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
--
-- Needs: every table and function above: it grants on them and turns on row-level security.

DO $$
DECLARE
    anon text := coalesce(nullif(current_setting('convo.anon_role', true), ''), 'anon');
    authed text := coalesce(nullif(current_setting('convo.authenticated_role', true), ''), 'authenticated');
    service text := coalesce(nullif(current_setting('convo.service_role', true), ''), 'service_role');
    t text;
    tenant_tables text[] := ARRAY['accounts', 'bot_profiles', 'contacts', 'conversations', 'messages',
                                  'message_statuses', 'products', 'carts', 'cart_items', 'orders', 'templates',
                                  'context_cache', 'response_cache', 'response_cache_hits',
                                  'webhook_events', 'outbox'];
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
        'convo.apply_waiting_statuses(uuid, text)',
        'convo.current_account_id()',
        'convo.status_rank(text)',
        'convo.phone_digits(text)',
        'convo.limits()',
        'convo.limit_value(text, text)',
        'convo.upsert_bot_profile(uuid, jsonb)',
        'convo.effective_profile(uuid, uuid)',
        'convo.no_bot_profile(uuid, text)',
        'convo.upsert_product(uuid, jsonb)',
        'convo.product_search_text(text, jsonb)',
        'convo.search_products(uuid, text, jsonb, numeric, boolean, int)',
        'convo.json_schema_error(jsonb, jsonb, text)',
        'convo.tool_definitions(text[])',
        'convo.open_cart(uuid, uuid)',
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
        'convo.route_text(uuid, text, text, text[], text)',
        'convo.route_model(uuid, text)',
        'convo.build_context(uuid, jsonb)',
        'convo.send(uuid, jsonb, jsonb)',
        'convo.outbox_kind(jsonb)',
        'convo.outbox_check_body(jsonb)',
        'convo.outbox_replay(uuid, text, text)',
        'convo.outbox_setting(text)',
        'convo.reengagement_template(uuid, uuid)'
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
    EXECUTE format('GRANT INSERT, UPDATE (status, status_at, error_code, error, deleted_at) ON convo.messages TO %I', authed);
    EXECUTE format('CREATE POLICY outbound_only ON convo.messages AS RESTRICTIVE FOR INSERT TO %I '
                   'WITH CHECK (direction = ''out'')', authed);
    -- The outbox through convo.send (SECURITY INVOKER): an item is inserted new, and a
    -- free-form one queued only while the window is open. Its later states are the worker
    -- functions' (service_role), so no UPDATE or DELETE.
    EXECUTE format('GRANT INSERT ON convo.outbox TO %I', authed);
    EXECUTE format('CREATE POLICY send_rules ON convo.outbox AS RESTRICTIVE FOR INSERT TO %I '
                   'WITH CHECK (state IN (''queued'', ''awaiting_window'') AND attempts = 0 AND wamid IS NULL '
                   'AND sent_at IS NULL AND (state = ''awaiting_window'' OR kind IN (''template'', ''read'') '
                   'OR convo.can_send_freeform(conversation_id)))', authed);

    -- Queue, routing and cache tables hold other accounts' payloads: service_role only.
    FOREACH t IN ARRAY ARRAY['inbox', 'unroutable', 'settings', 'cache', 'cache_namespaces', 'cache_counts'] LOOP
        EXECUTE format('ALTER TABLE convo.%I ENABLE ROW LEVEL SECURITY', t);
    END LOOP;
END
$$;
