#!/usr/bin/env bash
# convo-sidecar over real HTTP: starts the binary against this database (port 0, the port read
# from its "listening" log line), runs sidecar_http_test (the external contract, rows checked in
# the database), then SIGTERM must end it with exit code 0. Also runs the sidecar's own unit
# tests that need a database (CONVO_TEST_DATABASE_URL).
# Expects PGHOST/PGPORT/PGUSER/PGDATABASE of a database with convo installed; binaries from
# CONVO_BUILD_DIR (default build).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/sidecar/sidecar-lib.sh

fail() { echo "not ok - $*"; exit 1; }
ok() { echo "ok - $*"; }

if [ ! -e sidecar/src/main.cpp ]; then
    echo "ok - # skip the sidecar has no main yet"
    exit 0
fi
[ -x "$SIDECAR_BUILD_DIR/tests/sidecar/sidecar_http_test" ] || fail "sidecar_http_test not built in $SIDECAR_BUILD_DIR"

work=$(mktemp -d /tmp/convo-sidecar-http.XXXXXX)
log=$work/sidecar.log
SIDECAR_PID=
cleanup() {
    [ -n "$SIDECAR_PID" ] && sidecar_kill
    rm -rf "$work"
}
trap cleanup EXIT

export CONVO_TEST_DATABASE_URL
CONVO_TEST_DATABASE_URL=$(sidecar_conninfo)
export CONVO_SIDECAR_DATABASE_URL=$CONVO_TEST_DATABASE_URL
export CONVO_META_APP_SECRET CONVO_META_VERIFY_TOKEN CONVO_TWILIO_AUTH_TOKEN CONVO_VAPI_SECRET
CONVO_META_APP_SECRET=$(sidecar_random_secret)
CONVO_META_VERIFY_TOKEN=$(sidecar_random_secret)
CONVO_TWILIO_AUTH_TOKEN=$(sidecar_random_secret)
CONVO_VAPI_SECRET=$(sidecar_random_secret)
export CONVO_TWILIO_PUBLIC_URL=https://sidecar.example.test
export CONVO_SIDECAR_HEADER_TIMEOUT_MS=2000
export CONVO_TEST_PHONE_NUMBER_ID=100200300499 CONVO_TEST_DISPLAY_PHONE_NUMBER=15550100299

# The sidecar's unit tests that talk to a database (they skip without the variable).
for t in "$SIDECAR_BUILD_DIR"/sidecar/sidecar_*_test; do
    [ -x "$t" ] || continue
    "$t" --gtest_brief=1 > "$work/unit.out" 2>&1 || { cat "$work/unit.out"; fail "$(basename "$t") with a database"; }
    ok "$(basename "$t") with CONVO_TEST_DATABASE_URL"
done

psql -X -q -v ON_ERROR_STOP=1 -c "SELECT convo.register_account('Sidecar HTTP test', '$CONVO_TEST_PHONE_NUMBER_ID', '$CONVO_TEST_DISPLAY_PHONE_NUMBER')" > /dev/null
sidecar_start "$log" || fail "the sidecar did not start"
ok "convo-sidecar listening on 127.0.0.1:$SIDECAR_PORT"
export CONVO_SIDECAR_URL=127.0.0.1:$SIDECAR_PORT

status=0
"$SIDECAR_BUILD_DIR/tests/sidecar/sidecar_http_test" --gtest_brief=1 > "$work/http.out" 2>&1 || status=$?
if [ $status -ne 0 ]; then
    cat "$work/http.out"
    echo "--- sidecar log (tail) ---"; tail -n 30 "$log"
    fail "sidecar_http_test"
fi
ok "sidecar_http_test: $(grep -o '[0-9]* tests\? from [0-9]* test suites\? ran' "$work/http.out" | head -n 1)"

grep -q '"level":"\(error\|critical\)"' "$log" && { grep '"level":"\(error\|critical\)"' "$log" | head -n 5; }
for secret in "$CONVO_META_APP_SECRET" "$CONVO_META_VERIFY_TOKEN" "$CONVO_TWILIO_AUTH_TOKEN" "$CONVO_VAPI_SECRET"; do
    grep -qF "$secret" "$log" && fail "a secret appears in the sidecar's log"
done
ok "no secret in the sidecar's log"

sidecar_stop
pid=$SIDECAR_PID
SIDECAR_PID=
[ "$SIDECAR_EXIT" = 0 ] || { tail -n 20 "$log"; fail "SIGTERM: exit code $SIDECAR_EXIT, expected 0 (pid $pid)"; }
ok "SIGTERM: the sidecar exits with 0"
