"""A feature that is off answers 404 with what turns it on (config key and CENTRIFUGO_* variable); a
feature served on the other port names that port. The setting each message of a broker names is then
used to start another broker, which must serve the path: the messages are tested for being right, not
only for being there."""
from __future__ import annotations

import json
import re
import socket

import pytest
import requests

from conftest import (
    API_KEY, LOOPBACK, STARTUP_TIMEOUT, Broker, base_config, deep_merge, free_port, http_session, wait_until,
)

OFF = {"health": {"enabled": False}, "prometheus": {"enabled": False}}
WS_UPGRADE = {
    "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
}
# (method, path, headers, what the message must say)
OFF_PATHS = [
    ("GET", "/metrics", {}, "metrics are off: set prometheus.enabled: true in the config (or CENTRIFUGO_PROMETHEUS_ENABLED=true)"),
    ("GET", "/health", {}, "health is off: set health.enabled: true in the config (or CENTRIFUGO_HEALTH_ENABLED=true)"),
    ("GET", "/connection/uni_sse", {}, "uni_sse is off: set uni_sse.enabled: true in the config (or CENTRIFUGO_UNI_SSE_ENABLED=true)"),
    ("POST", "/connection/uni_http_stream", {},
     "uni_http_stream is off: set uni_http_stream.enabled: true in the config (or CENTRIFUGO_UNI_HTTP_STREAM_ENABLED=true)"),
    ("GET", "/connection/uni_websocket", WS_UPGRADE,
     "uni_websocket is off: set uni_websocket.enabled: true in the config (or CENTRIFUGO_UNI_WEBSOCKET_ENABLED=true)"),
    ("GET", "/", {}, "the admin console is off: set admin.enabled: true, admin.password and admin.secret in the config "
     "(or CENTRIFUGO_ADMIN_ENABLED=true, CENTRIFUGO_ADMIN_PASSWORD, CENTRIFUGO_ADMIN_SECRET)"),
]


class ApiReadyBroker(Broker):
    """A broker that may have /health off, so it is ready when the server API answers `info`
    (Broker.start waits for /health)."""

    def start(self) -> "ApiReadyBroker":
        self.spawn()
        s = http_session()

        def ready():
            assert self.proc.poll() is None, f"broker exited during start-up:\n{self._tail()}"
            try:
                return s.post(f"{self.api_url}/info", headers={"X-API-Key": API_KEY}, timeout=1).status_code == 200
            except requests.RequestException:
                return False

        wait_until(ready, timeout=STARTUP_TIMEOUT, interval=0.1, desc="the server API answers info")
        return self


@pytest.fixture
def brokers():
    started = []

    def start(config, env=None, cls=ApiReadyBroker, name="feature-off"):
        b = cls(config, env=env, name=name)
        started.append(b)
        return b.start()

    yield start
    for b in started:
        b.stop()


def request(url, method, path, headers=None):
    return http_session().request(method, url + path, headers=headers or {}, timeout=5)


def first_status(port, method, path, headers):
    """The status of the first response line (streams and WebSocket upgrades are not read further)."""
    head = f"{method} {path} HTTP/1.1\r\nHost: {LOOPBACK}:{port}\r\nContent-Length: 0\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    with socket.create_connection((LOOPBACK, port), timeout=5) as sock:
        sock.sendall((head + "\r\n").encode())
        line = b""
        while b"\r\n" not in line:
            chunk = sock.recv(1024)
            assert chunk, f"closed before a status line: {line!r}"
            line += chunk
    return int(line.split()[1])


def test_off_features_answer_404_naming_the_setting(brokers):
    b = brokers(deep_merge(base_config(), OFF))
    for method, path, headers, message in OFF_PATHS:
        r = request(b.http_url, method, path, headers)
        assert r.status_code == 404, (path, r.status_code, r.text)
        assert r.headers["Content-Type"].startswith("text/plain"), (path, r.headers)
        assert r.text.strip() == message, path
    # The console's API paths keep the admin API's error shape.
    r = request(b.http_url, "POST", "/admin/api")
    assert r.status_code == 404 and r.json()["error"].startswith("the admin console is off: set admin.enabled: true")
    # A path that is nobody's is still a bare not found.
    r = request(b.http_url, "GET", "/nothing")
    assert r.status_code == 404 and r.json() == {"error": "not found"}


def setting_from(message, how):
    """The setting a message names, as (config overrides, environment)."""
    if how == "env":
        env = dict(m.split("=") for m in re.findall(r"CENTRIFUGO_[A-Z_]+=\w+", message))
        return {}, env
    key, value = re.search(r"set ([a-z_.]+): (\w+)", message).groups()
    section, name = key.split(".")
    return {section: {name: json.loads(value)}}, {}


@pytest.mark.parametrize("how", ["config", "env"])
def test_the_setting_a_message_names_turns_the_feature_on(brokers, how):
    off = brokers(deep_merge(base_config(), OFF), name="feature-off-" + how)
    config, env = deep_merge(base_config(), OFF), {}
    for method, path, headers, _ in OFF_PATHS:
        c, e = setting_from(request(off.http_url, method, path, headers).text, how)
        config, env = deep_merge(config, c), {**env, **e}
    # The console's message also names its password and secret, which need values of one's own.
    if how == "env":
        env.update(CENTRIFUGO_ADMIN_PASSWORD="p", CENTRIFUGO_ADMIN_SECRET="s")
    else:
        config = deep_merge(config, {"admin": {"password": "p", "secret": "s"}})
    b = brokers(config, env=env, name="feature-on-" + how)
    for method, path, headers, _ in OFF_PATHS:
        status = first_status(b.port, method, path, headers)
        assert status != 404, f"{path} still 404 after {how} {config if how == 'config' else env}"


def test_server_api_off_keeps_the_api_error_shape(brokers):
    b = brokers(deep_merge(base_config(), {"http_api": {"disabled": True}}), cls=Broker)
    r = http_session().post(f"{b.api_url}/publish", json={"channel": "chat:x", "data": {}}, headers={"X-API-Key": API_KEY}, timeout=5)
    assert r.status_code == 404
    assert r.json() == {"error": {"code": 104, "message": (
        "the server API is off: set http_api.disabled: false in the config (or CENTRIFUGO_HTTP_API_DISABLED=false)")}}


def test_features_served_on_the_other_port_name_that_port(brokers):
    internal = free_port()
    b = brokers(deep_merge(base_config(), {
        "http_server": {"internal_port": internal},
        "admin": {"enabled": True, "password": "p", "secret": "s"},
        "uni_sse": {"enabled": True},
    }), cls=Broker, name="feature-elsewhere")
    on_internal = f"http_server.internal_port {internal}"
    for path, message in [
        ("/health", f"health is served on {on_internal}"),
        ("/metrics", f"metrics are served on {on_internal}"),
        ("/", f"the admin console is served on {on_internal} (set admin.external: true to serve it on this port too)"),
    ]:
        r = request(b.http_url, "GET", path)
        assert (r.status_code, r.text.strip()) == (404, message), path
    r = http_session().post(f"{b.api_url}/info", json={}, headers={"X-API-Key": API_KEY}, timeout=5)
    assert r.status_code == 404 and r.json() == {"error": {"code": 104, "message": (
        f"the server API is served on {on_internal} (set http_api.external: true to serve it on this port too)")}}
    # And the other way round: client transports are not on the internal port.
    internal_url = f"http://{LOOPBACK}:{internal}"
    for path, key in [("/connection/uni_sse", "uni_sse"), ("/connection/websocket", "websocket")]:
        r = request(internal_url, "GET", path)
        assert (r.status_code, r.text.strip()) == (404, f"{key} is served on the client port, http_server.port {b.port}"), path
