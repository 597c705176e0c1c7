-- The inbox: raw webhook bodies, durable before the webhook is acknowledged.
--
-- An inbox item moves through one state machine, only through these functions:
--   pending --claim--> processing --done--> done
--                      processing --fail--> pending (retry after a backoff) | dead (kept)
--                      processing --lease expires--> claimable again (its worker died)
-- Nothing here deletes an item; housekeeping archives old ones.
--
-- Needs: tables.sql (convo.inbox, convo.source), common.sql (convo.setting), ingest.sql
-- (inbox_process runs convo.ingest_body).

-- Stores a raw webhook body; the caller acknowledges the webhook once this has committed.
-- An unknown source is refused by its type, convo.source (23514), before the call.
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

-- Stores a group of webhook bodies in one statement (the sidecar's group commit: one
-- transaction, one WAL flush for every webhook waiting at that moment). Returns the inbox
-- ids in input order. An element of dead_reasons that is not NULL stores that body as dead
-- on arrival with the reason as its error (a body that can never be ingested, kept for
-- inspection). One wake-up for the workers per call, and only if something is pending.
-- notify = false skips the wake-up: for a writer whose own process runs the ingest workers and
-- wakes them itself. NOTIFY costs more than a message: PostgreSQL serializes every notifying
-- transaction from its pre-commit until its commit is flushed, so concurrent groups that notify
-- cannot share a WAL flush and wait for each other's.
CREATE FUNCTION convo.inbox_put_batch(sources text[], bodies text[], dead_reasons text[] DEFAULT NULL,
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

-- Claims up to n due items for this worker: FIFO, skipping items other workers hold.
CREATE FUNCTION convo.inbox_claim(n int) RETURNS SETOF convo.inbox
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    max_attempts int := convo.setting('inbox.max_attempts')::int;
BEGIN
    IF n IS NULL OR n < 1 OR n > 10000 THEN
        RAISE EXCEPTION 'convo.inbox_claim: n must be between 1 and 10000, got %', quote_nullable(n)
            USING ERRCODE = '22023';
    END IF;
    -- Items whose worker died more often than allowed are kept as dead, not retried forever.
    UPDATE convo.inbox i
       SET state = 'dead', last_error = format('abandoned by its worker %s times', i.attempts),
           processed_at = clock_timestamp()
     WHERE i.state = 'processing' AND i.next_attempt_at <= clock_timestamp()
       AND i.attempts >= max_attempts;

    RETURN QUERY
    WITH due AS (
        SELECT i.inbox_id, i.next_attempt_at FROM convo.inbox i
         WHERE i.state IN ('pending', 'processing') AND i.next_attempt_at <= clock_timestamp()
         ORDER BY i.next_attempt_at, i.inbox_id
         LIMIT n
           FOR UPDATE SKIP LOCKED),
    claimed AS (
        UPDATE convo.inbox i
           SET state = 'processing', attempts = i.attempts + 1,
               next_attempt_at = clock_timestamp() + convo.setting('inbox.lease')::interval
          FROM due
         WHERE i.inbox_id = due.inbox_id
        RETURNING i.*)
    -- In due order (most overdue first), whatever plan the UPDATE gets.
    SELECT claimed.* FROM claimed JOIN due USING (inbox_id) ORDER BY due.next_attempt_at, due.inbox_id;
END
$$;
COMMENT ON FUNCTION convo.inbox_claim(int) IS 'Claims up to n due inbox items (FOR UPDATE SKIP LOCKED) for a lease; returns them';

-- The state of an inbox item, locked for the caller's update. A NULL id is a caller's bug,
-- not an unknown item: 22004, as everywhere else in the API.
CREATE FUNCTION convo.inbox_item_state(id bigint, caller text) RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    s text;
BEGIN
    IF id IS NULL THEN
        RAISE EXCEPTION '%: id must not be NULL', caller USING ERRCODE = '22004';
    END IF;
    SELECT i.state INTO s FROM convo.inbox i WHERE i.inbox_id = id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%: unknown inbox item %', caller, quote_nullable(id) USING ERRCODE = 'P0002';
    END IF;
    RETURN s;
END
$$;
COMMENT ON FUNCTION convo.inbox_item_state(bigint, text) IS 'State of an inbox item, row locked (FOR UPDATE); raises P0002 naming the caller when the item does not exist';

-- Marks a claimed item ingested. False when it was not in processing (already done, dead).
CREATE FUNCTION convo.inbox_done(id bigint, result jsonb DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
BEGIN
    IF convo.inbox_item_state(id, 'convo.inbox_done') <> 'processing' THEN
        RETURN false;
    END IF;
    UPDATE convo.inbox i
       SET state = 'done', processed_at = clock_timestamp(), result = inbox_done.result
     WHERE i.inbox_id = id;
    RETURN true;
END
$$;
COMMENT ON FUNCTION convo.inbox_done(bigint, jsonb) IS 'Marks a claimed inbox item as ingested (with the ingest result); false if it was not being processed';

-- Records a failed attempt: retried after a doubling backoff, or kept as dead once attempts
-- are used up or when the failure is permanent (the body can never be ingested).
CREATE FUNCTION convo.inbox_fail(id bigint, error text, permanent boolean DEFAULT false)
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

-- Claims up to n items and ingests each in its own subtransaction: one bad body is marked
-- failed (dead when it can never be ingested) and the others still go in.
CREATE FUNCTION convo.inbox_process(n int DEFAULT 100) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    item convo.inbox;
    res jsonb;
    done_ids bigint[] := '{}';
    done_results jsonb[] := '{}';
    failed int := 0;
    dead int := 0;
    state text;
    msg text;
    code text;
BEGIN
    -- This transaction need not wait for its WAL flush: what it writes is derived from inbox
    -- bodies that were committed durably before the webhook was acknowledged. If a crash
    -- loses it, the claim is lost with it and the items are claimed and ingested again
    -- (idempotently). Local to the caller's transaction.
    PERFORM set_config('synchronous_commit', 'off', true);
    FOR item IN SELECT * FROM convo.inbox_claim(n) LOOP
        BEGIN
            res := convo.ingest_body(item.source, item.body);
            done_ids := done_ids || item.inbox_id;
            done_results := done_results || res;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, code = RETURNED_SQLSTATE;
            -- Data exceptions (class 22: malformed or not a notification) never heal.
            state := convo.inbox_fail(item.inbox_id, code || ': ' || msg, left(code, 2) = '22' OR code = '0A000');
            IF state = 'dead' THEN dead := dead + 1; ELSE failed := failed + 1; END IF;
        END;
    END LOOP;
    -- The claimed rows are this transaction's (locked, in processing): all marked done in one
    -- statement rather than through inbox_done item by item, which checked and locked each row
    -- again and cost about as much as a third of an ingest.
    UPDATE convo.inbox i
       SET state = 'done', processed_at = clock_timestamp(), result = d.result
      FROM unnest(done_ids, done_results) AS d(inbox_id, result)
     WHERE i.inbox_id = d.inbox_id;
    RETURN jsonb_build_object('done', cardinality(done_ids), 'retry', failed, 'dead', dead);
END
$$;
COMMENT ON FUNCTION convo.inbox_process(int) IS 'Claims and ingests up to n inbox items in this transaction, each in a subtransaction; returns {done, retry, dead}';

-- Depth and age of what waits, for health checks.
CREATE FUNCTION convo.inbox_stats() RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog
RETURN (SELECT jsonb_build_object(
        'pending', count(*) FILTER (WHERE i.state IN ('pending', 'processing')),
        'dead', count(*) FILTER (WHERE i.state = 'dead'),
        'oldest_pending_seconds', coalesce(extract(epoch FROM now() - min(i.received_at)
                                      FILTER (WHERE i.state IN ('pending', 'processing'))), 0))
        FROM convo.inbox i);
COMMENT ON FUNCTION convo.inbox_stats() IS 'Inbox depth ({pending, dead, oldest_pending_seconds})';
