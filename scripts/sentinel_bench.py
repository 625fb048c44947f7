#!/usr/bin/env python3
"""What `engine.redis.wait_replicas` costs a publish: the broker on a Redis master + replica + three sentinels
(the topology of Tests/Interop/test_redis_sentinel.py), publishes over the HTTP API with wait_replicas 0 and 1,
side by side in one run, rounds alternating.

    python3 scripts/sentinel_bench.py [--broker .build/release/broker] [--threads 4] [--calls 1000] [--rounds 2]

Prints calls/s and the broker's user+system CPU per publish (from /proc).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "Tests" / "Interop"))

sys.path.insert(0, str(REPO / "scripts"))

import conftest  # noqa: E402
from broker_cpu import run_threads  # noqa: E402
from conftest import API_KEY, Broker, http_session, uid  # noqa: E402
from test_redis_sentinel import SentinelTopology, sentinel_config  # noqa: E402


def worker(broker: Broker, n: int, tag: str) -> None:
    session = http_session()
    for i in range(n):
        r = session.post(f"{broker.api_url}/publish", data=json.dumps({"channel": f"fo:{tag}-{i % 16}", "data": {"i": i}}),
                         headers={"X-API-Key": API_KEY}, timeout=10)
        assert r.status_code == 200 and "result" in r.json(), r.text


def measure(broker: Broker, threads: int, calls: int) -> tuple[float, float]:
    workers = [lambda t=t: worker(broker, calls, f"t{t}-{uid()}") for t in range(threads)]
    return run_threads(broker.proc.pid, workers, threads * calls)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--broker", default=str(REPO / ".build" / "release" / "broker"))
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    conftest.BROKER_BIN = str(Path(args.broker).resolve())
    topology = SentinelTopology().start()
    brokers = {}
    try:
        for wait in (0, 1):
            cfg = sentinel_config(topology, f"bench-{wait}-{uid()}")
            cfg["log"] = {"level": "error"}
            cfg["engine"]["redis"]["wait_replicas"] = wait
            brokers[wait] = Broker(cfg, name=f"sentinel-bench-{wait}").start()
            measure(brokers[wait], 2, 100)  # warm-up
        print(f"{'round':>5} {'wait_replicas':>13} {'publishes/s':>11} {'broker CPU µs/publish':>22}")
        for r in range(args.rounds):
            for wait in ((0, 1) if r % 2 == 0 else (1, 0)):
                rate, cpu = measure(brokers[wait], args.threads, args.calls)
                print(f"{r + 1:>5} {wait:>13} {rate:>11.0f} {cpu:>22.1f}", flush=True)
    finally:
        for b in brokers.values():
            b.stop()
        topology.stop()


if __name__ == "__main__":
    main()
