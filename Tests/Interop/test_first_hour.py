"""A newcomer's first hour: the broker refuses weak secrets where others can reach it, warns on loopback,
the committed config carries no secret, and the CLI says plainly what to do when the broker is down."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import BROKER_BIN, REPO_ROOT, base_config, deep_merge, free_port, http_session, start_broker

STRONG = "k" * 8 + "Q2v9xT4mZr7LpW1sN6bY3cH8dF5gJ0aE"  # 40 characters, no placeholder word


def write_config(tmp_path: Path, config: dict) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return path


def exposed_config(**overrides) -> dict:
    """Every interface, strong secrets except what `overrides` sets."""
    config = deep_merge(base_config(), {
        "http_server": {"address": "0.0.0.0", "port": free_port()},
        "client": {"token": {"hmac_secret_key": STRONG}},
        "http_api": {"key": STRONG},
        "admin": {"enabled": True, "password": "a long admin password", "secret": STRONG},
    })
    return deep_merge(config, overrides)


def serve(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([BROKER_BIN, "serve", "-c", str(path)], capture_output=True, text=True, timeout=30)


def test_placeholder_api_key_on_all_interfaces_is_refused(tmp_path):
    path = write_config(tmp_path, exposed_config(http_api={"key": "change-me-api-key"}))
    p = serve(path)
    assert p.returncode == 1, p.stderr
    lines = [l for l in p.stderr.splitlines() if l.startswith("refusing to start:")]
    assert len(lines) == 1, p.stderr
    assert "http_api.key is a placeholder" in lines[0]
    assert "0.0.0.0:" in lines[0] and "CENTRIFUGO_HTTP_API_KEY" in lines[0] and "broker genconfig" in lines[0]
    # checkconfig says the same, so a deployment pipeline catches it before the rollout.
    c = subprocess.run([BROKER_BIN, "checkconfig", "-c", str(path)], capture_output=True, text=True, timeout=30)
    assert c.returncode == 1 and "http_api.key is a placeholder" in c.stderr, c.stderr


def test_every_weak_secret_is_named_at_once(tmp_path):
    path = write_config(tmp_path, exposed_config(
        client={"token": {"hmac_secret_key": "secret"}}, admin={"password": "admin", "secret": "short"}))
    p = serve(path)
    assert p.returncode == 1
    keys = [l.split()[3] for l in p.stderr.splitlines() if l.startswith("refusing to start:")]
    assert keys == ["client.token.hmac_secret_key", "admin.password", "admin.secret"], p.stderr


def test_environment_secret_makes_an_exposed_config_start(tmp_path):
    """The committed broker.json's way: no secret in the file, a strong one in CENTRIFUGO_* variables."""
    config = exposed_config()
    del config["http_api"]["key"]
    b = start_broker(config, env={"CENTRIFUGO_HTTP_API_KEY": STRONG}, name="exposed-env")
    try:
        assert "weak secret" not in b.log_text()
    finally:
        b.stop()


def test_loopback_starts_with_a_warning():
    config = deep_merge(base_config(), {"http_api": {"key": "change-me-api-key"}})
    b = start_broker(config, name="loopback-dev")
    try:
        log = b.log_text()
        assert "weak secret (development mode): http_api.key is a placeholder" in log, log
        assert "refuses it on any other address" in log
    finally:
        b.stop()


def test_committed_config_holds_no_secret_and_listens_on_loopback():
    config = json.loads((REPO_ROOT / "broker.json").read_text())
    assert config["http_server"]["address"] == "127.0.0.1"
    assert "key" not in config.get("http_api", {})
    assert "hmac_secret_key" not in config.get("client", {}).get("token", {})
    assert "password" not in config.get("admin", {}) and "secret" not in config.get("admin", {})


def test_inspect_names_the_address_and_the_config_key_when_the_broker_is_down(tmp_path):
    port = free_port()
    path = write_config(tmp_path, deep_merge(base_config(), {"http_server": {"port": port}}))
    p = subprocess.run([BROKER_BIN, "inspect", "nodes", "-c", str(path)], capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert p.stderr.strip() == (
        f"broker inspect: cannot reach the broker's server API at http://127.0.0.1:{port}/api "
        f"(from http_server.port in {path}): nothing is listening there (connection refused); "
        "start the broker (scripts/start.sh) or point --api at a running one."), p.stderr


def test_committed_config_starts_the_broker_as_it_is():
    """`broker serve -c broker.json` with no secrets anywhere: it starts on loopback, warns that the API key is
    empty, and its server API refuses every call until a key is set."""
    config = json.loads((REPO_ROOT / "broker.json").read_text())
    b = start_broker(config, name="committed-config")
    try:
        assert "weak secret (development mode): http_api.key is empty" in b.log_text()
        r = http_session().post(f"{b.api_url}/info", json={}, headers={"X-API-Key": ""}, timeout=5)
        assert r.status_code == 401
    finally:
        b.stop()
