#!/usr/bin/env bash
# Stops (and with --purge, deletes) the throwaway cluster started by pg-start.sh.
# Usage: scripts/pg-stop.sh [DIR] [--purge]
set -euo pipefail

DIR="${FACADE_PG_DIR:-/tmp/facade-pg}"
PURGE=0
for arg in "$@"; do
    case "$arg" in
        --purge) PURGE=1 ;;
        *) DIR="$arg" ;;
    esac
done

as_postgres() {
    if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ -f "$DIR/PG_VERSION" ] && as_postgres pg_ctl -D "$DIR" status >/dev/null 2>&1; then
    as_postgres pg_ctl -D "$DIR" -m fast -w stop >/dev/null
fi
if [ "$PURGE" = "1" ]; then rm -rf "$DIR"; fi
