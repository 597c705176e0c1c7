-- Cache tables: what teams keep in Redis (Graph API media metadata, contact lookups, validated
-- tokens, debounce markers, generated responses), kept next to the data instead.
--
-- convo.cache is UNLOGGED: it writes no WAL, is emptied by a crash (and is not replicated), so
-- nothing may be stored only there. Every value in it can be fetched or computed again.
--
-- Hot path in C++ (extension/api/cache.cpp): cache_get, cache_put, cache_try_lock, with kept
-- plans. Expiry is judged against the clock (clock_timestamp()), not the transaction start: a
-- long transaction sees entries expire.
--
-- Hits and misses are counted in each backend's memory and written to convo.cache_counts as
-- appended deltas (never an UPDATE of a shared row, so counting never waits for a lock) every
-- 1000 calls or after 1 s, by the next call of a read-write top-level transaction. See README.
--
-- Needs: tables.sql (convo.settings), common.sql (convo.setting).

CREATE TABLE convo.cache_namespaces (
    namespace   text PRIMARY KEY CHECK (namespace ~ '^[a-z][a-z0-9_]{0,62}$'),
    default_ttl interval NOT NULL CHECK (default_ttl > interval '0'),
    description text NOT NULL DEFAULT '',
    -- The row as convo wrote it, NULL for an added namespace (sql/backup.sql).
    installed   jsonb CONSTRAINT cache_namespaces_installed_check CHECK (jsonb_typeof(installed) = 'object')
);
INSERT INTO convo.cache_namespaces VALUES
    ('media', '1 hour', 'media metadata from the Graph API (URL, MIME type, sha256)'),
    ('contact_info', '10 minutes', 'contact lookups'),
    ('session', '2 minutes', 'validated tokens'),
    ('debounce', '5 minutes', 'cache_try_lock markers: one caller per key and window'),
    ('response', '1 hour', 'generated responses');
COMMENT ON TABLE convo.cache_namespaces IS
    'Cache namespaces and their default TTL; add a row to add a namespace. Deleting one drops its entries';

CREATE UNLOGGED TABLE convo.cache (
    namespace  text NOT NULL,
    key        text NOT NULL,
    value      jsonb NOT NULL,
    expires_at timestamptz NOT NULL,
    stored_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (namespace, key)
);
-- No index on expires_at: every put moves it, and an index would make each put a non-HOT
-- update; cache_purge finds expired entries with one sequential scan instead.
ALTER TABLE convo.cache SET (fillfactor = 80);
COMMENT ON TABLE convo.cache IS
    'UNLOGGED key/value cache with expiry: emptied by a crash, never the only copy of anything';

-- Hit and miss deltas flushed by backends; summed by cache_stats, compacted by cache_purge.
CREATE UNLOGGED TABLE convo.cache_counts (
    namespace  text NOT NULL,
    hits       bigint NOT NULL,
    misses     bigint NOT NULL,
    flushed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX cache_counts_namespace ON convo.cache_counts (namespace);

INSERT INTO convo.settings VALUES
    ('cache.purge_batch', '1000', 'expired cache entries deleted per statement by cache_purge');

-- A namespace deleted or renamed takes its entries (and counts) with it, so a hit always
-- belongs to a configured namespace.
CREATE FUNCTION convo.cache_namespaces_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    DELETE FROM convo.cache c
     WHERE NOT EXISTS (SELECT 1 FROM convo.cache_namespaces n WHERE n.namespace = c.namespace);
    DELETE FROM convo.cache_counts c
     WHERE NOT EXISTS (SELECT 1 FROM convo.cache_namespaces n WHERE n.namespace = c.namespace);
    RETURN NULL;
END
$$;
CREATE TRIGGER cache_namespaces_changed AFTER DELETE OR UPDATE OF namespace ON convo.cache_namespaces
FOR EACH STATEMENT EXECUTE FUNCTION convo.cache_namespaces_changed();

CREATE FUNCTION convo.cache_get(ns text, key text) RETURNS jsonb
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'convo_cache_get';
COMMENT ON FUNCTION convo.cache_get(text, text) IS
    'The cached value, NULL when absent or expired; counts a hit or a miss';

CREATE FUNCTION convo.cache_put(ns text, key text, value jsonb, ttl interval DEFAULT NULL)
RETURNS timestamptz
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'convo_cache_put';
COMMENT ON FUNCTION convo.cache_put(text, text, jsonb, interval) IS
    'Stores or replaces an entry for ttl (NULL: the namespace default); returns when it expires';

CREATE FUNCTION convo.cache_try_lock(ns text, key text, ttl interval DEFAULT NULL) RETURNS boolean
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'convo_cache_try_lock';
COMMENT ON FUNCTION convo.cache_try_lock(text, text, interval) IS
    'true for the first caller of a key within ttl (NULL: the namespace default), false for the others';

-- Writes this backend's unflushed hit and miss counts now (cache_stats calls it). Returns the
-- number of calls written; 0 in a read-only transaction, which cannot write them.
CREATE FUNCTION convo.cache_flush_counts() RETURNS bigint
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'convo_cache_flush_counts';

CREATE FUNCTION convo.cache_check_namespace(fn text, ns text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
BEGIN
    IF ns IS NULL THEN
        RAISE EXCEPTION '%: ns must not be NULL', fn USING ERRCODE = '22004';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM convo.cache_namespaces n WHERE n.namespace = ns) THEN
        RAISE EXCEPTION '%: unknown namespace %', fn, quote_literal(ns) USING ERRCODE = '22023',
            HINT = 'namespaces are rows of convo.cache_namespaces';
    END IF;
END
$$;

CREATE FUNCTION convo.cache_invalidate(ns text, key text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
BEGIN
    PERFORM convo.cache_check_namespace('convo.cache_invalidate', ns);
    IF key IS NULL THEN
        RAISE EXCEPTION 'convo.cache_invalidate: key must not be NULL' USING ERRCODE = '22004';
    END IF;
    DELETE FROM convo.cache c WHERE c.namespace = ns AND c.key = cache_invalidate.key;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION convo.cache_invalidate(text, text) IS 'Removes one entry; true when there was one';

CREATE FUNCTION convo.cache_clear(ns text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
DECLARE
    n bigint;
BEGIN
    IF ns IS NULL THEN
        DELETE FROM convo.cache;
    ELSE
        PERFORM convo.cache_check_namespace('convo.cache_clear', ns);
        DELETE FROM convo.cache c WHERE c.namespace = ns;
    END IF;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION convo.cache_clear(text) IS
    'Removes every entry of a namespace (NULL: of all namespaces); returns how many';

CREATE FUNCTION convo.cache_stats()
RETURNS TABLE(namespace text, entries bigint, hits bigint, misses bigint, hit_rate numeric, expired bigint)
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
BEGIN
    PERFORM convo.cache_flush_counts();
    RETURN QUERY
    WITH e AS (
        SELECT c.namespace, count(*) FILTER (WHERE c.expires_at > clock_timestamp()) AS live,
               count(*) FILTER (WHERE c.expires_at <= clock_timestamp()) AS dead
          FROM convo.cache c GROUP BY c.namespace
    ), k AS (
        SELECT c.namespace, sum(c.hits)::bigint AS hits, sum(c.misses)::bigint AS misses
          FROM convo.cache_counts c GROUP BY c.namespace
    )
    SELECT n.namespace, coalesce(e.live, 0), coalesce(k.hits, 0), coalesce(k.misses, 0),
           CASE WHEN coalesce(k.hits, 0) + coalesce(k.misses, 0) > 0
                THEN round(k.hits::numeric / (k.hits + k.misses), 4) END,
           coalesce(e.dead, 0)
      FROM convo.cache_namespaces n
      LEFT JOIN e ON e.namespace = n.namespace
      LEFT JOIN k ON k.namespace = n.namespace
     ORDER BY n.namespace;
END
$$;
COMMENT ON FUNCTION convo.cache_stats() IS
    'Per namespace: live entries, hits, misses, hit rate, expired entries awaiting cache_purge';

-- One scan finds the expired entries; they are deleted cache.purge_batch at a time, skipping
-- rows a concurrent put holds (they are being refreshed). Also compacts the count deltas.
CREATE FUNCTION convo.cache_purge() RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
DECLARE
    batch int := greatest(coalesce(convo.setting('cache.purge_batch')::int, 1000), 1);
    victims tid[];
    total bigint := 0;
    n bigint;
    i int := 1;
BEGIN
    SELECT array_agg(c.ctid) INTO victims FROM convo.cache c WHERE c.expires_at <= clock_timestamp();
    WHILE i <= coalesce(array_length(victims, 1), 0) LOOP
        WITH doomed AS (
            SELECT c.ctid FROM convo.cache c
             WHERE c.ctid = ANY (victims[i:i + batch - 1]) AND c.expires_at <= clock_timestamp()
               FOR UPDATE SKIP LOCKED)
        DELETE FROM convo.cache c USING doomed WHERE c.ctid = doomed.ctid;
        GET DIAGNOSTICS n = ROW_COUNT;
        total := total + n;
        i := i + batch;
    END LOOP;

    -- Count deltas: one row per namespace.
    WITH gone AS (DELETE FROM convo.cache_counts RETURNING namespace, hits, misses)
    INSERT INTO convo.cache_counts (namespace, hits, misses)
    SELECT g.namespace, sum(g.hits), sum(g.misses) FROM gone g GROUP BY g.namespace;
    RETURN total;
END
$$;
COMMENT ON FUNCTION convo.cache_purge() IS
    'Deletes expired cache entries in small batches; returns how many';
