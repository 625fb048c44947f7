"""Proxies over gRPC (`grpc://` endpoints): Centrifugo's proxy service, served by a real grpcio backend whose stubs
are generated at test time from Sources/ProxyGRPC/Proto/proxy.proto.

Bytes fields travel as protobuf bytes, so the recorded requests (json_format.MessageToDict) carry them base64.
"""

from __future__ import annotations

import asyncio
import base64
import json

import pytest
from centrifuge import ReplyError

from conftest import NAMESPACES, Broker, base_config, deep_merge, new_sub, raw_clients, run, sdk_clients, uid
from proxy_grpc_backend import GRPCProxyBackend
from test_proxies import watcher


def b64json(value) -> str:
    """A JSON value as a protobuf bytes field in json_format's dict form."""
    return base64.b64encode(json.dumps(value, separators=(",", ":")).encode()).decode()


def unjson(b64: str):
    return json.loads(base64.b64decode(b64))


@pytest.fixture(scope="module")
def gbackend():
    b = GRPCProxyBackend().start()
    yield b
    b.stop()


@pytest.fixture(scope="module")
def gbroker(gbackend):
    endpoint = gbackend.endpoint
    config = deep_merge(
        base_config(),
        {
            "client": {
                "proxy": {
                    "connect": {
                        "enabled": True,
                        "endpoint": endpoint,
                        "timeout": "5s",
                        "http_headers": ["Authorization"],
                        "grpc": {"static_metadata": {"x-static": "s1"}, "credentials_key": "x-api-token", "credentials_value": "secret-1"},
                    },
                    "refresh": {"enabled": True, "endpoint": endpoint, "timeout": "5s"},
                }
            },
            "channel": {
                "proxy": {
                    "subscribe": {"endpoint": endpoint, "include_connection_meta": True, "timeout": "2s"},
                    "publish": {"endpoint": endpoint, "timeout": "5s"},
                    "subscribe_stream": {"endpoint": endpoint, "timeout": "5s"},
                },
                "namespaces": NAMESPACES
                + [
                    {"name": "gsp", "subscribe_proxy_enabled": True, "presence": True},
                    {"name": "gpp", "publish_proxy_enabled": True, "allow_subscribe_for_client": True},
                    {"name": "gdown", "subscribe_proxy_enabled": True, "subscribe_proxy_name": "gone"},
                    {"name": "gss", "subscribe_stream_proxy_enabled": True},
                    {"name": "gsb", "subscribe_stream_proxy_enabled": True, "subscribe_stream_proxy_bidirectional": True},
                ],
            },
            "rpc": {
                "proxy": {"endpoint": endpoint, "timeout": "5s", "grpc": {"compression": True}},
                "without_namespace": {"proxy_enabled": True},
            },
            # Nothing listens on port 9: the backend is down.
            "proxies": [{"name": "gone", "endpoint": "grpc://127.0.0.1:9", "timeout": "500ms"}],
        },
    )
    b = Broker(config, name="grpc-proxies").start()
    yield b
    b.stop()


def test_grpc_connect_fields_metadata_and_result(gbroker, gbackend):
    async def main():
        feed = "chat:g-" + uid()
        user = "g-" + uid()
        gbackend.responses["Connect"] = {
            "result": {"user": user, "channels": [feed], "data": b64json({"welcome": 1}), "meta": b64json({"tenant": "t9"})}
        }
        async with raw_clients() as open_ws:
            ws = await open_ws(gbroker.ws_url, additional_headers={"Authorization": "Bearer g"})
            before = len(gbackend.calls("Connect"))
            await ws.send({"id": 1, "connect": {"data": {"hi": True}, "name": "raw", "version": "9"}})
            reply = await ws.reply(1)
            assert reply["connect"]["data"] == {"welcome": 1}
            assert [s for s in reply["connect"].get("subs", {})] == [feed]
            req = gbackend.wait_for("Connect", before + 1)[-1]
            metadata = req.pop("_metadata")
            assert req == {
                "client": reply["connect"]["client"],
                "transport": "websocket",
                "protocol": "json",
                "encoding": "json",
                "data": b64json({"hi": True}),
                "name": "raw",
                "version": "9",
            }
            assert metadata["authorization"] == "Bearer g"
            assert metadata["x-static"] == "s1" and metadata["x-api-token"] == "secret-1"

            # The connection's meta goes to the subscribe proxy (include_connection_meta).
            gbackend.responses["Subscribe"] = {"result": {"info": b64json({"role": "mod"})}}
            ch = "gsp:r-" + uid()
            await ws.send({"id": 2, "subscribe": {"channel": ch}})
            assert "subscribe" in await ws.reply(2)
            sreq = gbackend.calls("Subscribe")[-1]
            assert sreq["user"] == user and sreq["channel"] == ch and unjson(sreq["meta"]) == {"tenant": "t9"}
            presence = await asyncio.to_thread(gbroker.api, "presence", {"channel": ch})
            infos = list(presence["result"]["presence"].values())
            assert [i.get("chan_info") for i in infos] == [{"role": "mod"}]

    run(main())


def test_grpc_rpc_publish_error_and_disconnect(gbroker, gbackend):
    async def main():
        gbackend.responses["Connect"] = {"result": {"user": "g-" + uid()}}
        async with sdk_clients() as make:
            client, rec = make(gbroker.ws_url)
            await client.connect()
            await rec.wait("connected")

            gbackend.responses["RPC"] = lambda req: {"result": {"data": b64json({"got": unjson(req["data"]), "m": req["method"]})}}
            result = await client.rpc("calc", {"x": 2})
            assert result.data == {"got": {"x": 2}, "m": "calc"}

            ch = "gpp:w-" + uid()
            sub, srec = new_sub(client, ch)
            await sub.subscribe()
            await srec.wait("subscribed")
            gbackend.responses["Publish"] = {"result": {"data": b64json({"text": "rewritten"}), "skip_history": True}}
            await sub.publish({"text": "original"})
            pub = await srec.wait("publication")
            assert pub.pub.data == {"text": "rewritten"}

            gbackend.responses["RPC"] = {"error": {"code": 1010, "message": "denied by backend"}}
            with pytest.raises(ReplyError) as e:
                await client.rpc("calc", {})
            assert (e.value.code, e.value.message) == (1010, "denied by backend")

            gbackend.responses["RPC"] = {"disconnect": {"code": 4601, "reason": "grpc says bye"}}
            with pytest.raises(Exception):
                await client.rpc("calc", {})
            d = await rec.wait("disconnected")
            assert d.code == 4601

    run(main())


@pytest.mark.parametrize("failure", ["down", "status", "timeout"])
def test_grpc_failures_give_that_client_error_100(gbroker, gbackend, failure):
    async def main():
        gbackend.responses["Connect"] = {"result": {"user": "g-" + uid()}}
        watch = "chat:gw-" + uid()
        async with sdk_clients() as make:
            osrec = await watcher(make, gbroker, watch)

            client, rec = make(gbroker.ws_url)
            await client.connect()
            await rec.wait("connected")
            if failure == "status":
                gbackend.responses["Subscribe"] = ("status", "INTERNAL", "backend bug")
            elif failure == "timeout":
                gbackend.responses["Subscribe"] = ("sleep", 4.0, {"result": {}})
            channel = ("gdown:" if failure == "down" else "gsp:") + "f-" + uid()
            sub, srec = new_sub(client, channel)
            await sub.subscribe()
            err = await srec.wait("error", timeout=10)
            assert err.error.code == 100 and err.error.temporary
            await asyncio.to_thread(gbroker.api, "publish", {"channel": watch, "data": {"ok": True}})
            await osrec.wait("publication", lambda c: c.pub.data == {"ok": True})
        gbackend.responses.pop("Subscribe", None)

    run(main())


def test_subscribe_stream_unidirectional(gbroker, gbackend):
    """The backend's stream feeds this one subscriber; unsubscribing cancels it; the backend closing it unsubscribes
    the client with 2000."""

    async def main():
        user = "gs-" + uid()
        gbackend.responses["Connect"] = {"result": {"user": user}}
        gbackend.responses["SubscribeUnidirectional"] = {"result": {"data": b64json({"hello": "stream"})}}
        ch = "gss:s-" + uid()
        async with raw_clients() as open_ws:
            ws = await open_ws(gbroker.ws_url)
            await ws.send({"id": 1, "connect": {}})
            await ws.reply(1)
            opened = len(gbackend.streams)
            await ws.send({"id": 2, "subscribe": {"channel": ch, "data": {"want": 1}}})
            reply = await ws.reply(2)
            assert reply["subscribe"].get("data") == {"hello": "stream"}, reply
            assert "recoverable" not in reply["subscribe"] and "positioned" not in reply["subscribe"]
            stream = await asyncio.to_thread(gbackend.wait_stream, opened + 1)
            req = {k: v for k, v in stream.request.items() if k != "_metadata"}
            assert req == {
                "client": req["client"], "transport": "websocket", "protocol": "json", "encoding": "json",
                "user": user, "channel": ch, "data": b64json({"want": 1}),
            }
            stream.publish({"n": 1}, {"kind": "tick"})
            stream.publish({"n": 2})
            first = await ws.push(lambda p: "pub" in p)
            second = await ws.push(lambda p: "pub" in p)
            assert (first["channel"], first["pub"]["data"], first["pub"].get("tags")) == (ch, {"n": 1}, {"kind": "tick"})
            assert second["pub"]["data"] == {"n": 2}

            # The client leaves: the broker cancels the stream.
            await ws.send({"id": 3, "unsubscribe": {"channel": ch}})
            await ws.reply(3)
            assert await asyncio.to_thread(stream.cancelled.wait, 5)

            # The backend ends another subscription's stream: the client is unsubscribed with 2000.
            ch2 = "gss:t-" + uid()
            await ws.send({"id": 4, "subscribe": {"channel": ch2}})
            await ws.reply(4)
            stream2 = await asyncio.to_thread(gbackend.wait_stream, opened + 2)
            stream2.close()
            push = await ws.push(lambda p: "unsubscribe" in p)
            assert (push["channel"], push["unsubscribe"]["code"]) == (ch2, 2000)

    run(main())


def test_subscribe_stream_bidirectional_and_refusal(gbroker, gbackend):
    async def main():
        gbackend.responses["Connect"] = {"result": {"user": "gb-" + uid()}}
        gbackend.responses["SubscribeBidirectional"] = {"result": {}}
        ch = "gsb:b-" + uid()
        async with sdk_clients() as make:
            client, rec = make(gbroker.ws_url)
            await client.connect()
            await rec.wait("connected")
            opened = len(gbackend.streams)
            sub, srec = new_sub(client, ch)
            await sub.subscribe()
            await srec.wait("subscribed")
            stream = await asyncio.to_thread(gbackend.wait_stream, opened + 1)
            await sub.publish({"from": "client"})
            assert await asyncio.to_thread(stream.wait_received, 1) == [{"from": "client"}]
            stream.publish({"from": "backend"})
            pub = await srec.wait("publication")
            assert pub.pub.data == {"from": "backend"}

            # A unidirectional stream takes no publications: 108.
            gbackend.responses["SubscribeUnidirectional"] = {"result": {}}
            usub, urec = new_sub(client, "gss:u-" + uid())
            await usub.subscribe()
            await urec.wait("subscribed")
            with pytest.raises(ReplyError) as e:
                await usub.publish({"x": 1})
            assert e.value.code == 108

            # The backend refuses in its first message: the client gets that error.
            gbackend.responses["SubscribeUnidirectional"] = {"error": {"code": 1020, "message": "no stream for you"}}
            rsub, rrec = new_sub(client, "gss:r-" + uid())
            await rsub.subscribe()
            u = await rrec.wait("unsubscribed")
            assert (u.code, u.reason) == (1020, "no stream for you")

    run(main())
