"""TLS on the broker's listeners (`http_server.tls`, `tls_external`): centrifuge-python over wss:// and cent over
https:// with a test CA made here by openssl; a key that does not match its certificate stops the start; a
certificate replaced on disk and signalled (SIGHUP) is served to new handshakes while a connection opened before
keeps receiving.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import ssl
import subprocess
from pathlib import Path

import pytest
import requests
from cent import Client as CentClient
from cent import PublishRequest

from test_redis_tls import _openssl as openssl
from conftest import BROKER_BIN, Broker, base_config, deep_merge, free_port, make_token, new_sub, run, sdk_clients, uid


def server_pair(d: Path, name: str, serial: str) -> None:
    """`<name>.key` and `<name>.pem`: a server certificate for 127.0.0.1/localhost signed by the test CA."""
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-subj", f"/CN={name}", "-out", f"{name}.csr", cwd=d)
    (d / f"{name}.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", serial, "-days", "2",
        "-extfile", f"{name}.ext", "-out", f"{name}.pem", cwd=d,
    )


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("pki")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-subj", "/CN=interop test CA",
            "-days", "2", "-out", "ca.pem", cwd=d)
    server_pair(d, "first", "1001")
    server_pair(d, "second", "2002")
    return d


def tls_config(d: Path, internal_port: int) -> dict:
    return deep_merge(
        base_config(),
        {
            "http_server": {
                "internal_port": internal_port,
                # TLS on the client port only; health, metrics and the API stay plain on the internal port.
                "tls_external": True,
                "tls": {"enabled": True, "cert_pem": str(d / "served.pem"), "key_pem": str(d / "served.key")},
            },
            # The API on the client port too, over https.
            "http_api": {"external": True},
        },
    )


def use_pair(d: Path, name: str) -> None:
    (d / "served.pem").write_bytes((d / f"{name}.pem").read_bytes())
    (d / "served.key").write_bytes((d / f"{name}.key").read_bytes())


def peer_serial(port: int, ca: Path) -> int:
    ctx = ssl.create_default_context(cafile=str(ca))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            der = tls.getpeercert(binary_form=True)
    from cryptography import x509

    return x509.load_der_x509_certificate(der).serial_number


def internal_publish(b: Broker, channel: str, data: dict) -> None:
    """Through the plain internal port (tls_external)."""
    r = requests.post(
        f"{b.health_url}/api/publish", json={"channel": channel, "data": data}, headers={"X-API-Key": b.api_key}, timeout=5
    )
    assert r.status_code == 200 and "error" not in r.json(), r.text


@pytest.fixture(scope="module")
def tls_broker(pki):
    use_pair(pki, "first")
    b = Broker(tls_config(pki, free_port()), name="tls").start()
    yield b
    b.stop()


def test_wss_sdk_and_https_cent(tls_broker, pki):
    async def main():
        ch = "chat:tls-" + uid()
        ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
        url = f"wss://127.0.0.1:{tls_broker.port}/connection/websocket"
        session = requests.Session()
        session.trust_env = False
        session.verify = str(pki / "ca.pem")
        api = CentClient(f"https://127.0.0.1:{tls_broker.port}/api", tls_broker.api_key, session=session)
        async with sdk_clients() as make:
            client, rec = make(url, token=make_token("t-" + uid(), secret=tls_broker.secret), ssl_context=ctx)
            await client.connect()
            await rec.wait("connected")
            sub, srec = new_sub(client, ch)
            await sub.subscribe()
            await srec.wait("subscribed")
            await asyncio.to_thread(api.publish, PublishRequest(channel=ch, data={"over": "tls"}))
            pub = await srec.wait("publication")
            assert pub.pub.data == {"over": "tls"}
        # Plain HTTP on the TLS port is no HTTP at all.
        with pytest.raises(requests.RequestException):
            requests.get(f"http://127.0.0.1:{tls_broker.port}/api/info", timeout=3)
        # tls_external: the internal port stays plain.
        assert requests.get(f"{tls_broker.health_url}/health", timeout=3).status_code == 200

    run(main())


def test_certificate_reloaded_on_sighup_without_dropping_connections(tls_broker, pki):
    async def main():
        ch = "chat:rot-" + uid()
        ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
        url = f"wss://127.0.0.1:{tls_broker.port}/connection/websocket"
        assert peer_serial(tls_broker.port, pki / "ca.pem") == 1001
        async with sdk_clients() as make:
            client, rec = make(url, token=make_token("r-" + uid(), secret=tls_broker.secret), ssl_context=ctx)
            await client.connect()
            await rec.wait("connected")
            sub, srec = new_sub(client, ch)
            await sub.subscribe()
            await srec.wait("subscribed")

            use_pair(pki, "second")
            log_before = tls_broker.log_size()
            tls_broker.proc.send_signal(signal.SIGHUP)
            for _ in range(100):
                if "TLS certificate reloaded" in tls_broker.log_text(log_before):
                    break
                await asyncio.sleep(0.05)
            assert "TLS certificate reloaded" in tls_broker.log_text(log_before), tls_broker.log_text(log_before)
            assert peer_serial(tls_broker.port, pki / "ca.pem") == 2002

            # The connection made before the rotation is still there and still receives.
            await asyncio.to_thread(internal_publish, tls_broker, ch, {"after": "rotation"})
            pub = await srec.wait("publication")
            assert pub.pub.data == {"after": "rotation"}
            assert rec.all("disconnected") == [] and len(rec.all("connected")) == 1

            # A bad file on the next reload keeps the served certificate.
            (pki / "served.pem").write_text("not a certificate")
            log_before = tls_broker.log_size()
            tls_broker.proc.send_signal(signal.SIGHUP)
            for _ in range(100):
                if "not reloaded" in tls_broker.log_text(log_before):
                    break
                await asyncio.sleep(0.05)
            assert "not reloaded" in tls_broker.log_text(log_before)
            assert peer_serial(tls_broker.port, pki / "ca.pem") == 2002
            use_pair(pki, "second")

    run(main())


@pytest.mark.parametrize("case", ["mismatched", "missing"])
def test_unusable_certificate_stops_the_start(pki, tmp_path, case):
    config = tls_config(pki, free_port())
    if case == "mismatched":
        config["http_server"]["tls"]["cert_pem"] = str(pki / "first.pem")
        config["http_server"]["tls"]["key_pem"] = str(pki / "second.key")
        expected = ["http_server.tls.key_pem", "does the key match the certificate"]
    else:
        config["http_server"]["tls"]["cert_pem"] = str(tmp_path / "nowhere.pem")
        expected = ["http_server.tls.cert_pem", "nowhere.pem"]
    path = tmp_path / "config.json"
    import json

    path.write_text(json.dumps(config))
    for command in (["checkconfig", "-c", str(path)], ["serve", "-c", str(path), "--port", str(free_port())]):
        p = subprocess.run([BROKER_BIN, *command], capture_output=True, text=True, timeout=30)
        out = p.stdout + p.stderr
        assert p.returncode == 1, (command, out)
        for text in expected:
            assert text in out, (command, out)


def test_internal_port_tls_follows_tls_or_internal_tls(pki, tmp_path):
    """Without tls_external the internal port is TLS too; `internal_tls` gives it a certificate of its own."""
    use_pair(pki, "first")
    internal = free_port()
    config = tls_config(pki, internal)
    config["http_server"]["tls_external"] = False
    config["http_server"]["internal_tls"] = {
        "enabled": True, "cert_pem": (pki / "second.pem").read_text(), "key_pem": (pki / "second.key").read_text(),
    }

    class TLSHealthBroker(Broker):
        @property
        def health_url(self) -> str:
            return f"https://localhost:{internal}"

    b = TLSHealthBroker(config, name="tls-internal")
    import conftest

    original = conftest.http_session

    def verifying_session() -> requests.Session:
        s = original()
        s.verify = str(pki / "ca.pem")
        return s

    conftest.http_session = verifying_session
    try:
        b.start()
        assert peer_serial(b.port, pki / "ca.pem") == 1001  # client port: http_server.tls
        assert peer_serial(internal, pki / "ca.pem") == 2002  # internal port: internal_tls (inline PEM)
    finally:
        conftest.http_session = original
        b.stop()
