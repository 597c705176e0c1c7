-- Triggers that keep each conversation's summary columns in step with its messages, in the
-- same transaction as the message: the window (last_inbound_at), the entry point, the
-- unread count. free_window() reads only these columns, never the messages.
--
-- Needs: tables.sql (convo.status_rank); outbox.sql (convo.outbox, whose items awaiting the
-- window an inbound message releases; read when the trigger runs).

-- SECURITY DEFINER: API callers may not write the window columns themselves (that would let
-- them open their own window); this trigger, owned by the extension's owner, does it for them.
CREATE FUNCTION convo.on_message_inserted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog
AS $$
BEGIN
    IF NEW.direction = 'in' AND NEW.type = 'system' THEN
        -- A notice from WhatsApp about the customer (a new number, a new BSUID), not something
        -- the customer wrote: it neither opens the window nor counts as unread or reopens.
        UPDATE convo.conversations c SET
            last_message_at = greatest(c.last_message_at, NEW.sent_at),
            updated_at = now()
        WHERE c.account_id = NEW.account_id AND c.conversation_id = NEW.conversation_id;
    ELSIF NEW.direction = 'in' THEN
        UPDATE convo.conversations c SET
            last_inbound_at = greatest(c.last_inbound_at, NEW.sent_at),
            last_message_at = greatest(c.last_message_at, NEW.sent_at),
            unread_count = c.unread_count + 1,
            status = 'open',
            closed_at = NULL,
            -- A referral (ad or post click) starts a new entry point; the 72 h free window
            -- opens only when the business answers it within 24 h (core/free_window.cpp).
            entry_point_source = CASE WHEN NEW.payload ? 'referral'
                THEN coalesce(NEW.payload #>> '{referral,source_type}', 'unknown') ELSE c.entry_point_source END,
            entry_point_at = CASE WHEN NEW.payload ? 'referral' THEN NEW.sent_at ELSE c.entry_point_at END,
            entry_point_replied_at = CASE WHEN NEW.payload ? 'referral' THEN NULL ELSE c.entry_point_replied_at END,
            entry_point_referral = CASE WHEN NEW.payload ? 'referral' THEN NEW.payload -> 'referral' ELSE c.entry_point_referral END,
            updated_at = now()
        WHERE c.account_id = NEW.account_id AND c.conversation_id = NEW.conversation_id;
        -- The customer reopened the window: what waited for it (sql/outbox.sql) goes out now,
        -- in the order it was queued; what waited too long stays for outbox_expire.
        UPDATE convo.outbox o SET state = 'queued', next_attempt_at = now()
         WHERE o.account_id = NEW.account_id AND o.conversation_id = NEW.conversation_id
           AND o.state = 'awaiting_window' AND o.next_attempt_at > now();
    ELSIF NEW.origin = 'business_app' THEN
        -- A person wrote from the WhatsApp Business app (an echo). Outbound, so it never opens
        -- the window; not a Cloud API reply, so it does not start the entry point's free 72 h
        -- either. It marks the conversation as handled by a human.
        UPDATE convo.conversations c SET
            last_outbound_at = greatest(c.last_outbound_at, NEW.sent_at),
            last_message_at = greatest(c.last_message_at, NEW.sent_at),
            unread_count = 0,
            human_replied_at = greatest(c.human_replied_at, NEW.sent_at),
            updated_at = now()
        WHERE c.account_id = NEW.account_id AND c.conversation_id = NEW.conversation_id;
    ELSE
        -- Outbound messages never open or extend the window. Only a fact is recorded here:
        -- the first business reply since the entry point (the earliest, whatever order replies
        -- are recorded in). Whether it came in time to open the 72 h window is decided by
        -- core/free_window.cpp alone.
        UPDATE convo.conversations c SET
            last_outbound_at = greatest(c.last_outbound_at, NEW.sent_at),
            last_message_at = greatest(c.last_message_at, NEW.sent_at),
            unread_count = 0,
            entry_point_replied_at = CASE
                WHEN NEW.sent_at >= c.entry_point_at THEN least(c.entry_point_replied_at, NEW.sent_at)
                ELSE c.entry_point_replied_at END,
            updated_at = now()
        WHERE c.account_id = NEW.account_id AND c.conversation_id = NEW.conversation_id;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION convo.on_message_inserted() IS 'Trigger: an inserted message updates its conversation (window, entry point, unread count, timestamps, human reply from the Business app); an inbound one releases the outbox items awaiting the window';

CREATE TRIGGER message_inserted AFTER INSERT ON convo.messages
    FOR EACH ROW EXECUTE FUNCTION convo.on_message_inserted();

-- Statuses arrive out of order (a late 'delivered' after 'read'): never move backwards.
-- A status off the ladder (rank -1) is left as it is, so that the CHECK constraint refuses
-- it instead of this trigger quietly dropping it.
CREATE FUNCTION convo.on_message_status_change() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    IF convo.status_rank(NEW.status) >= 0
       AND convo.status_rank(NEW.status) < convo.status_rank(OLD.status) THEN
        NEW.status := OLD.status;
        NEW.status_at := OLD.status_at;
        NEW.error_code := OLD.error_code;
        NEW.error := OLD.error;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION convo.on_message_status_change() IS 'Trigger: keeps message statuses monotonic (pending < accepted < sent < failed < delivered < read < played)';

CREATE TRIGGER message_status_monotonic BEFORE UPDATE OF status ON convo.messages
    FOR EACH ROW EXECUTE FUNCTION convo.on_message_status_change();
