"""Connection and subscription tokens verified against a JWKS endpoint (a local HTTP server, no network):
caching, key rotation, unknown keys, and an endpoint that is down."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from conftest import base_config, deep_merge, ec_keypair, make_token, raw_clients, rsa_keypair, run, uid


class JWKSServer:
    """Serves `keys` as a JWKS at /jwks; `down` makes it answer 503. Counts requests."""

    def __init__(self) -> None:
        self.keys = []
        self.down = False
        self.requests = 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                with server.lock:
                    server.requests += 1
                    body = json.dumps({"keys": server.keys}).encode()
                    down = server.down
                if down:
                    self.send_response(503)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def publish(self, *keys) -> None:
        with self.lock:
            self.keys = list(keys)

    def count(self) -> int:
        with self.lock:
            return self.requests

    def close(self) -> None:
        self.httpd.shutdown()


def jwk(private, kid: str, alg: str) -> dict:
    algo = RSAAlgorithm if alg.startswith("RS") else ECAlgorithm
    d = json.loads(algo.to_jwk(private.public_key()))
    d.update({"kid": kid, "alg": alg, "use": "sig"})
    return d


def signed(private, kid: str, alg: str = "RS256", sub: str = "u1", **claims) -> str:
    import time

    payload = {"sub": sub, "exp": int(time.time()) + 3600, **claims}
    return jwt.encode(payload, private, algorithm=alg, headers={"kid": kid})


@pytest.fixture
def jwks_server():
    s = JWKSServer()
    yield s
    s.close()


def jwks_config(url: str) -> dict:
    return deep_merge(base_config(), {"client": {"token": {"jwks_public_endpoint": url}}})


async def connect(open_ws, broker, token):
    c = await open_ws(broker.ws_url)
    await c.send({"id": 1, "connect": {"token": token}})
    return c, await c.reply(1)


async def refused(open_ws, broker, token) -> int:
    """Connects with `token` and returns the close code the broker answers with."""
    c = await open_ws(broker.ws_url)
    await c.send({"id": 1, "connect": {"token": token}})
    return (await c.expect_close())[0]


def test_tokens_verified_with_cached_keys_and_rotation(broker_factory, jwks_server):
    rsa1, _ = rsa_keypair()
    rsa2, _ = rsa_keypair()
    ec1, _ = ec_keypair()
    jwks_server.publish(jwk(rsa1, "r1", "RS256"), jwk(ec1, "e1", "ES256"))
    b = broker_factory(jwks_config(jwks_server.url), name="jwks")

    async def main():
        async with raw_clients() as open_ws:
            for i in range(3):
                _, rep = await connect(open_ws, b, signed(rsa1, "r1", sub=f"rsa-{i}"))
                assert rep["connect"]["client"], rep
            _, rep = await connect(open_ws, b, signed(ec1, "e1", "ES256", sub="ec"))
            assert "connect" in rep, rep
            assert jwks_server.count() == 1, "the key set is fetched once and cached"

            # HS256 keeps working with the HMAC secret; a JWKS never verifies HS* tokens.
            _, rep = await connect(open_ws, b, make_token("hs", secret=b.secret))
            assert "connect" in rep

            # Rotation: the issuer now signs with r2 only. The unknown kid makes the broker fetch again.
            jwks_server.publish(jwk(rsa2, "r2", "RS256"))
            _, rep = await connect(open_ws, b, signed(rsa2, "r2", sub="rotated"))
            assert "connect" in rep, rep
            assert jwks_server.count() == 2
            # The retired key is gone from the set: its tokens are refused (invalid token → 3500).
            assert await refused(open_ws, b, signed(rsa1, "r1")) == 3500

            # A token signed by r1 but claiming kid r2 does not verify.
            assert await refused(open_ws, b, signed(rsa1, "r2")) == 3500

            # Made-up key IDs cannot make the broker hammer the endpoint.
            before = jwks_server.count()
            for i in range(5):
                assert await refused(open_ws, b, signed(rsa2, f"nope-{i}")) == 3500
            assert jwks_server.count() - before <= 2

    run(main())


def test_endpoint_down_is_a_temporary_error_and_blocks_nobody(broker_factory, jwks_server):
    key, _ = rsa_keypair()
    jwks_server.publish(jwk(key, "k", "RS256"))
    jwks_server.down = True
    b = broker_factory(jwks_config(jwks_server.url), name="jwks-down")

    async def main():
        async with raw_clients() as open_ws:
            _, rep = await connect(open_ws, b, signed(key, "k"))
            assert rep.get("error", {}).get("code") == 100, rep
            assert rep["error"].get("temporary") is True, rep
            # Meanwhile other clients connect as usual.
            _, rep = await connect(open_ws, b, make_token("hs", secret=b.secret))
            assert "connect" in rep
            # With nothing cached, the next token asks the endpoint again.
            jwks_server.down = False
            _, rep = await connect(open_ws, b, signed(key, "k"))
            assert "connect" in rep, rep

    run(main())


def test_subscription_tokens_from_jwks(broker_factory, jwks_server):
    key, _ = rsa_keypair()
    jwks_server.publish(jwk(key, "sub-key", "RS384"))
    cfg = deep_merge(base_config(), {
        "client": {"subscription_token": {"enabled": True, "jwks_public_endpoint": jwks_server.url}},
    })
    b = broker_factory(cfg, name="jwks-sub")

    async def main():
        ch = "nopub:jwks-" + uid()
        async with raw_clients() as open_ws:
            c, rep = await connect(open_ws, b, make_token("alice", secret=b.secret))
            assert "connect" in rep
            tok = signed(key, "sub-key", "RS384", sub="alice", channel=ch)
            assert "subscribe" in await c.call("subscribe", {"channel": ch, "token": tok})
            # A token naming a key the endpoint does not have is refused (permission denied).
            other = signed(key, "unknown-key", "RS384", sub="alice", channel=ch + "y")
            rep = await c.call("subscribe", {"channel": ch + "y", "token": other})
            assert rep["error"]["code"] == 103, rep

    run(main())


def test_bad_endpoint_is_a_config_error(tmp_path):
    import subprocess

    from conftest import BROKER_BIN

    path = tmp_path / "c.json"
    path.write_text(json.dumps(jwks_config("ftp://example/jwks")))
    p = subprocess.run([BROKER_BIN, "checkconfig", "-c", str(path)], capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "client.token.jwks_public_endpoint" in (p.stdout + p.stderr), (p.stdout, p.stderr)
