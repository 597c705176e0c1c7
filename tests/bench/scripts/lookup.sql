-- Baseline of the read variants: drawing a conversation id, which they all do the same way.
\set n random(1, :count)
SELECT conversation_id FROM convo_bench.ids WHERE n = :n;
