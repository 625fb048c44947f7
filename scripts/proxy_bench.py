#!/usr/bin/env python3
"""What a proxied call costs the broker: RPC round trips through an HTTP proxy, a gRPC proxy and `rpc.ping`
(answered by the broker itself), side by side on one broker, in one run.

    python3 scripts/proxy_bench.py [--broker .build/release/broker] [--clients 50] [--calls 200]

Each of --clients raw WebSocket clients makes --calls sequential RPCs per mode. Prints calls/s and the broker's
user+system CPU per call (from /proc), which is the figure that is the broker's own: the Python clients and
backends are the bottleneck of the rate.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "Tests" / "Interop"))

from conftest import Broker, RawWS, base_config, deep_merge  # noqa: E402
from proxy_grpc_backend import GRPCProxyBackend  # noqa: E402
from proxy_http_backend import HTTPProxyBackend  # noqa: E402


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_mode(broker: Broker, method: str, clients: int, calls: int) -> tuple[float, float]:
    sockets = []
    for _ in range(clients):
        ws = await RawWS.open(broker.ws_url)
        await ws.send({"id": 1, "connect": {}})
        await ws.reply(1)
        sockets.append(ws)

    async def worker(ws: RawWS) -> None:
        for i in range(calls):
            reply = await ws.call("rpc", {"method": method, "data": {"i": i}}, timeout=30)
            assert "error" not in reply, reply

    cpu0, t0 = cpu_seconds(broker.proc.pid), time.perf_counter()
    await asyncio.gather(*(worker(ws) for ws in sockets))
    cpu1, t1 = cpu_seconds(broker.proc.pid), time.perf_counter()
    for ws in sockets:
        await ws.close()
    n = clients * calls
    return n / (t1 - t0), (cpu1 - cpu0) / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--broker", default=str(REPO / ".build" / "release" / "broker"))
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    os.environ["BROKER_BIN"] = args.broker
    import conftest

    conftest.BROKER_BIN = args.broker
    http = HTTPProxyBackend().start()
    grpc = GRPCProxyBackend(max_workers=32).start()
    http.responses["rpc"] = {"result": {"data": {"ok": True}}}
    grpc.responses["RPC"] = {"result": {"data": "eyJvayI6dHJ1ZX0="}}
    config = deep_merge(base_config(), {
        "log": {"level": "error"},
        "client": {"insecure": True},
        "rpc": {
            "proxy": {"endpoint": http.url("rpc")},
            "without_namespace": {"proxy_enabled": True},
            "namespaces": [{"name": "grpc", "proxy_enabled": True, "proxy_name": "grpc"}],
            "ping": {"enabled": True},
        },
        "proxies": [{"name": "grpc", "endpoint": grpc.endpoint}],
    })
    broker = Broker(config, name="proxy-bench").start()
    try:
        print(f"{args.clients} clients x {args.calls} sequential RPCs per mode, {args.rounds} rounds, alternating")
        print(f"{'mode':<22}{'calls/s':>10}{'broker CPU µs/call':>22}")
        for r in range(args.rounds):
            for label, method in [("rpc.ping (no proxy)", "ping"), ("HTTP proxy", "work"), ("gRPC proxy", "grpc:work")]:
                rate, cpu = asyncio.run(run_mode(broker, method, args.clients, args.calls))
                print(f"{label:<22}{rate:>10.0f}{cpu:>22.1f}   (round {r + 1})")
    finally:
        broker.stop()
        http.stop()
        grpc.stop()


if __name__ == "__main__":
    main()
