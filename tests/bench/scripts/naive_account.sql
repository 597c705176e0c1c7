-- The same with the account id too, so the index (account_id, conversation_id, sent_at DESC)
-- applies in full.
\set n random(1, :count)
SELECT max(m.sent_at)
  FROM convo.messages m
 WHERE (m.account_id, m.conversation_id) = (SELECT account_id, conversation_id FROM convo_bench.ids WHERE n = :n)
   AND m.direction = 'in';
