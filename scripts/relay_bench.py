#!/usr/bin/env python3
"""Benchmark of the facade's outbox relay against a real broker, with one and with two facade processes.

  scripts/relay_bench.py [--bin-dir DIR] [--rows 50000] [--rate 500] [--duration 20] [--workspaces 8]

Starts a throwaway PostgreSQL cluster (scripts/pg-start.sh), the broker (broker.json) and N facade processes on
one database (every one runs the relay; they split the outbox partitions), then for N = 1 and N = 2:

  throughput  --rows outbox rows on 1,000 channels committed in one statement; the time from that commit until
              the relays have published them all (one /api/batch per batch) -> rows/s sustained
  latency     comments through the API at a fixed --rate (open loop, spread over --workspaces workspaces and
              over the facade processes) while a centrifuge-python client is subscribed to every workspace
              channel: request sent -> comment.created received (an upper bound of commit -> receipt, since the
              commit happens before the 201) and 201 received -> comment.created received (a lower bound), as
              p50/p99/max, plus the outbox backlog sampled every second (no growth = the relay keeps up)

Every comment writes 2 outbox rows (comment.created on the workspace channel, notification.created on the post
author's personal channel), so --rate 500 is 1,000 rows/s. Server processes run on SERVER_CPUS (default 0), this
script on LOADGEN_CPUS (default 1). Binaries: --bin-dir (default .build-bench/release if built, else .build/debug).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from facade_bench import API, log, percentile, psql  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_http(url: str, proc: subprocess.Popen, name: str) -> None:
    import requests
    for _ in range(600):
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.RequestException:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}")
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not become healthy")


class Stack:
    """PostgreSQL + broker + facades, stopped on exit."""

    def __init__(self, args) -> None:
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="relay-bench-"))
        os.chmod(self.work, 0o755)
        self.procs: list[subprocess.Popen] = []
        self.facades: list[tuple[subprocess.Popen, str]] = []
        cpus = os.environ.get("SERVER_CPUS", "0")
        self.pin = ["taskset", "-c", cpus]
        env_out = subprocess.run([*self.pin, str(ROOT / "scripts/pg-start.sh"), str(self.work / "pg")],
                                 check=True, capture_output=True, text=True).stdout
        admin = env_out.strip().split("DATABASE_URL=", 1)[1].strip().strip("'\"")
        psql(admin, "CREATE DATABASE relay_bench")
        self.db = admin.rsplit("/", 1)[0] + "/relay_bench"
        self.api_key = secrets.token_urlsafe(32)
        self.token_secret = secrets.token_urlsafe(48)
        self.broker_port = free_port()
        shutil.copy(ROOT / "broker.json", self.work / "broker.json")
        env = dict(os.environ, CENTRIFUGO_HTTP_API_KEY=self.api_key,
                   CENTRIFUGO_CLIENT_TOKEN_HMAC_SECRET_KEY=self.token_secret, CENTRIFUGO_ADMIN_ENABLED="false")
        broker = subprocess.Popen([*self.pin, f"{args.bin_dir}/broker", "serve", "--config", str(self.work / "broker.json"),
                                   "--port", str(self.broker_port)], env=env,
                                  stdout=open(self.work / "broker.log", "w"), stderr=subprocess.STDOUT)
        self.procs.append(broker)
        wait_http(f"http://127.0.0.1:{self.broker_port}/health", broker, "broker")

    def start_facade(self) -> str:
        port = free_port()
        env = dict(os.environ, DATABASE_URL=self.db, FACADE_HOST="127.0.0.1", FACADE_PORT=str(port),
                   BROKER_API_URL=f"http://127.0.0.1:{self.broker_port}/api", BROKER_API_KEY=self.api_key,
                   BROKER_TOKEN_SECRET=self.token_secret, FACADE_BCRYPT_COST="4",
                   FACADE_JWT_SECRET="relay-bench-session-secret-at-least-32-bytes")
        n = len(self.facades)
        proc = subprocess.Popen([*self.pin, f"{self.args.bin_dir}/facade", "serve"], env=env,
                                stdout=open(self.work / f"facade{n}.log", "w"), stderr=subprocess.STDOUT)
        self.procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/health", proc, f"facade{n}")
        self.facades.append((proc, base))
        return base

    def wait_partitions_split(self, count: int, timeout: float = 60) -> None:
        """Until `count` relays own the 16 partitions between them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            owners = psql(self.db, "SELECT count(DISTINCT owner) || ' ' || count(owner) FROM outbox_partitions")
            if owners == f"{count} 16":
                return
            time.sleep(0.2)
        raise RuntimeError(f"partitions not split between {count} relays: {owners}")

    def close(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        subprocess.run([str(ROOT / "scripts/pg-stop.sh"), str(self.work / "pg"), "--purge"], capture_output=True)
        shutil.rmtree(self.work, ignore_errors=True)


def pending(db: str) -> int:
    return int(psql(db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL"))


def throughput(db: str, rows: int) -> dict:
    """Commits `rows` rows at once and times the relays until all are sent."""
    psql(db, f"""INSERT INTO outbox (channel, payload)
                 SELECT 'workspace:' || md5((i % 1000)::text)::uuid,
                        json_build_object('type', 'bench.event', 'workspace_id', md5((i % 1000)::text)::uuid,
                                          'data', json_build_object('i', i, 'body', repeat('x', 120)))
                 FROM generate_series(1, {rows}) i""")
    t0 = time.monotonic()
    while pending(db) > 0:
        time.sleep(0.05)
        if time.monotonic() - t0 > 600:
            raise RuntimeError("relay did not drain in 600 s")
    elapsed = time.monotonic() - t0
    order_ok = psql(db, """SELECT count(*) FROM (SELECT channel, seq, sent_at,
                             lag(sent_at) OVER (PARTITION BY channel ORDER BY seq) AS prev FROM outbox) x
                           WHERE prev > sent_at""")
    return {"rows": rows, "seconds": elapsed, "rows_per_s": rows / elapsed, "confirmed_out_of_order": int(order_ok)}


async def latency(args, api: API, facades: list[str], ctx: dict) -> dict:
    """Comments at args.rate/s for args.duration s; per-comment send/201/receipt times."""
    import aiohttp
    from centrifuge import Client, SubscriptionEventHandler

    arrived: dict[str, float] = {}

    class Handler(SubscriptionEventHandler):
        async def on_publication(self, ctx_):
            data = ctx_.pub.data
            if data.get("type") == "comment.created":
                arrived[data["data"]["body"]] = time.perf_counter()

    conn = api.call("GET", "/v1/realtime/token", ctx["alice"])
    client = Client(args.broker_ws, token=conn["token"], timeout=10.0)
    await client.connect()
    for ws in ctx["workspaces"]:
        channel = f"workspace:{ws['id']}"
        token = api.call("GET", "/v1/realtime/subscription-token", ctx["alice"], channel=channel)["token"]
        sub = client.new_subscription(channel, events=Handler(), token=token)
        await sub.subscribe()
        await sub.ready(timeout=10)

    sent: dict[str, tuple[float, float]] = {}
    errors = 0
    backlog: list[int] = []
    stop = asyncio.Event()

    async def sample_backlog():
        while not stop.is_set():
            backlog.append(await asyncio.to_thread(pending, args.db))
            await asyncio.sleep(1.0)

    async def one(http, i: int):
        nonlocal errors
        ws = ctx["workspaces"][i % len(ctx["workspaces"])]
        base = facades[i % len(facades)]
        body = f"bench comment {i} {uuid.uuid4().hex[:8]}"
        t0 = time.perf_counter()
        async with http.post(f"{base}/v1/workspaces/{ws['id']}/posts/{ws['post']}/comments",
                             json={"body": body}, headers={"Authorization": f"Bearer {ctx['bob']}"}) as r:
            await r.read()
            if r.status != 201:
                errors += 1
                return
        sent[body] = (t0, time.perf_counter())

    sampler = asyncio.create_task(sample_backlog())
    total = int(args.rate * args.duration)
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as http:
        tasks = []
        start = time.perf_counter()
        for i in range(total):
            delay = start + i / args.rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(http, i)))
        achieved = total / (time.perf_counter() - start)
        await asyncio.gather(*tasks)
    deadline = time.perf_counter() + 30
    while len([b for b in sent if b in arrived]) < len(sent) and time.perf_counter() < deadline:
        await asyncio.sleep(0.1)
    stop.set()
    await sampler
    await client.disconnect()
    send_to_recv = [(arrived[b] - t0) * 1000 for b, (t0, _) in sent.items() if b in arrived]
    ok_to_recv = [(arrived[b] - t1) * 1000 for b, (_, t1) in sent.items() if b in arrived]
    http_ms = [(t1 - t0) * 1000 for (t0, t1) in sent.values()]
    half = len(backlog) // 2
    return {"comments": total, "rate": achieved, "errors": errors, "missing": len(sent) - len(send_to_recv),
            "send_to_recv": send_to_recv, "ok_to_recv": ok_to_recv, "http": http_ms, "backlog": backlog,
            "backlog_first_half": statistics.fmean(backlog[1:half] or [0]),
            "backlog_second_half": statistics.fmean(backlog[half:-1] or [0])}


def setup(api: API, workspaces: int) -> dict:
    alice, alice_id = api.signup("alice")
    bob, _ = api.signup("bob")
    wss = []
    for n in range(workspaces):
        ws = api.call("POST", "/v1/workspaces", alice, {"name": f"Relay {n}", "time_zone": "UTC"}, expect=201)["id"]
        invite = api.call("POST", f"/v1/workspaces/{ws}/invites", alice, {}, expect=201)
        api.call("POST", f"/v1/invites/{invite['token']}/accept", bob, {"display_name": "Bob"}, expect=200)
        post = api.call("POST", f"/v1/workspaces/{ws}/posts", alice, {"kind": "checkin", "body": "Today: relay"},
                        expect=201)["id"]
        wss.append({"id": ws, "post": post})
    return {"alice": alice, "alice_id": alice_id, "bob": bob, "workspaces": wss}


def stats(values: list[float]) -> str:
    if not values:
        return "n=0"
    return (f"n={len(values)} p50={statistics.median(values):.1f} p99={percentile(values, 99):.1f} "
            f"max={max(values):.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_bin = ROOT / ".build-bench/release"
    if not (default_bin / "facade").exists():
        default_bin = ROOT / ".build/debug"
    ap.add_argument("--bin-dir", default=str(default_bin))
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--rate", type=float, default=500)
    ap.add_argument("--duration", type=float, default=20)
    ap.add_argument("--workspaces", type=int, default=8)
    ap.add_argument("--processes", default="1,2", help="facade process counts to measure")
    args = ap.parse_args()
    os.sched_setaffinity(0, {int(c) for c in os.environ.get("LOADGEN_CPUS", "1").split(",")})

    results = []
    for count in [int(c) for c in args.processes.split(",")]:
        stack = Stack(args)
        try:
            facades = [stack.start_facade() for _ in range(count)]
            stack.wait_partitions_split(count)
            args.db = stack.db
            args.broker_ws = f"ws://127.0.0.1:{stack.broker_port}/connection/websocket"
            api = API(facades[0])
            ctx = setup(api, args.workspaces)
            log(f"{count} facade(s): throughput, {args.rows} rows")
            tp = throughput(stack.db, args.rows)
            log(f"{count} facade(s): {tp['rows_per_s']:.0f} rows/s; latency at {args.rate:.0f} comments/s")
            lat = asyncio.run(latency(args, api, facades, ctx))
            results.append((count, tp, lat))
        finally:
            stack.close()

    print()
    print("=" * 100)
    print(f"Outbox relay -> broker, {args.bin_dir}; server on CPUs {os.environ.get('SERVER_CPUS', '0')}, "
          f"load on {os.environ.get('LOADGEN_CPUS', '1')}; {os.cpu_count()} CPUs")
    print("=" * 100)
    for count, tp, lat in results:
        print(f"{count} facade process(es):")
        print(f"  throughput: {tp['rows']} rows in {tp['seconds']:.2f} s = {tp['rows_per_s']:.0f} rows/s "
              f"(rows confirmed out of per-channel order: {tp['confirmed_out_of_order']})")
        print(f"  {lat['comments']} comments at {lat['rate']:.0f}/s ({lat['errors']} errors, "
              f"{lat['missing']} never received)")
        print(f"    request sent -> received (>= commit -> received): {stats(lat['send_to_recv'])}")
        print(f"    201 -> received           (<= commit -> received): {stats(lat['ok_to_recv'])}")
        print(f"    request -> 201:                                      {stats(lat['http'])}")
        print(f"    outbox backlog per second: {lat['backlog']}  (mean first half {lat['backlog_first_half']:.0f}, "
              f"second half {lat['backlog_second_half']:.0f})")


if __name__ == "__main__":
    main()
