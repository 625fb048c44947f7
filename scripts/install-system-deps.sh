#!/usr/bin/env bash
# Installs the Debian packages the project needs, when they are missing.
#
#   scripts/install-system-deps.sh          what building and running needs: libhiredis-dev (the Redis wire
#                                           protocol, linked by the broker), pkg-config, curl (start.sh's
#                                           readiness checks)
#   scripts/install-system-deps.sh --test   also what the tests need: redis-server (Redis tests start their
#                                           own), chromium + chromium-driver (the admin console's browser tests,
#                                           driven with selenium), iproute2 (`ss`, read by the broker-bench test)
#
# Idempotent; needs root (or sudo) and apt-get.
set -euo pipefail

need=()
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
pkg-config --exists hiredis 2>/dev/null || need+=(libhiredis-dev)
command -v curl >/dev/null 2>&1 || need+=(curl)
if [[ "${1:-}" == "--test" ]]; then
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
  command -v ss >/dev/null 2>&1 || need+=(iproute2)
fi
if [[ ${#need[@]} -eq 0 ]]; then
  exit 0
fi
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "==> installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
