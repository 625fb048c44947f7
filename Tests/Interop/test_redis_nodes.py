"""Several broker nodes on one Redis: publications, presence and recovery across nodes."""
import asyncio
import os
import shutil
import socket
import subprocess
import tempfile

import pytest

from conftest import base_config, deep_merge, http_session, make_token, raw_clients, raw_connected, run, uid
from redis_servers import redis_command, wait_until_answers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisProcess:
    """A redis-server on a free port in its own directory; can be stopped and started again on the same
    port and directory (with `persistent`, everything acknowledged survives the restart)."""

    def __init__(self, persistent: bool = False) -> None:
        self.server = shutil.which("redis-server")
        assert self.server, "redis-server is not on PATH: run scripts/install-system-deps.sh (apt-get install redis-server)"
        self.port = _free_port()
        self.dir = tempfile.mkdtemp(prefix="redis-nodes-")
        self.persistence = (
            ["--appendonly", "yes", "--appendfsync", "always", "--save", ""] if persistent
            else ["--save", "", "--appendonly", "no"]
        )
        self.proc = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> "RedisProcess":
        self.proc = subprocess.Popen(
            [self.server, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir, *self.persistence],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_until_answers(self.port, self.proc, lambda: "(its output is discarded)", "redis-server")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def redis_url():
    redis = RedisProcess().start()
    yield redis.url
    redis.remove()


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


def _reads_processed(port: int) -> int:
    """Redis's count of socket reads it has processed (INFO stats): a pipeline of many commands is a few reads."""
    for line in redis_command(port, "INFO", "stats").splitlines():
        if line.startswith("total_reads_processed:"):
            return int(line.split(":")[1])
    raise AssertionError("INFO stats has no total_reads_processed")


def test_broadcast_and_parallel_batch_reach_redis_as_pipelines(broker_factory, redis_url):
    """A broadcast (and a batch with `parallel`) publishes side by side, so its Redis commands share writes: far
    fewer reads on the server than channels. A sequential batch is one round trip per command, for contrast."""
    port = int(redis_url.rsplit(":", 1)[1])
    node = broker_factory(_redis_config(redis_url, "pipe-" + uid()), name="pipe")
    channels = [f"chat:bc-{uid()}-{i}" for i in range(2000)]

    before = _reads_processed(port)
    responses = node.api("broadcast", {"channels": channels + ["nosuchns:x"], "data": {"bc": 1}}, timeout=60)["result"]["responses"]
    broadcast_reads = _reads_processed(port) - before
    assert [r["result"]["offset"] for r in responses[:-1]] == [1] * len(channels)
    assert responses[-1] == {"error": {"code": 102, "message": "unknown channel"}}
    assert broadcast_reads < len(channels) // 4, f"{broadcast_reads} reads for {len(channels)} channels: not pipelined"

    ch = "chat:batch-" + uid()
    commands = [{"publish": {"channel": ch, "data": {"i": i}}} for i in range(1000)]
    before = _reads_processed(port)
    replies = node.api("batch", {"commands": commands, "parallel": True}, timeout=60)["replies"]
    parallel_reads = _reads_processed(port) - before
    assert sorted(r["publish"]["offset"] for r in replies) == list(range(1, 1001))
    # One at a time, a publish is a read for its script and one for the fan-out reader's next XREAD (about 2 per
    # command, checked below); side by side, far fewer (0.27 per command under the full suite's load).
    assert parallel_reads < len(commands) // 2, f"{parallel_reads} reads for {len(commands)} publishes: not pipelined"

    before = _reads_processed(port)
    replies = node.api("batch", {"commands": commands[:200], "parallel": False}, timeout=60)["replies"]
    sequential_reads = _reads_processed(port) - before
    assert [r["publish"]["offset"] for r in replies] == list(range(1001, 1201)), "a sequential batch keeps its order"
    assert sequential_reads >= 200, f"{sequential_reads} reads for 200 publishes one at a time"
    history = node.api("history", {"channel": ch, "limit": -1})["result"]["publications"]
    assert [p["data"]["i"] for p in history] == list(range(100, 200)), "history_size 100: the sequential batch's last 100"


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


async def _wait_for(predicate, timeout: float = 10.0, what: str = "condition"):
    """Re-checks an observable condition of another process (e.g. a node list) until it holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        assert asyncio.get_running_loop().time() < deadline, f"{what} not reached within {timeout}s"
        await asyncio.sleep(0.1)


def test_three_nodes_share_info_channels_and_connection_actions(broker_factory, redis_url):
    cfg = _redis_config(redis_url, "three-" + uid())
    a = broker_factory(cfg, name="three-a")
    b = broker_factory(cfg, name="three-b")
    c = broker_factory(cfg, name="three-c")

    async def main():
        ch1, ch2, ch3 = ("chat:three-" + uid() for _ in range(3))
        user = "alice-" + uid()
        async with raw_clients() as open_ws:
            on_a, conn_a = await raw_connected(open_ws, a, user)
            on_b, _ = await raw_connected(open_ws, b, "bob-" + uid())
            assert "subscribe" in await on_a.call("subscribe", {"channel": ch1})
            assert "subscribe" in await on_b.call("subscribe", {"channel": ch2})

            # Every node lists all three with their counters (heartbeats over Redis, every 3 s).
            async def three_nodes():
                nodes = (await c.aapi("info", {}))["result"]["nodes"]
                return nodes if len(nodes) == 3 and sum(n["num_clients"] for n in nodes) == 2 else None

            nodes = await _wait_for(three_nodes, what="3 nodes with 2 clients in info")
            assert len({n["uid"] for n in nodes}) == 3
            assert sorted(n["num_subs"] for n in nodes) == [0, 1, 1]

            # `channels` asked on C counts the subscribers held by A and B.
            chans = (await c.aapi("channels", {"pattern": "chat:three-*"}))["result"]["channels"]
            assert chans == {ch1: {"num_clients": 1}, ch2: {"num_clients": 1}}, chans

            # A publication through C reaches the clients on A and B.
            await c.aapi("publish", {"channel": ch1, "data": {"via": "c"}})
            assert (await on_a.pubs(ch1, 1))[0]["data"] == {"via": "c"}

            # Server-side subscribe through B reaches alice's connection on A.
            assert await b.aapi("subscribe", {"user": user, "channel": ch3}) == {"result": {}}
            push = await on_a.push(lambda p: p.get("channel") == ch3 and "subscribe" in p)
            assert push["channel"] == ch3

            # Unsubscribe through C.
            assert await c.aapi("unsubscribe", {"user": user, "channel": ch1}) == {"result": {}}
            push = await on_a.push(lambda p: p.get("channel") == ch1 and "unsubscribe" in p)
            assert push["unsubscribe"]["code"] == 2000

            # Disconnect through B, sparing nobody but the listed client.
            assert await b.aapi("disconnect", {"user": user, "disconnect": {"code": 4321, "reason": "moved"}}) == {"result": {}}
            assert await on_a.expect_close() == (4321, "moved")
            assert await on_b.is_open_after(0.3)

            # A node that stops says so: the others drop it from `info` without waiting for heartbeats.
            c.stop()

            async def two_nodes():
                return len((await a.aapi("info", {}))["result"]["nodes"]) == 2

            await _wait_for(two_nodes, timeout=3, what="stopped node gone from info")

    run(main())


def test_client_recovers_on_another_node_after_its_node_is_killed(broker_factory, redis_url):
    cfg = _redis_config(redis_url, "kill-" + uid())
    a = broker_factory(cfg, name="kill-a")
    b = broker_factory(cfg, name="kill-b")

    async def main():
        ch = "chat:kill-" + uid()
        async with raw_clients() as open_ws:
            client, _ = await raw_connected(open_ws, a)
            res = (await client.call("subscribe", {"channel": ch}))["subscribe"]
            await b.aapi("publish", {"channel": ch, "data": {"n": 1}})
            first = await client.pubs(ch, 1)
            a.proc.kill()  # SIGKILL: no goodbye, no flush
            assert await client.expect_close() == (1006, "")
            for n in range(2, 12):
                await b.aapi("publish", {"channel": ch, "data": {"n": n}})
            again, _ = await raw_connected(open_ws, b)
            rep = (await again.call(
                "subscribe", {"channel": ch, "recover": True, "epoch": res["epoch"], "offset": first[0]["offset"]}))["subscribe"]
            assert rep.get("recovered") is True, rep
            assert [p["data"]["n"] for p in rep["publications"]] == list(range(2, 12))
            await b.aapi("publish", {"channel": ch, "data": {"n": 12}})
            assert (await again.pubs(ch, 1))[0]["data"] == {"n": 12}

    run(main())


def test_redis_restart_with_persistence_loses_no_acknowledged_publication(broker_factory):
    redis = RedisProcess(persistent=True).start()
    try:
        cfg = _redis_config(redis.url, "restart-" + uid())
        a = broker_factory(cfg, name="restart-a")
        b = broker_factory(cfg, name="restart-b")

        async def health(node) -> int:
            def get():
                try:
                    return http_session().get(f"{node.http_url}/health", timeout=2).status_code
                except Exception:
                    return 0

            return await asyncio.to_thread(get)

        async def main():
            ch = "chat:restart-" + uid()
            total, restart_after = 120, 40
            async with raw_clients() as open_ws:
                client, _ = await raw_connected(open_ws, a)
                assert "subscribe" in await client.call("subscribe", {"channel": ch})
                acked = []
                for n in range(1, total + 1):
                    if n == restart_after + 1:
                        redis.stop()
                        await _wait_for(lambda: _is(health(a), 503), what="/health 503 while Redis is down")
                        body = http_session().get(f"{a.http_url}/health", timeout=2).json()
                        shard = body["engine"]["shards"][0]
                        assert shard["up"] is False and shard["error"] and shard["address"].endswith(f":{redis.port}"), body
                        redis.start()
                    # A publish that fails (Redis down) is retried with the same idempotency key, so a
                    # retry after an unknown outcome cannot publish twice.
                    while True:
                        rep = await b.aapi("publish", {"channel": ch, "data": {"n": n}, "idempotency_key": f"k{n}"})
                        if "result" in rep:
                            break
                        await asyncio.sleep(0.05)  # retry pacing while Redis restarts
                    acked.append(rep["result"]["offset"])
                assert acked == list(range(1, total + 1))
                got = await client.pubs(ch, total, timeout=15)
                assert [p["data"]["n"] for p in got] == list(range(1, total + 1))
                assert [p["offset"] for p in got] == list(range(1, total + 1))
                assert await client.is_open_after(0.3)
                assert not [m for m in client.buffer if "push" in m and "pub" in m["push"]], "duplicates delivered"
                await _wait_for(lambda: _is(health(a), 200), what="/health 200 after Redis is back")
                metrics = http_session().get(f"{a.http_url}/metrics", timeout=2).text
                up = [l for l in metrics.splitlines() if l.startswith("broker_engine_shard_up{")]
                assert len(up) == 1 and float(up[0].rsplit(" ", 1)[1]) == 1 and f':{redis.port}"' in up[0], up

        run(main(), timeout=90)
    finally:
        redis.remove()


async def _is(awaitable, expected) -> bool:
    return (await awaitable) == expected


def test_redis_flush_makes_subscribers_recover_and_says_what_was_lost(broker_factory):
    redis = RedisProcess().start()
    try:
        cfg = _redis_config(redis.url, "flush-" + uid())
        a = broker_factory(cfg, name="flush-a")
        b = broker_factory(cfg, name="flush-b")

        async def main():
            ch = "chat:flush-" + uid()
            async with raw_clients() as open_ws:
                client, _ = await raw_connected(open_ws, a)
                res = (await client.call("subscribe", {"channel": ch}))["subscribe"]
                for n in range(1, 6):
                    await b.aapi("publish", {"channel": ch, "data": {"n": n}})
                got = await client.pubs(ch, 5)
                assert [p["offset"] for p in got] == [1, 2, 3, 4, 5]
                # Redis loses everything: history, stream meta and the fan-out streams.
                with socket.create_connection(("127.0.0.1", redis.port), timeout=2) as s:
                    s.sendall(b"FLUSHALL\r\n")
                    assert s.recv(16).startswith(b"+OK")
                lost = [{"after": k} for k in range(3)]
                for d in lost:
                    await b.aapi("publish", {"channel": ch, "data": d})
                # The subscriber is told its position is gone (insufficient state) instead of a silent gap...
                push = await client.push(lambda p: p.get("channel") == ch and "unsubscribe" in p, timeout=10)
                assert push["unsubscribe"]["code"] == 2500, push
                # ...and recovering says exactly what it cannot get: the stream restarted under a new epoch, and
                # its top offset counts the publications made since.
                rep = (await client.call(
                    "subscribe", {"channel": ch, "recover": True, "epoch": res["epoch"], "offset": 5}))["subscribe"]
                assert rep.get("was_recovering") is True and rep.get("recovered") is not True, rep
                assert rep["epoch"] != res["epoch"] and rep["offset"] == len(lost), rep
                h = (await a.aapi("history", {"channel": ch, "limit": -1}))["result"]
                assert [p["data"] for p in h["publications"]] == lost

        run(main())
    finally:
        redis.remove()
