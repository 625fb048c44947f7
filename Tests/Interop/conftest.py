"""Fixtures and helpers for the broker interop suite.

The broker binary (env BROKER_BIN, default <repo>/.build/debug/broker) is started
as a subprocess with a Centrifugo v6 style JSON config written to a temp dir:

    <broker> serve --config <file.json> --port <free port>

Readiness is GET /health -> 200. It is stopped with SIGTERM (SIGKILL after a bound).
The broker's output goes to a log file; the part written during a failing test is
attached to the test report.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import jwt
import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
BROKER_BIN = os.environ.get("BROKER_BIN") or str(REPO_ROOT / ".build" / "debug" / "broker")
STARTUP_TIMEOUT = float(os.environ.get("BROKER_STARTUP_TIMEOUT", "20"))
STOP_TIMEOUT = 15.0
DEFAULT_TEST_TIMEOUT = 60

HMAC_SECRET = "interop-hmac-secret"
API_KEY = "interop-api-key"
ALLOWED_ORIGIN = "http://allowed.example"
LOOPBACK = "127.0.0.1"


# ---------------------------------------------------------------------------
# Small utilities
# ---------------------------------------------------------------------------


def uid() -> str:
    """A short unique suffix for channel/user names (tests share one broker)."""
    return uuid.uuid4().hex[:12]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def run(coro, timeout: float = 45.0):
    """Run a coroutine to completion with a hard upper bound."""

    async def bounded():
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


def http_session() -> requests.Session:
    s = requests.Session()
    s.trust_env = False  # never go through an environment proxy for loopback
    return s


# ---------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------


def make_token(
    sub: str = "u1",
    *,
    secret: str = HMAC_SECRET,
    exp_in: Optional[int] = 3600,
    algorithm: str = "HS256",
    key: Any = None,
    **claims: Any,
) -> str:
    """Connection JWT. exp_in=None -> no exp claim; negative -> already expired."""
    payload: Dict[str, Any] = {"sub": sub}
    if exp_in is not None:
        payload["exp"] = int(time.time()) + exp_in
    payload.update(claims)
    signing_key = key if key is not None else secret
    return jwt.encode(payload, signing_key, algorithm=algorithm)


def make_sub_token(sub: str, channel: str, **kw: Any) -> str:
    """Subscription JWT (same signing rules as make_token, plus `channel`)."""
    return make_token(sub, channel=channel, **kw)


def rsa_keypair() -> Tuple[Any, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public_pem


def ec_keypair() -> Tuple[Any, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    private = ec.generate_private_key(ec.SECP256R1())
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public_pem


# ---------------------------------------------------------------------------
# Configs
# ---------------------------------------------------------------------------

# Namespaces of the shared (session) broker. Every test uses unique channel
# names inside them.
NAMESPACES: List[Dict[str, Any]] = [
    {
        # Full featured: history + recovery + presence + join/leave; subscribers may publish.
        "name": "chat",
        "presence": True,
        "join_leave": True,
        "history_size": 100,
        "history_ttl": "300s",
        "force_recovery": True,
        "allow_subscribe_for_client": True,
        "allow_publish_for_subscriber": True,
        "allow_history_for_subscriber": True,
        "allow_presence_for_subscriber": True,
    },
    {
        # No history, no presence. Anyone authenticated may publish.
        "name": "nohist",
        "allow_subscribe_for_client": True,
        "allow_publish_for_client": True,
    },
    {
        # History, but clients may not publish.
        "name": "nopub",
        "history_size": 10,
        "history_ttl": "300s",
        "allow_subscribe_for_client": True,
        "allow_history_for_subscriber": True,
    },
    {
        # Join/leave pushed to every subscriber without asking.
        "name": "fpjl",
        "presence": True,
        "join_leave": True,
        "force_push_join_leave": True,
        "allow_subscribe_for_client": True,
    },
    {
        # For server-side subscriptions (token channels / API subscribe). Clients
        # may not subscribe by themselves.
        "name": "srv",
        "presence": True,
        "history_size": 100,
        "history_ttl": "300s",
        "force_recovery": True,
    },
    {
        # Tiny history: recovery of more than 2 missed publications must fail.
        "name": "small",
        "history_size": 2,
        "history_ttl": "300s",
        "force_recovery": True,
        "allow_subscribe_for_client": True,
    },
]


def base_config() -> Dict[str, Any]:
    """Config of the shared broker (Centrifugo v6 layout)."""
    return {
        "log": {"level": "info"},
        "http_server": {"address": LOOPBACK, "port": 8000},
        "client": {
            "token": {"hmac_secret_key": HMAC_SECRET},
            "allowed_origins": [ALLOWED_ORIGIN],
        },
        "http_api": {"key": API_KEY},
        "health": {"enabled": True},
        "prometheus": {"enabled": True},
        "channel": {
            "without_namespace": {
                "allow_subscribe_for_client": True,
                "allow_publish_for_subscriber": True,
            },
            "namespaces": copy.deepcopy(NAMESPACES),
        },
    }


def deep_merge(base: Dict[str, Any], override: Dict[str, Any]) -> Dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in override.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


# ---------------------------------------------------------------------------
# Broker process
# ---------------------------------------------------------------------------

_ALL_BROKERS: List["Broker"] = []


class BrokerStartError(Exception):
    pass


class Broker:
    """One broker subprocess."""

    def __init__(
        self,
        config: Dict[str, Any],
        env: Optional[Dict[str, str]] = None,
        name: str = "broker",
        config_port: Optional[int] = None,
    ) -> None:
        self.name = name
        self.dir = Path(tempfile.mkdtemp(prefix=f"interop-{name}-"))
        self.port = free_port()
        self.config = copy.deepcopy(config)
        self.config.setdefault("http_server", {})
        # The config port is overridden by --port (tested separately).
        self.config["http_server"]["port"] = config_port if config_port is not None else self.port
        self.extra_env = dict(env or {})
        self.config_path = self.dir / "config.json"
        self.log_path = self.dir / "broker.log"
        self.proc: Optional[subprocess.Popen] = None
        self._log_file = None
        self.returncode: Optional[int] = None
        _ALL_BROKERS.append(self)

    # -- URLs ---------------------------------------------------------------
    @property
    def http_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def health_url(self) -> str:
        """Where /health answers: the internal port when the config sets one."""
        internal = self.config["http_server"].get("internal_port")
        return f"http://{LOOPBACK}:{internal}" if internal else self.http_url

    @property
    def ws_url(self) -> str:
        return f"ws://{LOOPBACK}:{self.port}/connection/websocket"

    @property
    def api_url(self) -> str:
        return f"{self.http_url}/api"

    @property
    def api_key(self) -> str:
        return self.config.get("http_api", {}).get("key", "")

    @property
    def secret(self) -> str:
        return self.config.get("client", {}).get("token", {}).get("hmac_secret_key", "")

    # -- lifecycle ----------------------------------------------------------
    def log_text(self, start: int = 0) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(start)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def _tail(self, n: int = 60) -> str:
        lines = self.log_text().splitlines()
        return "\n".join(lines[-n:])

    def write_config(self) -> None:
        """Writes `config` as JSON to `config_path` (a subclass may write another format)."""
        self.config_path.write_text(json.dumps(self.config, indent=2))

    def spawn(self) -> None:
        """Writes the config and starts the process (without the CENTRIFUGO_* variables of this environment)."""
        self.write_config()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CENTRIFUGO_")}
        env.update(self.extra_env)
        self._log_file = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [BROKER_BIN, "serve", "--config", str(self.config_path), "--port", str(self.port)],
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=str(self.dir),
        )

    def start(self) -> "Broker":
        if not os.path.isfile(BROKER_BIN) or not os.access(BROKER_BIN, os.X_OK):
            raise BrokerStartError(
                f"broker binary not found or not executable: {BROKER_BIN} "
                f"(build it with `swift build` in {REPO_ROOT} or set BROKER_BIN)"
            )
        self.spawn()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        sess = http_session()
        last_err = ""
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                self.returncode = rc
                self._close_log()
                raise BrokerStartError(
                    f"broker [{self.name}] exited with code {rc} during start-up.\n"
                    f"--- log tail ---\n{self._tail()}"
                )
            try:
                r = sess.get(f"{self.health_url}/health", timeout=1)
                if r.status_code == 200:
                    return self
                last_err = f"HTTP {r.status_code}"
            except requests.RequestException as e:
                last_err = type(e).__name__
            time.sleep(0.1)
        self.stop()
        raise BrokerStartError(
            f"broker [{self.name}] not ready on {self.health_url}/health within "
            f"{STARTUP_TIMEOUT:.0f}s (last: {last_err}).\n--- log tail ---\n{self._tail()}"
        )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT) -> Optional[int]:
        """SIGTERM, wait up to `timeout`, then SIGKILL. Returns the exit code
        (negative = killed by that signal)."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                self.proc.wait(timeout=5)
                self.returncode = None  # did not stop on SIGTERM
                self._close_log()
                return -signal.SIGKILL
        self.returncode = self.proc.returncode
        self._close_log()
        return self.returncode

    def _close_log(self) -> None:
        if self._log_file is not None:
            with contextlib.suppress(Exception):
                self._log_file.close()
            self._log_file = None

    # -- server API helpers (raw HTTP) ----------------------------------------
    def api(self, method: str, payload: Dict[str, Any], timeout: float = 5) -> Dict[str, Any]:
        """POST /api/<method> with X-API-Key; asserts HTTP 200 and returns the JSON body."""
        r = http_session().post(
            f"{self.api_url}/{method}",
            data=json.dumps(payload),
            headers={"X-API-Key": self.api_key, "Content-Type": "application/json"},
            timeout=timeout,
        )
        assert r.status_code == 200, f"/api/{method} -> HTTP {r.status_code}: {r.text!r}"
        return r.json()

    async def aapi(self, method: str, payload: Dict[str, Any]) -> Dict[str, Any]:
        return await asyncio.to_thread(self.api, method, payload)

    def cent(self):
        """An official `cent` sync client for this broker."""
        import cent

        return cent.Client(self.api_url, self.api_key, timeout=5, session=http_session())

    def channels_count(self, channel: str) -> int:
        """num_clients of `channel` according to the `channels` API (0 = absent)."""
        res = self.api("channels", {"pattern": channel})
        return res.get("result", {}).get("channels", {}).get(channel, {}).get("num_clients", 0)


def start_broker(
    config: Optional[Dict[str, Any]] = None,
    env: Optional[Dict[str, str]] = None,
    name: str = "custom",
    config_port: Optional[int] = None,
) -> Broker:
    b = Broker(config if config is not None else base_config(), env=env, name=name, config_port=config_port)
    error = None
    try:
        return b.start()
    except BrokerStartError as e:
        error = str(e)
    pytest.fail(error, pytrace=False)


@pytest.fixture(scope="session")
def broker():
    """The shared broker (base_config)."""
    b = start_broker(base_config(), name="session")
    yield b
    b.stop()


@pytest.fixture
def broker_factory():
    """Start brokers with a custom config/env for one test; all stopped afterwards."""
    started: List[Broker] = []

    def factory(config=None, env=None, name="custom", config_port=None) -> Broker:
        b = start_broker(config, env=env, name=name, config_port=config_port)
        started.append(b)
        return b

    yield factory
    for b in started:
        b.stop()


@pytest.fixture
def api(broker):
    """Official `cent` sync client bound to the shared broker."""
    c = broker.cent()
    yield c
    with contextlib.suppress(Exception):
        c.close()


# ---------------------------------------------------------------------------
# Report hooks: attach the broker log written during a failing test, default
# per-test timeout.
# ---------------------------------------------------------------------------

_LOG_OFFSETS_KEY = pytest.StashKey[Dict[int, int]]()


def pytest_runtest_setup(item):
    item.stash[_LOG_OFFSETS_KEY] = {id(b): b.log_size() for b in _ALL_BROKERS}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    offsets = item.stash.get(_LOG_OFFSETS_KEY, {})
    for b in _ALL_BROKERS:
        start = offsets.get(id(b), 0)
        if b.log_size() <= start:
            continue
        lines = b.log_text(start).splitlines()
        if len(lines) > 150:
            lines = ["... (truncated) ..."] + lines[-150:]
        rep.sections.append((f"broker log [{b.name}] {b.log_path}", "\n".join(lines)))


def pytest_collection_modifyitems(config, items):
    if not config.pluginmanager.hasplugin("timeout"):
        return
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(DEFAULT_TEST_TIMEOUT))


# ---------------------------------------------------------------------------
# Raw WebSocket client (exact frames)
# ---------------------------------------------------------------------------


class RawWS:
    """A JSON-protocol client speaking raw frames.

    Incoming frames must be text; each is split on '\\n' into JSON objects.
    Replies are matched by id, pushes and other messages are buffered.
    Pings (`{}`) are counted and answered with `{}` when auto_pong is set.
    """

    def __init__(self, ws, auto_pong: bool = True) -> None:
        self.ws = ws
        self.auto_pong = auto_pong
        self.buffer: List[Dict[str, Any]] = []
        self.pings = 0
        self._id = 0
        self.frames: List[str] = []

    @classmethod
    async def open(cls, url: str, auto_pong: bool = True, **kw: Any) -> "RawWS":
        from websockets.asyncio.client import connect

        params = dict(
            proxy=None,
            compression=None,
            ping_interval=None,
            open_timeout=5,
            close_timeout=2,
            max_size=None,
        )
        params.update(kw)
        ws = await connect(url, **params)
        return cls(ws, auto_pong=auto_pong)

    def next_id(self) -> int:
        self._id += 1
        return self._id

    async def send(self, *commands: Dict[str, Any]) -> None:
        await self.ws.send("\n".join(json.dumps(c) for c in commands))

    async def send_text(self, text: str) -> None:
        await self.ws.send(text)

    async def send_bytes(self, data: bytes) -> None:
        await self.ws.send(data)

    async def _read_frame(self, timeout: float) -> List[Dict[str, Any]]:
        msg = await asyncio.wait_for(self.ws.recv(), timeout)
        assert isinstance(msg, str), f"JSON protocol frames must be text frames, got binary: {msg[:100]!r}"
        self.frames.append(msg)
        out = []
        for line in msg.split("\n"):
            if not line.strip():
                continue
            obj = json.loads(line)
            if obj == {}:
                self.pings += 1
                if self.auto_pong:
                    await self.ws.send("{}")
            out.append(obj)
        return out

    async def read_messages(self, timeout: float = 5.0) -> List[Dict[str, Any]]:
        """Read one frame (everything in it, pings included)."""
        return await self._read_frame(timeout)

    async def reply(self, cmd_id: int, timeout: float = 5.0) -> Dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for i, m in enumerate(self.buffer):
                if m.get("id") == cmd_id:
                    return self.buffer.pop(i)
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"no reply with id={cmd_id} within {timeout}s; buffered: {self.buffer[-10:]}")
            try:
                msgs = await self._read_frame(remaining)
            except asyncio.TimeoutError:
                continue
            self.buffer.extend(m for m in msgs if m != {})

    async def call(self, method: str, params: Dict[str, Any], timeout: float = 5.0) -> Dict[str, Any]:
        cmd_id = self.next_id()
        await self.send({"id": cmd_id, method: params})
        return await self.reply(cmd_id, timeout)

    async def connect(self, token: Optional[str] = None, **params: Any) -> Dict[str, Any]:
        if token is not None:
            params["token"] = token
        return await self.call("connect", params)

    async def push(self, pred: Callable[[Dict[str, Any]], bool] = lambda p: True, timeout: float = 5.0) -> Dict[str, Any]:
        """Next buffered/incoming push (the inner `push` object) matching pred."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for i, m in enumerate(self.buffer):
                if "push" in m and "id" not in m and pred(m["push"]):
                    return self.buffer.pop(i)["push"]
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"no matching push within {timeout}s; buffered: {self.buffer[-10:]}")
            try:
                msgs = await self._read_frame(remaining)
            except asyncio.TimeoutError:
                continue
            self.buffer.extend(m for m in msgs if m != {})

    async def pubs(self, channel: str, n: int, timeout: float = 5.0) -> List[Dict[str, Any]]:
        out = []
        for _ in range(n):
            p = await self.push(lambda p: p.get("channel") == channel and "pub" in p, timeout)
            out.append(p["pub"])
        return out

    async def expect_close(self, timeout: float = 5.0) -> Tuple[int, str]:
        """Read until the server closes. Returns (code, reason) of the close frame
        received, or (1006, '') when the connection dropped without one."""
        from websockets.exceptions import ConnectionClosed

        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"connection not closed by the server within {timeout}s")
            try:
                msgs = await self._read_frame(remaining)
                self.buffer.extend(m for m in msgs if m != {})
            except asyncio.TimeoutError:
                continue
            except ConnectionClosed as e:
                if e.rcvd is None:
                    return 1006, ""
                return e.rcvd.code, e.rcvd.reason

    async def is_open_after(self, seconds: float) -> bool:
        """Keep reading (and answering pings) for `seconds`; True if still open."""
        from websockets.exceptions import ConnectionClosed

        deadline = asyncio.get_running_loop().time() + seconds
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return True
            try:
                msgs = await self._read_frame(remaining)
                self.buffer.extend(m for m in msgs if m != {})
            except asyncio.TimeoutError:
                return True
            except ConnectionClosed:
                return False

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), 3)


@contextlib.asynccontextmanager
async def raw_clients():
    """`async with raw_clients() as open_ws:` -> open_ws(url, **kw) -> RawWS; all closed at exit."""
    opened: List[RawWS] = []

    async def open_ws(url: str, **kw: Any) -> RawWS:
        c = await RawWS.open(url, **kw)
        opened.append(c)
        return c

    try:
        yield open_ws
    finally:
        for c in opened:
            await c.close()


async def raw_connected(open_ws, broker: Broker, user: str = "u1", **claims: Any) -> Tuple[RawWS, Dict[str, Any]]:
    """Open + connect with an HS256 token; returns (client, connect result)."""
    c = await open_ws(broker.ws_url)
    rep = await c.connect(make_token(user, secret=broker.secret, **claims))
    assert "error" not in rep, f"connect failed: {rep}"
    return c, rep["connect"]


# ---------------------------------------------------------------------------
# centrifuge-python helpers
# ---------------------------------------------------------------------------


class Recorder:
    """Records SDK events (name, ctx) and lets tests await them."""

    def __init__(self) -> None:
        self.items: List[Tuple[str, Any]] = []
        self._changed: Optional[asyncio.Event] = None

    def _event(self) -> asyncio.Event:
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed

    def add(self, name: str, ctx: Any) -> None:
        self.items.append((name, ctx))
        self._event().set()

    def all(self, name: str, pred: Callable[[Any], bool] = lambda c: True) -> List[Any]:
        return [c for n, c in self.items if n == name and pred(c)]

    async def wait(self, name: str, pred: Callable[[Any], bool] = lambda c: True, timeout: float = 5.0, count: int = 1):
        """Wait until `count` events `name` matching pred were recorded; returns
        the last of them (or the list when count > 1)."""
        ev = self._event()
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = self.all(name, pred)
            if len(found) >= count:
                return found[count - 1] if count == 1 else found[:count]
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(
                    f"timeout ({timeout}s) waiting for {count} x '{name}' event(s); got "
                    f"{len(found)}; all events: {[(n, c) for n, c in self.items][-20:]}"
                )
            ev.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(ev.wait(), remaining)


def client_events(rec: Recorder):
    from centrifuge import ClientEventHandler

    class H(ClientEventHandler):
        async def on_connecting(self, ctx):
            rec.add("connecting", ctx)

        async def on_connected(self, ctx):
            rec.add("connected", ctx)

        async def on_disconnected(self, ctx):
            rec.add("disconnected", ctx)

        async def on_error(self, ctx):
            rec.add("error", ctx)

        async def on_subscribed(self, ctx):
            rec.add("server_subscribed", ctx)

        async def on_subscribing(self, ctx):
            rec.add("server_subscribing", ctx)

        async def on_unsubscribed(self, ctx):
            rec.add("server_unsubscribed", ctx)

        async def on_publication(self, ctx):
            rec.add("server_publication", ctx)

        async def on_join(self, ctx):
            rec.add("server_join", ctx)

        async def on_leave(self, ctx):
            rec.add("server_leave", ctx)

    return H()


def sub_events(rec: Recorder):
    from centrifuge import SubscriptionEventHandler

    class H(SubscriptionEventHandler):
        async def on_subscribing(self, ctx):
            rec.add("subscribing", ctx)

        async def on_subscribed(self, ctx):
            rec.add("subscribed", ctx)

        async def on_unsubscribed(self, ctx):
            rec.add("unsubscribed", ctx)

        async def on_publication(self, ctx):
            rec.add("publication", ctx)

        async def on_join(self, ctx):
            rec.add("join", ctx)

        async def on_leave(self, ctx):
            rec.add("leave", ctx)

        async def on_error(self, ctx):
            rec.add("error", ctx)

    return H()


@contextlib.asynccontextmanager
async def sdk_clients():
    """`async with sdk_clients() as make:` -> make(url, **Client kwargs) -> (client, Recorder).

    JSON protocol only. Every client is disconnected at exit."""
    from centrifuge import Client

    made: List[Any] = []

    def make(url: str, **kw: Any):
        rec = Recorder()
        kw.setdefault("use_protobuf", False)
        kw.setdefault("proxy", None)
        kw.setdefault("timeout", 5.0)
        c = Client(url, events=client_events(rec), **kw)
        made.append(c)
        return c, rec

    try:
        yield make
    finally:
        for c in made:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(c.disconnect(), 3)


def new_sub(client, channel: str, **kw: Any):
    """client.new_subscription with a Recorder; returns (sub, Recorder)."""
    rec = Recorder()
    sub = client.new_subscription(channel, events=sub_events(rec), **kw)
    return sub, rec


async def eventually(fn: Callable[[], Any], timeout: float = 3.0, interval: float = 0.05, desc: str = ""):
    """Poll a (sync or async) condition with a bound; returns its first truthy value.
    Only for state that has no event to await (e.g. server-side bookkeeping)."""
    import inspect

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = fn()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if loop.time() >= deadline:
            raise AssertionError(f"condition not met within {timeout}s: {desc or fn} (last value: {value!r})")
        await asyncio.sleep(interval)


def wait_until(fn: Callable[[], Any], timeout: float = 3.0, interval: float = 0.05, desc: str = ""):
    """Synchronous variant of eventually()."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout}s: {desc or fn} (last value: {value!r})")
        time.sleep(interval)


# ---------------------------------------------------------------------------
# Raw HTTP/1.1 on one connection (pipelining, malformed requests)
# ---------------------------------------------------------------------------


def raw_http(broker, payload: bytes, expect: int, timeout: float = 5.0):
    """Sends `payload` (one or more requests) on one connection and reads `expect` responses
    (or until the server closes). Returns ([(status, headers, body_json)], closed)."""
    sock = socket.create_connection((LOOPBACK, broker.port), timeout=timeout)
    sock.sendall(payload)
    buf = b""
    out = []
    closed = False
    while len(out) < expect:
        head_end = buf.find(b"\r\n\r\n")
        if head_end >= 0:
            head = buf[:head_end].decode()
            lines = head.split("\r\n")
            headers = {k.lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
            length = int(headers.get("content-length", "0"))
            if len(buf) >= head_end + 4 + length:
                body = buf[head_end + 4 : head_end + 4 + length]
                out.append((int(lines[0].split()[1]), headers, json.loads(body) if body else None))
                buf = buf[head_end + 4 + length :]
                continue
        if closed:
            break
        chunk = sock.recv(65536)
        if not chunk:
            closed = True
        buf += chunk
    sock.close()
    return out, closed


def api_request(broker, method: str, body: dict, close: bool = False) -> bytes:
    data = json.dumps(body).encode()
    head = (
        f"POST /api/{method} HTTP/1.1\r\nHost: x\r\nX-API-Key: {broker.api_key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
    )
    if close:
        head += "Connection: close\r\n"
    return head.encode() + b"\r\n" + data
