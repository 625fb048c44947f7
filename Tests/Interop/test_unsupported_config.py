"""Centrifugo keys the broker does not implement are refused when set: checkconfig and serve exit 1 naming the key."""
import json
import subprocess
from pathlib import Path

from conftest import BROKER_BIN, base_config, deep_merge, free_port


def _write(tmp: Path, cfg: dict) -> Path:
    path = tmp / "config.json"
    path.write_text(json.dumps(cfg))
    return path


def test_checkconfig_and_serve_refuse_unsupported_keys(tmp_path):
    tls = _write(tmp_path, deep_merge(base_config(), {"http_server": {"tls_autocert": {"enabled": True}}}))
    p = subprocess.run([BROKER_BIN, "checkconfig", "-c", str(tls)], capture_output=True, text=True, timeout=30)
    out = p.stdout + p.stderr
    assert p.returncode == 1, (p.returncode, out)
    assert "http_server.tls_autocert.enabled" in out and "not supported by this broker" in out, out

    sse = _write(tmp_path, deep_merge(base_config(), {"sse": {"enabled": True}}))
    p = subprocess.run([BROKER_BIN, "serve", "--config", str(sse), "--port", str(free_port())],
                       capture_output=True, text=True, timeout=30)
    out = p.stdout + p.stderr
    assert p.returncode == 1, (p.returncode, out)
    assert "sse.enabled" in out and "use WebSocket" in out, out

    # The same sections switched off, as a Centrifugo config carries them, are fine.
    off = _write(tmp_path, deep_merge(base_config(), {"sse": {"enabled": False, "handler_prefix": "/x"},
                                                      "http_server": {"tls_autocert": {"enabled": False}}}))
    p = subprocess.run([BROKER_BIN, "checkconfig", "-c", str(off)], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
