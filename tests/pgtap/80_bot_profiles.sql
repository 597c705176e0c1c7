-- convo.upsert_bot_profile: creating and updating profiles by name, one default per account,
-- and every way a profile can be refused.
BEGIN;
SELECT plan(69);

INSERT INTO convo.accounts (account_id, name, phone_number_id, display_phone_number) VALUES
    ('a0000000-0000-4000-8000-000000000080', 'Profile Shop', '100000000000080', '15550000080'),
    ('b0000000-0000-4000-8000-000000000080', 'Other Shop', '200000000000080', '15550000800');
INSERT INTO convo.bot_profiles (account_id, name, is_default) VALUES
    ('a0000000-0000-4000-8000-000000000080', 'default', true),
    ('b0000000-0000-4000-8000-000000000080', 'default', true);

-- The stored profile, for results_eq.
CREATE FUNCTION pg_temp.profile(account uuid, profile_name text)
RETURNS TABLE (is_default boolean, system_template text, small_model text, large_model text, history_length int,
               token_budget int, tools text[], steps jsonb, business_info jsonb, simple_intents text[],
               fallback_text text, style_rules text)
LANGUAGE sql AS $$
    SELECT b.is_default, b.system_template, b.small_model, b.large_model, b.history_length, b.token_budget,
           b.tools, b.steps, b.business_info, b.simple_intents, b.fallback_text, b.style_rules
      FROM convo.bot_profiles b WHERE b.account_id = account AND b.name = profile_name;
$$;

-- Creating -------------------------------------------------------------------------------------

SELECT has_function('convo', 'upsert_bot_profile', ARRAY['uuid', 'jsonb']);
SELECT isnt_definer('convo', 'upsert_bot_profile', ARRAY['uuid', 'jsonb'],
    'upsert_bot_profile runs with the caller''s rights (row-level security applies)');

SELECT convo.upsert_bot_profile('a0000000-0000-4000-8000-000000000080', $${
    "name": "sales",
    "system_template": "You sell shoes for {{business_name}}.",
    "small_model": "gpt-4.1-nano", "large_model": "gpt-4.1",
    "history_length": 8, "token_budget": 3000,
    "tools": ["view_cart", "search_products"],
    "steps": [{"name": "greet", "instruction": "Say hello"}, {"name": "checkout"}],
    "business_info": {"hours": "Mon-Fri 9-18", "address": "1 Main St"},
    "simple_intents": ["hola", "gracias"],
    "fallback_text": "A person will answer soon.",
    "style_rules": "Short answers."
}$$) AS sales \gset

SELECT isnt(:'sales'::uuid, NULL, 'a new profile gets an id');
SELECT results_eq($$SELECT * FROM pg_temp.profile('a0000000-0000-4000-8000-000000000080', 'sales')$$,
    $$VALUES (false, 'You sell shoes for {{business_name}}.', 'gpt-4.1-nano', 'gpt-4.1', 8, 3000,
              ARRAY['view_cart', 'search_products'],
              '[{"name": "greet", "instruction": "Say hello"}, {"name": "checkout"}]'::jsonb,
              '{"hours": "Mon-Fri 9-18", "address": "1 Main St"}'::jsonb, ARRAY['hola', 'gracias'],
              'A person will answer soon.', 'Short answers.')$$,
    'every key lands in its typed column, tools in the order given');

SELECT convo.upsert_bot_profile('a0000000-0000-4000-8000-000000000080', '{"name": "minimal"}') AS minimal \gset
SELECT results_eq(
    $$SELECT is_default, history_length, token_budget, steps, business_info, simple_intents, fallback_text,
             cardinality(tools), small_model
        FROM pg_temp.profile('a0000000-0000-4000-8000-000000000080', 'minimal')$$,
    $$VALUES (false, 5, 1500, '[]'::jsonb, '{}'::jsonb, NULL::text[], NULL::text, 7, 'gpt-4.1-mini')$$,
    'a new profile takes the column defaults for absent keys (all seven tools, no steps)');
SELECT is((SELECT system_template FROM convo.bot_profiles WHERE bot_profile_id = :'minimal'),
          (SELECT system_template FROM convo.bot_profiles WHERE account_id = 'a0000000-0000-4000-8000-000000000080' AND name = 'default'),
          'and the default system template');

-- Updating -------------------------------------------------------------------------------------

UPDATE convo.bot_profiles SET updated_at = now() - interval '1 day' WHERE bot_profile_id = :'sales';
SELECT is(convo.upsert_bot_profile('a0000000-0000-4000-8000-000000000080',
                                   '{"name": "sales", "history_length": 12.0, "fallback_text": null}'),
          :'sales'::uuid, 'updating by name returns the same id');
SELECT results_eq(
    $$SELECT history_length, fallback_text, token_budget, tools, style_rules, simple_intents
        FROM pg_temp.profile('a0000000-0000-4000-8000-000000000080', 'sales')$$,
    $$VALUES (12, NULL::text, 3000, ARRAY['view_cart', 'search_products'], 'Short answers.', ARRAY['hola', 'gracias'])$$,
    'given keys change (12.0 is the integer 12, null clears fallback_text); absent keys keep their value');
SELECT is((SELECT updated_at FROM convo.bot_profiles WHERE bot_profile_id = :'sales'), now(), 'updated_at is bumped');
SELECT is((SELECT count(*) FROM convo.bot_profiles WHERE account_id = 'a0000000-0000-4000-8000-000000000080'), 3::bigint,
          'updating adds no profile');

SELECT convo.upsert_bot_profile('a0000000-0000-4000-8000-000000000080',
    '{"name": "sales", "simple_intents": null, "tools": [], "steps": [], "business_info": {}}') AS ignored \gset
SELECT results_eq(
    $$SELECT simple_intents, tools, steps, business_info FROM pg_temp.profile('a0000000-0000-4000-8000-000000000080', 'sales')$$,
    $$VALUES (NULL::text[], '{}'::text[], '[]'::jsonb, '{}'::jsonb)$$,
    'null gives simple_intents back to the built-in list; empty tools, steps and business info are kept empty');

-- One default per account ------------------------------------------------------------------------

SELECT convo.upsert_bot_profile('a0000000-0000-4000-8000-000000000080', '{"name": "sales", "is_default": true}') AS ignored \gset
SELECT results_eq($$SELECT name FROM convo.bot_profiles WHERE account_id = 'a0000000-0000-4000-8000-000000000080' AND is_default$$,
    $$VALUES ('sales')$$, 'making a profile the default un-defaults the previous one');
SELECT is((SELECT is_default FROM convo.bot_profiles WHERE account_id = 'b0000000-0000-4000-8000-000000000080'), true,
          'another account''s default is untouched');
SELECT convo.upsert_bot_profile('a0000000-0000-4000-8000-000000000080', '{"name": "sales", "is_default": true}') AS ignored \gset
SELECT results_eq($$SELECT name FROM convo.bot_profiles WHERE account_id = 'a0000000-0000-4000-8000-000000000080' AND is_default$$,
    $$VALUES ('sales')$$, 'making the default the default again keeps it');
SELECT convo.upsert_bot_profile('a0000000-0000-4000-8000-000000000080', '{"name": "fresh", "is_default": true}') AS fresh \gset
SELECT results_eq($$SELECT name FROM convo.bot_profiles WHERE account_id = 'a0000000-0000-4000-8000-000000000080' AND is_default$$,
    $$VALUES ('fresh')$$, 'a new profile can be created as the default');
SELECT throws_ok($$SELECT convo.upsert_bot_profile('a0000000-0000-4000-8000-000000000080', '{"name": "fresh", "is_default": false}')$$,
    '22023', 'convo.upsert_bot_profile: profile "fresh" is the account''s default; make another profile the default instead',
    'the default cannot be un-defaulted without naming another');
SELECT lives_ok($$SELECT convo.upsert_bot_profile('a0000000-0000-4000-8000-000000000080', '{"name": "minimal", "is_default": false}')$$,
    'is_default false on a profile that is not the default is fine');
SELECT is((SELECT count(*) FROM convo.bot_profiles WHERE account_id = 'a0000000-0000-4000-8000-000000000080' AND is_default),
          1::bigint, 'the account still has exactly one default');
SELECT throws_ok($$INSERT INTO convo.bot_profiles (account_id, name, is_default)
                   VALUES ('a0000000-0000-4000-8000-000000000080', 'second default', true)$$,
    '23505', NULL, 'a second default written directly is refused by the unique partial index');

-- Names, quotes and emoji are data -------------------------------------------------------------

SELECT convo.upsert_bot_profile('a0000000-0000-4000-8000-000000000080',
    $${"name": "O'Brien \"VIP\"'); DROP TABLE convo.bot_profiles; -- 🌮",
       "business_info": {"horario 🕘": "9–18 h", "menu": "🌮🌯🥙"},
       "steps": [{"name": "¡hola! 👋", "instruction": "Saluda 🙂"}]}$$) AS odd \gset
SELECT results_eq(format('SELECT name, business_info, steps FROM convo.bot_profiles WHERE bot_profile_id = %L', :'odd'),
    $$VALUES ($n$O'Brien "VIP"'); DROP TABLE convo.bot_profiles; -- 🌮$n$,
              '{"horario 🕘": "9–18 h", "menu": "🌮🌯🥙"}'::jsonb,
              '[{"name": "¡hola! 👋", "instruction": "Saluda 🙂"}]'::jsonb)$$,
    'quotes, SQL and 4-byte emoji are stored as given');
SELECT lives_ok(format($$SELECT convo.upsert_bot_profile('a0000000-0000-4000-8000-000000000080', '{"name": "%s"}')$$, repeat('🙂', 100)),
    'a name of 100 emoji is 100 characters: accepted');
SELECT throws_ok(format($$SELECT convo.upsert_bot_profile('a0000000-0000-4000-8000-000000000080', '{"name": "%s"}')$$, repeat('🙂', 101)),
    '22023', 'convo.upsert_bot_profile: name must have 1 to 100 characters, got 101', 'a name of 101 emoji is refused');

-- Refused profiles: 22023 naming the key and what was expected ----------------------------------

CREATE FUNCTION pg_temp.refused(profile text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM convo.upsert_bot_profile('a0000000-0000-4000-8000-000000000080', profile::jsonb);
    RETURN 'accepted';
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN regexp_replace(SQLERRM, '^convo\.upsert_bot_profile: ', '');
END
$$;

SELECT is(pg_temp.refused('{"name": "x", "colour": "red"}'),
    'unknown key colour; expected one of: business_info, fallback_text, history_length, is_default, large_model, name, simple_intents, small_model, steps, style_rules, system_template, token_budget, tools',
    'an unknown key is named, with the keys that exist');
SELECT is(pg_temp.refused('{"system_template": "x"}'), 'name is required', 'the name is required');
SELECT is(pg_temp.refused('{"name": ""}'), 'name must not be empty', 'an empty name is refused');
SELECT is(pg_temp.refused('{"name": "   "}'), 'name must not be blank', 'a blank name is refused');
SELECT is(pg_temp.refused('{"name": 7}'), 'name must be a string, got 7', 'a name must be a string');
SELECT is(pg_temp.refused('[{"name": "x"}]'), 'profile must be an object, got an array', 'the profile must be an object');
SELECT is(pg_temp.refused('"sales"'), 'profile must be an object, got "sales"', 'not a string either');
SELECT is(pg_temp.refused('null'), 'profile must be an object, got null', 'nor JSON null');
SELECT is(pg_temp.refused('{"name": "x", "history_length": "5"}'), 'history_length must be an integer, got "5"',
    'a number in a string is not a number');
SELECT is(pg_temp.refused('{"name": "x", "history_length": 2.5}'), 'history_length must be an integer, got 2.5',
    'history_length must be whole');
SELECT is(pg_temp.refused('{"name": "x", "history_length": 101}'), 'history_length must be an integer between 0 and 100, got 101',
    'history_length above 100');
SELECT is(pg_temp.refused('{"name": "x", "history_length": -1}'), 'history_length must be an integer between 0 and 100, got -1',
    'history_length below 0');
SELECT is(pg_temp.refused('{"name": "x", "token_budget": 49}'), 'token_budget must be an integer between 50 and 200000, got 49',
    'token_budget below 50');
SELECT is(pg_temp.refused('{"name": "x", "token_budget": 100000000000000000000000}'),
    'token_budget must be an integer between 50 and 200000, got 1e+23', 'a number beyond bigint');
SELECT is(pg_temp.refused('{"name": "x", "token_budget": 1e400}'), 'token_budget must be an integer, got a number too large',
    'a number beyond double');
SELECT is(pg_temp.refused('{"name": "x", "is_default": "yes"}'), 'is_default must be a boolean, got "yes"', 'is_default is a boolean');
SELECT is(pg_temp.refused('{"name": "x", "small_model": ""}'), 'small_model must not be empty', 'a model name is not empty');
SELECT is(pg_temp.refused('{"name": "x", "tools": "search_products"}'), 'tools must be an array, got "search_products"',
    'tools is an array');
SELECT is(pg_temp.refused('{"name": "x", "tools": ["search_products", "teleport"]}'),
    'tools[1] must be one of search_products, add_to_cart, remove_from_cart, view_cart, update_progress, handoff_to_human, get_business_info, got "teleport"',
    'an unknown tool is named, with the tools that exist');
SELECT is(pg_temp.refused('{"name": "x", "tools": ["view_cart", "search_products", "view_cart"]}'), 'tools[2] repeats "view_cart"',
    'a tool listed twice');
SELECT is(pg_temp.refused('{"name": "x", "tools": [1]}'), 'tools[0] must be a string, got 1', 'tool names are strings');
SELECT is(pg_temp.refused('{"name": "x", "steps": [{"name": "greet"}, {"name": "pay"}, {"name": "greet"}]}'),
    'steps[2].name repeats the step name "greet"', 'duplicate step names');
SELECT is(pg_temp.refused('{"name": "x", "steps": [{"instruction": "hi"}]}'), 'steps[0].name is required', 'a step needs a name');
SELECT is(pg_temp.refused('{"name": "x", "steps": [{"name": ""}]}'), 'steps[0].name must not be empty', 'a step name is not empty');
SELECT is(pg_temp.refused('{"name": "x", "steps": [{"name": "a", "goal": "b"}]}'),
    'unknown key steps[0].goal; expected one of: instruction, name', 'a step has name and instruction only');
SELECT is(pg_temp.refused('{"name": "x", "steps": {"name": "a"}}'), 'steps must be an array, got an object', 'steps is an array');
SELECT is(pg_temp.refused('{"name": "x", "business_info": {"hours": 9}}'), 'business_info.hours must be a string, got 9',
    'business info values are strings');
SELECT is(pg_temp.refused('{"name": "x", "business_info": ["hours"]}'), 'business_info must be an object, got an array',
    'business info is an object');
SELECT is(pg_temp.refused(format('{"name": "x", "business_info": {%s}}',
              (SELECT string_agg(format('"t%s": "v"', i), ', ') FROM generate_series(1, 51) i))),
    'business_info must have at most 50 topics, got 51', 'at most 50 topics');
SELECT is(pg_temp.refused('{"name": "x", "business_info": {" ": "v"}}'),
    'business_info topics (its keys) must have 1 to 64 characters', 'a blank topic');
SELECT is(pg_temp.refused('{"name": "x", "simple_intents": [""]}'), 'simple_intents[0] must not be empty', 'an empty intent');
SELECT is(pg_temp.refused('{"name": "x", "fallback_text": 1}'), 'fallback_text must be a string or null, got 1',
    'fallback_text is text or null');

-- Huge values are refused with their size, not stored.
SELECT is(pg_temp.refused(format('{"name": "x", "system_template": "%s"}', repeat('a', 20001))),
    'system_template must have 1 to 20000 characters, got 20001', 'a system template over 20000 characters');
SELECT is(pg_temp.refused(format('{"name": "x", "steps": [%s]}',
              (SELECT string_agg(format('{"name": "s%s"}', i), ', ') FROM generate_series(1, 10000) i))),
    'steps must have at most 50 items, got 10000', '10000 steps');
SELECT is(pg_temp.refused(format('{"name": "x", "business_info": {"about": "%s"}}', repeat('🙂', 2001))),
    'business_info.about must have at most 2000 characters, got 2001', 'a business info value over 2000 characters');
SELECT is(pg_temp.refused(format('{"name": "x", "style_rules": "%s"}', repeat('x', 1000000))),
    'style_rules must have at most 4000 characters, got 1000000', 'a megabyte of style rules');
SELECT is((SELECT count(*) FROM convo.bot_profiles WHERE account_id = 'a0000000-0000-4000-8000-000000000080' AND name = 'x'),
    0::bigint, 'no refused profile was written');
SELECT is((SELECT history_length FROM convo.bot_profiles WHERE bot_profile_id = :'sales'), 12,
    'a refused update leaves the stored profile as it was');

SELECT throws_ok($$SELECT convo.upsert_bot_profile(NULL, '{"name": "x"}')$$, '22004',
    'convo.upsert_bot_profile: account_id and profile are required', 'a NULL account id');
SELECT throws_ok($$SELECT convo.upsert_bot_profile('a0000000-0000-4000-8000-000000000080', NULL)$$, '22004',
    'convo.upsert_bot_profile: account_id and profile are required', 'a NULL profile');
SELECT throws_ok($$SELECT convo.upsert_bot_profile('00000000-0000-4000-8000-000000000000', '{"name": "x"}')$$, 'P0002',
    'convo.upsert_bot_profile: unknown account 00000000-0000-4000-8000-000000000000', 'an unknown account');

-- As PostgREST requests ------------------------------------------------------------------------

-- test.as_request (tests/sql/postgrest_request.sql) replays PostgREST's per-request settings.

CALL test.as_request('authenticated', '{"sub": "user-a", "account_id": "a0000000-0000-4000-8000-000000000080"}');
SELECT lives_ok($$SELECT convo.upsert_bot_profile('a0000000-0000-4000-8000-000000000080', '{"name": "from the api", "token_budget": 900}')$$,
    'authenticated writes a profile of its own account');
SELECT throws_ok($$SELECT convo.upsert_bot_profile('b0000000-0000-4000-8000-000000000080', '{"name": "hijack", "is_default": true}')$$,
    'P0002', 'convo.upsert_bot_profile: unknown account b0000000-0000-4000-8000-000000000080',
    'another account is unknown to it');
SELECT throws_ok($$SELECT convo.upsert_bot_profile('b0000000-0000-4000-8000-000000000080', '{"name": "default", "token_budget": 60}')$$,
    'P0002', 'convo.upsert_bot_profile: unknown account b0000000-0000-4000-8000-000000000080',
    'even for a profile name that exists there');
CALL test.as_request('anon');
SELECT throws_ok($$SELECT convo.upsert_bot_profile('a0000000-0000-4000-8000-000000000080', '{"name": "anon"}')$$,
    '42501', 'permission denied for function upsert_bot_profile', 'anon cannot write profiles');
RESET ROLE;
SELECT results_eq($$SELECT name, token_budget, is_default FROM convo.bot_profiles WHERE account_id = 'b0000000-0000-4000-8000-000000000080'$$,
    $$VALUES ('default', 1500, true)$$, 'B''s profiles are as they were');
SELECT is((SELECT token_budget FROM convo.bot_profiles WHERE account_id = 'a0000000-0000-4000-8000-000000000080' AND name = 'from the api'),
    900, 'A''s profile written through the API is there');

SELECT * FROM finish();
ROLLBACK;
