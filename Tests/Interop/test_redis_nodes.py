"""Several broker nodes on one Redis: publications, presence and recovery across nodes."""
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import base_config, deep_merge, make_token, raw_clients, raw_connected, run, uid


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url():
    server = shutil.which("redis-server")
    assert server, "redis-server is not on PATH: run scripts/install-system-deps.sh (apt-get install redis-server)"
    port = _free_port()
    workdir = tempfile.mkdtemp(prefix="redis-nodes-")
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", workdir],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            pass
        assert time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)
    shutil.rmtree(workdir, ignore_errors=True)


def _redis_config(url: str, prefix: str):
    return deep_merge(base_config(), {"engine": {"type": "redis", "redis": {"address": url, "prefix": prefix}}})


def test_publication_through_node_b_reaches_client_on_node_a(broker_factory, redis_url):
    cfg = _redis_config(redis_url, "nodes-" + uid())
    a = broker_factory(cfg, name="node-a")
    b = broker_factory(cfg, name="node-b")

    async def main():
        ch = "chat:nodes-" + uid()
        async with raw_clients() as open_ws:
            c, _ = await raw_connected(open_ws, a)
            sub = await c.call("subscribe", {"channel": ch})
            assert "subscribe" in sub, sub
            r1 = await b.aapi("publish", {"channel": ch, "data": {"n": 1}})
            r2 = await b.aapi("publish", {"channel": ch, "data": {"n": 2}})
            assert r1["result"]["offset"] == 1 and r2["result"]["offset"] == 2
            got = await c.pubs(ch, 2)
            assert [p["data"] for p in got] == [{"n": 1}, {"n": 2}]
            assert [p["offset"] for p in got] == [1, 2]
            # History is shared: node A answers what node B stored.
            h = await a.aapi("history", {"channel": ch, "limit": -1})
            assert [p["data"]["n"] for p in h["result"]["publications"]] == [1, 2]

    run(main())


def test_presence_is_the_same_from_every_node(broker_factory, redis_url):
    cfg = _redis_config(redis_url, "presence-" + uid())
    a = broker_factory(cfg, name="pres-a")
    b = broker_factory(cfg, name="pres-b")

    async def main():
        ch = "chat:pres-" + uid()
        async with raw_clients() as open_ws:
            c1, _ = await raw_connected(open_ws, a, "alice")
            c2, _ = await raw_connected(open_ws, b, "bob")
            assert "subscribe" in await c1.call("subscribe", {"channel": ch})
            assert "subscribe" in await c2.call("subscribe", {"channel": ch})
            for node in (a, b):
                stats = (await node.aapi("presence_stats", {"channel": ch}))["result"]
                assert stats == {"num_clients": 2, "num_users": 2}, (node, stats)
                users = sorted(i["user"] for i in (await node.aapi("presence", {"channel": ch}))["result"]["presence"].values())
                assert users == ["alice", "bob"]

    run(main())


def test_recovery_after_reconnecting_to_another_node(broker_factory, redis_url):
    cfg = _redis_config(redis_url, "recover-" + uid())
    a = broker_factory(cfg, name="rec-a")
    b = broker_factory(cfg, name="rec-b")

    async def main():
        ch = "chat:rec-" + uid()
        async with raw_clients() as open_ws:
            c, _ = await raw_connected(open_ws, a)
            res = (await c.call("subscribe", {"channel": ch}))["subscribe"]
            epoch = res["epoch"]
            await a.aapi("publish", {"channel": ch, "data": {"n": 1}})
            first = await c.pubs(ch, 1)
            # The client goes away; publications continue through node A.
            await c.ws.close()
            for n in (2, 3, 4):
                await a.aapi("publish", {"channel": ch, "data": {"n": n}})
            # It comes back on node B and recovers from the shared history.
            c2, _ = await raw_connected(open_ws, b)
            rep = (await c2.call("subscribe", {"channel": ch, "recover": True, "epoch": epoch, "offset": first[0]["offset"]}))["subscribe"]
            assert rep.get("recovered") is True and rep.get("was_recovering") is True, rep
            assert [p["data"]["n"] for p in rep["publications"]] == [2, 3, 4]

    run(main())
