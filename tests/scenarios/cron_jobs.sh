#!/usr/bin/env bash
# pg_cron jobs really run: schedule_jobs in the cron database (the test database), then wait
# for the every-minute jobs (cache purge, cart expiry) to succeed in cron.job_run_details and
# for an expired cart to be marked. Also: without pg_cron, CREATE EXTENSION convo works and
# schedule_jobs raises 55000 with a hint. pg_cron 1.4 runs jobs on minute boundaries: this
# waits up to 75 s. Expects PGHOST/PGPORT/PGUSER/PGDATABASE (the cron.database_name).
set -euo pipefail

q() { psql -X -q -t -A -v ON_ERROR_STOP=1 "$@"; }
fail() { echo "not ok - $*"; exit 1; }

# Without pg_cron (a database where it is not installed).
nocron=convo_nocron
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $nocron" -c "CREATE DATABASE $nocron" 2>/dev/null
cleanup() {
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $nocron" >/dev/null 2>&1 || true
    q -c "SELECT count(*) FROM convo.unschedule_jobs()" >/dev/null 2>&1 || true
}
trap cleanup EXIT
q -d "$nocron" -c "CREATE EXTENSION pg_trgm" -c "CREATE EXTENSION convo" || fail "CREATE EXTENSION convo without pg_cron"
err=$(psql -X -q -d "$nocron" -v VERBOSITY=verbose -c "SELECT convo.schedule_jobs()" 2>&1 || true)
case "$err" in
    *"ERROR:  55000: convo.schedule_jobs: pg_cron is not installed in this database"*"HINT:  Add pg_cron to shared_preload_libraries"*"CREATE EXTENSION pg_cron"*) ;;
    *) fail "schedule_jobs without pg_cron: $err" ;;
esac
echo "ok - without pg_cron convo installs and schedule_jobs says how to enable pg_cron"

# An open cart already past its expiry, for the cart expiry job.
q > /dev/null <<'SQL'
INSERT INTO convo.accounts (account_id, name, phone_number_id, display_phone_number)
VALUES ('00000000-0000-0000-0000-0000000000e5', 'Cron', '9600001', '9600001');
INSERT INTO convo.contacts (account_id, contact_id, wa_id)
VALUES ('00000000-0000-0000-0000-0000000000e5', '00000000-0000-0000-0000-0000000000e6', '5550961');
INSERT INTO convo.carts (account_id, cart_id, contact_id, expires_at)
VALUES ('00000000-0000-0000-0000-0000000000e5', '00000000-0000-0000-0000-0000000000e7',
        '00000000-0000-0000-0000-0000000000e6', now() - interval '1 minute');
SQL
q -c "CREATE EXTENSION IF NOT EXISTS pg_prewarm" > /dev/null
scheduled=$(q -c "SELECT count(*) FROM convo.schedule_jobs() WHERE action IN ('scheduled', 'updated', 'unchanged')")
[ "$scheduled" = 7 ] || fail "schedule_jobs scheduled $scheduled jobs, expected 7"

ran=0
for _ in $(seq 75); do
    ran=$(q -c "SELECT count(DISTINCT j.jobname) FROM cron.job_run_details d JOIN cron.job j USING (jobid)
                 WHERE j.jobname IN ('convo-cache-purge', 'convo-expire-carts') AND d.status = 'succeeded'")
    [ "$ran" = 2 ] && break
    sleep 1
done
if [ "$ran" != 2 ]; then
    q -c "SELECT j.jobname, d.status, d.return_message FROM cron.job_run_details d JOIN cron.job j USING (jobid)" >&2 || true
    fail "the every-minute jobs did not both succeed within 75 s ($ran of 2)"
fi
status=$(q -c "SELECT status FROM convo.carts WHERE cart_id = '00000000-0000-0000-0000-0000000000e7'")
[ "$status" = expired ] || fail "the cart expiry job ran but the cart is $status"
failed=$(q -c "SELECT count(*) FROM cron.job_run_details d JOIN cron.job j USING (jobid)
                WHERE j.jobname LIKE 'convo-%' AND d.status = 'failed'")
[ "$failed" = 0 ] || fail "$failed convo job runs failed"
echo "ok - pg_cron ran convo-cache-purge and convo-expire-carts; the expired cart is marked"

removed=$(q -c "SELECT count(*) FROM convo.unschedule_jobs()")
left=$(q -c "SELECT count(*) FROM cron.job WHERE jobname LIKE 'convo-%'")
[ "$removed" = 7 ] && [ "$left" = 0 ] || fail "unschedule_jobs removed $removed, $left convo jobs left"
echo "ok - unschedule_jobs removed the seven jobs"
