"""The Redis engine over TLS: `rediss://` addresses and `engine.redis.tls`, against redis-server's own TLS port."""
import json
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import BROKER_BIN, base_config, deep_merge, raw_clients, raw_connected, run, uid


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _make_pki(d: Path) -> None:
    """A CA and a server certificate for 127.0.0.1 signed by it (plus an unrelated CA)."""
    for ca in ("ca", "other-ca"):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key", "-out", f"{ca}.crt",
                 "-days", "2", "-subj", f"/CN=test {ca}", cwd=d)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=127.0.0.1", cwd=d)
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.crt", "-days", "2", "-extfile", "san.ext", cwd=d)


@pytest.fixture(scope="module")
def tls_redis():
    server = shutil.which("redis-server")
    assert server, "redis-server is not on PATH: run scripts/install-system-deps.sh"
    d = Path(tempfile.mkdtemp(prefix="redis-tls-"))
    _make_pki(d)
    port = _free_port()
    proc = subprocess.Popen(
        [server, "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(d), "--tls-cert-file", str(d / "server.crt"), "--tls-key-file", str(d / "server.key"),
         "--tls-ca-cert-file", str(d / "ca.crt"), "--tls-auth-clients", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    ctx = ssl.create_default_context(cafile=str(d / "ca.crt"))
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as raw:
                with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        break
        except OSError:
            pass
        assert proc.poll() is None, "redis-server exited: is it built with TLS?"
        assert time.monotonic() < deadline, "redis-server with TLS did not start"
        time.sleep(0.05)
    yield port, d
    proc.terminate()
    proc.wait(timeout=10)
    shutil.rmtree(d, ignore_errors=True)


def _config(port: int, tls: dict, prefix: str, scheme: str = "rediss"):
    return deep_merge(base_config(), {
        "engine": {"type": "redis", "redis": {"address": f"{scheme}://127.0.0.1:{port}", "prefix": prefix, "tls": tls}},
    })


def test_two_nodes_share_channels_over_tls(broker_factory, tls_redis):
    port, d = tls_redis
    cfg = _config(port, {"server_ca_pem_file": str(d / "ca.crt")}, "tls-" + uid())
    a = broker_factory(cfg, name="tls-a")
    # The same through `tls.enabled` with a plain address and the CA inline.
    cfg_b = _config(port, {"enabled": True, "server_ca_pem": (d / "ca.crt").read_text()}, cfg["engine"]["redis"]["prefix"],
                    scheme="redis")
    b = broker_factory(cfg_b, name="tls-b")

    async def main():
        ch = "chat:tls-" + uid()
        async with raw_clients() as open_ws:
            c, _ = await raw_connected(open_ws, a)
            assert "subscribe" in await c.call("subscribe", {"channel": ch})
            r = await b.aapi("publish", {"channel": ch, "data": {"secure": True}})
            assert r["result"]["offset"] == 1
            assert (await c.pubs(ch, 1))[0]["data"] == {"secure": True}

    run(main())


def _start_expecting_failure(cfg: dict, tmp: Path) -> str:
    path = tmp / "config.json"
    path.write_text(json.dumps(cfg))
    p = subprocess.run([BROKER_BIN, "serve", "--config", str(path), "--port", str(_free_port())],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    return p.stdout + p.stderr


def test_untrusted_certificate_refuses_to_start_and_says_why(tls_redis, tmp_path):
    port, d = tls_redis
    out = _start_expecting_failure(_config(port, {"server_ca_pem_file": str(d / "other-ca.crt")}, "x"), tmp_path)
    assert f"127.0.0.1:{port}" in out and "TLS handshake failed" in out and "CERTIFICATE_VERIFY_FAILED" in out, out
    assert "check engine.redis.tls" in out, out


def test_bad_tls_settings_are_named(tls_redis, tmp_path):
    port, d = tls_redis
    out = _start_expecting_failure(_config(port, {"server_ca_pem_file": str(d / "missing.crt")}, "x"), tmp_path)
    assert "engine.redis.tls.server_ca_pem_file" in out and "missing.crt" in out, out
    out = _start_expecting_failure(_config(port, {"cert_pem": "x"}, "x"), tmp_path)
    assert "cert_pem and key_pem must be given together" in out, out
