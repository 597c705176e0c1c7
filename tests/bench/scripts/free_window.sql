-- The window as the product answers it: one probe of the conversation's summary row.
\set n random(1, :count)
SELECT convo.free_window(conversation_id) FROM convo_bench.ids WHERE n = :n;
