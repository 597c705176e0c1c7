-- Model routing: convo.route_model's tiers (cached, small, large) and reasons, the built-in
-- simple intents in French, English and Spanish, tool words beating them, a profile's own
-- intents, models from the right profile, bad input, PostgREST requests of two accounts, and
-- what a call reads.
BEGIN;
SELECT plan(77);

SET LOCAL timezone = 'UTC';

-- Account A: a default profile, a Spanish one with its own intents, one with none. Account B:
-- a default profile. Account N: a profile that is not the default.
INSERT INTO convo.accounts (account_id, name, phone_number_id, display_phone_number) VALUES
    ('a0000000-0000-4000-8000-000000000086', 'Shop A', '100000000000086', '15550000086'),
    ('b0000000-0000-4000-8000-000000000086', 'Shop B', '200000000000086', '15550000860'),
    ('e0000000-0000-4000-8000-000000000086', 'Shop N', '300000000000086', '15550000861');
INSERT INTO convo.bot_profiles (account_id, bot_profile_id, name, is_default, small_model, large_model, simple_intents) VALUES
    ('a0000000-0000-4000-8000-000000000086', '60000000-0000-4000-8000-000000000086', 'default', true, 'small-a', 'large-a', NULL),
    ('a0000000-0000-4000-8000-000000000086', '61000000-0000-4000-8000-000000000086', 'rioplatense', false, 'small-es', 'large-es',
     ARRAY['Dale', 'De una!', 'Buen día', 'Joya 👌', '👌']),
    ('a0000000-0000-4000-8000-000000000086', '62000000-0000-4000-8000-000000000086', 'no small talk', false, 'small-x', 'large-x',
     '{}'),
    ('b0000000-0000-4000-8000-000000000086', '63000000-0000-4000-8000-000000000086', 'default', true, 'small-b', 'large-b', NULL),
    ('e0000000-0000-4000-8000-000000000086', '64000000-0000-4000-8000-000000000086', 'draft', false, 'small-n', 'large-n', NULL);
INSERT INTO convo.contacts (account_id, contact_id, wa_id) VALUES
    ('a0000000-0000-4000-8000-000000000086', 'c0000000-0000-4000-8000-0000000086a1', '5491100000861'),
    ('a0000000-0000-4000-8000-000000000086', 'c0000000-0000-4000-8000-0000000086a2', '5491100000862'),
    ('a0000000-0000-4000-8000-000000000086', 'c0000000-0000-4000-8000-0000000086a3', '5491100000863'),
    ('b0000000-0000-4000-8000-000000000086', 'c0000000-0000-4000-8000-0000000086b1', '5491100000861'),
    ('e0000000-0000-4000-8000-000000000086', 'c0000000-0000-4000-8000-0000000086e1', '5491100000861');
INSERT INTO convo.conversations (account_id, conversation_id, contact_id, bot_profile_id) VALUES
    ('a0000000-0000-4000-8000-000000000086', 'f0000000-0000-4000-8000-0000000086a1', 'c0000000-0000-4000-8000-0000000086a1', NULL),
    ('a0000000-0000-4000-8000-000000000086', 'f0000000-0000-4000-8000-0000000086a2', 'c0000000-0000-4000-8000-0000000086a2',
     '61000000-0000-4000-8000-000000000086'),
    ('a0000000-0000-4000-8000-000000000086', 'f0000000-0000-4000-8000-0000000086a3', 'c0000000-0000-4000-8000-0000000086a3',
     '62000000-0000-4000-8000-000000000086'),
    ('b0000000-0000-4000-8000-000000000086', 'f0000000-0000-4000-8000-0000000086b1', 'c0000000-0000-4000-8000-0000000086b1', NULL),
    ('e0000000-0000-4000-8000-000000000086', 'f0000000-0000-4000-8000-0000000086e1', 'c0000000-0000-4000-8000-0000000086e1', NULL);
SELECT convo.put_cached_answer('a0000000-0000-4000-8000-000000000086', '¿Cuál es el horario?', 'De 9 a 18 h.') AS hours \gset
SELECT convo.put_cached_answer('a0000000-0000-4000-8000-000000000086', '¿Cuánto cuesta el envío?', 'Gratis desde USD 50.') AS shipping \gset
SELECT convo.put_cached_answer('a0000000-0000-4000-8000-000000000086', 'Muchas gracias', '¡A vos!') AS thanks \gset
SELECT convo.put_cached_answer('b0000000-0000-4000-8000-000000000086', '¿Hacen envíos a Córdoba?', 'B: sí.') AS shipping_b \gset

-- The routing of a text in conversation A1 (default profile), A2 (rioplatense), A3 (no small talk).
CREATE FUNCTION pg_temp.a1(text text) RETURNS jsonb
LANGUAGE sql AS $$ SELECT convo.route_model('f0000000-0000-4000-8000-0000000086a1', text) $$;
CREATE FUNCTION pg_temp.a2(text text) RETURNS jsonb
LANGUAGE sql AS $$ SELECT convo.route_model('f0000000-0000-4000-8000-0000000086a2', text) $$;
CREATE FUNCTION pg_temp.a3(text text) RETURNS jsonb
LANGUAGE sql AS $$ SELECT convo.route_model('f0000000-0000-4000-8000-0000000086a3', text) $$;
-- Tier, model and reason in one string, for short comparisons.
CREATE FUNCTION pg_temp.route(r jsonb) RETURNS text
LANGUAGE sql AS $$ SELECT concat_ws(' ', r ->> 'tier', coalesce(r ->> 'model', '-'), r ->> 'reason') $$;
-- Texts whose routing in A1 is not `expected`, with what they got instead.
CREATE FUNCTION pg_temp.misrouted(expected text, texts text[]) RETURNS TABLE (text text, got text)
LANGUAGE sql AS $$
    SELECT t, pg_temp.route(pg_temp.a1(t)) FROM unnest(texts) AS t WHERE pg_temp.route(pg_temp.a1(t)) <> expected
$$;

-- Shape ----------------------------------------------------------------------------------------

SELECT is(pg_temp.a1('hola'), '{"tier": "small", "model": "small-a", "reason": "simple_intent:greeting", "cached": null}',
    'a greeting: the small model of the default profile, the whole document');
SELECT is(ARRAY(SELECT jsonb_object_keys(pg_temp.a1('precio')) ORDER BY 1), ARRAY['cached', 'model', 'reason', 'tier'],
    'route_model has exactly the keys tier, model, reason, cached');
SELECT is(pg_temp.a1('¿Cuál es el horario?'),
    jsonb_build_object('tier', 'cached', 'model', NULL, 'reason', 'cache_hit:' || :hours,
                       'cached', jsonb_build_object('entry_id', :hours, 'question', '¿Cuál es el horario?',
                                                    'answer', 'De 9 a 18 h.', 'similarity', 1,
                                                    'expires_at', now() + interval '30 days')),
    'a cached answer: tier cached, no model, the entry in "cached"');
SELECT volatility_is('convo', 'route_model', ARRAY['uuid', 'text'], 'volatile', 'route_model is volatile (it counts cache hits)');
SELECT is((SELECT max(cardinality(string_to_array(k, ' '))) FROM jsonb_object_keys(convo.simple_intent_phrases()) AS k), 4,
    'built-in phrases have at most 4 words, as route_model assumes');
SELECT is_empty($$SELECT k FROM jsonb_object_keys(convo.simple_intent_phrases() || convo.tool_words()) AS k
                   WHERE k <> convo.normalize_text(k)$$,
    'every built-in phrase and tool word is written normalized');

-- Cached first ------------------------------------------------------------------------------------

SELECT is(pg_temp.route(pg_temp.a1('Hola! cual es su horario?')), 'cached - cache_hit:' || :hours,
    'a similar question with a greeting in front is a cache hit');
SELECT is(pg_temp.route(pg_temp.a1('¿Cuánto cuesta el envío?')), 'cached - cache_hit:' || :shipping,
    'a cached answer beats tool words (cuanto, cuesta, envio)');
SELECT is(pg_temp.route(pg_temp.a1('muchas gracias!!')), 'cached - cache_hit:' || :thanks,
    'and simple intents');
SELECT is(pg_temp.route(pg_temp.a1('¿Hacen envíos a Córdoba?')), 'large large-a tool_words:delivery',
    'another account''s cached answer is not used');
DELETE FROM convo.response_cache_hits;
SELECT pg_temp.a1('cual es el horario') FROM generate_series(1, 2) \g /dev/null
SELECT is((SELECT sum(hits)::int FROM convo.response_cache_hits WHERE entry_id = :hours), 2, 'a cached route counts a hit');
UPDATE convo.response_cache SET expires_at = now() WHERE entry_id = :hours;
SELECT is(pg_temp.route(pg_temp.a1('¿Cuál es el horario?')), 'large large-a tool_words:business_info',
    'once the entry has expired, the question goes to the large model (horario is a tool word)');

-- Small: the built-in simple intents ------------------------------------------------------------

SELECT is_empty($$SELECT * FROM pg_temp.misrouted('small small-a simple_intent:greeting', ARRAY[
        'Hola', 'hola!!', 'Buenos días', 'buenas tardes', 'Holaaaa', 'holaa', 'Hola, buenas', '¿Qué tal?',
        'Hello', 'hi there', 'Hey', 'Good morning!', 'how are you?',
        'Bonjour', 'bonsoir', 'Salut, ça va ?', 'Coucou', 'Oi'])$$,
    'greetings in Spanish, English, French (and Portuguese), however spelled');
SELECT is_empty($$SELECT * FROM pg_temp.misrouted('small small-a simple_intent:thanks', ARRAY[
        'Gracias', 'muchísimas gracias', 'gracias 🙏🏽', 'graciasss', 'mil gracias!', 'De nada',
        'Thanks', 'thank you!', 'Thank you very much', 'thx', 'Merci', 'merci beaucoup', 'Merciii', 'obrigado'])$$,
    'thanks');
SELECT is_empty($$SELECT * FROM pg_temp.misrouted('small small-a simple_intent:yes', ARRAY[
        'Sí', 'si', 'siii', 'Claro', 'claro que sí', 'por supuesto', 'Yes', 'yeah', 'yep', 'sure', 'of course',
        'Oui', 'ouais', 'bien sûr', 'Si, por favor'])$$,
    'yes');
SELECT is_empty($$SELECT * FROM pg_temp.misrouted('small small-a simple_intent:no', ARRAY[
        'No', 'no gracias', 'NOOO', 'nope', 'nah', 'Non', 'non merci', 'para nada'])$$,
    'no');
SELECT is_empty($$SELECT * FROM pg_temp.misrouted('small small-a simple_intent:ok', ARRAY[
        'ok', 'OK!', 'okk', 'Okay', 'vale', 'Dale', 'perfecto', 'genial 👍', 'de acuerdo', 'listo',
        'great', 'cool', 'got it', 'perfect', 'D''accord', 'parfait', 'très bien', 'jajaja', 'jajajajaja', 'hahaha',
        'jeje', 'lol', 'ok gracias', 'por favor'])$$,
    'ok, laughter and please');
SELECT is_empty($$SELECT * FROM pg_temp.misrouted('small small-a simple_intent:goodbye', ARRAY[
        'Adiós', 'chau', 'hasta luego', 'nos vemos', 'bye', 'Bye bye!', 'goodbye', 'see you', 'good night',
        'Au revoir', 'à bientôt', 'bonne journée'])$$,
    'goodbyes');
SELECT is_empty($$SELECT * FROM pg_temp.misrouted('small small-a simple_intent:emoji', ARRAY[
        '👍', '🙏🏽', '❤️', '😂😂😂', '👍!', ' 🔥 ', '👨‍👩‍👧‍👦', '🇦🇷', '✅', '☺'])$$,
    'emoji alone (4-byte, skin tones, ZWJ sequences, flags, older symbols)');
SELECT is(pg_temp.route(pg_temp.a1('hola hola hola hola hola hola hola hola')), 'small small-a simple_intent:greeting',
    'eight words of simple intents are short enough');
SELECT is(pg_temp.route(pg_temp.a1('hola hola hola hola hola hola hola hola hola')), 'large large-a default',
    'nine are not');
SELECT is(pg_temp.route(pg_temp.a1(repeat('hola ', 13108))), 'large large-a default', 'nor 64 KB of them');
SELECT is(pg_temp.route(pg_temp.a1(repeat('👍', 33))), 'large large-a no_words', 'nor a long run of emoji');

-- Large: tool words, even in short texts, even after a simple intent -----------------------------

SELECT is_empty($$SELECT * FROM pg_temp.misrouted('large large-a tool_words:price', ARRAY[
        'precio?', 'Hola, precio?', 'ok, ¿cuánto cuesta?', 'cuanto sale', 'precios', 'how much?', 'price',
        'any discount?', 'Combien ça coûte ?', 'le prix', 'gracias, ¿hay descuento?'])$$,
    'price words (the first tool word of the text names the family)');
SELECT is_empty($$SELECT * FROM pg_temp.misrouted('large large-a tool_words:cart', ARRAY[
        'mi carrito', 'ver carrito', 'cart', 'my basket', 'mon panier'])$$,
    'cart words');
SELECT is_empty($$SELECT * FROM pg_temp.misrouted('large large-a tool_words:order', ARRAY[
        'mi pedido', 'pedido!', 'order status', 'my order', 'ma commande'])$$,
    'order words');
SELECT is(pg_temp.route(pg_temp.a1('quiero hacer un pedido')), 'large large-a tool_words:buy',
    'the first tool word wins: quiero (buy) before pedido (order)');
SELECT is_empty($$SELECT * FROM pg_temp.misrouted('large large-a tool_words:size', ARRAY[
        'talla M?', 'Talla', 'size 42', 'what sizes', 'taille 38', 'en qué color', 'couleur'])$$,
    'size and colour words');
SELECT is_empty($$SELECT * FROM pg_temp.misrouted('large large-a tool_words:stock', ARRAY[
        'stock?', 'tienen?', 'hay stock', 'disponible?', 'is it available', 'do you have it', 'vous avez du 40 ?'])$$,
    'stock words');
SELECT is_empty($$SELECT * FROM pg_temp.misrouted('large large-a tool_words:buy', ARRAY[
        'comprar', 'lo compro', 'Quiero uno', 'buy', 'I want two', 'acheter', 'je veux le rouge'])$$,
    'buying words');
SELECT is_empty($$SELECT * FROM pg_temp.misrouted('large large-a tool_words:human', ARRAY[
        'humano', 'hablar con alguien', 'una persona por favor', 'agent', 'human please', 'un conseiller'])$$,
    'asking for a human');
SELECT is_empty($$SELECT * FROM pg_temp.misrouted('large large-a tool_words:product', ARRAY[
        'el producto', 'catálogo', 'modelos', 'this item', 'le produit'])$$,
    'product words');
SELECT is(pg_temp.route(pg_temp.a1('dale, envío a domicilio?')), 'large large-a tool_words:delivery', 'delivery words');
SELECT is(pg_temp.route(pg_temp.a1('aceptan tarjeta?')), 'large large-a tool_words:payment', 'payment words');
SELECT is(pg_temp.route(pg_temp.a1('¿dónde están?')), 'large large-a tool_words:business_info', 'business information words');
SELECT is(pg_temp.route(pg_temp.a1('quisiera una cita')), 'large large-a tool_words:buy', 'quisiera before cita');
SELECT is(pg_temp.route(pg_temp.a1('una cita mañana')), 'large large-a tool_words:booking', 'booking words');
SELECT is(pg_temp.route(pg_temp.a1('lo descartamos')), 'large large-a default',
    'a tool word inside another word does not count (descartamos holds cart)');

-- Large: everything else ------------------------------------------------------------------------

SELECT is_empty($$SELECT * FROM pg_temp.misrouted('large large-a default', ARRAY[
        'no entiendo la respuesta', 'M', '2', 'mañana', 'y eso?', 'hola, tengo una consulta', 'ok pero no me llegó',
        'Hola que tal, mi nombre es Ana'])$$,
    'anything else, including short texts that are not simple intents');
SELECT is_empty($$SELECT * FROM pg_temp.misrouted('large large-a no_words', ARRAY['', '   ', '?', '...', '¿¡!?'])$$,
    'a text without letters, digits or emoji');
SELECT is(pg_temp.route(pg_temp.a1($$'; DROP TABLE convo.conversations; --$$)), 'large large-a default', 'SQL is just text');
SELECT has_table('convo'::name, 'conversations'::name, 'the conversations table survived');
SELECT is(pg_temp.route(pg_temp.a1(repeat('bla ', 16384))), 'large large-a default', 'a 64 KB text');
SELECT is(pg_temp.route(pg_temp.a1(repeat('bla ', 16384) || ' precio')), 'large large-a tool_words:price',
    'a 64 KB text with a tool word at its end');

-- A profile's own intents replace the built-in ones ----------------------------------------------

SELECT is(pg_temp.route(pg_temp.a2('Dale!')), 'small small-es simple_intent:profile',
    'a phrase of the conversation''s profile: its small model');
SELECT is(pg_temp.route(pg_temp.a2('de una')), 'small small-es simple_intent:profile', 'written as the profile wrote it or not');
SELECT is(pg_temp.route(pg_temp.a2('buen dia, dale')), 'small small-es simple_intent:profile', 'in sequence');
SELECT is(pg_temp.route(pg_temp.a2('joya')), 'small small-es simple_intent:profile', 'emoji in a phrase do not count');
SELECT is(pg_temp.route(pg_temp.a2('hola')), 'large large-es default', 'a built-in greeting is not one for this profile');
SELECT is(pg_temp.route(pg_temp.a2('gracias')), 'large large-es default', 'nor thanks');
SELECT is(pg_temp.route(pg_temp.a2('👍')), 'small small-es simple_intent:emoji', 'emoji alone stay small');
SELECT is(pg_temp.route(pg_temp.a2('dale, cuánto sale?')), 'large large-es tool_words:price',
    'tool words beat the profile''s intents too');
SELECT is(pg_temp.route(pg_temp.a2('¿Cuál es el horario?')), 'large large-es tool_words:business_info',
    'the cache is the account''s, whatever the profile (this entry has expired)');
SELECT is(pg_temp.route(pg_temp.a3('hola')), 'large large-x default', 'an empty list: no simple intents at all');
SELECT is(pg_temp.route(pg_temp.a3('ok')), 'large large-x default', 'not even ok');
UPDATE convo.bot_profiles SET simple_intents = ARRAY[$$'; DROP TABLE x; --$$, 'a|b', '(.*)', '[ok]']
 WHERE bot_profile_id = '62000000-0000-4000-8000-000000000086';
SELECT is(pg_temp.route(pg_temp.a3('drop table x')), 'small small-x simple_intent:profile',
    'profile phrases with SQL or regular expression characters are words');
SELECT is(pg_temp.route(pg_temp.a3('a')), 'large large-x default', 'a|b is the phrase "a b", not an alternation');
SELECT is(pg_temp.route(pg_temp.a3('anything')), 'large large-x default', '(.*) matches nothing');
SELECT is(pg_temp.route(pg_temp.a3('ok')), 'small small-x simple_intent:profile', '[ok] is "ok"');
UPDATE convo.bot_profiles SET simple_intents = ARRAY(SELECT 'frase ' || i FROM generate_series(1, 500) i)
 WHERE bot_profile_id = '62000000-0000-4000-8000-000000000086';
SELECT is(pg_temp.route(pg_temp.a3('frase 500')), 'small small-x simple_intent:profile', 'a list of 500 phrases works');

-- Models and profiles ----------------------------------------------------------------------------

SELECT is(pg_temp.route(convo.route_model('f0000000-0000-4000-8000-0000000086b1', 'hola')), 'small small-b simple_intent:greeting',
    'another account: its default profile''s models');
SELECT is(pg_temp.route(convo.route_model('f0000000-0000-4000-8000-0000000086b1', '¿hacen envíos a Córdoba?')),
    'cached - cache_hit:' || :shipping_b, 'and its cached answers');
UPDATE convo.bot_profiles SET large_model = 'large-a2' WHERE bot_profile_id = '60000000-0000-4000-8000-000000000086';
SELECT is(pg_temp.a1('precio') ->> 'model', 'large-a2', 'a changed model name is used at once');

-- Bad calls -------------------------------------------------------------------------------------

SELECT throws_ok($$SELECT convo.route_model(NULL, 'hola')$$, '22004', 'convo.route_model: conversation_id and text are required',
    'a NULL conversation is refused');
SELECT throws_ok($$SELECT convo.route_model('f0000000-0000-4000-8000-0000000086a1', NULL)$$, '22004',
    'convo.route_model: conversation_id and text are required', 'a NULL text is refused');
SELECT throws_ok($$SELECT convo.route_model('f0000000-0000-4000-8000-00000000dead', 'hola')$$, 'P0002',
    'convo.route_model: unknown conversation f0000000-0000-4000-8000-00000000dead', 'an unknown conversation is refused');
SELECT throws_ok($$SELECT convo.route_model('f0000000-0000-4000-8000-0000000086e1', 'hola')$$, '55000',
    'convo.route_model: account e0000000-0000-4000-8000-000000000086 has no default bot profile',
    'a conversation without a profile, in an account without a default one, is refused');
SELECT throws_ok($$SELECT convo.route_model($q$'; DROP TABLE x; --$q$, 'hola')$$, '22P02', NULL,
    'an id carrying SQL is not a uuid');

-- As PostgREST requests -----------------------------------------------------------------------------

-- test.as_request (tests/sql/postgrest_request.sql) replays PostgREST's per-request settings.
UPDATE convo.response_cache SET expires_at = now() + interval '1 day' WHERE entry_id = :hours;

CALL test.as_request('authenticated', '{"sub": "agent-a", "account_id": "a0000000-0000-4000-8000-000000000086"}');
SELECT is(pg_temp.route(convo.route_model('f0000000-0000-4000-8000-0000000086a1', 'cual es el horario?')),
    'cached - cache_hit:' || :hours, 'authenticated for A: A''s cached answer');
SELECT is(convo.route_model('f0000000-0000-4000-8000-0000000086a1', 'cual es el horario?') #>> '{cached,answer}', 'De 9 a 18 h.',
    'with the answer itself');
SELECT is(pg_temp.route(convo.route_model('f0000000-0000-4000-8000-0000000086a1', '¿Hacen envíos a Córdoba?')),
    'large large-a2 tool_words:delivery', 'never B''s');
SELECT is(pg_temp.route(convo.route_model('f0000000-0000-4000-8000-0000000086a2', 'dale')), 'small small-es simple_intent:profile',
    'A''s profiles apply');
SELECT throws_ok($$SELECT convo.route_model('f0000000-0000-4000-8000-0000000086b1', 'hola')$$, 'P0002',
    'convo.route_model: unknown conversation f0000000-0000-4000-8000-0000000086b1', 'B''s conversation is unknown to A');
CALL test.as_request('authenticated', $${"sub": "agent-x", "account_id": "a0000000' OR true --"}$$);
SELECT throws_ok($$SELECT convo.route_model('f0000000-0000-4000-8000-0000000086a1', 'hola')$$, 'P0002', NULL,
    'an account claim carrying SQL reaches no conversation');
CALL test.as_request('anon', '{}');
SELECT throws_ok($$SELECT convo.route_model('f0000000-0000-4000-8000-0000000086a1', 'hola')$$, '42501',
    'permission denied for function route_model', 'anon cannot route');
CALL test.as_request('service_role', '{}');
SELECT is(pg_temp.route(convo.route_model('f0000000-0000-4000-8000-0000000086b1', '¿Hacen envíos a Córdoba?')),
    'cached - cache_hit:' || :shipping_b, 'service_role routes any account''s conversation');
RESET ROLE;

-- What a call reads: thousands of rows, no sequential scan ---------------------------------------

INSERT INTO convo.accounts (account_id, name, phone_number_id, display_phone_number)
SELECT ('d0000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, 'Bulk ' || i, (860000 + i)::text, (15558600000 + i)::text
  FROM generate_series(1, 100) i;
INSERT INTO convo.bot_profiles (account_id, name, is_default)
SELECT account_id, 'default', true FROM convo.accounts WHERE name LIKE 'Bulk %';
INSERT INTO convo.contacts (account_id, contact_id, wa_id)
SELECT a.account_id, gen_random_uuid(), (5491120000000 + 100 * i + n)::text
  FROM (SELECT account_id, row_number() OVER (ORDER BY account_id) AS i FROM convo.accounts WHERE name LIKE 'Bulk %') a,
       generate_series(1, 30) n;
INSERT INTO convo.conversations (account_id, contact_id)
SELECT c.account_id, c.contact_id FROM convo.contacts c JOIN convo.accounts a USING (account_id) WHERE a.name LIKE 'Bulk %';
INSERT INTO convo.response_cache (account_id, question, answer, expires_at)
SELECT a.account_id, q || ' ' || n, 'answer ' || n, now() + interval '1 day'
  FROM convo.accounts a, generate_series(1, 10) n,
       unnest(ARRAY['cual es el horario de', 'hacen envios a', 'what are your hours on']) q
 WHERE a.name LIKE 'Bulk %';
ANALYZE convo.conversations;
ANALYZE convo.bot_profiles;
ANALYZE convo.response_cache;
CREATE TEMP TABLE scans_before AS
    SELECT relid, seq_scan, idx_scan FROM pg_stat_xact_user_tables
     WHERE relid IN ('convo.conversations'::regclass, 'convo.bot_profiles'::regclass, 'convo.response_cache'::regclass);
SELECT pg_temp.a1(t) FROM unnest(ARRAY['cual es el horario', 'cual es su horario de 3', 'hola', 'precio', 'bla bla bla',
                                       '👍']) t \g /dev/null
SELECT pg_temp.a2('dale') \g /dev/null
SELECT set_eq($$SELECT a.relid::regclass AS t, a.seq_scan - b.seq_scan AS seq_scans, a.idx_scan > b.idx_scan AS used_index
                  FROM pg_stat_xact_user_tables a JOIN scans_before b USING (relid)$$,
    $$VALUES ('convo.bot_profiles'::regclass, 0::bigint, true), ('convo.conversations'::regclass, 0::bigint, true),
             ('convo.response_cache'::regclass, 0::bigint, true)$$,
    'on 3,000 conversations and 3,000 cache entries of 100 accounts, route_model reads through indexes only');

SELECT * FROM finish();
ROLLBACK;
