-- build_context on a miss: any conversation, with a token budget drawn per call, so that the
-- cache key (the options) is new and the context is built and stored. Budgets from 4000 up
-- trim nothing in these conversations: the work is that of the default options.
\set n random(1, :count)
\set t random(4000, 200000)
SELECT convo.build_context(conversation_id, jsonb_build_object('include_orders', true, 'max_tokens', :t::int))
  FROM convo_bench.ids WHERE n = :n;
