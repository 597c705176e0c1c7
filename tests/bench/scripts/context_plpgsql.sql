-- The same context from the plain PL/pgSQL rival (tests/bench/context_sql.sql), same draws as
-- context_miss.
\set n random(1, :count)
\set t random(4000, 200000)
SELECT convo_bench.build_context_sql(conversation_id, jsonb_build_object('include_orders', true, 'max_tokens', :t::int))
  FROM convo_bench.ids WHERE n = :n;
