-- The rival of convo.build_context in the benchmark: the same context, built by the best plain
-- PL/pgSQL function we could write (run.sh creates it in schema convo_bench after the data;
-- it is not part of the extension).
--
-- One statement reads everything: the conversation, account, contact and profile by primary
-- key, the last N messages from messages_conversation_sent (newest first, LIMIT N, then put in
-- reading order), the latest customer message only when none is among them, the open cart with
-- its product labels (convo.open_cart, the cart's owner), the last orders when asked; the same
-- statement renders the system message (replace() per placeholder, lines whose placeholders
-- are all empty dropped), gets the tools from convo.tool_definitions and the model from
-- convo.route_model, as build_context does. PL/pgSQL then fits the history to the budget (a loop over N entries)
-- and builds the result. Plans are kept per session (PL/pgSQL's plan cache), like
-- build_context's kept plans; no cache of contexts: this is the miss path.
--
-- Differences, all in this function's favour: tokens are estimated as bytes / 4 (the
-- extension's estimator follows o200k's pre-tokenizer and is more expensive), so budget.used
-- differs; options are read, not validated.
-- What a reader of the transcript sees of a message (the extension's message_text): its text,
-- or a placeholder for media, locations, reactions, templates... Inlined into the query below.
CREATE FUNCTION convo_bench.message_text(type text, body text, payload jsonb) RETURNS text
LANGUAGE sql IMMUTABLE
RETURN CASE
    WHEN type IN ('text', 'interactive', 'button') THEN coalesce(body, '')
    WHEN type IN ('image', 'video', 'sticker') THEN '[' || type || ']' || coalesce(' ' || nullif(body, ''), '')
    WHEN type = 'audio' THEN CASE WHEN payload #> '{audio,voice}' = 'true' THEN '[voice note]' ELSE '[audio]' END
    WHEN type = 'document' THEN coalesce('[document: ' || nullif(payload #>> '{document,filename}', '') || ']', '[document]')
                                || coalesce(' ' || nullif(body, ''), '')
    WHEN type = 'location' THEN '[location]' || coalesce(' ' || nullif(body, ''), '')
    WHEN type = 'contacts' THEN '[contact card]' || coalesce(' ' || nullif(body, ''), '')
    WHEN type = 'reaction' THEN coalesce('[reaction ' || nullif(body, '') || ']', '[reaction removed]')
    WHEN type = 'template' THEN coalesce('[template: ' || nullif(payload #>> '{template,name}', '') || ']', '[template]')
    WHEN type = 'system' THEN '[notice]' || coalesce(' ' || nullif(body, ''), '')
    WHEN type = 'order' THEN '[order]' || coalesce(' ' || nullif(body, ''), '')
    WHEN type = 'unsupported' THEN '[unsupported message]'
    ELSE '[' || type || ']' || coalesce(' ' || nullif(body, ''), '')
END;

CREATE FUNCTION convo_bench.build_context_sql(conversation_id uuid, options jsonb DEFAULT '{}')
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
    opt_history int := (options ->> 'history')::int;
    opt_budget int := (options ->> 'max_tokens')::int;
    with_orders boolean := coalesce((options ->> 'include_orders')::boolean, false);
    r record;
    inbound boolean[];
    contents text[];
    n int;
    latest int := 0;       -- 1-based index of the latest customer message in contents, 0: none
    keep boolean[];
    used int;
    cost int;
    room int;
    truncated boolean := false;
    dropped int := 0;
    messages jsonb;
    expires timestamptz;
    open boolean;
    ep_until timestamptz;
BEGIN
    SELECT c.account_id, c.last_inbound_at, c.entry_point_at, c.entry_point_replied_at,
           k.contact_id, k.profile_name, k.wa_id, k.user_id,
           coalesce(opt_budget, p.token_budget, 1500) AS budget,
           h.inbound, h.contents, li.text AS latest_inbound,
           sys.prompt, tl.tools, tl.tools_tokens,
           convo.route_model(c.conversation_id, coalesce(h.latest_text, li.text, '')) AS model,
           cart.cart,
           CASE WHEN with_orders THEN
               (SELECT coalesce(jsonb_agg(jsonb_build_object('id', o.order_id::text, 'status', o.status,
                                                             'total', o.total::text, 'currency', o.currency,
                                                             'created_at', to_jsonb(o.created_at) #>> '{}')
                                          ORDER BY o.created_at DESC), '[]')
                  FROM (SELECT * FROM convo.orders o
                         WHERE o.account_id = c.account_id AND o.contact_id = c.contact_id
                         ORDER BY o.created_at DESC LIMIT 3) o)
           END AS orders
      INTO r
      FROM convo.conversations c
      JOIN convo.accounts a ON a.account_id = c.account_id
      JOIN convo.contacts k ON k.account_id = c.account_id AND k.contact_id = c.contact_id
     -- The conversation's profile or the account's default one, by primary key (a plain join
     -- on the coalesce() would hash the whole table).
      LEFT JOIN LATERAL (
           SELECT * FROM convo.bot_profiles p
            WHERE p.account_id = c.account_id
              AND p.bot_profile_id = coalesce(c.bot_profile_id,
                  (SELECT d.bot_profile_id FROM convo.bot_profiles d WHERE d.account_id = c.account_id AND d.is_default))
           ) p ON true
     -- The last N messages, in reading order, as the transcript shows them.
     CROSS JOIN LATERAL (
           SELECT array_agg(m.direction = 'in' ORDER BY m.sent_at, m.message_id) AS inbound,
                  array_agg(m.text ORDER BY m.sent_at, m.message_id) AS contents,
                  (array_agg(m.text ORDER BY m.sent_at DESC, m.message_id DESC) FILTER (WHERE m.direction = 'in'))[1]
                      AS latest_text
             FROM (SELECT m.sent_at, m.message_id, m.direction, convo_bench.message_text(m.type, m.body, m.payload) AS text
                     FROM convo.messages m
                    WHERE m.account_id = c.account_id AND m.conversation_id = c.conversation_id
                    ORDER BY m.sent_at DESC, m.message_id DESC
                    LIMIT coalesce(opt_history, p.history_length, 5)) m) h
     -- The latest customer message when it is older than those (looked up only then).
     CROSS JOIN LATERAL (
           SELECT CASE WHEN h.latest_text IS NULL THEN
                      (SELECT convo_bench.message_text(m.type, m.body, m.payload)
                         FROM convo.messages m
                        WHERE m.account_id = c.account_id AND m.conversation_id = c.conversation_id
                          AND m.direction = 'in'
                        ORDER BY m.sent_at DESC, m.message_id DESC LIMIT 1)
                  END AS text) li
     -- The open cart, from its owner (convo.open_cart), as build_context embeds it.
     CROSS JOIN LATERAL (SELECT oc.summary AS cart, oc.prompt_line AS summary
                           FROM convo.open_cart(c.account_id, c.contact_id) oc) cart
     -- The tools the profile enables, and their cost in tokens.
     CROSS JOIN LATERAL (
           SELECT t.tools, CASE WHEN jsonb_array_length(t.tools) = 0 THEN 0 ELSE (octet_length(t.tools::text) + 3) / 4 END
                      AS tools_tokens
             FROM (SELECT CASE WHEN p.tools IS NULL THEN '[]' ELSE convo.tool_definitions(p.tools) END AS tools
                    OFFSET 0) t) tl   -- OFFSET 0: one call, not one per reference
     -- The system message: each placeholder replaced; a line whose placeholders are all empty,
     -- and a blank line, dropped.
     CROSS JOIN LATERAL (
           SELECT rtrim(string_agg(x.rendered, E'\n' ORDER BY x.i), E'\n ') AS prompt
             FROM (SELECT t.i, t.line,
                          replace(replace(replace(replace(replace(replace(t.line,
                              '{{business_name}}', v.business_name), '{{customer_name}}', v.customer_name),
                              '{{cart}}', v.cart), '{{step}}', v.step), '{{step_instruction}}', v.step_instruction),
                              '{{style}}', v.style) AS rendered,
                          t.line ~ '\{\{(business_name|customer_name|cart|step|step_instruction|style)\}\}' AS has_placeholder,
                          (v.business_name <> '' AND strpos(t.line, '{{business_name}}') > 0)
                          OR (v.customer_name <> '' AND strpos(t.line, '{{customer_name}}') > 0)
                          OR (v.cart <> '' AND strpos(t.line, '{{cart}}') > 0)
                          OR (v.step <> '' AND strpos(t.line, '{{step}}') > 0)
                          OR (v.step_instruction <> '' AND strpos(t.line, '{{step_instruction}}') > 0)
                          OR (v.style <> '' AND strpos(t.line, '{{style}}') > 0) AS has_value
                     FROM (SELECT coalesce(p.business_info ->> 'name', a.name) AS business_name,
                                  coalesce(k.profile_name, '') AS customer_name,
                                  coalesce(cart.summary, '') AS cart,
                                  coalesce(c.current_step, '') AS step,
                                  coalesce((SELECT s ->> 'instruction' FROM jsonb_array_elements(p.steps) s
                                             WHERE s ->> 'name' = c.current_step LIMIT 1), '') AS step_instruction,
                                  coalesce(p.style_rules, '') AS style
                           OFFSET 0) v,   -- each value computed once
                          unnest(string_to_array(coalesce(p.system_template,
                              E'You are the WhatsApp assistant of {{business_name}}.\nCustomer: {{customer_name}}.\n{{style}}'),
                              E'\n')) WITH ORDINALITY AS t(line, i)) x
            WHERE (x.has_value OR NOT x.has_placeholder) AND x.rendered ~ '[^ \t\r]') sys
     WHERE c.conversation_id = build_context_sql.conversation_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'convo_bench.build_context_sql: unknown conversation %', conversation_id USING ERRCODE = 'P0002';
    END IF;

    -- The latest customer message always goes in, even beyond the history length.
    inbound := coalesce(r.inbound, '{}');
    contents := coalesce(r.contents, '{}');
    IF r.latest_inbound IS NOT NULL THEN
        inbound := true || inbound;
        contents := r.latest_inbound || contents;
    END IF;
    n := cardinality(contents);
    FOR i IN REVERSE n..1 LOOP
        IF inbound[i] THEN latest := i; EXIT; END IF;
    END LOOP;

    -- The budget: system + tools + reply priming, then the latest customer message (cut to
    -- what is left, at least 32 tokens), then the newest history first, no gaps.
    keep := array_fill(false, ARRAY[greatest(n, 1)]);
    used := (octet_length(r.prompt) + 3) / 4 + 4 + r.tools_tokens + 3;
    IF latest > 0 THEN
        cost := (octet_length(contents[latest]) + 3) / 4 + 4;
        IF used + cost > r.budget THEN
            room := greatest(CASE WHEN r.budget > used + 4 THEN r.budget - used - 4 ELSE 0 END, 32);
            -- The longest prefix that fits with its ellipsis (3 bytes, 1 token here).
            contents[latest] := left(contents[latest], room * 4 - 3);
            WHILE octet_length(contents[latest]) > room * 4 - 3 LOOP
                contents[latest] := left(contents[latest], -1);
            END LOOP;
            contents[latest] := contents[latest] || '…';
            truncated := true;
            cost := (octet_length(contents[latest]) + 3) / 4 + 4;
        END IF;
        used := used + cost;
        keep[latest] := true;
    END IF;
    FOR i IN REVERSE n..1 LOOP
        CONTINUE WHEN keep[i];
        cost := (octet_length(contents[i]) + 3) / 4 + 4;
        EXIT WHEN truncated OR used + cost > r.budget;
        used := used + cost;
        keep[i] := true;
    END LOOP;
    messages := jsonb_build_array(jsonb_build_object('role', 'system', 'content', r.prompt));
    FOR i IN 1..n LOOP
        IF keep[i] THEN
            messages := messages || jsonb_build_object('role', CASE WHEN inbound[i] THEN 'user' ELSE 'assistant' END,
                                                       'content', contents[i]);
        ELSE
            dropped := dropped + 1;
        END IF;
    END LOOP;

    -- The window, as convo.free_window computes it.
    expires := r.last_inbound_at + interval '24 hours';
    open := coalesce(now() < expires, false);
    IF r.entry_point_replied_at >= r.entry_point_at AND r.entry_point_replied_at < r.entry_point_at + interval '24 hours'
       AND now() >= r.entry_point_replied_at AND now() < r.entry_point_replied_at + interval '72 hours' THEN
        ep_until := r.entry_point_replied_at + interval '72 hours';
    END IF;

    RETURN jsonb_build_object(
        'messages', messages,
        'tools', r.tools,
        'model', r.model,
        'customer', jsonb_build_object('id', r.contact_id::text, 'name', r.profile_name, 'wa_id', r.wa_id,
                                       'user_id', r.user_id),
        'cart', r.cart,
        'budget', jsonb_build_object('used', used, 'limit', r.budget, 'dropped', dropped, 'truncated', truncated,
                                     'over_budget', used > r.budget),
        'window', jsonb_build_object(
            'open', open, 'expires_at', expires,
            'seconds_left', CASE WHEN open THEN floor(extract(epoch FROM least(expires - now(), interval '24 hours')))::bigint
                                 ELSE 0 END,
            'entry_point_until', ep_until, 'template_required', NOT open),
        'cached', false)
        || CASE WHEN with_orders THEN jsonb_build_object('orders', r.orders) ELSE '{}' END;
END
$$;
