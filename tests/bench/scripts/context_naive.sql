-- What an application reads today before each LLM request, one query per part, each a round
-- trip, in one transaction: the conversation, the customer, the bot profile (with the
-- business name), the last messages, the cart with product labels, the last orders. The
-- system message, tools, routing and budget it would still have to do itself are not counted.
\set n random(1, :count)
BEGIN;
SELECT account_id, conversation_id FROM convo_bench.ids WHERE n = :n \gset
SELECT contact_id, bot_profile_id, current_step, last_inbound_at, entry_point_at, entry_point_replied_at
  FROM convo.conversations WHERE account_id = :account_id AND conversation_id = :conversation_id \gset
SELECT profile_name, wa_id, user_id FROM convo.contacts WHERE account_id = :account_id AND contact_id = :contact_id;
SELECT a.name, p.system_template, p.small_model, p.large_model, p.history_length, p.token_budget, p.tools,
       p.steps, p.business_info, p.style_rules
  FROM convo.bot_profiles p JOIN convo.accounts a ON a.account_id = p.account_id
 WHERE p.account_id = :account_id AND p.bot_profile_id = :bot_profile_id;
SELECT direction, type, body, payload FROM convo.messages
 WHERE account_id = :account_id AND conversation_id = :conversation_id
 ORDER BY sent_at DESC, message_id DESC LIMIT 5;
SELECT ci.product_id, p.name, ci.quantity, ci.unit_price, p.currency, k.expires_at
  FROM convo.carts k
  JOIN convo.cart_items ci ON ci.account_id = k.account_id AND ci.cart_id = k.cart_id
  JOIN convo.products p ON p.account_id = ci.account_id AND p.product_id = ci.product_id
 WHERE k.account_id = :account_id AND k.contact_id = :contact_id AND k.status = 'open' AND k.expires_at > now()
 ORDER BY ci.added_at, ci.product_id;
SELECT order_id, status, total, currency, created_at FROM convo.orders
 WHERE account_id = :account_id AND contact_id = :contact_id ORDER BY created_at DESC LIMIT 3;
END;
