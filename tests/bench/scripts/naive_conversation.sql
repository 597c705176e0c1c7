-- The window as an app without the summary columns computes it: the last inbound message,
-- looked up by conversation id alone (what an app that keys conversations by id writes).
\set n random(1, :count)
SELECT max(m.sent_at)
  FROM convo.messages m
 WHERE m.conversation_id = (SELECT conversation_id FROM convo_bench.ids WHERE n = :n)
   AND m.direction = 'in';
