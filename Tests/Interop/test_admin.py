"""The admin console's endpoints (sign-in, sessions, admin API, live events) and `broker inspect`,
on one node and across two nodes sharing Redis."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import queue
import subprocess
import threading
import time

import pytest

from conftest import (
    BROKER_BIN, NAMESPACES, Broker, base_config, deep_merge, free_port, http_session, make_token, raw_clients, raw_connected, run,
    start_broker, uid,
)

ADMIN_PASSWORD = "console-password"
ADMIN_SECRET = "console-secret"


def admin_config(**admin):
    return deep_merge(base_config(), {"admin": {"enabled": True, "password": ADMIN_PASSWORD, "secret": ADMIN_SECRET, **admin}})


@pytest.fixture(scope="module")
def console():
    b = start_broker(admin_config(), name="admin")
    yield b
    b.stop()


def sign_in(b: Broker):
    s = http_session()
    r = s.post(f"{b.http_url}/admin/auth", data={"password": ADMIN_PASSWORD}, timeout=5)
    assert r.status_code == 200, r.text
    return s, r.json()["token"]


def admin_api(s, b: Broker, method, params=None, **kw):
    return s.post(f"{b.http_url}/admin/api", json={"method": method, "params": params or {}}, timeout=10, **kw)


def forged_session(secret: str, expires_at: int, sid: str = "0123456789abcdef") -> str:
    body = f"adm1.{sid}.{expires_at}"
    mac = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return body + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


class EventStream:
    """Reads `GET /admin/events` in a thread; events land in a queue as (name, data)."""

    def __init__(self, url: str, **kw) -> None:
        self.session = http_session()
        self.response = self.session.get(url, stream=True, timeout=(5, 30), **kw)
        self.events: "queue.Queue" = queue.Queue()
        self.thread = threading.Thread(target=self._read, daemon=True)
        if self.response.status_code == 200:
            self.thread.start()

    def _read(self) -> None:
        name = None
        try:
            for line in self.response.iter_lines(decode_unicode=True):
                if line.startswith("event: "):
                    name = line[len("event: "):]
                elif line.startswith("data: ") and name:
                    self.events.put((name, json.loads(line[len("data: "):])))
                    name = None
        except Exception:  # closed by the test
            pass

    def wait(self, name: str, pred=lambda d: True, timeout: float = 5.0):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no {name!r} event within {timeout} s"
            try:
                got, data = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if got == name and pred(data):
                return data

    def close(self) -> None:
        self.response.close()
        self.session.close()


# --- refusing requests without a session -----------------------------------------------------------


def test_admin_endpoints_refuse_requests_without_a_valid_session(console):
    s = http_session()
    client_jwt = make_token("admin", secret=console.secret)
    now = int(time.time())
    bad_headers = [
        {},
        {"Authorization": "token garbage"},
        {"Authorization": f"token {client_jwt}"},  # a client's connection token is not an admin session
        {"Authorization": f"Bearer {client_jwt}"},
        {"Cookie": f"broker_admin={client_jwt}"},
        {"X-API-Key": console.api_key},  # the server API key does not open the console's API
        {"Authorization": "token " + forged_session("some-other-secret", now + 3600)},
        {"Authorization": "token " + forged_session(ADMIN_SECRET, now - 1)},  # expired
        {"Cookie": "broker_admin=" + forged_session(ADMIN_SECRET, now + 3600)[:-2] + "AA"},  # bad signature
    ]
    for headers in bad_headers:
        r = admin_api(s, console, "info", headers=headers)
        assert r.status_code == 401, (headers, r.status_code, r.text)
        assert r.json() == {"error": "sign in to the admin console first"}
        r = s.get(f"{console.http_url}/admin/events", headers=headers, timeout=5)
        assert r.status_code == 401, (headers, r.status_code)
        assert s.get(f"{console.http_url}/admin/session", headers=headers, timeout=5).json()["signed_in"] is False
    # A correctly signed, unexpired session is accepted (the forgeries above failed for their flaw only).
    good = forged_session(ADMIN_SECRET, now + 3600)
    assert admin_api(s, console, "info", headers={"Authorization": f"token {good}"}).status_code == 200


def test_page_and_assets_are_served_with_a_strict_csp_and_no_inline_code(console):
    s = http_session()
    page = s.get(f"{console.http_url}/", timeout=5)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    csp = page.headers["Content-Security-Policy"]
    for directive in ("default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"):
        assert directive in csp, csp
    assert "unsafe-inline" not in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    html = page.text
    # Scripts only by src; no inline handlers; no secret of the config in what is served.
    scripts = ['<script src="admin/static/json-check.js"></script>', '<script src="admin/static/console.js"></script>']
    assert html.count("<script") == 2 and all(tag in html for tag in scripts)
    assert '<link rel="icon" href="admin/static/icon.svg" type="image/svg+xml">' in html
    assert " onclick=" not in html and " onload=" not in html and "<style" not in html
    assets = ("/admin/static/console.js", "/admin/static/json-check.js", "/admin/static/console.css", "/admin/static/icon.svg")
    for path in assets:
        r = s.get(console.http_url + path, timeout=5)
        assert r.status_code == 200 and r.headers["Content-Security-Policy"] == csp
    script = "".join(s.get(console.http_url + path, timeout=5).text for path in assets[:2])
    for secret in (ADMIN_PASSWORD, ADMIN_SECRET, console.api_key, console.secret):
        assert secret not in html and secret not in script
    assert "innerHTML" not in script, "values from clients must go on the page as text, never as HTML"
    assert s.post(f"{console.http_url}/", timeout=5).status_code == 405
    assert s.get(f"{console.http_url}/admin/nothing", timeout=5).status_code == 404


def test_sign_in_gives_an_httponly_strict_cookie_and_sign_out_ends_it(console):
    s = http_session()
    r = s.post(f"{console.http_url}/admin/auth", json={"password": ADMIN_PASSWORD}, timeout=5)
    assert r.status_code == 200
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("broker_admin=adm1.") and "HttpOnly" in cookie and "SameSite=Strict" in cookie, cookie
    assert "Max-Age=43200" in cookie
    assert s.get(f"{console.http_url}/admin/session", timeout=5).json() == {"signed_in": True, "insecure": False}
    info = admin_api(s, console, "info").json()["result"]
    assert [n["name"] for n in info["nodes"]] and info["nodes"][0]["engine"] == "memory"
    r = s.post(f"{console.http_url}/admin/logout", timeout=5)
    assert "Max-Age=0" in r.headers["Set-Cookie"]
    assert s.get(f"{console.http_url}/admin/session", timeout=5).json()["signed_in"] is False
    assert admin_api(s, console, "info").status_code == 401


def test_wrong_passwords_are_refused_then_rate_limited(broker_factory):
    b = broker_factory(admin_config(), name="admin-limit")
    s = http_session()
    for _ in range(5):
        r = s.post(f"{b.http_url}/admin/auth", data={"password": "guess"}, timeout=5)
        assert r.status_code == 401 and r.json() == {"error": "wrong password"}
    # Now even the right password waits: the limit is on attempts, not on wrong answers only.
    r = s.post(f"{b.http_url}/admin/auth", data={"password": ADMIN_PASSWORD}, timeout=5)
    assert r.status_code == 429, r.text
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert "too many sign-in attempts" in r.json()["error"]
    assert "Set-Cookie" not in r.headers
    log = b.log_text()
    assert log.count("admin sign-in failed: wrong password") == 5
    assert "admin sign-in refused: too many attempts" in log
    assert "guess" not in log, "a tried password must not be logged"


def test_the_sign_in_limit_is_shared_by_every_port_serving_the_console(broker_factory):
    internal = free_port()
    b = broker_factory(deep_merge(admin_config(external=True), {"http_server": {"internal_port": internal}}), name="admin-two-ports")
    s = http_session()
    ports = [b.http_url, f"http://127.0.0.1:{internal}"]
    for i in range(5):
        r = s.post(f"{ports[i % 2]}/admin/auth", data={"password": "guess"}, timeout=5)
        assert r.status_code == 401, (i, r.status_code)
    for url in ports:
        assert s.post(f"{url}/admin/auth", data={"password": ADMIN_PASSWORD}, timeout=5).status_code == 429, url


def test_cross_origin_requests_are_refused(console):
    s, _ = sign_in(console)
    r = admin_api(s, console, "info", headers={"Origin": "http://evil.example"})
    assert r.status_code == 403 and "cross-origin" in r.json()["error"]
    same = admin_api(s, console, "info", headers={"Origin": console.http_url})
    assert same.status_code == 200


def test_admin_api_runs_server_api_methods_and_logs_who_acted(console):
    s, token = sign_in(console)
    sid = token.split(".")[1]
    ch = "chat:admin-" + uid()
    r = admin_api(s, console, "publish", {"channel": ch, "data": {"from": "console"}}).json()
    assert r["result"]["offset"] == 1
    h = admin_api(s, console, "history", {"channel": ch, "limit": 10}).json()["result"]
    assert [p["data"] for p in h["publications"]] == [{"from": "console"}]
    assert admin_api(s, console, "presence", {"channel": "nohist:x"}).json()["error"]["code"] == 108
    assert admin_api(s, console, "presence", {"channel": "nope:x"}).json()["error"]["code"] == 102
    # Only what an operator needs: no batch or broadcast through the console.
    for method in ("batch", "broadcast", "rpc", "nonsense"):
        r = admin_api(s, console, method)
        assert r.status_code == 404, method
    assert admin_api(s, console, "info", headers={"Content-Type": "text/plain"}, data="{").status_code == 400
    log = console.log_text()
    line = next(l for l in log.splitlines() if "admin action" in l and ch in l)
    assert f"admin_session={sid}" in line and "method=publish" in line and "remote=127.0.0.1" in line, line


def test_admin_api_names_the_namespaces_on_unknown_channel_and_the_server_api_stays_centrifugos(console):
    s, _ = sign_in(console)
    names = sorted(n["name"] for n in NAMESPACES)
    r = admin_api(s, console, "publish", {"channel": "foo:bar", "data": {}}).json()
    assert r == {"error": {
        "code": 102,
        "message": f'unknown channel "foo:bar": namespace "foo" does not exist. Namespaces: {", ".join(names)} '
                   '(channels without ":" use channel.without_namespace)',
        "namespaces": names,
    }}
    assert admin_api(s, console, "history", {"channel": "$nope:x"}).json()["error"]["message"].startswith(
        'unknown channel "$nope:x": namespace "nope" does not exist.')
    # Centrifugo's clients get Centrifugo's error, byte for byte.
    r = http_session().post(f"{console.api_url}/publish", data=json.dumps({"channel": "foo:bar", "data": {}}),
                            headers={"X-API-Key": console.api_key}, timeout=5)
    assert r.content == b'{"error":{"code":102,"message":"unknown channel"}}'


def test_event_stream_shows_presence_joins_and_leaves_within_a_second(console):
    _, token = sign_in(console)
    ch = "chat:live-" + uid()
    stream = EventStream(f"{console.http_url}/admin/events?channel={ch}", headers={"Authorization": f"token {token}"})
    assert stream.response.status_code == 200
    assert stream.response.headers["Content-Type"].startswith("text/event-stream")
    try:
        assert stream.wait("presence")["clients"] == []
        assert stream.wait("overview")["nodes"][0]["engine"] == "memory"

        async def main():
            async with raw_clients() as open_ws:
                c, _ = await raw_connected(open_ws, console, "alice", info={"name": "Alice"})
                assert "subscribe" in await c.call("subscribe", {"channel": ch})
                t0 = time.monotonic()
                joined = await asyncio.to_thread(stream.wait, "join", lambda d: d["user"] == "alice", 1.0)
                assert time.monotonic() - t0 <= 1.0
                assert joined["conn_info"] == {"name": "Alice"}
                stats = await asyncio.to_thread(stream.wait, "presence_stats", lambda d: d["num_clients"] == 1)
                assert stats == {"num_clients": 1, "num_users": 1}
                await console.aapi("publish", {"channel": ch, "data": {"n": 1}})
                pubs = await asyncio.to_thread(stream.wait, "publications", lambda d: len(d["publications"]) == 1)
                assert pubs["publications"][0]["data"] == {"n": 1}
                await c.close()
                left = await asyncio.to_thread(stream.wait, "leave", lambda d: d["user"] == "alice", 2.0)
                assert left["client"] == joined["client"]

        run(main())
    finally:
        stream.close()


def test_event_stream_ends_when_its_session_expires(console):
    token = forged_session(ADMIN_SECRET, int(time.time()) + 2)
    stream = EventStream(f"{console.http_url}/admin/events", headers={"Authorization": f"token {token}"})
    try:
        assert stream.response.status_code == 200
        stream.wait("overview")
        stream.thread.join(timeout=6)
        assert not stream.thread.is_alive(), "the stream outlived its session"
    finally:
        stream.close()


def test_insecure_console_needs_no_sign_in(broker_factory):
    b = broker_factory(deep_merge(base_config(), {"admin": {"enabled": True, "insecure": True}}), name="admin-insecure")
    s = http_session()
    assert s.get(f"{b.http_url}/admin/session", timeout=5).json() == {"signed_in": True, "insecure": True}
    assert admin_api(s, b, "info").json()["result"]["nodes"]
    assert s.post(f"{b.http_url}/admin/auth", data={"password": "x"}, timeout=5).status_code == 400
    assert "admin.insecure is on" in b.log_text()


def test_console_is_off_by_default_and_on_the_internal_port_when_there_is_one(broker, broker_factory):
    s = http_session()
    assert s.get(f"{broker.http_url}/", timeout=5).status_code == 404
    assert s.post(f"{broker.http_url}/admin/auth", data={"password": "x"}, timeout=5).status_code == 404
    internal = free_port()
    b = broker_factory(deep_merge(admin_config(), {"http_server": {"internal_port": internal}}), name="admin-internal")
    assert s.get(f"{b.http_url}/", timeout=5).status_code == 404
    r = s.get(f"http://127.0.0.1:{internal}/", timeout=5)
    assert r.status_code == 200 and "Broker console" in r.text


def test_enabled_console_without_password_or_secret_is_a_config_error(tmp_path):
    for admin, key in (({"enabled": True, "secret": "s"}, "admin.password"), ({"enabled": True, "password": "p"}, "admin.secret")):
        path = tmp_path / "c.json"
        path.write_text(json.dumps({"admin": admin}))
        p = subprocess.run([BROKER_BIN, "checkconfig", "-c", str(path)], capture_output=True, text=True, timeout=30)
        assert p.returncode == 1 and key in p.stderr, (p.returncode, p.stderr)


# --- broker inspect -----------------------------------------------------------------------------------


def inspect(b: Broker, *args, check=True):
    p = subprocess.run(
        [BROKER_BIN, "inspect", *args, "--api", b.api_url, "--api-key", b.api_key],
        capture_output=True, text=True, timeout=30)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def test_inspect_prints_tables_and_json(console):
    async def main():
        ch = "chat:inspect-" + uid()
        async with raw_clients() as open_ws:
            c, rep = await raw_connected(open_ws, console, "carol", info={"team": "ops"})
            client_id = rep["client"]
            assert "subscribe" in await c.call("subscribe", {"channel": ch})
            await console.aapi("publish", {"channel": ch, "data": {"text": "hello"}})

            nodes = await asyncio.to_thread(inspect, console, "nodes")
            header = nodes.stdout.splitlines()[0].split()
            assert header[:5] == ["NODE", "VERSION", "UPTIME", "ENGINE", "HEALTHY"], nodes.stdout
            assert "memory" in nodes.stdout and nodes.stdout.rstrip().endswith("1 node(s)")

            chans = (await asyncio.to_thread(inspect, console, "channels", "chat:inspect-*")).stdout
            assert chans.splitlines()[1].split() == [ch, "1"], chans

            pres = (await asyncio.to_thread(inspect, console, "presence", ch)).stdout
            row = next(l for l in pres.splitlines() if client_id in l)
            assert row.split()[:3] == [client_id, "carol", '{"team":"ops"}'], pres
            assert "1 client(s), 1 user(s)" in pres

            hist = (await asyncio.to_thread(inspect, console, "history", ch)).stdout
            assert hist.splitlines()[1].split()[:2] == ["1", '{"text":"hello"}'], hist

            conns = (await asyncio.to_thread(inspect, console, "connections", "carol")).stdout
            assert conns.splitlines()[1].split()[:2] == [client_id, "carol"] and ch in conns and "websocket" in conns

            j = json.loads((await asyncio.to_thread(inspect, console, "connections", "carol", "--json")).stdout)
            assert j["connections"][client_id]["state"]["channels"] == {ch: {}}
            assert j["connections"][client_id]["conn_info"] == {"team": "ops"}

    run(main())


def test_inspect_says_what_is_wrong(console):
    p = inspect(console, "presence", "nope:x", check=False)
    assert p.returncode == 1 and "presence failed: unknown channel (code 102)" in p.stderr
    p = subprocess.run([BROKER_BIN, "inspect", "nodes", "--api", console.api_url, "--api-key", "wrong"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "refused the key (401)" in p.stderr
    p = subprocess.run([BROKER_BIN, "inspect", "nodes", "--api", f"http://127.0.0.1:{free_port()}/api", "--api-key", "k"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "cannot reach the broker's server API" in p.stderr


def test_inspect_takes_address_and_key_from_the_config(console):
    p = subprocess.run([BROKER_BIN, "inspect", "nodes", "-c", str(console.config_path)], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert "1 node(s)" in p.stdout


# --- across nodes -------------------------------------------------------------------------------------


def test_console_and_inspect_show_every_node_through_any_one(broker_factory):
    from test_redis_nodes import RedisProcess
    redis = RedisProcess().start()
    try:
        cfg = deep_merge(admin_config(), {"engine": {"type": "redis", "redis": {"address": redis.url, "prefix": "adm-" + uid()}}})
        a = broker_factory(deep_merge(cfg, {"node": {"name": "node-a"}}), name="adm-a")
        b = broker_factory(deep_merge(cfg, {"node": {"name": "node-b"}}), name="adm-b")
        ch = "chat:cluster-" + uid()

        async def main():
            async with raw_clients() as open_ws:
                alice, rep = await raw_connected(open_ws, a, "alice")
                alice_id = rep["client"]
                bob, _ = await raw_connected(open_ws, b, "bob")
                for c in (alice, bob):
                    assert "subscribe" in await c.call("subscribe", {"channel": ch})

                # Node B answers for both nodes (the list fills within a heartbeat or two).
                deadline = time.monotonic() + 10
                while True:
                    out = (await asyncio.to_thread(inspect, b, "nodes")).stdout
                    if "2 node(s)" in out:
                        break
                    assert time.monotonic() < deadline, out
                    await asyncio.sleep(0.2)
                assert "node-a" in out and "node-b" in out and out.count("redis") == 2

                conns = (await asyncio.to_thread(inspect, b, "connections", "alice")).stdout
                row = next(l for l in conns.splitlines() if alice_id in l)
                assert row.split()[:3] == [alice_id, "alice", "node-a"], conns

                pres = (await asyncio.to_thread(inspect, b, "presence", ch)).stdout
                assert "2 client(s), 2 user(s)" in pres and "alice" in pres and "bob" in pres
                chans = (await asyncio.to_thread(inspect, b, "channels", ch)).stdout
                assert chans.splitlines()[1].split() == [ch, "2"], chans

                # The console on node B disconnects alice, who is on node A.
                s, _ = await asyncio.to_thread(sign_in, b)
                r = await asyncio.to_thread(admin_api, s, b, "disconnect", {"user": "alice", "client": alice_id})
                assert r.json() == {"result": {}}
                code, _ = await alice.expect_close()
                assert code == 3503
                assert await bob.is_open_after(0.3)

        run(main())
    finally:
        redis.remove()
