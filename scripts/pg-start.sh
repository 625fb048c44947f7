#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for development and tests.
#
# Usage: scripts/pg-start.sh [DIR] [--tls]   (DIR defaults to $FACADE_PG_DIR or /tmp/facade-pg)
#        eval "$(scripts/pg-start.sh)"       exports DATABASE_URL into the calling shell
#
# Idempotent: if a cluster in DIR is already running, it only prints its DATABASE_URL.
# initdb refuses to run as root, so the cluster is owned by the `postgres` OS user.
#
# --tls (when DIR is created): a TLS-only cluster, for testing sslmode. The openssl CLI makes a throwaway CA
# (DIR/tls/ca.crt) and a server certificate it signs for the name `localhost` only (so verify-full passes
# for host localhost and fails for 127.0.0.1); pg_hba.conf accepts TCP connections over TLS only (hostssl),
# so a client with sslmode=disable is refused. Without --tls nothing changes.
set -euo pipefail

DIR="${FACADE_PG_DIR:-/tmp/facade-pg}"
TLS=0
for arg in "$@"; do
    case "$arg" in
        --tls) TLS=1 ;;
        *) DIR="$arg" ;;
    esac
done

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
        if [ "$TLS" = "1" ]; then
            command -v openssl >/dev/null || { echo "pg-start.sh --tls needs the openssl command" >&2; exit 1; }
            TLS_DIR="$DIR/tls"
            mkdir -p "$TLS_DIR"
            openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=facade-test-ca" \
                -keyout "$TLS_DIR/ca.key" -out "$TLS_DIR/ca.crt" 2>/dev/null
            openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
                -keyout "$TLS_DIR/server.key" -out "$TLS_DIR/server.csr" 2>/dev/null
            printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' \
                > "$TLS_DIR/server.ext"
            openssl x509 -req -in "$TLS_DIR/server.csr" -CA "$TLS_DIR/ca.crt" -CAkey "$TLS_DIR/ca.key" \
                -CAcreateserial -days 2 -extfile "$TLS_DIR/server.ext" -out "$TLS_DIR/server.crt" 2>/dev/null
            chmod 600 "$TLS_DIR/server.key" "$TLS_DIR/ca.key"
            [ "$(id -u)" = "0" ] && chown -R postgres "$TLS_DIR"
            printf "ssl = on\nssl_cert_file = '%s'\nssl_key_file = '%s'\n" \
                "$TLS_DIR/server.crt" "$TLS_DIR/server.key" >> "$DIR/postgresql.conf"
            printf 'local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostssl all all ::1/128 trust\n' \
                > "$DIR/pg_hba.conf"
        fi
    fi
    # Pick a free TCP port by asking the kernel.
    PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
    echo "$PORT" > "$DIR/facade-port"
    as_postgres pg_ctl -D "$DIR" -l "$DIR/log" \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off -c max_connections=200" -w start >/dev/null
fi

echo "export DATABASE_URL=postgres://postgres@127.0.0.1:$PORT/postgres"
