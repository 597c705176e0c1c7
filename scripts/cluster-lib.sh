# Shared by the test, run and bench scripts: a private PostgreSQL 15 cluster with pg_cron,
# reachable only through a Unix socket in its own directory (no port to collide with).
# PostgreSQL refuses to run as root, so as root the server runs as the 'postgres' user.

PG_BIN=${PG_BIN:-$(pg_config --bindir)}

# as_pg CMD...: run CMD as the cluster's OS user.
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# cluster_init DIR PORT DB: create the cluster (data in DIR/data, socket in DIR).
cluster_init() {
    local dir=$1 port=$2 db=$3
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    as_pg "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 > "$dir/initdb.log"
    cat >> "$dir/data/postgresql.conf" <<CONF
listen_addresses = '${CONVO_LISTEN:-}'
port = $port
unix_socket_directories = '$dir'
shared_preload_libraries = 'pg_cron'
cron.database_name = '$db'
cron.host = '$dir'
max_connections = 100
shared_buffers = 256MB
fsync = ${CONVO_FSYNC:-on}
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '
CONF
}

cluster_start() {
    local dir=$1
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start > /dev/null
}

cluster_stop() {
    local dir=$1
    [ -f "$dir/data/postmaster.pid" ] || return 0
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop > /dev/null || true
}

# cluster_create_db DIR PORT DB: the database with convo and the extensions around it.
cluster_create_db() {
    local dir=$1 port=$2 db=$3
    psql -X -q -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
        -c "CREATE DATABASE $db"
    psql -X -q -h "$dir" -p "$port" -U postgres -d "$db" -v ON_ERROR_STOP=1 <<SQL
CREATE EXTENSION pg_cron;
CREATE EXTENSION pg_trgm;
CREATE EXTENSION convo;
SQL
}
