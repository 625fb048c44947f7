"""Fossil delta compression with the official SDK (JSON and Protobuf) and at the frame level."""
from __future__ import annotations

import asyncio
import copy
import json

import pytest
from centrifuge import Client, DeltaType
from centrifuge.fossil import apply_delta

from conftest import (
    base_config, client_events, deep_merge, make_token, new_sub, raw_clients, raw_connected, run, uid, Recorder,
)

DELTA_NAMESPACE = {
    "name": "delta",
    "history_size": 100,
    "history_ttl": "300s",
    "force_recovery": True,
    "allowed_delta_types": ["fossil"],
    "delta_publish": True,
    "allow_subscribe_for_client": True,
}


@pytest.fixture(scope="module")
def delta_broker():
    from conftest import start_broker

    cfg = base_config()
    cfg["channel"]["namespaces"].append(copy.deepcopy(DELTA_NAMESPACE))
    b = start_broker(cfg, name="delta")
    yield b
    b.stop()


def documents(n: int, text: str = "status"):
    """A sizeable document that changes a little each time (what delta compression is for)."""
    base = {"items": [{"id": i, "title": f"{text} item {i}", "done": False} for i in range(30)], "version": 0}
    out = []
    for v in range(n):
        d = copy.deepcopy(base)
        d["version"] = v
        d["items"][v % 30]["done"] = True
        out.append(d)
    return out


def decoded(data):
    """Over Protobuf the SDK hands out the data's bytes; over JSON the parsed value."""
    return json.loads(data) if isinstance(data, (bytes, bytearray)) else data


async def sdk_client(broker, use_protobuf: bool, **kw):
    rec = Recorder()
    c = Client(broker.ws_url, events=client_events(rec), token=make_token("u-" + uid(), secret=broker.secret),
               use_protobuf=use_protobuf, proxy=None, timeout=5.0, **kw)
    await c.connect()
    await rec.wait("connected")
    return c, rec


@pytest.mark.parametrize("proto", ["json", "protobuf"])
def test_sdk_receives_every_publication_through_deltas(delta_broker, proto):
    async def main():
        ch = "delta:docs-" + uid()
        client, _ = await sdk_client(delta_broker, proto == "protobuf")
        try:
            sub, srec = new_sub(client, ch, delta=DeltaType.FOSSIL)
            await sub.subscribe()
            await srec.wait("subscribed")
            assert sub._delta_negotiated is True
            docs = documents(8, "ünïcødé ✓")
            for d in docs:
                await delta_broker.aapi("publish", {"channel": ch, "data": d})
            got = await srec.wait("publication", count=len(docs))
            assert [decoded(c.pub.data) for c in got] == docs
            assert [c.pub.offset for c in got] == list(range(1, len(docs) + 1))
        finally:
            await client.disconnect()

    run(main())


@pytest.mark.parametrize("proto", ["json", "protobuf"])
def test_sdk_recovers_through_deltas_after_reconnect(delta_broker, proto):
    async def main():
        ch = "delta:rec-" + uid()
        client, rec = await sdk_client(delta_broker, proto == "protobuf", min_reconnect_delay=0.05, max_reconnect_delay=0.5)
        try:
            sub, srec = new_sub(client, ch, delta=DeltaType.FOSSIL)
            await sub.subscribe()
            await srec.wait("subscribed")
            docs = documents(12)
            for d in docs[:3]:
                await delta_broker.aapi("publish", {"channel": ch, "data": d})
            await srec.wait("publication", count=3)
            published = asyncio.Event()

            async def on_connecting(ctx):
                rec.add("connecting", ctx)
                if ctx.code != 0 and not published.is_set():
                    for d in docs[3:9]:
                        await delta_broker.aapi("publish", {"channel": ch, "data": d})
                    published.set()

            client.events.on_connecting = on_connecting
            client._conn.transport.abort()
            await asyncio.wait_for(published.wait(), 10)
            s2 = (await srec.wait("subscribed", count=2, timeout=10))[1]
            assert s2.was_recovering is True and s2.recovered is True
            for d in docs[9:]:
                await delta_broker.aapi("publish", {"channel": ch, "data": d})
            got = await srec.wait("publication", count=len(docs), timeout=10)
            assert [decoded(c.pub.data) for c in got] == docs
        finally:
            await client.disconnect()

    run(main())


def test_frames_first_full_then_patches_as_json_strings(delta_broker):
    async def main():
        ch = "delta:raw-" + uid()
        docs = documents(4)
        async with raw_clients() as open_ws:
            c, _ = await raw_connected(open_ws, delta_broker)
            res = (await c.call("subscribe", {"channel": ch, "delta": "fossil"}))["subscribe"]
            assert res.get("delta") is True
            for d in docs:
                await delta_broker.aapi("publish", {"channel": ch, "data": d})
            pubs = await c.pubs(ch, len(docs))
            assert isinstance(pubs[0]["data"], str) and "delta" not in pubs[0]
            assert json.loads(pubs[0]["data"]) == docs[0]
            base = pubs[0]["data"].encode()
            for p, d in zip(pubs[1:], docs[1:]):
                assert p.get("delta") is True, p
                assert len(p["data"]) < len(json.dumps(d)) / 4, "a patch should be much smaller than the document"
                base = apply_delta(base, p["data"].encode())
                assert json.loads(base) == d

            # A second subscriber that arrives later starts with the full document, not a patch.
            c2, _ = await raw_connected(open_ws, delta_broker)
            assert (await c2.call("subscribe", {"channel": ch, "delta": "fossil"}))["subscribe"]["delta"] is True
            # A subscriber without delta on the same channel gets plain JSON objects.
            c3, _ = await raw_connected(open_ws, delta_broker)
            assert "delta" not in (await c3.call("subscribe", {"channel": ch}))["subscribe"]
            more = documents(6)[4:]
            for d in more:
                await delta_broker.aapi("publish", {"channel": ch, "data": d})
            first, second = await c2.pubs(ch, 2)
            assert "delta" not in first and json.loads(first["data"]) == more[0]
            assert second["delta"] is True
            assert json.loads(apply_delta(first["data"].encode(), second["data"].encode())) == more[1]
            assert [p["data"] for p in await c3.pubs(ch, 2)] == more
            assert [json.loads(apply_delta(base, p["data"].encode())) for p in await c.pubs(ch, 1)] == [more[0]]

    run(main())


def test_delta_not_negotiated_where_the_namespace_does_not_allow_it(delta_broker):
    async def main():
        ch = "chat:nodelta-" + uid()
        async with raw_clients() as open_ws:
            c, _ = await raw_connected(open_ws, delta_broker)
            res = (await c.call("subscribe", {"channel": ch, "delta": "fossil"}))["subscribe"]
            assert "delta" not in res
            await delta_broker.aapi("publish", {"channel": ch, "data": {"a": 1}})
            assert (await c.pubs(ch, 1))[0]["data"] == {"a": 1}
            # An unknown delta type is a protocol violation.
            bad, _ = await raw_connected(open_ws, delta_broker)
            await bad.send({"id": 9, "subscribe": {"channel": ch, "delta": "xdelta"}})
            assert (await bad.expect_close())[0] == 3501

    run(main())
