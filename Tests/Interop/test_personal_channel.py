"""The automatic personal channel and its single-connection mode, on one node and across two nodes."""
from __future__ import annotations

import copy

import pytest

from conftest import base_config, deep_merge, raw_clients, raw_connected, run, uid
from test_redis_nodes import redis_url  # noqa: F401  (module fixture: a redis-server for the 2-node case)


def personal_config(single: bool) -> dict:
    cfg = base_config()
    cfg["channel"]["namespaces"].append({"name": "personal", "presence": True, "history_size": 10, "history_ttl": "60s"})
    return deep_merge(cfg, {"client": {"subscribe_to_user_personal_channel": {
        "enabled": True, "personal_channel_namespace": "personal", "single_connection": single,
    }}})


def test_personal_channel_is_subscribed_at_connect(broker_factory):
    b = broker_factory(personal_config(single=False), name="personal")

    async def main():
        user = "p-" + uid()
        async with raw_clients() as open_ws:
            c, res = await raw_connected(open_ws, b, user)
            ch = f"personal:#{user}"
            assert ch in res.get("subs", {}), res
            await b.aapi("publish", {"channel": ch, "data": {"hello": user}})
            assert (await c.pubs(ch, 1))[0]["data"] == {"hello": user}
            # Without single-connection mode a second connection of the same user is fine.
            c2, _ = await raw_connected(open_ws, b, user)
            assert await c.is_open_after(0.3)

    run(main())


def test_single_connection_disconnects_the_older_connection(broker_factory):
    b = broker_factory(personal_config(single=True), name="single")

    async def main():
        user, other = "s-" + uid(), "o-" + uid()
        async with raw_clients() as open_ws:
            first, _ = await raw_connected(open_ws, b, user)
            bystander, _ = await raw_connected(open_ws, b, other)
            second, res = await raw_connected(open_ws, b, user)
            assert await first.expect_close() == (3504, "connection limit")
            assert await second.is_open_after(0.3)
            assert await bystander.is_open_after(0.1)
            stats = (await b.aapi("presence_stats", {"channel": f"personal:#{user}"}))["result"]
            assert stats == {"num_clients": 1, "num_users": 1}

    run(main())


def test_single_connection_across_nodes(broker_factory, redis_url):  # noqa: F811
    cfg = deep_merge(personal_config(single=True), {"engine": {"type": "redis", "redis": {"address": redis_url, "prefix": "single-" + uid()}}})
    a = broker_factory(copy.deepcopy(cfg), name="single-a")
    b = broker_factory(copy.deepcopy(cfg), name="single-b")

    async def main():
        user = "x-" + uid()
        async with raw_clients() as open_ws:
            on_a, _ = await raw_connected(open_ws, a, user)
            on_b, _ = await raw_connected(open_ws, b, user)
            assert await on_a.expect_close() == (3504, "connection limit")
            assert await on_b.is_open_after(0.3)

    run(main())
