#!/usr/bin/env python3
"""What a server API publish costs the broker over HTTP (`POST /api/publish`, keep-alive) and over gRPC
(`CentrifugoApi.Publish` on one HTTP/2 channel), side by side on one broker, in one run, rounds alternating.

    python3 scripts/grpc_api_bench.py [--broker .build/release/broker] [--threads 8] [--calls 2000] [--rounds 3]

Each of --threads Python threads makes --calls sequential publishes per mode (to channels of its own, with a
subscriber-less namespace without history). Prints calls/s and the broker's user+system CPU per call (from /proc),
which is the broker's own figure: the Python clients are the bottleneck of the rate.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "Tests" / "Interop"))

sys.path.insert(0, str(REPO / "scripts"))

from broker_cpu import run_threads  # noqa: E402
from conftest import API_KEY, Broker, base_config, deep_merge, free_port, http_session  # noqa: E402
from test_grpc_api import GRPCTransport  # noqa: E402


def http_worker(broker: Broker, n: int, tag: str) -> None:
    session = http_session()
    url = f"{broker.api_url}/publish"
    headers = {"X-API-Key": API_KEY}
    for i in range(n):
        body = json.dumps({"channel": f"nohist:{tag}-{i % 16}", "data": {"i": i}})
        r = session.post(url, data=body, headers=headers, timeout=10)
        assert r.status_code == 200 and "error" not in r.json(), r.text


def grpc_worker(transport: GRPCTransport, n: int, tag: str) -> None:
    pb2 = transport.pb2
    for i in range(n):
        request = pb2.PublishRequest(channel=f"nohist:{tag}-{i % 16}", data=json.dumps({"i": i}).encode())
        response = transport.stub.Publish(request, metadata=transport.metadata, timeout=10)
        assert not response.HasField("error"), response


def run_mode(broker: Broker, mode: str, threads: int, calls: int, transport: GRPCTransport) -> tuple[float, float]:
    if mode == "http":
        workers = [lambda t=t: http_worker(broker, calls, f"http{t}") for t in range(threads)]
    else:
        workers = [lambda t=t: grpc_worker(transport, calls, f"grpc{t}") for t in range(threads)]
    return run_threads(broker.proc.pid, workers, threads * calls)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--broker", default=str(REPO / ".build" / "release" / "broker"))
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    import conftest

    conftest.BROKER_BIN = str(Path(args.broker).resolve())
    port = free_port()
    config = deep_merge(base_config(), {"log": {"level": "error"},
                                        "grpc_api": {"enabled": True, "address": "127.0.0.1", "port": port, "key": API_KEY}})
    broker = Broker(config, name="grpc-bench").start()
    transport = GRPCTransport(f"127.0.0.1:{port}")
    try:
        run_mode(broker, "http", 2, 200, transport)  # warm-up
        run_mode(broker, "grpc", 2, 200, transport)
        print(f"{'round':>5} {'mode':>5} {'calls/s':>9} {'broker CPU µs/call':>19}")
        for r in range(args.rounds):
            for mode in (("http", "grpc") if r % 2 == 0 else ("grpc", "http")):
                rate, cpu = run_mode(broker, mode, args.threads, args.calls, transport)
                print(f"{r + 1:>5} {mode:>5} {rate:>9.0f} {cpu:>19.1f}", flush=True)
    finally:
        transport.close()
        broker.stop()


if __name__ == "__main__":
    main()
