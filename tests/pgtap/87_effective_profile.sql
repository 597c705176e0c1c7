-- The profile a conversation follows (convo.effective_profile) and the limits that bound a
-- profile (convo.limits): one rule and one place, which build_context, call_tool, route_model,
-- the table and upsert_bot_profile all use.
BEGIN;
SELECT plan(17);

INSERT INTO convo.accounts (account_id, name, phone_number_id, display_phone_number) VALUES
    ('a0000000-0000-4000-8000-000000000087', 'Shop A', '100000000000087', '15550000087'),
    ('b0000000-0000-4000-8000-000000000087', 'Shop B', '200000000000087', '15550000870');
INSERT INTO convo.bot_profiles (account_id, bot_profile_id, name, is_default, large_model) VALUES
    ('a0000000-0000-4000-8000-000000000087', '60000000-0000-4000-8000-000000000087', 'default', true, 'large-default'),
    ('a0000000-0000-4000-8000-000000000087', '61000000-0000-4000-8000-000000000087', 'vip', false, 'large-vip'),
    ('b0000000-0000-4000-8000-000000000087', '62000000-0000-4000-8000-000000000087', 'draft', false, 'large-b');
INSERT INTO convo.contacts (account_id, contact_id, wa_id) VALUES
    ('a0000000-0000-4000-8000-000000000087', 'c0000000-0000-4000-8000-0000000087a1', '5491100000871'),
    ('a0000000-0000-4000-8000-000000000087', 'c0000000-0000-4000-8000-0000000087a2', '5491100000872'),
    ('b0000000-0000-4000-8000-000000000087', 'c0000000-0000-4000-8000-0000000087b1', '5491100000871');
INSERT INTO convo.conversations (account_id, conversation_id, contact_id, bot_profile_id) VALUES
    ('a0000000-0000-4000-8000-000000000087', 'f0000000-0000-4000-8000-0000000087a1', 'c0000000-0000-4000-8000-0000000087a1', NULL),
    ('a0000000-0000-4000-8000-000000000087', 'f0000000-0000-4000-8000-0000000087a2', 'c0000000-0000-4000-8000-0000000087a2',
     '61000000-0000-4000-8000-000000000087'),
    ('b0000000-0000-4000-8000-000000000087', 'f0000000-0000-4000-8000-0000000087b1', 'c0000000-0000-4000-8000-0000000087b1', NULL);

-- The rule.
SELECT is((SELECT name FROM convo.effective_profile('a0000000-0000-4000-8000-000000000087', NULL)), 'default',
          'no profile of its own: the account''s default');
SELECT is((SELECT name FROM convo.effective_profile('a0000000-0000-4000-8000-000000000087', '61000000-0000-4000-8000-000000000087')), 'vip',
          'its own profile otherwise');
SELECT is_empty($$SELECT * FROM convo.effective_profile('b0000000-0000-4000-8000-000000000087', NULL)$$,
          'an account with no default: no profile');
SELECT is_empty($$SELECT * FROM convo.effective_profile('a0000000-0000-4000-8000-000000000087', '62000000-0000-4000-8000-000000000087')$$,
          'another account''s profile id is not a profile of this account');
SELECT throws_ok($$SELECT convo.no_bot_profile('b0000000-0000-4000-8000-000000000087', 'convo.x')$$, '55000',
                 'convo.x: account b0000000-0000-4000-8000-000000000087 has no default bot profile',
                 'what every caller then says: 55000 naming the account');

-- The three callers agree: models, tools, and the same refusal.
SELECT is(convo.route_model('f0000000-0000-4000-8000-0000000087a1', 'precio') ->> 'model', 'large-default', 'route_model: default');
SELECT is(convo.route_model('f0000000-0000-4000-8000-0000000087a2', 'precio') ->> 'model', 'large-vip', 'route_model: own');
SELECT is(convo.build_context('f0000000-0000-4000-8000-0000000087a2') #>> '{model,model}', 'large-vip',
          'build_context routes with the same profile');
SELECT is(convo.route_text('a0000000-0000-4000-8000-000000000087', 's', 'l', NULL, 'precio'),
          '{"tier": "large", "model": "l", "reason": "tool_words:price", "cached": null}'::jsonb,
          'route_text routes with the models it is given');
SELECT throws_ok($$SELECT convo.route_text(NULL, 's', 'l', NULL, 'hola')$$, '22004',
                 'convo.route_text: account_id and text are required', 'route_text refuses a NULL account');
SELECT throws_ok($$SELECT convo.call_tool('f0000000-0000-4000-8000-0000000087b1', 'view_cart')$$, '55000', NULL, 'call_tool: 55000');
SELECT throws_ok($$SELECT convo.build_context('f0000000-0000-4000-8000-0000000087b1')$$, '55000', NULL, 'build_context: 55000');
SELECT throws_ok($$SELECT convo.route_model('f0000000-0000-4000-8000-0000000087b1', 'hola')$$, '55000', NULL, 'route_model: 55000');

-- The limits: the table and upsert_bot_profile take theirs from convo.limits().
SELECT is((SELECT row(history_length, token_budget)::text FROM convo.bot_profiles WHERE name = 'vip'),
          format('(%s,%s)', convo.limits() #>> '{history_length,default}', convo.limits() #>> '{token_budget,default}'),
          'column defaults are the limits'' defaults');
SELECT throws_ok($$UPDATE convo.bot_profiles SET history_length = 101 WHERE name = 'vip'$$, '23514', NULL,
                 'the CHECK refuses a history_length above the limit');
SELECT throws_ok($$SELECT convo.upsert_bot_profile('a0000000-0000-4000-8000-000000000087', '{"name": "vip", "token_budget": 49}')$$,
                 '22023', 'convo.upsert_bot_profile: token_budget must be an integer between 50 and 200000, got 49',
                 'upsert_bot_profile''s schema states the same bounds');
SELECT throws_ok($$SELECT convo.build_context('f0000000-0000-4000-8000-0000000087a1', '{"history": 101}')$$, '22023',
                 'convo.build_context: options.history must be between 0 and 100, got 101', 'and so do build_context''s options');

SELECT * FROM finish();
ROLLBACK;
