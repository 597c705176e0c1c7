-- Helpers shared by several parts: they live here, after the tables, rather than in the part
-- that happened to need them first.
--
-- Needs: tables.sql (convo.settings).
-- Used by: inbox.sql, cache.sql, indexes.sql, jobs.sql (setting); inbox.sql, outbox.sql (backoff_cap); response_cache.sql and
--          model_routing.sql (normalize_text, greeting_phrases, phrase_alternation).

-- A tunable of convo.settings, as text (NULL when there is no such setting).
CREATE FUNCTION convo.setting(name text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog
RETURN (SELECT s.value FROM convo.settings s WHERE s.name = setting.name);
COMMENT ON FUNCTION convo.setting(text) IS 'Value of a convo tunable (table convo.settings)';

-- The longest delay before retry number attempt (1 for the first): base doubled per attempt,
-- capped at max, in seconds. float8 with a bounded exponent: an interval product overflows
-- (22008) long before the cap applies once attempts pass ~50, and that error would escape the
-- callers' handlers. The inbox waits exactly this; the outbox a random part of it (full jitter).
CREATE FUNCTION convo.backoff_cap(base interval, max interval, attempt int) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN least(extract(epoch FROM base)::float8 * 2 ^ least(greatest(attempt, 1) - 1, 100),
             extract(epoch FROM max)::float8);
COMMENT ON FUNCTION convo.backoff_cap(interval, interval, int) IS 'Seconds of the longest delay before retry number attempt: base doubled per attempt, capped at max';

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
