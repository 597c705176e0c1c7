-- The response cache: normalize_text and question_key, put_cached_answer, remove_cached_answer,
-- cached_answer (exact and fuzzy matches, the similarity setting and its edges, expiry, hit
-- counts), bad input, and calls replayed as PostgREST requests of two accounts.
BEGIN;
SELECT plan(113);

SET LOCAL timezone = 'UTC';

-- Accounts A and B, each with a default profile, a customer and a conversation. ----------------

INSERT INTO convo.accounts (account_id, name, phone_number_id, display_phone_number) VALUES
    ('a0000000-0000-4000-8000-000000000085', 'Salon A', '100000000000085', '15550000085'),
    ('b0000000-0000-4000-8000-000000000085', 'Salon B', '200000000000085', '15550000850');
INSERT INTO convo.bot_profiles (account_id, name, is_default) VALUES
    ('a0000000-0000-4000-8000-000000000085', 'default', true),
    ('b0000000-0000-4000-8000-000000000085', 'default', true);
INSERT INTO convo.contacts (account_id, contact_id, wa_id) VALUES
    ('a0000000-0000-4000-8000-000000000085', 'c0000000-0000-4000-8000-0000000085a1', '5491100000851'),
    ('b0000000-0000-4000-8000-000000000085', 'c0000000-0000-4000-8000-0000000085b1', '5491100000851');
INSERT INTO convo.conversations (account_id, conversation_id, contact_id) VALUES
    ('a0000000-0000-4000-8000-000000000085', 'f0000000-0000-4000-8000-0000000085a1', 'c0000000-0000-4000-8000-0000000085a1'),
    ('b0000000-0000-4000-8000-000000000085', 'f0000000-0000-4000-8000-0000000085b1', 'c0000000-0000-4000-8000-0000000085b1');

-- A lookup in conversation A1.
CREATE FUNCTION pg_temp.a1(text text) RETURNS jsonb
LANGUAGE sql AS $$ SELECT convo.cached_answer('f0000000-0000-4000-8000-0000000085a1', text) $$;
-- An entry's hits, summed over its slots.
CREATE FUNCTION pg_temp.hits(entry bigint) RETURNS bigint
LANGUAGE sql AS $$ SELECT coalesce(sum(h.hits), 0)::bigint FROM convo.response_cache_hits h WHERE h.entry_id = entry $$;
-- Sets the similarity threshold, as an administrator would.
CREATE PROCEDURE pg_temp.similarity(value text)
LANGUAGE sql AS $$ UPDATE convo.settings SET value = similarity.value WHERE name = 'response_cache.similarity' $$;

-- Install -------------------------------------------------------------------------------------

SELECT has_table('convo'::name, 'response_cache'::name, 'the response cache table exists');
SELECT col_is_pk('convo', 'response_cache', ARRAY['account_id', 'entry_id'], 'its primary key starts with the account');
SELECT col_is_pk('convo', 'response_cache_hits', ARRAY['account_id', 'entry_id', 'slot'], 'hit counts too');
SELECT is((SELECT value FROM convo.settings WHERE name = 'response_cache.similarity'), '0.75',
    'the similarity threshold is a setting, 0.75 by default');
SELECT is(ARRAY(SELECT p.oid::regprocedure::text FROM pg_proc p
                 WHERE p.pronamespace = 'convo'::regnamespace
                   AND p.proname IN ('put_cached_answer', 'remove_cached_answer', 'cached_answer', 'response_cache_lookup')
                   AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c = 'search_path=pg_catalog')),
          '{}'::text[], 'the cache functions pin search_path to pg_catalog');
SELECT ok(EXISTS (SELECT 1 FROM pg_depend d
                   WHERE d.classid = 'pg_proc'::regclass AND d.objid = 'convo.trigram_similarity(text, text)'::regprocedure
                     AND d.refclassid = 'pg_proc'::regclass
                     AND d.refobjid IN (SELECT p.oid FROM pg_proc p WHERE p.proname = 'similarity')),
    'trigram_similarity is bound to pg_trgm''s similarity() itself, not to a name on a search_path');

-- normalize_text and question_key ---------------------------------------------------------------

SELECT is(convo.normalize_text('¿Cuál es el horario?'), 'cual es el horario', 'Spanish marks, accents and case go');
SELECT is(convo.normalize_text('ÉLÈVE Ñandú Çà Ærø Straße Œuvre Łódź Ðað'), 'eleve nandu ca aero strasse oeuvre lodz dad',
    'Latin accents are folded, ligatures and special letters spelled out');
SELECT is(convo.normalize_text(E'  Hola,\n\tbuenas   tardes!!!  '), 'hola buenas tardes',
    'line breaks, tabs and repeated spaces become one space; the ends are trimmed');
SELECT is(convo.normalize_text('hola 😀👍🏽 🇦🇷 ❤️ chau'), 'hola chau', 'emoji (4-byte, skin tones, flags, selectors) go');
SELECT is(convo.normalize_text('Precio: $1.500,00 (IVA incl.)'), 'precio 1 500 00 iva incl', 'digits stay, symbols go');
SELECT is(convo.normalize_text($$'; DROP TABLE convo.response_cache; --$$), 'drop table convo response cache',
    'SQL is just words');
SELECT is(convo.normalize_text('¡¿...?!'), '', 'punctuation alone normalizes to nothing');
SELECT is(convo.normalize_text(''), '', 'the empty text too');
SELECT is(convo.normalize_text(NULL), NULL, 'NULL stays NULL');
SELECT is(convo.question_key('Hola, buenas tardes. ¿Cuál es el horario?'), 'cual es el horario',
    'the key sets aside the greetings in front of the question');
SELECT is(convo.question_key('Bonjour ! Vous êtes ouverts dimanche ?'), 'vous etes ouverts dimanche', 'in French');
SELECT is(convo.question_key('Hi there, do you deliver?'), 'do you deliver', 'in English');
SELECT is(convo.question_key('Holanda: ¿hacen envíos?'), 'holanda hacen envios', 'a greeting must be a whole word');
SELECT is(convo.question_key('¿Cuál es el horario? Hola'), 'cual es el horario hola', 'only greetings in front are set aside');
SELECT is(convo.question_key('¡Hola, buenas!'), 'hola buenas', 'a text of greetings only keeps them');

-- put_cached_answer ------------------------------------------------------------------------------

SELECT convo.put_cached_answer('a0000000-0000-4000-8000-000000000085', '¿Cuál es el horario?',
    'De lunes a viernes de 9 a 18 h.') AS hours \gset
SELECT results_eq(format($$SELECT account_id, question, question_key, answer, min_similarity, expires_at - created_at
                              FROM convo.response_cache WHERE entry_id = %s$$, :hours),
    $$VALUES ('a0000000-0000-4000-8000-000000000085'::uuid, '¿Cuál es el horario?', 'cual es el horario',
              'De lunes a viernes de 9 a 18 h.', 0.75::real, interval '30 days')$$,
    'put_cached_answer stores the question as written, its key, the answer, the threshold; 30 days by default');
SELECT is(convo.put_cached_answer('a0000000-0000-4000-8000-000000000085', 'cual es el HORARIO', 'De 9 a 18 h.', '2 hours'),
    :hours::bigint, 'a question with the same key replaces the entry, keeping its id');
SELECT results_eq(format('SELECT question, answer, expires_at FROM convo.response_cache WHERE entry_id = %s', :hours),
    $$VALUES ('cual es el HORARIO', 'De 9 a 18 h.', now() + interval '2 hours')$$,
    'with the new question, answer and lifetime');
SELECT is(convo.put_cached_answer('a0000000-0000-4000-8000-000000000085', 'Hola! ¿Cuál es el horario?', 'De 9 a 18 h.', '10 days'),
    :hours::bigint, 'greetings in front do not make another entry');
SELECT is((SELECT count(*) FROM convo.response_cache WHERE account_id = 'a0000000-0000-4000-8000-000000000085'), 1::bigint,
    'account A has one entry');

SELECT convo.put_cached_answer('a0000000-0000-4000-8000-000000000085', '¿Cuánto cuesta un corte de pelo?', 'USD 20.') AS haircut \gset
SELECT convo.put_cached_answer('a0000000-0000-4000-8000-000000000085', '¿Aceptan 💳 tarjeta?', 'Sí, todas 💳✅ 🇦🇷') AS cards \gset
SELECT convo.put_cached_answer('a0000000-0000-4000-8000-000000000085', $$O'Brien's "menu"; DROP TABLE convo.response_cache; --$$,
    $$Answer with 'quotes'; DELETE FROM convo.accounts; --$$) AS quoted \gset
SELECT results_eq(format('SELECT question, answer FROM convo.response_cache WHERE entry_id IN (%s, %s) ORDER BY entry_id', :cards, :quoted),
    $$VALUES ('¿Aceptan 💳 tarjeta?', 'Sí, todas 💳✅ 🇦🇷'),
             ($q$O'Brien's "menu"; DROP TABLE convo.response_cache; --$q$, $q$Answer with 'quotes'; DELETE FROM convo.accounts; --$q$)$$,
    'emoji and SQL metacharacters are stored verbatim');
SELECT has_table('convo'::name, 'response_cache'::name, 'the table survived the question above');
SELECT isnt(convo.put_cached_answer('b0000000-0000-4000-8000-000000000085', '¿Cuál es el horario?', 'B: de 10 a 20 h.'),
    :hours::bigint, 'the same question in another account is another entry');
SELECT lives_ok($$SELECT convo.put_cached_answer('a0000000-0000-4000-8000-000000000085', 'a 4096-character answer', repeat('x', 4096))$$,
    'an answer may be as long as a WhatsApp text');

SELECT throws_ok($$SELECT convo.put_cached_answer(NULL, 'q', 'a')$$, '22004',
    'convo.put_cached_answer: account_id, question, answer and ttl are required', 'a NULL account is refused');
SELECT throws_ok($$SELECT convo.put_cached_answer('a0000000-0000-4000-8000-000000000085', NULL, 'a')$$, '22004', NULL,
    'a NULL question');
SELECT throws_ok($$SELECT convo.put_cached_answer('a0000000-0000-4000-8000-000000000085', 'q', NULL)$$, '22004', NULL,
    'a NULL answer');
SELECT throws_ok($$SELECT convo.put_cached_answer('a0000000-0000-4000-8000-000000000085', 'q', 'a', NULL)$$, '22004', NULL,
    'a NULL ttl');
SELECT throws_ok($$SELECT convo.put_cached_answer('a0000000-0000-4000-8000-000000000085', '¿¡...!? 👍', 'a')$$, '22023',
    $$convo.put_cached_answer: question has no letters or digits: '¿¡...!? 👍'$$, 'a question without words is refused');
SELECT throws_ok(format('SELECT convo.put_cached_answer(%L, %L, %L)', 'a0000000-0000-4000-8000-000000000085', repeat('why ', 130), 'a'),
    '22023', 'convo.put_cached_answer: question is too long: 519 characters once normalized, at most 500',
    'a question longer than 500 normalized characters is refused');
SELECT throws_ok($$SELECT convo.put_cached_answer('a0000000-0000-4000-8000-000000000085', 'q', '   ')$$, '22023',
    'convo.put_cached_answer: answer must be 1 to 4096 characters (one WhatsApp text), got 3', 'a blank answer is refused');
SELECT throws_ok(format('SELECT convo.put_cached_answer(%L, %L, %L)', 'a0000000-0000-4000-8000-000000000085', 'q', repeat('x', 4097)),
    '22023', 'convo.put_cached_answer: answer must be 1 to 4096 characters (one WhatsApp text), got 4097',
    'an answer longer than a WhatsApp text is refused');
SELECT throws_ok($$SELECT convo.put_cached_answer('a0000000-0000-4000-8000-000000000085', 'q', 'a', '0 seconds')$$, '22023',
    'convo.put_cached_answer: ttl must be positive, got 00:00:00', 'a zero ttl is refused');
SELECT throws_ok($$SELECT convo.put_cached_answer('a0000000-0000-4000-8000-000000000085', 'q', 'a', '-1 day')$$, '22023',
    'convo.put_cached_answer: ttl must be positive, got -1 days', 'a negative ttl is refused');
SELECT throws_ok($$SELECT convo.put_cached_answer('a0000000-0000-4000-8000-000000000085', 'q', 'a', '300000 years')$$, '22008',
    NULL, 'a ttl beyond the timestamp range is refused');
SELECT throws_ok($$SELECT convo.put_cached_answer('e0000000-0000-4000-8000-000000000085', 'q', 'a')$$, 'P0002',
    'convo.put_cached_answer: unknown account e0000000-0000-4000-8000-000000000085', 'an unknown account is refused');

-- cached_answer: exact and normalized matches ------------------------------------------------------

SELECT is(pg_temp.a1('¿Cuál es el horario?'),
    jsonb_build_object('entry_id', :hours, 'question', 'Hola! ¿Cuál es el horario?', 'answer', 'De 9 a 18 h.',
                       'similarity', 1, 'expires_at', now() + interval '10 days'),
    'the same question: the whole document, similarity 1');
SELECT is(pg_temp.a1(E'CUAL   ES EL\nHORARIO!!!') ->> 'entry_id', :'hours', 'case, punctuation and spaces do not matter');
SELECT is(pg_temp.a1('Buenas tardes, ¿cuál es el horario? 🙏') ->> 'similarity', '1.000',
    'nor do greetings in front or emoji');
SELECT is(pg_temp.a1('aceptan tarjeta 💳💳') ->> 'answer', 'Sí, todas 💳✅ 🇦🇷', 'a question with an emoji in it matches without');
SELECT is(pg_temp.a1($$o brien s menu drop table convo response cache$$) ->> 'entry_id', :'quoted',
    'the question with SQL in it matches by its words');

-- cached_answer: similarity and the threshold --------------------------------------------------------

SELECT is(pg_temp.a1('cual es su horario') ->> 'similarity', '0.762', 'a close question matches (similarity 0.762)');
SELECT is(pg_temp.a1('Cual es el horaro?') ->> 'similarity', '0.750', 'a typo matches at exactly the threshold (0.750)');
SELECT is(pg_temp.a1('cuanto cuesta el corte de pelo') ->> 'entry_id', :'haircut', 'the most similar entry is chosen');
SELECT is(pg_temp.a1('cuanto cuesta un corte de barba'), NULL, 'another service (similarity 0.676) does not match');
SELECT is(pg_temp.a1('cuanto sale un corte de pelo'), NULL, 'nor a rephrasing below the threshold (0.697)');
CALL pg_temp.similarity('0.7501');
SELECT is((SELECT min(min_similarity) FROM convo.response_cache), 0.7501::real, 'a new threshold is copied into every entry');
SELECT is(pg_temp.a1('cual es el horaro'), NULL, 'just above 0.75, the typo no longer matches');
SELECT is(pg_temp.a1('cual es su horario') ->> 'similarity', '0.762', 'a closer question still does');
SELECT is(pg_temp.a1('cual es el horario') ->> 'similarity', '1.000', 'and the same question always does');
CALL pg_temp.similarity('0.65');
SELECT is(pg_temp.a1('cuanto sale un corte de pelo') ->> 'entry_id', :'haircut', 'at 0.65 the rephrasing matches');
CALL pg_temp.similarity('1');
SELECT is(pg_temp.a1('cual es su horario'), NULL, 'at 1, only questions with the same trigrams match');
SELECT is(pg_temp.a1('¡Cuál es el horario!') ->> 'entry_id', :'hours', 'such as the same key');
SELECT throws_ok($$CALL pg_temp.similarity('0.2')$$, '22023',
    $$convo.settings: response_cache.similarity must be a number from 0.3 to 1, got '0.2'$$, 'a threshold below 0.3 is refused');
SELECT throws_ok($$CALL pg_temp.similarity('1.5')$$, '22023', NULL, 'above 1 too');
SELECT throws_ok($$CALL pg_temp.similarity('high')$$, '22023', NULL, 'and a word');
SELECT throws_ok($$CALL pg_temp.similarity('')$$, '22023', NULL, 'and nothing');
SELECT throws_ok($$CALL pg_temp.similarity('0.5; DROP TABLE convo.settings')$$, '22023', NULL, 'and SQL');
SELECT is((SELECT value FROM convo.settings WHERE name = 'response_cache.similarity'), '1', 'the setting kept its value');
SET LOCAL pg_trgm.similarity_threshold = 1;
CALL pg_temp.similarity(' 0.75 ');
SELECT is(pg_temp.a1('cual es el horaro') ->> 'similarity', '0.750',
    'back at 0.75; pg_trgm''s own threshold setting plays no part');
RESET pg_trgm.similarity_threshold;
SET LOCAL search_path = pg_catalog;
SELECT pg_temp.a1('cual es su horario') ->> 'similarity' AS narrow_path \gset
CREATE SCHEMA trigrams_elsewhere;
ALTER EXTENSION pg_trgm SET SCHEMA trigrams_elsewhere;
SELECT pg_temp.a1('cual es su horario') ->> 'similarity' AS moved_trgm \gset
ALTER EXTENSION pg_trgm SET SCHEMA public;
RESET search_path;
SELECT is(:'narrow_path'::text, '0.762', 'pg_trgm need not be on the caller''s search_path');
SELECT is(:'moved_trgm'::text, '0.762', 'nor in the schema it was in when convo was installed');

-- cached_answer: what never matches ----------------------------------------------------------------

SELECT is(pg_temp.a1(''), NULL, 'an empty text matches nothing');
SELECT is(pg_temp.a1('👍🙏🏽'), NULL, 'nor emoji alone');
SELECT is(pg_temp.a1('?!'), NULL, 'nor punctuation');
SELECT is(pg_temp.a1($$'; DROP TABLE convo.response_cache; SELECT '$$), NULL, 'nor SQL');
SELECT is(pg_temp.a1(repeat('¿Tienen turnos para el sábado a la mañana? ', 1500)), NULL, 'a 64 KB text matches nothing');
SELECT is(pg_temp.a1((SELECT string_agg(md5(i::text), ' ') FROM generate_series(1, 2000) i)), NULL,
    'nor 64 KB of distinct words (too many trigrams for any question)');
SELECT is(pg_temp.a1(repeat('cual es el horario ', 3500)) ->> 'entry_id', :'hours',
    'a 64 KB repetition of a question has its trigrams, and matches it');

-- Expiry
UPDATE convo.response_cache SET expires_at = now() WHERE entry_id = :haircut;
SELECT is(pg_temp.a1('¿Cuánto cuesta un corte de pelo?'), NULL, 'an entry is not used once now() reaches expires_at');
SELECT is(pg_temp.a1('cuanto cuesta el corte de pelo'), NULL, 'nor for a similar question');
UPDATE convo.response_cache SET expires_at = now() + interval '1 microsecond' WHERE entry_id = :haircut;
SELECT is(pg_temp.a1('¿Cuánto cuesta un corte de pelo?') ->> 'entry_id', :'haircut', 'a microsecond before, it is');
UPDATE convo.response_cache SET expires_at = now() - interval '1 day' WHERE entry_id = :haircut;
SELECT is(convo.put_cached_answer('a0000000-0000-4000-8000-000000000085', 'cuanto cuesta un corte de pelo', 'USD 22.'),
    :haircut::bigint, 'putting an expired question again revives its entry');
SELECT is(pg_temp.a1('¿Cuánto cuesta un corte de pelo?') ->> 'answer', 'USD 22.', 'with the new answer');

-- cached_answer: bad calls
SELECT throws_ok($$SELECT convo.cached_answer(NULL, 'hola')$$, '22004',
    'convo.cached_answer: conversation_id and text are required', 'a NULL conversation is refused');
SELECT throws_ok($$SELECT convo.cached_answer('f0000000-0000-4000-8000-0000000085a1', NULL)$$, '22004', NULL,
    'a NULL text is refused');
SELECT throws_ok($$SELECT convo.cached_answer('f0000000-0000-4000-8000-00000000dead', 'hola')$$, 'P0002',
    'convo.cached_answer: unknown conversation f0000000-0000-4000-8000-00000000dead', 'an unknown conversation is refused');
SELECT throws_ok($$SELECT convo.cached_answer('not a uuid', 'hola')$$, '22P02', NULL, 'a malformed id is refused');

-- Hit counts ------------------------------------------------------------------------------------

DELETE FROM convo.response_cache_hits;
SELECT pg_temp.a1('cual es el horario') IS NOT NULL FROM generate_series(1, 3) \g /dev/null
SELECT pg_temp.a1('cual es su horario') \g /dev/null
SELECT pg_temp.a1('no match here') \g /dev/null
SELECT is(pg_temp.hits(:hours), 4::bigint, 'every hit is counted, exact or similar; misses are not');
SELECT results_eq(format('SELECT slot::int, hits, last_hit_at FROM convo.response_cache_hits WHERE entry_id = %s', :hours),
    $$VALUES (pg_backend_pid() % 16, 4::bigint, now())$$, 'in this backend''s slot, with the time of the last hit');
SAVEPOINT read_only;
SET LOCAL transaction_read_only = on;
SELECT pg_temp.a1('cual es el horario') ->> 'answer' AS read_only_answer, pg_temp.hits(:hours) AS read_only_hits \gset
ROLLBACK TO SAVEPOINT read_only;
SELECT is(:'read_only_answer'::text, 'De 9 a 18 h.', 'a read-only transaction (a PostgREST GET) gets the answer');
SELECT is(:read_only_hits::bigint, 4::bigint, 'without counting the hit');

-- remove_cached_answer -------------------------------------------------------------------------------

SELECT is(convo.remove_cached_answer('b0000000-0000-4000-8000-000000000085', :hours), false,
    'an entry is not removed through another account');
SELECT is(convo.remove_cached_answer('a0000000-0000-4000-8000-000000000085', :hours), true, 'remove_cached_answer removes an entry');
SELECT is(pg_temp.a1('cual es el horario'), NULL, 'which no longer answers');
SELECT is((SELECT count(*) FROM convo.response_cache_hits WHERE entry_id = :hours), 0::bigint, 'its hit counts went with it');
SELECT is(convo.remove_cached_answer('a0000000-0000-4000-8000-000000000085', :hours), false, 'removing it again: false');
SELECT is(convo.remove_cached_answer('a0000000-0000-4000-8000-000000000085', -1), false, 'an unknown id: false');
SELECT throws_ok($$SELECT convo.remove_cached_answer(NULL, 1)$$, '22004',
    'convo.remove_cached_answer: account_id and entry_id are required', 'a NULL account is refused');
SELECT throws_ok($$SELECT convo.remove_cached_answer('a0000000-0000-4000-8000-000000000085', NULL)$$, '22004', NULL,
    'a NULL entry id is refused');
SELECT convo.put_cached_answer('a0000000-0000-4000-8000-000000000085', '¿Cuál es el horario?', 'A: de 9 a 18 h.') AS hours \gset
SELECT convo.put_cached_answer('b0000000-0000-4000-8000-000000000085', '¿Hacen envíos?', 'B: sí, a todo el país.') AS shipping_b \gset

-- As PostgREST requests ----------------------------------------------------------------------------

-- test.as_request (tests/sql/postgrest_request.sql) replays PostgREST's per-request settings.
DELETE FROM convo.response_cache_hits;

CALL test.as_request('authenticated', '{"sub": "agent-a", "account_id": "a0000000-0000-4000-8000-000000000085"}');
SELECT is(convo.cached_answer('f0000000-0000-4000-8000-0000000085a1', '¿cuál es el horario?') ->> 'answer', 'A: de 9 a 18 h.',
    'authenticated for A gets A''s answer');
SELECT is(convo.cached_answer('f0000000-0000-4000-8000-0000000085a1', '¿Hacen envíos?'), NULL,
    'never B''s, even for a question only B has');
SELECT throws_ok($$SELECT convo.cached_answer('f0000000-0000-4000-8000-0000000085b1', '¿Hacen envíos?')$$, 'P0002',
    'convo.cached_answer: unknown conversation f0000000-0000-4000-8000-0000000085b1', 'B''s conversation is unknown to A');
SELECT is(convo.response_cache_lookup('b0000000-0000-4000-8000-000000000085', 'hacen envios'), NULL,
    'and a lookup with B''s account id finds nothing');
SELECT results_eq('SELECT DISTINCT account_id FROM convo.response_cache',
    $$VALUES ('a0000000-0000-4000-8000-000000000085'::uuid)$$, 'A reads its own entries only');
SELECT throws_ok($$SELECT convo.put_cached_answer('a0000000-0000-4000-8000-000000000085', 'q', 'a')$$, '42501',
    'permission denied for function put_cached_answer', 'writing entries is for service_role');
SELECT throws_ok($$SELECT convo.remove_cached_answer('a0000000-0000-4000-8000-000000000085', 1)$$, '42501',
    'permission denied for function remove_cached_answer', 'removing them too');
SELECT throws_ok($$INSERT INTO convo.response_cache (account_id, question, answer, expires_at)
                   VALUES ('a0000000-0000-4000-8000-000000000085', 'q', 'a', now() + interval '1 day')$$, '42501',
    'permission denied for table response_cache', 'and the table is read-only for authenticated');
WITH changed AS (UPDATE convo.response_cache_hits SET hits = 1000
                  WHERE account_id = 'b0000000-0000-4000-8000-000000000085' RETURNING 1)
SELECT is(count(*), 0::bigint, 'another account''s hit counts are out of reach') FROM changed;
CALL test.as_request('authenticated', '{"sub": "agent-x"}');
SELECT is(convo.response_cache_lookup('a0000000-0000-4000-8000-000000000085', 'cual es el horario'), NULL,
    'without an account claim, no entry is found');
CALL test.as_request('anon', '{}');
SELECT throws_ok($$SELECT convo.cached_answer('f0000000-0000-4000-8000-0000000085a1', 'horario')$$, '42501',
    'permission denied for function cached_answer', 'anon cannot look up');
CALL test.as_request('service_role', '{}');
SELECT is(convo.cached_answer('f0000000-0000-4000-8000-0000000085b1', '¿Hacen envíos?') ->> 'answer', 'B: sí, a todo el país.',
    'service_role gets B''s answer in B''s conversation');
SELECT is(convo.cached_answer('f0000000-0000-4000-8000-0000000085b1', '¿cuál es el horario?') ->> 'answer', 'B: de 10 a 20 h.',
    'and B''s own answer to the question both accounts have');
SELECT ok(convo.put_cached_answer('b0000000-0000-4000-8000-000000000085', 'Dirección', 'Calle 1') > 0,
    'service_role writes entries');
RESET ROLE;
SELECT is(pg_temp.hits(:shipping_b), 1::bigint, 'service_role''s hit was counted');
SELECT is(pg_temp.hits(:hours), 1::bigint,
    'and authenticated''s too: build_context through PostgREST counts its hits');

-- Cost: a few thousand entries in many accounts, no sequential scan ------------------------------

INSERT INTO convo.accounts (account_id, name, phone_number_id, display_phone_number)
SELECT ('d0000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, 'Shop ' || i, (850000 + i)::text, (15558500000 + i)::text
  FROM generate_series(1, 40) i;
INSERT INTO convo.response_cache (account_id, question, answer, expires_at)
SELECT a.account_id, q || ' ' || n, 'answer ' || n, now() + interval '1 day'
  FROM convo.accounts a, generate_series(1, 15) n,
       unnest(ARRAY['cual es el horario de', 'cuanto cuesta el servicio de', 'hacen envios a', 'what are your hours on',
                    'vous livrez a']) q
 WHERE a.name LIKE 'Shop %';
ANALYZE convo.response_cache;
SELECT seq_scan AS seq_before, idx_scan AS idx_before FROM pg_stat_xact_user_tables
 WHERE relid = 'convo.response_cache'::regclass \gset
SELECT pg_temp.a1(t) FROM unnest(ARRAY['cual es el horario', 'cual es su horario', 'hacen envios a cordoba',
                                       'no match at all', repeat('x', 65536)]) t \g /dev/null
SELECT results_eq($$SELECT seq_scan, idx_scan > $$ || :idx_before || $$ FROM pg_stat_xact_user_tables
                     WHERE relid = 'convo.response_cache'::regclass$$,
    format('VALUES (%s::bigint, true)', :seq_before),
    'on 3,000 entries of 40 accounts, lookups read the cache through its indexes only');

SELECT * FROM finish();
ROLLBACK;
