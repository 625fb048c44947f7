#!/usr/bin/env python3
"""What permessage-deflate costs the broker on a publication fan-out: broker CPU per publication and bytes per
push on the wire, with `websocket.compression` off, on for clients that do not offer it, and on for clients
that do (at Centrifugo's defaults: level 1, no minimum size).

The subscribers are raw asyncio sockets that only count frames (they never inflate), so the client side costs
little; only the broker process's CPU (utime + stime from /proc) is measured.

    python3 scripts/ws_compression_bench.py [--broker .build/release/broker] [--subscribers 1000]
        [--publications 300] [--rate 100] [--size 1024]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import jwt
import requests

SECRET = "bench-secret-bench-secret-bench-secret"
API_KEY = "bench-api-key-bench-api-key-bench-api"
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def start(binary: str, compression: bool) -> tuple[subprocess.Popen, int]:
    port = free_port()
    config = {
        "http_server": {"address": "127.0.0.1", "port": port},
        "client": {"token": {"hmac_secret_key": SECRET}},
        "http_api": {"key": API_KEY},
        "health": {"enabled": True},
        "log": {"level": "error"},
        "websocket": {"compression": compression},
    }
    path = Path(tempfile.mkdtemp(prefix="wsbench-")) / "config.json"
    path.write_text(json.dumps(config))
    proc = subprocess.Popen([binary, "serve", "--config", str(path), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc, port
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise SystemExit("broker did not start")


class Subscriber:
    def __init__(self) -> None:
        self.frames = 0
        self.bytes = 0
        self.compressed = 0

    async def run(self, port: int, channel: str, offer: bool, ready: asyncio.Event, user: str) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        key = base64.b64encode(os.urandom(16)).decode()
        ext = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" if offer else ""
        writer.write((f"GET /connection/websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{ext}\r\n").encode())
        await reader.readuntil(b"\r\n\r\n")
        token = jwt.encode({"sub": user, "channels": [channel]}, SECRET, algorithm="HS256")
        payload = json.dumps({"id": 1, "connect": {"token": token}}).encode()
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0xFE]) + n.to_bytes(2, "big"))
        writer.write(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
        first = True
        while True:
            b0, b1 = await reader.readexactly(2)
            length = b1 & 0x7F
            if length == 126:
                length = int.from_bytes(await reader.readexactly(2), "big")
            elif length == 127:
                length = int.from_bytes(await reader.readexactly(8), "big")
            await reader.readexactly(length)
            if first:
                first = False
                ready.set()
                continue
            if length < 16:  # a ping ({}), not a publication
                continue
            self.frames += 1
            self.bytes += length
            self.compressed += bool(b0 & 0x40)


def document(size: int) -> dict:
    """JSON data of about `size` bytes that looks like an app's (repetitive keys, varied values)."""
    items, i = [], 0
    while len(json.dumps(items)) < size:
        items.append({"id": i, "user": f"user-{i * 7919 % 1000}", "text": f"standup item {i}", "done": i % 3 == 0})
        i += 1
    return {"items": items}


async def measure(binary: str, mode: str, subscribers: int, publications: int, rate: float, size: int) -> dict:
    proc, port = start(binary, compression=mode != "off")
    try:
        channel = "bench"
        subs = [Subscriber() for _ in range(subscribers)]
        tasks, readies = [], []
        for i, s in enumerate(subs):
            ready = asyncio.Event()
            readies.append(ready)
            tasks.append(asyncio.create_task(s.run(port, channel, mode == "deflate", ready, f"u{i}")))
            if i % 100 == 99:
                await asyncio.gather(*(r.wait() for r in readies))
        await asyncio.gather(*(r.wait() for r in readies))
        session = requests.Session()
        url = f"http://127.0.0.1:{port}/api/publish"
        headers = {"X-API-Key": API_KEY}
        data = document(size)
        await asyncio.sleep(0.5)
        cpu0, wall0 = cpu_seconds(proc.pid), time.monotonic()
        for k in range(publications):
            body = json.dumps({"channel": channel, "data": {**data, "seq": k}})
            await asyncio.to_thread(session.post, url, data=body, headers=headers, timeout=5)
            await asyncio.sleep(max(0.0, wall0 + (k + 1) / rate - time.monotonic()))
        deadline = time.monotonic() + 30
        while sum(s.frames for s in subs) < subscribers * publications and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        cpu1 = cpu_seconds(proc.pid)
        for t in tasks:
            t.cancel()
        delivered = sum(s.frames for s in subs)
        return {
            "mode": mode,
            "delivered": delivered,
            "expected": subscribers * publications,
            "cpu_ms_per_publication": 1000 * (cpu1 - cpu0) / publications,
            "bytes_per_push": sum(s.bytes for s in subs) / max(1, delivered),
            "compressed_share": sum(s.compressed for s in subs) / max(1, delivered),
        }
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--broker", default=".build/release/broker")
    p.add_argument("--subscribers", type=int, default=1000)
    p.add_argument("--publications", type=int, default=300)
    p.add_argument("--rate", type=float, default=100)
    p.add_argument("--size", type=int, default=1024)
    a = p.parse_args()
    print(f"{a.subscribers} subscribers, {a.publications} publications at {a.rate}/s, ~{a.size} B of data, {a.broker}")
    for mode in ("off", "on-no-offer", "deflate"):
        r = asyncio.run(measure(a.broker, mode, a.subscribers, a.publications, a.rate, a.size))
        print(f"{r['mode']:>12}: broker CPU {r['cpu_ms_per_publication']:.2f} ms/publication, "
              f"{r['bytes_per_push']:.0f} B/push on the wire, {r['compressed_share']:.0%} compressed, "
              f"delivered {r['delivered']}/{r['expected']}")


if __name__ == "__main__":
    main()
