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

from conftest import NAMESPACES, Broker, base_config, deep_merge, make_token, new_sub, raw_clients, run, sdk_clients, uid
from proxy_grpc_backend import GRPCProxyBackend


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
                        "http_headers": ["Authorization"],
                        "grpc": {"static_metadata": {"x-static": "s1"}, "credentials_key": "x-api-token", "credentials_value": "secret-1"},
                    },
                    "refresh": {"enabled": True, "endpoint": endpoint},
                }
            },
            "channel": {
                "proxy": {"subscribe": {"endpoint": endpoint, "include_connection_meta": True}, "publish": {"endpoint": endpoint}},
                "namespaces": NAMESPACES
                + [
                    {"name": "gsp", "subscribe_proxy_enabled": True, "presence": True},
                    {"name": "gpp", "publish_proxy_enabled": True, "allow_subscribe_for_client": True},
                    {"name": "gdown", "subscribe_proxy_enabled": True, "subscribe_proxy_name": "gone"},
                ],
            },
            "rpc": {"proxy": {"endpoint": endpoint, "grpc": {"compression": True}}, "without_namespace": {"proxy_enabled": True}},
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
            other, orec = make(gbroker.ws_url, token=make_token("o-" + uid(), secret=gbroker.secret))
            await other.connect()
            await orec.wait("connected")
            osub, osrec = new_sub(other, watch)
            await osub.subscribe()
            await osrec.wait("subscribed")

            client, rec = make(gbroker.ws_url)
            await client.connect()
            await rec.wait("connected")
            if failure == "status":
                gbackend.responses["Subscribe"] = ("status", "INTERNAL", "backend bug")
            elif failure == "timeout":
                gbackend.responses["Subscribe"] = ("sleep", 3.0, {"result": {}})
            channel = ("gdown:" if failure == "down" else "gsp:") + "f-" + uid()
            sub, srec = new_sub(client, channel)
            await sub.subscribe()
            err = await srec.wait("error", timeout=10)
            assert err.error.code == 100 and err.error.temporary
            await asyncio.to_thread(gbroker.api, "publish", {"channel": watch, "data": {"ok": True}})
            await osrec.wait("publication", lambda c: c.pub.data == {"ok": True})
        gbackend.responses.pop("Subscribe", None)

    run(main())
