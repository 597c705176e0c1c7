# Shared by the sidecar scenarios, the benchmark and `make run`: start convo-sidecar, learn its
# port from its "listening" log line, stop it. Source after setting CONVO_BUILD_DIR (default build).
#
#   sidecar_start LOG [PORT]   starts the binary with the CONVO_* variables of the environment,
#                              listening on 127.0.0.1:PORT (0, the default: any free port); sets
#                              SIDECAR_PID and SIDECAR_PORT; fails if it is not listening in 30 s.
#                              SIDECAR_DETACH=1: in its own session, to outlive the caller
#   sidecar_stop               SIGTERM, then its exit code (SIDECAR_EXIT); 124 if it hangs 20 s
#   sidecar_kill               SIGKILL, no questions

SIDECAR_BUILD_DIR=${CONVO_BUILD_DIR:-build}
SIDECAR_BIN=${SIDECAR_BIN:-$SIDECAR_BUILD_DIR/sidecar/convo-sidecar}
LOADGEN_BIN=${LOADGEN_BIN:-$SIDECAR_BUILD_DIR/tests/sidecar/convo-loadgen}

# sidecar_conninfo: the libpq conninfo of the database in PGHOST/PGPORT/PGDATABASE.
sidecar_conninfo() {
    echo "host=$PGHOST port=$PGPORT dbname=$PGDATABASE user=${PGUSER:-postgres}"
}

# A secret for this run only.
sidecar_random_secret() {
    openssl rand -hex 16
}

sidecar_start() {
    local log=$1 port=${2:-0}
    [ -x "$SIDECAR_BIN" ] || { echo "convo-sidecar not built at $SIDECAR_BIN" >&2; return 1; }
    # The log may hold earlier processes' lines: wait for one more "listening" line than now.
    local before
    before=$(grep -c '"event":"listening"' "$log" 2> /dev/null) || before=0
    if [ "${SIDECAR_DETACH:-0}" = 1 ]; then
        CONVO_SIDECAR_LISTEN=127.0.0.1:$port setsid "$SIDECAR_BIN" < /dev/null > /dev/null 2>> "$log" &
    else
        CONVO_SIDECAR_LISTEN=127.0.0.1:$port "$SIDECAR_BIN" 2>> "$log" &
    fi
    SIDECAR_PID=$!
    local lines deadline=$((SECONDS + 30))
    while [ $SECONDS -lt $deadline ]; do
        # One read of the log for both the count and the line, so they agree.
        lines=$(grep '"event":"listening"' "$log" 2> /dev/null) || lines=
        if [ -n "$lines" ] && [ "$(wc -l <<< "$lines")" -gt "$before" ] && kill -0 "$SIDECAR_PID" 2> /dev/null; then
            local found
            found=$(tail -n 1 <<< "$lines" | sed -n 's/.*"port":\([0-9]*\).*/\1/p')
            if [ "$port" = 0 ] || [ "$found" = "$port" ]; then
                SIDECAR_PORT=$found
                return 0
            fi
        fi
        kill -0 "$SIDECAR_PID" 2> /dev/null || { echo "convo-sidecar exited at start:" >&2; tail -n 20 "$log" >&2; return 1; }
        sleep 0.05
    done
    echo "convo-sidecar did not log that it listens within 30 s:" >&2
    tail -n 20 "$log" >&2
    return 1
}

sidecar_stop() {
    SIDECAR_EXIT=0
    kill -TERM "$SIDECAR_PID" 2> /dev/null || { wait "$SIDECAR_PID" 2> /dev/null || SIDECAR_EXIT=$?; return 0; }
    local deadline=$((SECONDS + 20))
    while kill -0 "$SIDECAR_PID" 2> /dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    if kill -0 "$SIDECAR_PID" 2> /dev/null; then
        kill -KILL "$SIDECAR_PID" 2> /dev/null || true
        wait "$SIDECAR_PID" 2> /dev/null || true
        SIDECAR_EXIT=124
        return 0
    fi
    wait "$SIDECAR_PID" 2> /dev/null || SIDECAR_EXIT=$?
}

sidecar_kill() {
    kill -KILL "$SIDECAR_PID" 2> /dev/null || true
    wait "$SIDECAR_PID" 2> /dev/null || true
}
