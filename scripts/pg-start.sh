#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for development and tests.
#
# Usage: scripts/pg-start.sh [DIR]      (DIR defaults to $FACADE_PG_DIR or /tmp/facade-pg)
#        eval "$(scripts/pg-start.sh)"  exports DATABASE_URL into the calling shell
#
# Idempotent: if a cluster in DIR is already running, it only prints its DATABASE_URL.
# initdb refuses to run as root, so the cluster is owned by the `postgres` OS user.
set -euo pipefail

DIR="${1:-${FACADE_PG_DIR:-/tmp/facade-pg}}"

as_postgres() {
    if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "$(id -u)" = "0" ]; then
    id postgres >/dev/null 2>&1 || useradd -m postgres
fi

mkdir -p "$DIR"
[ "$(id -u)" = "0" ] && chown postgres "$DIR"

if [ -f "$DIR/PG_VERSION" ] && as_postgres pg_ctl -D "$DIR" status >/dev/null 2>&1; then
    PORT="$(cat "$DIR/facade-port")"
else
    if [ ! -f "$DIR/PG_VERSION" ]; then
        as_postgres initdb --auth=trust -U postgres -D "$DIR" >/dev/null
    fi
    # Pick a free TCP port by asking the kernel.
    PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
    echo "$PORT" > "$DIR/facade-port"
    as_postgres pg_ctl -D "$DIR" -l "$DIR/log" \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off -c max_connections=200" -w start >/dev/null
fi

echo "export DATABASE_URL=postgres://postgres@127.0.0.1:$PORT/postgres"
