#!/usr/bin/env bash
# First start of an empty data directory (run by the image's entrypoint): convo, the
# extensions it uses, and its pg_cron maintenance jobs, in POSTGRES_DB.
set -euo pipefail

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE EXTENSION IF NOT EXISTS pg_cron;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS pg_prewarm;
CREATE EXTENSION IF NOT EXISTS convo;
SELECT * FROM convo.schedule_jobs();
SQL
