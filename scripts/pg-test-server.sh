#!/usr/bin/env bash
# A throw-away PostgreSQL 15 server for the storage conformance suite (ADR 0010).
#
#   scripts/pg-test-server.sh start   initdb + start on a free 127.0.0.1 port, create database kura_test,
#                                     print the URL (also written to $KURA_PG_ROOT/url)
#   scripts/pg-test-server.sh url     print the URL of the running server
#   scripts/pg-test-server.sh stop    stop the server and delete its directory
#
# Use:  export KURA_TEST_POSTGRES_URL=$(scripts/pg-test-server.sh start); swift test; scripts/pg-test-server.sh stop
# initdb refuses to run as root, so as root the server runs as the user `postgres` (runuser).
set -euo pipefail

PGROOT=${KURA_PG_ROOT:-/tmp/kura-pg-test}
PGBIN=${KURA_PG_BIN:-/usr/lib/postgresql/15/bin}
export PATH="$PGBIN:$PATH"

as_server_user() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
    if [ -f "$PGROOT/url" ] && as_server_user pg_ctl -D "$PGROOT/data" status >/dev/null 2>&1; then
        cat "$PGROOT/url"
        return
    fi
    rm -rf "$PGROOT"
    if [ "$(id -u)" = 0 ]; then
        install -d -o postgres -g postgres -m 700 "$PGROOT"
    else
        install -d -m 700 "$PGROOT"
    fi
    local port
    port=${KURA_PG_PORT:-$(free_port)}
    as_server_user initdb -D "$PGROOT/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$PGROOT/initdb.log" 2>&1 \
        || { cat "$PGROOT/initdb.log" >&2; exit 1; }
    as_server_user pg_ctl -D "$PGROOT/data" -l "$PGROOT/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$PGROOT -c fsync=off" start >/dev/null \
        || { cat "$PGROOT/server.log" >&2; exit 1; }
    psql -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "CREATE DATABASE kura_test;" >/dev/null
    local url="postgres://postgres@127.0.0.1:$port/kura_test?sslmode=disable"
    echo "$url" | as_server_user tee "$PGROOT/url" >/dev/null
    echo "$url"
}

stop() {
    if [ -d "$PGROOT/data" ]; then
        as_server_user pg_ctl -D "$PGROOT/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$PGROOT"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
url) cat "$PGROOT/url" ;;
*) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
