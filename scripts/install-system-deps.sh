#!/usr/bin/env bash
# Installs the Debian packages the project builds and tests with, when they are missing:
# libhiredis-dev (the Redis wire protocol, linked by the broker), redis-server (tests), and
# chromium + chromium-driver (the admin console's browser tests, driven with selenium), iproute2 (`ss`, which
# the broker-bench test reads connections with).
# Idempotent; needs root (or sudo) and apt-get.
set -euo pipefail

need=()
pkg-config --exists hiredis 2>/dev/null || need+=(libhiredis-dev)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
command -v ss >/dev/null 2>&1 || need+=(iproute2)
if [[ ${#need[@]} -eq 0 ]]; then
  exit 0
fi
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "==> installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
