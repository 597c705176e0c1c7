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
--
-- Needs: tables.sql, common.sql (convo.setting, normalize_text, greeting_phrases,
-- phrase_alternation), pg_trgm.

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
