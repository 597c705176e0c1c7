-- Test helper, installed once in the test database before the suites run: replays what
-- PostgREST (v12) does at the start of every request, before the API call. The settings are
-- local to the transaction: the role switched with set_config('role', ...), the JWT claims
-- with the role inserted, the method, path, headers and cookies. A procedure, so that CALL
-- prints nothing between the TAP lines.
CREATE SCHEMA test;
GRANT USAGE ON SCHEMA test TO PUBLIC;
CREATE PROCEDURE test.as_request(role text, claims jsonb DEFAULT '{}', method text DEFAULT 'POST',
                                 path text DEFAULT '/rpc/build_context')
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('search_path', '"convo", "public"', true),
            set_config('role', role, true),
            set_config('request.jwt.claims', (claims || jsonb_build_object('role', role))::text, true),
            set_config('request.method', method, true),
            set_config('request.path', path, true),
            set_config('request.headers', '{"content-type":"application/json","prefer":"return=representation"}', true),
            set_config('request.cookies', '{}', true);
END
$$;
