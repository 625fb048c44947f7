"""Proxies: the application's backend decides connect, refresh, subscribe, publish, sub_refresh and RPC.

A real aiohttp backend (proxy_http_backend.py) records every request; the official centrifuge-python SDK and raw
WebSocket frames drive the broker. Each test asserts the exact fields Centrifugo sends and that every result field
is honoured, and that a failing backend harms only the client waiting on it.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from centrifuge import ReplyError

from conftest import NAMESPACES, Broker, base_config, deep_merge, http_session, make_token, new_sub, raw_clients, run, sdk_clients, uid
from proxy_http_backend import Gate, HTTPProxyBackend, Raw, Slow, Status


@pytest.fixture(scope="module")
def backend():
    b = HTTPProxyBackend().start()
    yield b
    b.stop()


def proxy_config(backend: HTTPProxyBackend) -> dict:
    namespaces = NAMESPACES + [
        {"name": "sp", "subscribe_proxy_enabled": True, "presence": True, "history_size": 10, "history_ttl": "60s"},
        {"name": "pp", "publish_proxy_enabled": True, "allow_subscribe_for_client": True, "allow_subscribe_for_anonymous": True},
        {"name": "bin", "subscribe_proxy_enabled": True, "subscribe_proxy_name": "binary"},
        {"name": "srp", "subscribe_proxy_enabled": True, "sub_refresh_proxy_enabled": True},
        {"name": "feed", "allow_subscribe_for_client": True},
        {"name": "spdown", "subscribe_proxy_enabled": True, "subscribe_proxy_name": "gone"},
        {"name": "spgate", "subscribe_proxy_enabled": True, "subscribe_proxy_name": "gated"},
    ]
    return deep_merge(
        base_config(),
        {
            "client": {
                "proxy": {
                    "connect": {
                        "enabled": True,
                        "endpoint": backend.url("connect"),
                        # Generous: a loaded CI machine must not turn a slow answer into a failure.
                        "timeout": "5s",
                        "http_headers": ["Authorization", "X-Custom"],
                        "emulated_headers": ["X-Emulated"],
                        "http": {
                            "static_headers": {"X-Static": "s1", "X-Custom": "static loses"},
                            "status_to_code_transforms": [
                                {"status_code": 403, "to_disconnect": {"code": 4403, "reason": "forbidden by backend"}}
                            ],
                        },
                    },
                    "refresh": {
                        "enabled": True, "endpoint": backend.url("refresh"), "include_connection_meta": True, "timeout": "5s",
                    },
                }
            },
            "channel": {
                "proxy": {
                    "subscribe": {"endpoint": backend.url("subscribe"), "timeout": "2s", "include_connection_meta": True},
                    "publish": {"endpoint": backend.url("publish"), "timeout": "5s"},
                    "sub_refresh": {"endpoint": backend.url("sub_refresh"), "timeout": "5s"},
                },
                "namespaces": namespaces,
            },
            "rpc": {
                "proxy": {"endpoint": backend.url("rpc"), "include_connection_meta": True, "timeout": "5s"},
                "without_namespace": {"proxy_enabled": True},
                "namespaces": [{"name": "off"}],
                "ping": {"enabled": True},
            },
            "uni_http_stream": {"enabled": True},
            "proxies": [
                {"name": "binary", "endpoint": backend.url("subscribe_binary"), "binary_encoding": True, "timeout": "5s"},
                # Nothing listens on port 9: connection refused.
                {"name": "gone", "endpoint": "http://127.0.0.1:9/centrifugo"},
                {"name": "gated", "endpoint": backend.url("subscribe_gated"), "timeout": "20s"},
            ],
        },
    )


@pytest.fixture(scope="module")
def pbroker(backend):
    b = Broker(proxy_config(backend), name="proxies").start()
    yield b
    b.stop()


async def watcher(make, broker, channel: str):
    """Another client (with a token, no proxy involved) subscribed to `channel`: its Recorder, to see that it keeps
    receiving while a proxy fails or stalls."""
    other, rec = make(broker.ws_url, token=make_token("o-" + uid(), secret=broker.secret))
    await other.connect()
    await rec.wait("connected")
    sub, srec = new_sub(other, channel)
    await sub.subscribe()
    await srec.wait("subscribed")
    return srec


def user_answer(user: str, **extra):
    return lambda body: {"result": {"user": user, **extra}}


async def proxied_client(make, broker, backend, user=None, **kw):
    """A centrifuge-python client that connects with no token: the connect proxy names it `user`."""
    user = user or "pu-" + uid()
    backend.responses["connect"] = user_answer(user, meta={"tenant": "t1"})
    client, rec = make(broker.ws_url, **kw)
    await client.connect()
    ctx = await rec.wait("connected")
    return client, rec, ctx, user


def test_config_with_proxies_starts_without_a_warning_about_them(pbroker):
    log = pbroker.log_text()
    assert "broker started" in log or "listening" in log, log[-2000:]
    for word in ("not supported", "unknown key", "not implemented", "ignored"):
        assert word not in log, f"{word!r} in the log:\n{log[-3000:]}"


def test_connect_proxy_fields_and_result(pbroker, backend):
    async def main():
        feed = "feed:" + uid()
        user = "pu-" + uid()
        backend.responses["connect"] = lambda body: {
            "result": {
                "user": user,
                "channels": [feed],
                "data": {"welcome": True},
                "info": {"name": "Bob"},
                "meta": {"tenant": "t1"},
            }
        }
        async with sdk_clients() as make:
            client, rec = make(pbroker.ws_url, data={"hello": 1}, name="py-test", version="1.2")
            before = len(backend.calls("connect"))
            await client.connect()
            ctx = await rec.wait("connected")
            req = backend.calls("connect")[before]
            assert req == {
                "client": ctx.client,
                "transport": "websocket",
                "protocol": "json",
                "encoding": "json",
                "data": {"hello": 1},
                "name": "py-test",
                "version": "1.2",
            }
            assert ctx.data == {"welcome": True}
            # The channels of the result are server-side subscriptions.
            await rec.wait("server_subscribed", lambda c: c.channel == feed)
            await asyncio.to_thread(pbroker.api, "publish", {"channel": feed, "data": {"n": 1}})
            pub = await rec.wait("server_publication", lambda c: c.channel == feed)
            assert pub.pub.data == {"n": 1}

    run(main())


def test_connect_proxy_headers_static_transport_and_emulated(pbroker, backend):
    async def main():
        backend.responses["connect"] = user_answer("h-" + uid())
        async with raw_clients() as open_ws:
            ws = await open_ws(pbroker.ws_url, additional_headers={"Authorization": "Bearer abc", "X-Custom": "from client", "X-Other": "no"})
            before = len(backend.calls("connect"))
            await ws.send({"id": 1, "connect": {"headers": {"X-Emulated": "e1", "X-Not-Listed": "n"}}})
            reply = await ws.reply(1)
            assert "connect" in reply, reply
            headers = backend.headers("connect")[before]
            assert headers["authorization"] == "Bearer abc"
            assert headers["x-custom"] == "from client"  # the client's header wins over the static one
            assert headers["x-static"] == "s1"
            assert headers["x-emulated"] == "e1"
            assert "x-other" not in headers and "x-not-listed" not in headers
            assert headers["content-type"] == "application/json"

    run(main())


def test_connect_proxy_error_disconnect_and_status_transform(pbroker, backend):
    async def main():
        async with raw_clients() as open_ws:
            backend.responses["connect"] = {"error": {"code": 4000, "message": "custom error", "temporary": True}}
            ws = await open_ws(pbroker.ws_url)
            await ws.send({"id": 1, "connect": {}})
            reply = await ws.reply(1)
            assert reply["error"] == {"code": 4000, "message": "custom error", "temporary": True}

            backend.responses["connect"] = {"disconnect": {"code": 4501, "reason": "go away"}}
            ws = await open_ws(pbroker.ws_url)
            await ws.send({"id": 1, "connect": {}})
            assert await ws.expect_close() == (4501, "go away")

            backend.responses["connect"] = Status(403)
            ws = await open_ws(pbroker.ws_url)
            await ws.send({"id": 1, "connect": {}})
            assert await ws.expect_close() == (4403, "forbidden by backend")

    run(main())


def test_rpc_proxy_sdk_call_and_ping(pbroker, backend):
    async def main():
        async with sdk_clients() as make:
            client, rec, ctx, user = await proxied_client(make, pbroker, backend)
            backend.responses["rpc"] = lambda body: {"result": {"data": {"echo": body.get("data"), "method": body["method"]}}}
            result = await client.rpc("getProfile", {"id": 7})
            assert result.data == {"echo": {"id": 7}, "method": "getProfile"}
            req = backend.calls("rpc")[-1]
            assert req == {
                "client": ctx.client,
                "transport": "websocket",
                "protocol": "json",
                "encoding": "json",
                "user": user,
                "method": "getProfile",
                "data": {"id": 7},
                "meta": {"tenant": "t1"},
            }
            # rpc.ping is answered by the broker itself.
            calls = len(backend.calls("rpc"))
            pong = await client.rpc("ping", {})
            assert pong.data is None or pong.data == {}
            assert len(backend.calls("rpc")) == calls
            # A namespace without proxy_enabled: 108; an unknown namespace: 104.
            with pytest.raises(ReplyError) as e:
                await client.rpc("off:thing", {})
            assert e.value.code == 108
            with pytest.raises(ReplyError) as e:
                await client.rpc("nope:thing", {})
            assert e.value.code == 104
            # The backend's error reaches the caller.
            backend.responses["rpc"] = {"error": {"code": 1001, "message": "no such profile"}}
            with pytest.raises(ReplyError) as e:
                await client.rpc("getProfile", {"id": 8})
            assert (e.value.code, e.value.message) == (1001, "no such profile")

    run(main())


def test_subscribe_proxy_fields_info_in_presence_and_error(pbroker, backend):
    async def main():
        ch = "sp:room-" + uid()
        async with sdk_clients() as make:
            client, rec, ctx, user = await proxied_client(make, pbroker, backend)
            backend.responses["subscribe"] = {
                "result": {"info": {"role": "admin"}, "data": {"motd": "hi"}, "override": {"force_recovery": {"value": True}}}
            }
            sub, srec = new_sub(client, ch, data={"want": "in"})
            await sub.subscribe()
            sctx = await srec.wait("subscribed")
            assert sctx.data == {"motd": "hi"}
            assert sctx.recoverable is True, "the proxy's override turned recovery on"
            req = backend.calls("subscribe")[-1]
            assert req == {
                "client": ctx.client,
                "transport": "websocket",
                "protocol": "json",
                "encoding": "json",
                "user": user,
                "channel": ch,
                "data": {"want": "in"},
                "meta": {"tenant": "t1"},
            }
            # The proxy's info is the subscription's channel info in presence.
            presence = await asyncio.to_thread(pbroker.api, "presence", {"channel": ch})
            infos = list(presence["result"]["presence"].values())
            assert [(i["user"], i.get("chan_info")) for i in infos] == [(user, {"role": "admin"})]

            backend.responses["subscribe"] = {"error": {"code": 1002, "message": "not your room"}}
            sub2, srec2 = new_sub(client, "sp:other-" + uid())
            await sub2.subscribe()
            # A permanent error: the SDK gives up on the subscription with the backend's code and message.
            u = await srec2.wait("unsubscribed")
            assert (u.code, u.reason) == (1002, "not your room")

            backend.responses["subscribe"] = {"disconnect": {"code": 4502, "reason": "banned"}}
            sub3, _ = new_sub(client, "sp:third-" + uid())
            await sub3.subscribe()
            d = await rec.wait("disconnected")
            assert d.code == 4502

    run(main())


def test_subscribe_proxy_binary_encoding_by_name(pbroker, backend):
    async def main():
        async with raw_clients() as open_ws:
            backend.responses["connect"] = user_answer("b-" + uid())
            ws = await open_ws(pbroker.ws_url)
            await ws.send({"id": 1, "connect": {}})
            await ws.reply(1)
            await ws.send({"id": 2, "subscribe": {"channel": "bin:x", "data": {"a": 1}}})
            reply = await ws.reply(2)
            assert "subscribe" in reply, reply
            req = backend.calls("subscribe_binary")[-1]
            assert req["encoding"] == "binary"
            assert req["b64data"] == "eyJhIjoxfQ=="  # base64 of {"a":1}
            assert "data" not in req

    run(main())


def test_publish_proxy_rewrites_data_and_errors(pbroker, backend):
    async def main():
        ch = "pp:wall-" + uid()
        async with sdk_clients() as make:
            client, rec, ctx, user = await proxied_client(make, pbroker, backend)
            sub, srec = new_sub(client, ch)
            await sub.subscribe()
            await srec.wait("subscribed")
            backend.responses["publish"] = lambda body: {"result": {"data": {"text": body["data"]["text"].upper()}}}
            await sub.publish({"text": "hello"})
            pub = await srec.wait("publication")
            assert pub.pub.data == {"text": "HELLO"}
            req = backend.calls("publish")[-1]
            assert req == {
                "client": ctx.client,
                "transport": "websocket",
                "protocol": "json",
                "encoding": "json",
                "user": user,
                "channel": ch,
                "data": {"text": "hello"},
            }
            backend.responses["publish"] = {"error": {"code": 1003, "message": "moderated"}}
            with pytest.raises(ReplyError) as e:
                await sub.publish({"text": "bad word"})
            assert e.value.code == 1003

    run(main())


def test_connection_answers_pings_while_a_proxy_call_waits(backend):
    """Pings every second, pong within 900 ms: a command held by a stalled backend must not hold the pongs too
    (that would close the connection with 3012)."""
    pbroker = Broker(
        deep_merge(proxy_config(backend), {"client": {"ping_interval": "1s", "pong_timeout": "900ms"}}), name="proxy-pings"
    ).start()

    async def main():
        gate = threading.Event()
        backend.responses["subscribe_gated"] = Gate(gate, {"result": {}})
        backend.responses["connect"] = user_answer("p-" + uid())
        try:
            async with raw_clients() as open_ws:
                ws = await open_ws(pbroker.ws_url)  # answers every ping with a pong
                await ws.send({"id": 1, "connect": {}})
                assert (await ws.reply(1))["connect"]["pong"] is True
                before = len(backend.calls("subscribe_gated"))
                await ws.send({"id": 2, "subscribe": {"channel": "spgate:p-" + uid()}})
                await backend.await_request("subscribe_gated", count=before + 1)
                # Long enough for a ping, its 900 ms and the once-a-second check that closes on a missing pong.
                assert await ws.is_open_after(3.5), ws.buffer[-5:]
                gate.set()
                assert "subscribe" in await ws.reply(2)
        finally:
            gate.set()

    try:
        run(main())
    finally:
        pbroker.stop()


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param("down", id="backend-down"),
        pytest.param(Slow(4.0, {"result": {}}), id="slower-than-timeout"),
        pytest.param(Status(500), id="http-500"),
        pytest.param(Raw(b"<html>oops</html>"), id="garbage"),
    ],
)
def test_failing_subscribe_proxy_harms_only_its_client(pbroker, backend, failure):
    """The affected client gets error 100 (temporary, so its SDK retries); another client on the same node keeps
    receiving publications."""

    async def main():
        watch = "chat:watch-" + uid()
        async with sdk_clients() as make:
            osrec = await watcher(make, pbroker, watch)

            client, rec, _, _ = await proxied_client(make, pbroker, backend)
            if failure != "down":
                backend.responses["subscribe"] = failure
            sub, srec = new_sub(client, ("spdown:f-" if failure == "down" else "sp:f-") + uid())
            await sub.subscribe()
            err = await srec.wait("error", timeout=10)
            assert err.error.code == 100 and err.error.temporary
            await asyncio.to_thread(pbroker.api, "publish", {"channel": watch, "data": {"after": True}})
            await osrec.wait("publication", lambda c: c.pub.data == {"after": True})

    run(main())


def test_stalled_proxy_blocks_nothing_but_its_own_call(pbroker, backend):
    """While a backend holds a subscribe, the same connection's other channels and another client keep receiving."""

    async def main():
        gate = threading.Event()
        backend.responses["subscribe_gated"] = Gate(gate, {"result": {}})
        watch = "chat:watch-" + uid()
        try:
            async with sdk_clients() as make:
                osrec = await watcher(make, pbroker, watch)

                client, rec, _, _ = await proxied_client(make, pbroker, backend)
                own = "pp:own-" + uid()
                own_sub, own_rec = new_sub(client, own)
                await own_sub.subscribe()
                await own_rec.wait("subscribed")
                before = len(backend.calls("subscribe_gated"))
                sub, srec = new_sub(client, "spgate:g-" + uid())
                await sub.subscribe()
                await backend.await_request("subscribe_gated", count=before + 1)
                for n in range(3):
                    await asyncio.to_thread(pbroker.api, "publish", {"channel": watch, "data": {"n": n}})
                    await osrec.wait("publication", lambda c, n=n: c.pub.data == {"n": n})
                    await asyncio.to_thread(pbroker.api, "publish", {"channel": own, "data": {"own": n}})
                    await own_rec.wait("publication", lambda c, n=n: c.pub.data == {"own": n})
                # All that happened while the backend still held the stalled call.
                assert srec.all("subscribed") == [] and srec.all("error") == []
                gate.set()
                await srec.wait("subscribed", timeout=10)
        finally:
            gate.set()

    run(main())


def test_backend_down_connect_is_a_temporary_error(backend):
    """A connect proxy whose backend refuses connections: error 100 to the client (it retries)."""
    config = proxy_config(backend)
    config["client"]["proxy"]["connect"]["endpoint"] = "http://127.0.0.1:9/connect"
    b = Broker(config, name="proxy-down").start()
    try:

        async def main():
            async with raw_clients() as open_ws:
                ws = await open_ws(b.ws_url)
                await ws.send({"id": 1, "connect": {}})
                reply = await ws.reply(1)
                assert reply["error"] == {"code": 100, "message": "internal server error", "temporary": True}

        run(main())
        assert "proxy call failed" in b.log_text() and "proxy=default" in b.log_text().replace('"', "")
        metrics = http_session().get(f"{b.http_url}/metrics", timeout=5).text
        errors = [l for l in metrics.splitlines() if l.startswith("centrifugo_proxy_errors{") and 'type="connect"' in l]
        assert errors and errors[0].endswith(" 1"), errors
        assert any(
            l.startswith("centrifugo_proxy_duration_seconds_histogram_count{") and 'type="connect"' in l for l in metrics.splitlines()
        ), metrics[-3000:]
    finally:
        b.stop()


def test_refresh_proxy_renews_then_expires_server_side(pbroker, backend):
    async def main():
        user = "r-" + uid()
        backend.responses["connect"] = lambda body: {"result": {"user": user, "expire_at": int(time.time()) + 1, "meta": {"m": 1}}}
        # Set before connecting: the first refresh may come within the connect's own second.
        backend.responses["refresh"] = lambda body: {"result": {"expire_at": int(time.time()) + 1}}
        before = len(backend.calls("refresh"))
        async with raw_clients() as open_ws:
            ws = await open_ws(pbroker.ws_url)
            await ws.send({"id": 1, "connect": {}})
            reply = await ws.reply(1)
            # With a refresh proxy the client is not asked to refresh.
            assert "expires" not in reply["connect"], reply
            req = await backend.await_request("refresh", count=before + 1)
            assert req["user"] == user and req["meta"] == {"m": 1} and req["transport"] == "websocket"
            backend.responses["refresh"] = {"result": {"expired": True}}
            await backend.await_request("refresh", count=before + 2)
            code, _ = await ws.expect_close(timeout=10)
            assert code == 3005

    run(main())


def test_sub_refresh_proxy_unsubscribes_when_expired(pbroker, backend):
    async def main():
        ch = "srp:s-" + uid()
        async with raw_clients() as open_ws:
            backend.responses["connect"] = user_answer("sr-" + uid())
            ws = await open_ws(pbroker.ws_url)
            await ws.send({"id": 1, "connect": {}})
            await ws.reply(1)
            backend.responses["subscribe"] = lambda body: {"result": {"expire_at": int(time.time()) + 1}}
            backend.responses["sub_refresh"] = {"result": {"expired": True}}
            before = len(backend.calls("sub_refresh"))
            await ws.send({"id": 2, "subscribe": {"channel": ch}})
            reply = await ws.reply(2)
            assert "expires" not in reply["subscribe"], reply
            req = await backend.await_request("sub_refresh", count=before + 1)
            assert req["channel"] == ch
            push = await ws.push(lambda p: "unsubscribe" in p, timeout=10)
            assert push["channel"] == ch
            assert push["unsubscribe"]["code"] == 2501

    run(main())


def test_connect_proxy_on_a_unidirectional_transport(pbroker, backend):
    """uni_http_stream goes through the same rule path: the connect proxy names the user, its channels are the
    stream's subscriptions, and a disconnect from the proxy ends the stream with a disconnect push."""
    from test_uni_transports import http_stream

    feed = "feed:u-" + uid()
    user = "uni-" + uid()
    backend.responses["connect"] = {"result": {"user": user, "channels": [feed]}}
    before = len(backend.calls("connect"))
    s = http_stream(pbroker, {})
    try:
        connect = s.next_message()["connect"]
        assert feed in connect.get("subs", {}), connect
        req = backend.calls("connect")[before]
        assert req["transport"] == "uni_http_stream" and req["client"] == connect["client"], req
        pbroker.api("publish", {"channel": feed, "data": {"to": "uni"}})
        pub = s.message_where(lambda m: "pub" in m)
        assert pub["channel"] == feed and pub["pub"]["data"] == {"to": "uni"}
    finally:
        s.close()

    backend.responses["connect"] = {"disconnect": {"code": 4510, "reason": "not here"}}
    s = http_stream(pbroker, {})
    try:
        messages = s.expect_end()
        assert {"disconnect": {"code": 4510, "reason": "not here"}} in messages, messages
    finally:
        s.close()
