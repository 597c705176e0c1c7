-- build_context on a cache hit: a conversation of the hot set, whose context (these options)
-- was cached before the runs and stays valid (nothing writes to those conversations).
\set n random(1, :hot)
\set t 4000
SELECT convo.build_context(conversation_id, jsonb_build_object('include_orders', true, 'max_tokens', :t::int))
  FROM convo_bench.hot WHERE n = :n;
