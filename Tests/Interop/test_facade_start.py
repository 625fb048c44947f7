"""The facade's start check, on the built binary (FACADE_BIN, default .build/debug/facade).

On an address other machines can reach, a weak FACADE_JWT_SECRET or BROKER_TOKEN_SECRET stops it (exit 1, one
sentence on stderr naming the setting) before it connects to anything; on loopback, the default address, it
starts and logs a warning. The start-up tests need PostgreSQL (FACADE_TEST_DATABASE_URL).
"""
from __future__ import annotations

import os
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from conftest import REPO_ROOT, free_port, http_session

FACADE_BIN = os.environ.get("FACADE_BIN") or str(REPO_ROOT / ".build" / "debug" / "facade")
ADMIN_URL = os.environ.get("FACADE_TEST_DATABASE_URL", "")
STRONG = "3b9f0c1e8d2a4f6b7c5e9a1d0f2b4c6e8a0d2f4b6c8e0a2c4e6a8c0e2a4c6e8a"
PLACEHOLDER = "dev-only-session-secret-change-me-0123456789"
# Nothing listens there: a facade that got as far as the database would fail differently (and later).
UNREACHABLE_DB = "postgres://nobody@127.0.0.1:9/none"


def facade_env(**overrides: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("FACADE_HOST", "FACADE_JWT_SECRET", "BROKER_TOKEN_SECRET", "GOOGLE_CLIENT_ID", "GOOGLE_JWKS_FILE",
                        "GOOGLE_JWKS_URL")}
    env.update({"DATABASE_URL": UNREACHABLE_DB, "FACADE_PORT": str(free_port()), "FACADE_NO_RELAY": "1",
                "FACADE_JWT_SECRET": STRONG, "BROKER_TOKEN_SECRET": STRONG, "FACADE_BCRYPT_COST": "4"})
    env.update(overrides)
    return env


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
@pytest.mark.parametrize("variable,value,weakness", [
    ("FACADE_JWT_SECRET", PLACEHOLDER, 'is a placeholder ("dev-only-'),
    ("BROKER_TOKEN_SECRET", "short-secret", "has 12 characters; at least 32 are needed"),
])
def test_weak_secret_on_a_public_address_stops_the_facade(host, variable, value, weakness):
    started = time.monotonic()
    r = subprocess.run([FACADE_BIN, "serve"], env=facade_env(FACADE_HOST=host, **{variable: value}),
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(f"refusing to start: {variable} {weakness}"), lines[0]
    assert f"listens on {host}," in lines[0] and "FACADE_HOST=127.0.0.1" in lines[0], lines[0]
    assert r.stdout == ""
    assert time.monotonic() - started < 10  # refused up front, not after trying the database


def test_unset_secret_stops_the_facade_even_on_loopback():
    env = facade_env(FACADE_HOST="127.0.0.1")
    del env["FACADE_JWT_SECRET"]
    r = subprocess.run([FACADE_BIN, "serve"], env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert r.stderr.strip() == ("refusing to start: FACADE_JWT_SECRET is not set: set FACADE_JWT_SECRET (or --jwt-secret) "
                                "to at least 32 random characters, e.g. from `openssl rand -hex 32`.")


@pytest.mark.skipif(not ADMIN_URL, reason="FACADE_TEST_DATABASE_URL not set (scripts/test.sh starts PostgreSQL)")
def test_on_loopback_by_default_a_weak_secret_is_a_warning():
    name = "start_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", ADMIN_URL, "-q", "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    env = facade_env(DATABASE_URL=ADMIN_URL.rsplit("/", 1)[0] + "/" + name, FACADE_JWT_SECRET=PLACEHOLDER)
    port = env["FACADE_PORT"]
    log_path = Path(tempfile.mkdtemp(prefix="facade-start-")) / "facade.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([FACADE_BIN, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        http = http_session()
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log_path.read_text()
            try:
                if http.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except Exception:
                pass
            assert time.monotonic() < deadline, "facade did not become healthy"
            time.sleep(0.1)
        text = log_path.read_text()
        assert "weak secret (development mode): FACADE_JWT_SECRET is a placeholder" in text, text
        assert f"listening on 127.0.0.1:{port}" in text, text  # FACADE_HOST unset: loopback
        # Google sign-in is off here: it says so, naming the settings, with a status that is not 404.
        r = http.post(f"http://127.0.0.1:{port}/v1/auth/google", json={"id_token": "x"}, timeout=5)
        assert r.status_code == 501, r.text
        assert r.text == ('{"error":{"code":"google_sign_in_disabled","fields":[],"message":"Google sign-in is off on this '
                          'server: set GOOGLE_CLIENT_ID (or --google-client-id) to turn it on; Google\'s keys then come from '
                          'GOOGLE_JWKS_URL (default https://www.googleapis.com/oauth2/v3/certs), or from GOOGLE_JWKS_FILE '
                          '(--google-jwks-url/--google-jwks-file)."}}')
    finally:
        proc.terminate()
        proc.wait(timeout=15)
