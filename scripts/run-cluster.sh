#!/usr/bin/env bash
# A persistent local cluster for trying convo by hand (make run / make stop).
#
#   scripts/run-cluster.sh start   create it on first use (database, extensions, demo data),
#                                  start it otherwise; prints how to connect
#   scripts/run-cluster.sh stop    stop it; the data stays for the next start
#
# With the cluster, convo-sidecar (from CONVO_BUILD_DIR, default build, when built there) takes
# webhooks on 127.0.0.1:CONVO_SIDECAR_PORT (8080) for the demo account, with demo secrets made
# on first use in .convo/sidecar-secrets.json; its log is .convo/sidecar.log.
#
# The cluster lives in ./.convo (data in .convo/data, socket in .convo). It listens on the
# socket and on 127.0.0.1, port CONVO_PORT (5433); the database is CONVO_DB (convo).
#
# As root the server runs as 'postgres', which must be able to reach .convo. When it cannot
# (a repository under /root, say) or the socket path would be too long, the cluster goes to
# /var/tmp/convo-<hash of the repository path> and .convo is a symlink to it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/cluster-lib.sh

repo=$(pwd -P)
SIDECAR_BIN=$repo/${CONVO_BUILD_DIR:-build}/sidecar/convo-sidecar
. tests/sidecar/sidecar-lib.sh
sidecar_port=${CONVO_SIDECAR_PORT:-8080}
link=$repo/.convo
# The server's tools run as 'postgres' from the current directory: make it one they can enter.
cd /
port=${CONVO_PORT:-5433}
db=${CONVO_DB:-convo}
listen=127.0.0.1
demo_phone_number_id=100200300400
demo_wa_id=15550142871

die() {
    echo "convo: $*" >&2
    exit 1
}

# as_pg_ok CMD...: whether CMD succeeds as the cluster's OS user (quietly).
as_pg_ok() {
    as_pg "$@" > /dev/null 2>&1
}

# Where the cluster of this repository lives, creating nothing. A link to a directory that
# is gone (/var/tmp cleaned) is dropped: the next start makes a new cluster.
existing_dir() {
    if [ -L "$link" ]; then
        if [ -d "$link" ]; then readlink -f "$link"; else rm -f "$link"; fi
    elif [ -d "$link" ]; then
        echo "$link"
    fi
}

# Where a new cluster goes: .convo itself, or a private directory under /var/tmp linked from it.
new_dir() {
    local socket=$link/.s.PGSQL.$port.lock
    # Unix socket paths are limited to 107 bytes.
    if [ ${#socket} -lt 100 ] && { [ "$(id -u)" -ne 0 ] || as_pg_ok test -x "$repo"; }; then
        echo "$link"
        return
    fi
    local dir
    dir=/var/tmp/convo-$(printf '%s' "$repo" | sha256sum | cut -c1-12)
    if [ -e "$dir" ] || [ -L "$dir" ]; then
        # A world-writable parent: only reuse a directory that is really ours.
        if [ ! -d "$dir" ] || [ -L "$dir" ] || [ "$(stat -c %u "$dir")" != "$(as_pg id -u)" ]; then
            die "$dir exists but is not a cluster directory of this repository; remove it"
        fi
    else
        mkdir -m 700 "$dir"
        [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    fi
    ln -sfn "$dir" "$link"
    echo "convo: $repo is not reachable by the postgres user (or too long a socket path);" \
        "the cluster lives in $dir (.convo links to it)" >&2
    echo "$dir"
}

# conf_value DIR NAME: the last value set for NAME in the cluster's postgresql.conf.
conf_value() {
    sed -n "s/^$2 = '\{0,1\}\([^']*\)'\{0,1\}\$/\1/p" "$1/data/postgresql.conf" | tail -n 1
}

is_running() {
    as_pg_ok "$PG_BIN/pg_ctl" -D "$1/data" status
}

# sql DIR QUERY: the query's result, unaligned (psql variable :'db' is set for it).
sql() {
    psql -X -q -A -t -h "$1" -p "$port" -U postgres -d "$db" -v ON_ERROR_STOP=1 -v db="$db" <<< "$2"
}

start() {
    [[ $db =~ ^[a-z_][a-z0-9_]*$ ]] || die "CONVO_DB must be a lowercase SQL identifier, got '$db'"
    [[ $port =~ ^[0-9]+$ ]] || die "CONVO_PORT must be a port number, got '$port'"

    local dir
    dir=$(existing_dir)
    [ -n "$dir" ] || dir=$(new_dir)

    if [ ! -e "$dir/data" ]; then
        echo "convo: creating a cluster in $dir"
        CONVO_LISTEN=$listen cluster_init "$dir" "$port" "$db"
    fi

    # cluster_init appends convo's settings last: without them an init did not finish.
    local cron_db
    cron_db=$(conf_value "$dir" cron.database_name 2> /dev/null || true)
    [ -n "$cron_db" ] || die "$dir/data is not a finished convo cluster (its postgresql.conf" \
        "lacks convo's settings); remove $dir to start over"
    [ "$cron_db" = "$db" ] || die "the cluster in $dir was made for database '$cron_db'" \
        "(pg_cron lives there); use CONVO_DB=$cron_db, or 'make stop' and remove $dir to start over"

    if is_running "$dir"; then
        # The running server keeps its port: use that one.
        port=$(sed -n 4p "$dir/data/postmaster.pid")
        echo "convo: the cluster in $dir is already running (port $port)"
    else
        if [ "$(conf_value "$dir" port)" != "$port" ]; then
            as_pg sed -i "s/^port = .*/port = $port/" "$dir/data/postgresql.conf"
        fi
        if ! cluster_start "$dir"; then
            tail -n 20 "$dir/server.log" >&2 || true
            die "the cluster in $dir did not start (is port $port taken? set CONVO_PORT)"
        fi
        echo "convo: started the cluster in $dir (port $port)"
    fi

    if [ -z "$(psql -X -q -A -t -h "$dir" -p "$port" -U postgres -d postgres -v db="$db" \
        <<< "SELECT 1 FROM pg_database WHERE datname = :'db'")" ]; then
        cluster_create_db "$dir" "$port" "$db"
        echo "convo: created database $db with pg_cron, pg_trgm and convo"
    fi

    local versions
    versions=$(sql "$dir" "SELECT e.extversion || ' ' || a.default_version
                             FROM pg_extension e JOIN pg_available_extensions a ON a.name = e.extname
                            WHERE e.extname = 'convo' AND e.extversion <> a.default_version")
    if [ -n "$versions" ]; then
        echo "convo: note: the database has convo ${versions% *}, the installed one is" \
            "${versions#* } (ALTER EXTENSION convo UPDATE, once an upgrade script exists)"
    fi

    # Demo data goes into an empty database only: a database with accounts is left alone.
    if [ "$(sql "$dir" "SELECT count(*) FROM convo.accounts")" = 0 ]; then
        if ! psql -X -q -h "$dir" -p "$port" -U postgres -d "$db" -v ON_ERROR_STOP=1 \
            --single-transaction -f "$repo/scripts/demo-data.sql" > /dev/null; then
            die "loading scripts/demo-data.sql failed (nothing of it was kept); the cluster is" \
                "running: fix and 'make run' again, or 'make stop'"
        fi
        echo "convo: loaded the demo data (scripts/demo-data.sql)"
    fi

    local conversation
    conversation=$(sql "$dir" "SELECT cv.conversation_id
          FROM convo.conversations cv
          JOIN convo.contacts ct USING (account_id, contact_id)
          JOIN convo.accounts a USING (account_id)
         WHERE a.phone_number_id = '$demo_phone_number_id' AND ct.wa_id = '$demo_wa_id'")
    print_usage "$conversation"
    start_sidecar "$dir"
}

# The connection line and a few queries to try against the demo conversation.
print_usage() {
    local conversation=${1:-<conversation id>}
    local now
    now=$(date +%s)
    cat <<EOF

Connect:
  psql -h $listen -p $port -U postgres -d $db

Try:
  -- the demo conversation's window: open? until when? entry point?
  SELECT jsonb_pretty(convo.free_window('$conversation'));

  -- its last messages
  SELECT sent_at, direction, type, status, body FROM convo.messages
   WHERE conversation_id = '$conversation' ORDER BY sent_at DESC LIMIT 5;

  -- a new message from the demo customer, as Meta's webhook delivers it (twice: a duplicate)
  SELECT convo.ingest('whatsapp', '{"object":"whatsapp_business_account","entry":[{"id":"waba-demo","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550100200","phone_number_id":"$demo_phone_number_id"},"contacts":[{"profile":{"name":"Lucia Ferraro"},"wa_id":"$demo_wa_id"}],"messages":[{"from":"$demo_wa_id","id":"wamid.DEMO.in.$now","timestamp":"$now","type":"text","text":{"body":"Is the shop open on Sunday?"}}]}}]}]}');

Stop with 'make stop'; the data stays in .convo for the next 'make run'.
EOF
}

# The demo secrets, made once (random) and kept with the cluster.
sidecar_secrets() {
    local file=$1/sidecar-secrets.json
    if [ ! -s "$file" ]; then
        (
            umask 077
            cat > "$file" <<JSON
{"accounts": [{"name": "default",
               "meta_app_secret": "$(sidecar_random_secret)",
               "meta_verify_token": "$(sidecar_random_secret)",
               "twilio_auth_token": "$(sidecar_random_secret)",
               "twilio_public_url": "http://127.0.0.1:$sidecar_port",
               "vapi_secret": "$(sidecar_random_secret)"}]}
JSON
        )
    fi
    echo "$file"
}

# secret FILE NAME: one value of the secrets file.
secret() {
    sed -n "s/.*\"$2\": \"\([^\"]*\)\".*/\1/p" "$1"
}

sidecar_running() {
    [ -f "$1/sidecar.pid" ] && kill -0 "$(cat "$1/sidecar.pid")" 2> /dev/null
}

# Starts the sidecar in front of the cluster (unless it runs), then prints how to call it.
start_sidecar() {
    local dir=$1 secrets
    if [ ! -x "$SIDECAR_BIN" ]; then
        echo "convo: no sidecar built at $SIDECAR_BIN ('make run' builds it); webhooks are not served"
        return
    fi
    secrets=$(sidecar_secrets "$dir")
    if sidecar_running "$dir"; then
        echo "convo: the sidecar is already running (pid $(cat "$dir/sidecar.pid"))"
    else
        [[ $sidecar_port =~ ^[0-9]+$ ]] || die "CONVO_SIDECAR_PORT must be a port number, got '$sidecar_port'"
        if ! CONVO_SIDECAR_DATABASE_URL="host=$dir port=$port dbname=$db user=postgres" \
            CONVO_SIDECAR_SECRETS_FILE=$secrets SIDECAR_DETACH=1 \
            sidecar_start "$dir/sidecar.log" "$sidecar_port"; then
            die "the sidecar did not start (is port $sidecar_port taken? set CONVO_SIDECAR_PORT); see $link/sidecar.log"
        fi
        echo "$SIDECAR_PID" > "$dir/sidecar.pid"
        echo "convo: started the sidecar (pid $SIDECAR_PID, log $link/sidecar.log)"
    fi
    local url=http://127.0.0.1:$sidecar_port app_secret now
    app_secret=$(secret "$secrets" meta_app_secret)
    now=$(date +%s)
    cat <<EOF

Sidecar: $url   (health: $url/health, metrics: $url/metrics)
  demo secrets of account "default" ($link/sidecar-secrets.json):
    meta_app_secret   $app_secret
    meta_verify_token $(secret "$secrets" meta_verify_token)
    twilio_auth_token $(secret "$secrets" twilio_auth_token)   (signed URL base $(secret "$secrets" twilio_public_url))
    vapi_secret       $(secret "$secrets" vapi_secret)

  # a signed WhatsApp webhook from the demo customer
  body='{"object":"whatsapp_business_account","entry":[{"id":"waba-demo","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550100200","phone_number_id":"$demo_phone_number_id"},"contacts":[{"profile":{"name":"Lucia Ferraro"},"wa_id":"$demo_wa_id"}],"messages":[{"from":"$demo_wa_id","id":"wamid.DEMO.http.$now","timestamp":"$now","type":"text","text":{"body":"Sent through the sidecar"}}]}}]}]}'
  sig=\$(printf '%s' "\$body" | openssl dgst -sha256 -hmac '$app_secret' -r | cut -d' ' -f1)
  curl -i $url/webhook/whatsapp -H 'Content-Type: application/json' -H "X-Hub-Signature-256: sha256=\$sig" --data-binary "\$body"
EOF
}

stop_sidecar() {
    local dir=$1 pid
    if sidecar_running "$dir"; then
        pid=$(cat "$dir/sidecar.pid")
        kill -TERM "$pid"
        local deadline=$((SECONDS + 20))
        while kill -0 "$pid" 2> /dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
        kill -0 "$pid" 2> /dev/null && kill -KILL "$pid"
        echo "convo: stopped the sidecar"
    fi
    rm -f "$dir/sidecar.pid"
}

stop() {
    local dir
    dir=$(existing_dir)
    if [ -z "$dir" ] || [ ! -d "$dir/data" ]; then
        echo "convo: no cluster in .convo"
        return
    fi
    stop_sidecar "$dir"
    if ! is_running "$dir"; then
        echo "convo: the cluster in $dir is not running"
        return
    fi
    cluster_stop "$dir"
    echo "convo: stopped the cluster in $dir"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*) die "usage: $0 start|stop" ;;
esac
