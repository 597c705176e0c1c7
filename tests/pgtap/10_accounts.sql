-- Accounts: registering a business number, phone number digits, the caller's account.
BEGIN;
SELECT plan(44);

-- Sets the JWT claims of this transaction, as PostgREST does, and returns the caller's account.
CREATE FUNCTION pg_temp.account_for(claims text) RETURNS uuid
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('request.jwt.claims', claims, true);
    RETURN convo.current_account_id();
END
$$;

-- register_account: a new number --------------------------------------------------------------

SELECT convo.register_account('Acme Shop', '106540352242922', '+1 555-765-4321', '102290129340398') AS acme \gset

SELECT isnt(:'acme'::uuid, NULL, 'register_account returns the new account id');
SELECT results_eq(
    format($$SELECT name, phone_number_id, display_phone_number, waba_id
               FROM convo.accounts WHERE account_id = %L$$, :'acme'),
    $$VALUES ('Acme Shop', '106540352242922', '15557654321', '102290129340398')$$,
    'the account is stored with the display number reduced to its digits');
SELECT results_eq(
    format($$SELECT name, is_default, history_length, token_budget FROM convo.bot_profiles WHERE account_id = %L$$, :'acme'),
    $$VALUES ('default', true, 5, 1500)$$,
    'a new account gets exactly one bot profile, the default one');

-- register_account: the same phone_number_id again updates ------------------------------------

SELECT is(convo.register_account('Acme Shop & Co', '106540352242922', '15550001111'), :'acme'::uuid,
          're-registering a phone_number_id returns the same account id');
SELECT results_eq(
    format($$SELECT name, display_phone_number, waba_id FROM convo.accounts WHERE account_id = %L$$, :'acme'),
    $$VALUES ('Acme Shop & Co', '15550001111', '102290129340398')$$,
    're-registering updates name and number and keeps the waba_id when none is given');
SELECT is((SELECT count(*) FROM convo.accounts WHERE phone_number_id = '106540352242922'), 1::bigint,
          're-registering does not add an account');
SELECT is((SELECT count(*) FROM convo.bot_profiles WHERE account_id = :'acme'), 1::bigint,
          're-registering does not add a second bot profile');
SELECT is(convo.register_account('Acme Shop & Co', '106540352242922', '15550001111', '999'), :'acme'::uuid,
          're-registering with a waba_id returns the same account id');
SELECT is((SELECT waba_id FROM convo.accounts WHERE account_id = :'acme'), '999',
          'a given waba_id replaces the stored one');

-- Names are data: quotes, SQL and 4-byte emoji are stored as given.
SELECT convo.register_account($$O'Brien "Tacos"'); DROP TABLE convo.accounts; -- 🌮🇲🇽$$,
                              '200000000000001', 'whatsapp:+44 (20) 7946-0958') AS tacos \gset
SELECT results_eq(
    format($$SELECT name, length(name), display_phone_number FROM convo.accounts WHERE account_id = %L$$, :'tacos'),
    $$VALUES ($n$O'Brien "Tacos"'); DROP TABLE convo.accounts; -- 🌮🇲🇽$n$, 52, '442079460958')$$,
    'a name with quotes, SQL and emoji is stored verbatim; a whatsapp: number is reduced to digits');
SELECT has_table('convo'::name, 'accounts'::name, 'the accounts table survived the name above');
SELECT isnt(:'tacos'::uuid, :'acme'::uuid, 'another phone_number_id is another account');

-- register_account: validation -----------------------------------------------------------------

SELECT throws_ok($$SELECT convo.register_account('', '300000000000001', '15550002222')$$,
    '22023', 'convo.register_account: name must not be empty', 'an empty name is refused');
SELECT throws_ok($$SELECT convo.register_account(NULL, '300000000000001', '15550002222')$$,
    '22023', 'convo.register_account: name must not be empty', 'a NULL name is refused');
SELECT throws_ok($$SELECT convo.register_account('Shop', '30000000000000x', '15550002222')$$,
    '22023', $$convo.register_account: phone_number_id must be digits, got '30000000000000x'$$,
    'a phone_number_id with a letter is refused');
SELECT throws_ok($$SELECT convo.register_account('Shop', '', '15550002222')$$,
    '22023', $$convo.register_account: phone_number_id must be digits, got ''$$,
    'an empty phone_number_id is refused');
SELECT throws_ok($$SELECT convo.register_account('Shop', NULL, '15550002222')$$,
    '22023', 'convo.register_account: phone_number_id must be digits, got NULL',
    'a NULL phone_number_id is refused');
SELECT throws_ok($$SELECT convo.register_account('Shop', '+300000000000001', '15550002222')$$,
    '22023', $$convo.register_account: phone_number_id must be digits, got '+300000000000001'$$,
    'a phone_number_id is not a phone number: no + allowed');
SELECT throws_ok($$SELECT convo.register_account('Shop', '１２３４５６', '15550002222')$$,
    '22023', $$convo.register_account: phone_number_id must be digits, got '１２３４５６'$$,
    'full-width digits are not digits');
SELECT throws_ok($$SELECT convo.register_account('Shop', $q$1'; DROP TABLE convo.accounts; --$q$, '15550002222')$$,
    '22023', $$convo.register_account: phone_number_id must be digits, got '1''; DROP TABLE convo.accounts; --'$$,
    'a phone_number_id carrying SQL is refused and quoted in the message');
SELECT throws_ok($$SELECT convo.register_account('Shop', '300000000000001', '12345')$$,
    '22023', $$convo.register_account: display_phone_number must be a phone number, got '12345'$$,
    'a display number of five digits is refused');
SELECT throws_ok($$SELECT convo.register_account('Shop', '300000000000001', '123456789012345678901')$$,
    '22023', $$convo.register_account: display_phone_number must be a phone number, got '123456789012345678901'$$,
    'a display number of 21 digits is refused');
SELECT throws_ok($$SELECT convo.register_account('Shop', '300000000000001', 'call 555 1234')$$,
    '22023', $$convo.register_account: display_phone_number must be a phone number, got 'call 555 1234'$$,
    'a display number with words is refused');
SELECT throws_ok($$SELECT convo.register_account('Shop', '300000000000001', '')$$,
    '22023', $$convo.register_account: display_phone_number must be a phone number, got ''$$,
    'an empty display number is refused');
SELECT throws_ok($$SELECT convo.register_account('Shop', '300000000000001', NULL)$$,
    '22023', 'convo.register_account: display_phone_number must be a phone number, got NULL',
    'a NULL display number is refused');
SELECT throws_ok($$SELECT convo.register_account('Shop', '300000000000001', '+1 555-765-4321 📞')$$,
    '22023', $$convo.register_account: display_phone_number must be a phone number, got '+1 555-765-4321 📞'$$,
    'a display number with an emoji is refused');
SELECT throws_ok($$SELECT convo.register_account('Shop', '300000000000001', '+1 (555) 000-1111')$$,
    '23505', 'duplicate key value violates unique constraint "accounts_display_phone_number_key"',
    'two accounts cannot share a display number');
SELECT throws_ok($$SELECT convo.register_account(42, 300000000000001, 15550002222)$$,
    '42883', NULL, 'numbers are not accepted for the text arguments');
SELECT is((SELECT count(*) FROM convo.accounts), 2::bigint, 'refused registrations left no account behind');

-- phone_digits -------------------------------------------------------------------------------

SELECT is(convo.phone_digits('+1 555-765-4321'), '15557654321', 'phone_digits drops +, spaces and dashes');
SELECT is(convo.phone_digits('whatsapp:+14155238886'), '14155238886', 'phone_digits drops the whatsapp: prefix');
SELECT is(convo.phone_digits(E'(0351)\t15.555.1234\n'), '0351155551234', 'phone_digits drops parentheses, dots, tabs, newlines');
SELECT is(convo.phone_digits('5491122334455'), '5491122334455', 'phone_digits keeps plain digits');
SELECT is(convo.phone_digits('1-800-FLOWERS'), '1800FLOWERS', 'phone_digits only strips separators, it does not validate');
SELECT is(convo.phone_digits(NULL), NULL, 'phone_digits(NULL) is NULL');

-- current_account_id -----------------------------------------------------------------------

SELECT is(convo.current_account_id(), NULL, 'no claims set: no account');
SELECT is(pg_temp.account_for(''), NULL, 'empty claims (what PostgREST leaves behind): no account');
SELECT is(pg_temp.account_for(format('{"role":"authenticated","account_id":"%s"}', :'acme')), :'acme'::uuid,
          'the claim account_id is the account');
SELECT is(pg_temp.account_for('{"role":"authenticated"}'), NULL, 'claims without account_id: no account');
SELECT is(pg_temp.account_for('{"role":"authenticated","account_id":"acme"}'), NULL, 'a non-uuid account_id: no account');
SELECT is(pg_temp.account_for($${"account_id":"'; DROP TABLE convo.accounts; --"}$$), NULL,
          'an account_id carrying SQL: no account');
SELECT is(pg_temp.account_for('{"account_id":42}'), NULL, 'a numeric account_id: no account');
SELECT is(pg_temp.account_for('{"account_id":null}'), NULL, 'a null account_id: no account');
SELECT is(pg_temp.account_for('{not json'), NULL, 'malformed claims: no account, not an error');

SELECT * FROM finish();
ROLLBACK;
