#!/usr/bin/env bash
# Starts the product with defaults: the broker on the memory engine with broker.json (port 8000).
# Installs the system libraries the build needs when they are missing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/install-system-deps.sh
exec swift run -c release broker serve -c "${BROKER_CONFIG:-broker.json}" "$@"
