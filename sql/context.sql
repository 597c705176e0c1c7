-- Context assembly: convo.build_context (C++: extension/api/build_context.cpp) and its cache.
--
-- Staleness is made impossible by versions rather than by deleting cache rows: every change
-- that alters what a context contains bumps conversations.context_version (messages, cart,
-- contact, orders, the conversation itself) or accounts.context_version (bot profiles,
-- products, cached answers, tool definitions), in the same transaction as the change. A cache
-- row records the versions it was built from and is used only while both still match and its
-- valid_until (cart expiry) has not passed. build_context reads the versions before the data,
-- so a change committed while a context is being built leaves a row that no caller will use.
--
-- Needs: tables.sql, tools.sql (convo.tools, the cart), response_cache.sql (its table's
-- trigger), model_routing.sql (convo.route_text), bot_profiles.sql (convo.effective_profile).

-- UNLOGGED: a cache, rebuilt on demand; never the only copy of anything.
CREATE UNLOGGED TABLE convo.context_cache (
    account_id           uuid NOT NULL,
    conversation_id      uuid NOT NULL,
    options_key          text NOT NULL,   -- the options that shape the context: history, budget, orders
    conversation_version bigint NOT NULL,
    account_version      bigint NOT NULL,
    valid_until          timestamptz,     -- earliest expiry of something inside (an open cart)
    context              jsonb COMPRESSION lz4 NOT NULL,  -- everything but the time-dependent window
    built_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, conversation_id, options_key)
)
-- Rows are kept whole and uncompressed up to a page (most contexts are a few kB): a hit then
-- reads the context as it is, with neither decompression nor a TOAST fetch, and a miss stores it
-- without compressing it. Larger ones are compressed with lz4, much faster to read than pglz.
WITH (toast_tuple_target = 8160);
CREATE INDEX context_cache_conversation ON convo.context_cache (conversation_id, options_key);

-- A row's own change bumps its context_version (unless the statement already did): used for
-- conversations (any change) and accounts (a new name).
CREATE FUNCTION convo.bump_context_version() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    IF NEW.context_version = OLD.context_version THEN
        NEW.context_version := OLD.context_version + 1;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION convo.bump_context_version() IS 'Trigger: a change to a conversation or an account outdates the cached contexts built from it';
CREATE TRIGGER conversation_context_version BEFORE UPDATE ON convo.conversations
    FOR EACH ROW EXECUTE FUNCTION convo.bump_context_version();
CREATE TRIGGER account_context_version BEFORE UPDATE OF name ON convo.accounts
    FOR EACH ROW EXECUTE FUNCTION convo.bump_context_version();

-- Outdates the contexts of the conversation(s) a changed row belongs to. SECURITY DEFINER:
-- API callers may change their cart but not write conversations' version columns themselves.
-- TG_ARGV[0] says how the row names its conversation: 'conversation', 'contact' or 'cart'.
CREATE FUNCTION convo.touch_conversation_context() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    r record := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    account uuid := r.account_id;
    contact uuid;
BEGIN
    IF TG_ARGV[0] = 'conversation' THEN
        UPDATE convo.conversations c SET context_version = c.context_version + 1
         WHERE c.account_id = account AND c.conversation_id = r.conversation_id;
        RETURN NULL;
    ELSIF TG_ARGV[0] = 'cart' THEN
        SELECT k.contact_id INTO contact FROM convo.carts k
         WHERE k.account_id = account AND k.cart_id = r.cart_id;
    ELSE
        contact := r.contact_id;
    END IF;
    UPDATE convo.conversations c SET context_version = c.context_version + 1
     WHERE c.account_id = account AND c.contact_id = contact;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION convo.touch_conversation_context() IS 'Trigger: a change to a message, contact, cart or order outdates the cached contexts of its conversation';

-- deleted_at: a message its sender deleted leaves the assistant's context (it shows as deleted).
CREATE TRIGGER message_changed_context AFTER UPDATE OF direction, type, body, payload, sent_at, deleted_at OR DELETE
    ON convo.messages FOR EACH ROW EXECUTE FUNCTION convo.touch_conversation_context('conversation');
CREATE TRIGGER contact_changed_context AFTER UPDATE ON convo.contacts
    FOR EACH ROW EXECUTE FUNCTION convo.touch_conversation_context('contact');
CREATE TRIGGER cart_changed_context AFTER INSERT OR UPDATE OR DELETE ON convo.carts
    FOR EACH ROW EXECUTE FUNCTION convo.touch_conversation_context('contact');
CREATE TRIGGER cart_item_changed_context AFTER INSERT OR UPDATE OR DELETE ON convo.cart_items
    FOR EACH ROW EXECUTE FUNCTION convo.touch_conversation_context('cart');
CREATE TRIGGER order_changed_context AFTER INSERT OR UPDATE OR DELETE ON convo.orders
    FOR EACH ROW EXECUTE FUNCTION convo.touch_conversation_context('contact');

-- Outdates every context of the changed row's account (or of all accounts for global rows).
CREATE FUNCTION convo.touch_account_context() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog
AS $$
BEGIN
    IF TG_LEVEL = 'STATEMENT' THEN
        UPDATE convo.accounts a SET context_version = a.context_version + 1;
        RETURN NULL;
    END IF;
    UPDATE convo.accounts a SET context_version = a.context_version + 1
     WHERE a.account_id = (CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END).account_id;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION convo.touch_account_context() IS 'Trigger: a change to a bot profile, product or cached answer outdates the cached contexts of its account';

CREATE TRIGGER bot_profile_changed_context AFTER INSERT OR UPDATE OR DELETE ON convo.bot_profiles
    FOR EACH ROW EXECUTE FUNCTION convo.touch_account_context();
-- A new or changed cached answer changes the model a customer's text routes to.
CREATE TRIGGER cached_answer_changed_context AFTER INSERT OR UPDATE OR DELETE ON convo.response_cache
    FOR EACH ROW EXECUTE FUNCTION convo.touch_account_context();
-- Tool definitions are shared by all accounts.
CREATE TRIGGER tool_changed_context AFTER INSERT OR UPDATE OR DELETE ON convo.tools
    FOR EACH STATEMENT EXECUTE FUNCTION convo.touch_account_context();
-- Stock moves often and is not shown in a context: only what a cart line shows counts.
CREATE TRIGGER product_changed_context AFTER UPDATE OF sku, name, price, currency OR DELETE
    ON convo.products FOR EACH ROW EXECUTE FUNCTION convo.touch_account_context();


CREATE FUNCTION convo.build_context(conversation_id uuid, options jsonb DEFAULT '{}')
RETURNS jsonb
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'convo_build_context_0_2';
COMMENT ON FUNCTION convo.build_context(uuid, jsonb) IS 'Everything an assistant needs before an LLM request: OpenAI messages within the token budget, tools, model, window, customer, cart (options: history, max_tokens, include_orders)';
