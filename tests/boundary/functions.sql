-- The probes of boundary_test.cpp as SQL functions, in schema boundary_test. psql variable
-- lib: the absolute path of convo_boundary_test.so.
CREATE SCHEMA boundary_test;
CREATE FUNCTION boundary_test.escape_guarded(raise boolean) RETURNS text
    LANGUAGE c AS :'lib', 'convo_boundary_escape_guarded';
CREATE FUNCTION boundary_test.leave_stack_moved() RETURNS text
    LANGUAGE c AS :'lib', 'convo_boundary_leave_stack_moved';
CREATE FUNCTION boundary_test.pg_error(kind text, depth int DEFAULT 3, catch_it boolean DEFAULT false) RETURNS text
    LANGUAGE c AS :'lib', 'convo_boundary_pg_error';
CREATE FUNCTION boundary_test.counted() RETURNS text
    LANGUAGE c AS :'lib', 'convo_boundary_counted';
CREATE FUNCTION boundary_test.cpp_out_of_memory(bytes bigint) RETURNS bigint
    LANGUAGE c STRICT AS :'lib', 'convo_boundary_cpp_out_of_memory';
CREATE FUNCTION boundary_test.long_message(n int, piece text DEFAULT 'é') RETURNS text
    LANGUAGE c AS :'lib', 'convo_boundary_long_message';
-- The error a statement raises (all NULL if none), caught in a subtransaction; a cancel too,
-- which WHEN OTHERS (and pgTAP's throws_ok) lets through.
CREATE FUNCTION boundary_test.error_of(statement text, OUT code text, OUT message text, OUT detail text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
EXCEPTION WHEN OTHERS OR query_canceled THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
END
$$;
