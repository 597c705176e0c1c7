-- Accounts and the caller's account.
--
-- Needs: tables.sql.

-- The account a PostgREST request acts for: claim "account_id" of the JWT, NULL when absent
-- or not a uuid. Row-level security compares against it.
CREATE FUNCTION convo.current_account_id() RETURNS uuid
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
BEGIN
    -- Malformed claims or a non-uuid account_id give no account rather than an error.
    RETURN (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'account_id')::uuid;
EXCEPTION WHEN invalid_text_representation THEN
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION convo.current_account_id() IS 'Account id from the JWT claims of the current PostgREST request (claim account_id), NULL if none';

-- Digits of a phone number as Meta writes them: no '+', spaces, dashes or 'whatsapp:' prefix.
CREATE FUNCTION convo.phone_digits(number text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN regexp_replace(regexp_replace(number, '^whatsapp:', ''), '[\s+().-]', '', 'g');

-- Registers a WhatsApp business number, or updates it when its phone_number_id is known.
CREATE FUNCTION convo.register_account(
    name text, phone_number_id text, display_phone_number text, waba_id text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
#variable_conflict use_column
DECLARE
    digits text := convo.phone_digits(display_phone_number);
    id uuid;
BEGIN
    IF coalesce(name, '') = '' THEN
        RAISE EXCEPTION 'convo.register_account: name must not be empty' USING ERRCODE = '22023';
    END IF;
    IF phone_number_id IS NULL OR phone_number_id !~ '^[0-9]+$' THEN
        RAISE EXCEPTION 'convo.register_account: phone_number_id must be digits, got %', quote_nullable(phone_number_id)
            USING ERRCODE = '22023';
    END IF;
    IF digits IS NULL OR digits !~ '^[0-9]{6,20}$' THEN
        RAISE EXCEPTION 'convo.register_account: display_phone_number must be a phone number, got %', quote_nullable(display_phone_number)
            USING ERRCODE = '22023';
    END IF;

    INSERT INTO convo.accounts AS a (name, phone_number_id, display_phone_number, waba_id)
    VALUES (register_account.name, register_account.phone_number_id, digits, register_account.waba_id)
    ON CONFLICT (phone_number_id) DO UPDATE
        SET name = excluded.name, display_phone_number = excluded.display_phone_number,
            waba_id = coalesce(excluded.waba_id, a.waba_id)
    RETURNING a.account_id INTO id;

    INSERT INTO convo.bot_profiles (account_id, name, is_default)
    VALUES (id, 'default', true)
    ON CONFLICT DO NOTHING;
    RETURN id;
END
$$;
COMMENT ON FUNCTION convo.register_account(text, text, text, text) IS 'Registers a WhatsApp business number (or updates the one with this phone_number_id) and its default bot profile; returns the account id';
