#!/usr/bin/env python3
"""Fan-out benchmark: N WebSocket subscribers on one channel, publications via the HTTP API.

Python 3.11 stdlib only. A quick, honest measurement; the real benchmark tool comes later.

Layout (on a 2-core machine): the broker is pinned to CPU 0, the subscriber processes and
the publisher (this process) to CPU 1, so the client side can be checked for saturation via
its CPU seconds. With --engine redis, --nodes brokers and a redis-server share CPU 0; the
subscribers are spread over the nodes and publications go through the first node's API, so the
broker CPU reported is the sum over the nodes (redis-server's is reported on its own line).

Scenarios
  (a) fixed rate: --rate publications/s for --duration s via POST /api/publish.
      Reports deliveries/s, lost (per subscriber), end-to-end latency p50/p99
      (publish timestamp in the payload vs. receive time, every --sample-every-th message
      per subscriber).
  (b) max throughput: POST /api/batch with --batch publishes per request, back to back on one
      keep-alive connection for --duration s. Reports accepted publications/s,
      deliveries/s and lost.

Each publication's data is exactly 128 bytes of JSON: {"p":<phase>,"i":N,"t":<ns>,"pad":"x..."}.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import http.client
import json
import multiprocessing as mp
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SECRET = "bench-secret"
API_KEY = "bench-key"
CHANNEL = "bench"
PAYLOAD_BYTES = 128
# How the broker starts a publication push on our channel; frames that don't start like
# this (or hold several messages) take the generic path.
PUSH_PREFIX = b'{"push":{"channel":"' + CHANNEL.encode() + b'","pub":{"data":{'
PUSH_PREFIX_LEN = len(PUSH_PREFIX)
CLK_TCK = os.sysconf("SC_CLK_TCK")
NEVER = 1 << 62


# --------------------------------------------------------------------------- helpers

def b64url(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def make_token(sub: str) -> str:
    head = b64url(b'{"alg":"HS256","typ":"JWT"}')
    body = b64url(json.dumps({"sub": sub}, separators=(",", ":")).encode())
    sig = hmac.new(SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(sig)}"


def proc_cpu(pid: int) -> float:
    """utime+stime of a process in seconds (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return 0.0
    fields = s[s.rfind(")") + 2:].split()  # fields from #3 (state) on
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # #14 utime, #15 stime


def proc_rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pin(cpu: int | None) -> None:
    if cpu is not None:
        try:
            os.sched_setaffinity(0, {cpu})
        except OSError:
            pass


def pct(sorted_vals: list[int], q: float) -> float | None:
    if not sorted_vals:
        return None
    k = min(len(sorted_vals) - 1, max(0, int(round(q * (len(sorted_vals) - 1)))))
    return sorted_vals[k]


def ws_frame(payload: bytes, opcode: int = 1) -> bytes:
    """A masked client frame."""
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n <= 0xFFFF:
        head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    mask = os.urandom(4)
    if n:
        m = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
        payload = (int.from_bytes(payload, "big") ^ m).to_bytes(n, "big")
    return head + mask + payload


# --------------------------------------------------------------------------- subscriber side

class Sub:
    """One WebSocket subscriber on a raw non-blocking socket, read from an asyncio reader
    callback (loop.add_reader): no transport/protocol layer and no per-read buffer allocation
    in the hot path. Counts publication messages of the current phase.
    """

    __slots__ = ("w", "user", "sock", "fd", "buf", "handshaken", "ready", "count", "close_code", "closed")

    def __init__(self, w: "Worker", user: str, sock: socket.socket):
        self.w = w
        self.user = user
        self.sock = sock
        self.fd = sock.fileno()
        self.buf = b""
        self.handshaken = False
        self.ready = asyncio.get_running_loop().create_future()
        self.count = 0
        self.close_code = None
        self.closed = False

    def start(self):
        key = base64.b64encode(os.urandom(16)).decode()
        asyncio.get_running_loop().add_reader(self.fd, self.on_readable)
        self.send((
            f"GET /connection/websocket HTTP/1.1\r\nHost: 127.0.0.1:{self.w.port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1\r\n\r\n").encode())

    def send(self, b: bytes):
        """Writes are tiny and rare (handshake, commands, pongs): no write buffering needed."""
        if self.closed:
            return
        try:
            n = self.sock.send(b)
            if n < len(b):
                self.sock.setblocking(True)
                self.sock.sendall(b[n:])
                self.sock.setblocking(False)
        except OSError as e:
            self.close(e)

    def close(self, exc=None):
        if self.closed:
            return
        self.closed = True
        asyncio.get_running_loop().remove_reader(self.fd)
        self.sock.close()
        w = self.w
        w.disconnects += 1
        if self.close_code is not None:
            w.close_codes[self.close_code] = w.close_codes.get(self.close_code, 0) + 1
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"{self.user}: connection closed during setup ({exc})"))

    def on_readable(self):
        try:
            data = self.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self.close(e)
            return
        if not data:
            self.close("EOF")
            return
        if self.buf:
            data = self.buf + data
            self.buf = b""
        if not self.handshaken:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                self.buf = data
                return
            status = data[:data.find(b"\r\n")]
            if b" 101 " not in status + b" ":
                self._fail(f"upgrade refused: {status.decode(errors='replace')}")
                return
            self.handshaken = True
            data = data[end + 4:]
            self.send(ws_frame(json.dumps(
                {"id": 1, "connect": {"token": make_token(self.user)}}).encode()))
        # Frame loop (server frames are unmasked). Kept lean: this runs for every delivery.
        n = len(data)
        pos = 0
        while pos + 2 <= n:
            ln = data[pos + 1]
            if ln < 126:
                start = pos + 2
            elif ln == 126:
                if pos + 4 > n:
                    break
                start = pos + 4
                ln = (data[pos + 2] << 8) | data[pos + 3]
            else:
                if pos + 10 > n:
                    break
                start = pos + 10
                ln = int.from_bytes(data[pos + 2:start], "big")
            end = start + ln
            if end > n:
                break
            op = data[pos] & 0x0F
            pos = end
            if op == 1:
                # One push per frame, prefix as the broker writes it: count it right here.
                if data.startswith(PUSH_PREFIX, start) and data.find(b"\n", start, end) < 0:
                    self._pub(data, start + PUSH_PREFIX_LEN, end)
                else:
                    self._messages(data[start:end])
            elif op == 8:
                self.close_code = ((data[start] << 8) | data[start + 1]) if ln >= 2 else 1005
            elif op == 9:
                self.send(ws_frame(data[start:end], 0xA))
        if pos < n:
            self.buf = data[pos:]

    # -- message handling
    def _pub(self, data, s, e):
        """Count one publication; data[s:e] holds it, from somewhere before its "p" key."""
        w = self.w
        if data.startswith(b'"p":', s):
            i = s
        else:
            i = data.find(b'"p":', s, e)
        if i < 0 or data[i + 4] != w.phase:
            w.stray += 1
            return
        c = self.count + 1
        self.count = c
        w.received += 1
        w.last_rx = t = time.time_ns()
        if c == w.target:
            w.done += 1
            if w.done == w.nsubs:
                w.all_done.set()
        if c % w.sample_every == 0:
            ti = data.find(b'"t":', s, e) + 4
            tj = data.find(b",", ti, e)
            w.samples.append(t - int(data[ti:tj]))

    def _messages(self, payload: bytes):
        for line in payload.split(b"\n"):
            if not line:
                continue
            if line.startswith(b'{"push"'):
                self._pub(line, 7, len(line))
            elif line == b"{}":
                self.send(ws_frame(b"{}"))  # server ping -> pong
            else:
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue
                if "error" in msg:
                    self._fail(f"error reply {msg}")
                elif msg.get("id") == 1 and "connect" in msg:
                    self.send(ws_frame(json.dumps({"id": 2, "subscribe": {"channel": CHANNEL}}).encode()))
                elif msg.get("id") == 2 and "subscribe" in msg:
                    if not self.ready.done():
                        self.ready.set_result(True)

    def _fail(self, why: str):
        if not self.ready.done():
            self.ready.set_exception(RuntimeError(f"{self.user}: {why}"))
        self.close(why)


class Worker:
    def __init__(self, conn, port, users, sample_every):
        self.conn = conn
        self.port = port
        self.users = users
        self.sample_every = sample_every
        self.subs: list[Sub] = []
        self.nsubs = len(users)
        self.phase = 0
        self.target = NEVER
        self.done = 0
        self.received = 0
        self.stray = 0
        self.last_rx = 0
        self.samples: list[int] = []
        self.disconnects = 0
        self.close_codes: dict[int, int] = {}
        self.all_done: asyncio.Event | None = None

    async def connect_one(self, user, sem):
        async with sem:
            loop = asyncio.get_running_loop()
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                await asyncio.wait_for(loop.sock_connect(sock, ("127.0.0.1", self.port)), 30)
            except BaseException:
                sock.close()
                raise
            sub = Sub(self, user, sock)
            self.subs.append(sub)
            sub.start()
            await asyncio.wait_for(sub.ready, 30)

    async def run(self):
        loop = asyncio.get_running_loop()
        self.all_done = asyncio.Event()
        cmds: asyncio.Queue = asyncio.Queue()
        loop.add_reader(self.conn.fileno(), lambda: cmds.put_nowait(self.conn.recv()))

        sem = asyncio.Semaphore(32)
        res = await asyncio.gather(*(self.connect_one(u, sem) for u in self.users), return_exceptions=True)
        errors = [str(r) for r in res if isinstance(r, BaseException)]
        self.conn.send(("ready", self.nsubs - len(errors), errors[:3]))

        while True:
            cmd = await cmds.get()
            if cmd[0] == "phase":          # start counting a new phase
                self.phase = ord(cmd[1])
                self.target = NEVER
                self.done = self.received = self.stray = self.last_rx = 0
                self.samples = []
                self.all_done.clear()
                for s in self.subs:
                    s.count = 0
                self.conn.send(("ok",))
            elif cmd[0] == "expect":       # wait until every subscriber has `n` messages, or deadline
                n, timeout = cmd[1], cmd[2]
                self.target = n
                self.done = sum(1 for s in self.subs if s.count >= n)
                if self.done >= self.nsubs:
                    self.all_done.set()
                try:
                    await asyncio.wait_for(self.all_done.wait(), timeout)
                except TimeoutError:
                    pass
                counts = [s.count for s in self.subs]
                self.conn.send(("result", {
                    "received": self.received,
                    "lost": sum(max(0, n - c) for c in counts),
                    "extra": sum(max(0, c - n) for c in counts),
                    "incomplete_subs": sum(1 for c in counts if c < n),
                    "stray": self.stray,
                    "last_rx": self.last_rx,
                    "samples": self.samples,
                    "disconnects": self.disconnects,
                    "close_codes": self.close_codes,
                }))
            elif cmd[0] == "stop":
                for s in self.subs:
                    s.send(ws_frame(b"\x03\xe8", 8))
                    s.close("stop")
                self.conn.send(("stopped",))
                return


def worker_main(conn, port, users, sample_every, cpu):
    pin(cpu)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    try:
        asyncio.run(Worker(conn, port, users, sample_every).run())
    except Exception as e:  # report instead of hanging the parent
        try:
            conn.send(("fatal", repr(e)))
        except OSError:
            pass


# --------------------------------------------------------------------------- publisher side

class Api:
    def __init__(self, port):
        self.port = port
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.calls = 0
        self.call_seconds = 0.0
        self.headers = {"X-API-Key": API_KEY, "Content-Type": "application/json", "Connection": "keep-alive"}

    def post(self, method: str, body: bytes) -> bytes:
        t = time.perf_counter()
        try:
            return self._post(method, body)
        finally:
            self.calls += 1
            self.call_seconds += time.perf_counter() - t

    def _post(self, method: str, body: bytes) -> bytes:
        for attempt in (0, 1):
            try:
                self.c.request("POST", f"/api/{method}", body, self.headers)
                r = self.c.getresponse()
                data = r.read()
                if r.status != 200:
                    raise RuntimeError(f"/api/{method}: HTTP {r.status} {data[:200]!r}")
                return data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                if attempt:
                    raise
                self.c.close()
                self.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        raise AssertionError


def pub_json(phase: str, i: int) -> str:
    head = f'{{"p":{phase},"i":{i},"t":{time.time_ns()},"pad":"'
    return head + "x" * (PAYLOAD_BYTES - len(head) - 2) + '"}'


def run_phase(ctx, phase: str, api: "Api", publish) -> dict:
    """Reset subscriber counters, publish, wait for every delivery (with a deadline)."""
    W = ctx["workers"]
    api.calls, api.call_seconds = 0, 0.0
    for p, c in W:
        c.send(("phase", phase))
    for p, c in W:
        expect_msg(c, "ok", 10)

    cpu0 = snapshot_cpu(ctx)
    t0 = time.time_ns()
    published, errors, t_pub_end = publish()
    for p, c in W:
        c.send(("expect", published, ctx["drain"]))
    results = [expect_msg(c, "result", ctx["drain"] + 15)[1] for p, c in W]
    t_end = time.time_ns()
    cpu1 = snapshot_cpu(ctx)

    received = sum(r["received"] for r in results)
    last_rx = max((r["last_rx"] for r in results), default=0) or t_end
    samples = sorted(x for r in results for x in r["samples"])
    span = max(1, last_rx - t0) / 1e9
    pub_span = max(1, t_pub_end - t0) / 1e9
    wall = (t_end - t0) / 1e9
    broker_cpu = cpu1["broker"] - cpu0["broker"]
    redis_cpu = cpu1["redis"] - cpu0["redis"]
    clients_cpu = cpu1["clients"] - cpu0["clients"]
    publisher_cpu = cpu1["publisher"] - cpu0["publisher"]
    busy = {c: 100 * (cpu1["cpus"][c][0] - cpu0["cpus"][c][0]) / wall for c in cpu1["cpus"]}
    other = None
    if ctx["pinned"] and "cpu0" in busy and "cpu1" in busy:
        # CPU time on the two CPUs not used by the broker (CPU0) or by us (CPU1): other work on the machine.
        other = {"cpu0": round(max(0.0, busy["cpu0"] - 100 * (broker_cpu + redis_cpu) / wall), 1),
                 "cpu1": round(max(0.0, busy["cpu1"] - 100 * (clients_cpu + publisher_cpu) / wall), 1)}
    close_codes: dict = {}
    for r in results:
        for k, v in r["close_codes"].items():
            close_codes[str(k)] = close_codes.get(str(k), 0) + v
    return {
        "published": published,
        "publish_errors": errors,
        "publish_seconds": round(pub_span, 3),
        "publications_per_s": round(published / pub_span, 1),
        "api_calls": api.calls,
        "api_call_ms_mean": round(1000 * api.call_seconds / api.calls, 2) if api.calls else None,
        "expected_deliveries": published * ctx["subscribers"],
        "delivered": received,
        "lost": sum(r["lost"] for r in results),
        "extra": sum(r["extra"] for r in results),
        "incomplete_subscribers": sum(r["incomplete_subs"] for r in results),
        "stray": sum(r["stray"] for r in results),
        "delivery_seconds": round(span, 3),
        "deliveries_per_s": round(received / span, 1),
        "latency_samples": len(samples),
        "latency_ms_p50": round(pct(samples, 0.50) / 1e6, 3) if samples else None,
        "latency_ms_p99": round(pct(samples, 0.99) / 1e6, 3) if samples else None,
        "latency_ms_max": round(samples[-1] / 1e6, 3) if samples else None,
        "wall_seconds": round(wall, 3),
        "broker_cpu_s": round(broker_cpu, 2),
        "broker_cpu_pct": round(100 * broker_cpu / wall, 1),
        "clients_cpu_s": round(clients_cpu, 2),
        "publisher_cpu_s": round(publisher_cpu, 2),
        "client_side_cpu_pct": round(100 * (clients_cpu + publisher_cpu) / wall, 1),
        "broker_cpu_us_per_delivery": round(1e6 * broker_cpu / received, 2) if received else None,
        "redis_cpu_s": round(redis_cpu, 2),
        "redis_cpu_us_per_delivery": round(1e6 * redis_cpu / received, 3) if received else None,
        "client_cpu_us_per_delivery": round(1e6 * clients_cpu / received, 2) if received else None,
        "machine_cpu_busy_pct": {c: round(v, 1) for c, v in busy.items()},
        "other_load_pct": other,
        "machine_cpu_steal_pct": {c: round(100 * (cpu1["cpus"][c][1] - cpu0["cpus"][c][1]) / wall, 1)
                                  for c in cpu1["cpus"]},
        "disconnects": sum(r["disconnects"] for r in results),
        "close_codes": close_codes,
    }


def publish_fixed_rate(api: Api, phase: str, rate: float, duration: float):
    """One /api/publish per 1/rate s until `duration` is over. If the broker answers too slowly
    to keep the rate, fewer publications go out (and publications/s shows it)."""
    def go():
        t0 = time.monotonic()
        i = errors = 0
        while True:
            due = t0 + i / rate
            if due - t0 >= duration or time.monotonic() - t0 >= duration:
                break
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # pacing, not synchronisation
            body = f'{{"channel":"{CHANNEL}","data":{pub_json(phase, i)}}}'.encode()
            if b'"error"' in api.post("publish", body):
                errors += 1
            i += 1
        return i - errors, errors, time.time_ns()
    return go


def publish_batches(api: Api, phase: str, batch: int, duration: float):
    def go():
        deadline = time.monotonic() + duration
        i = errors = 0
        sent = 0
        while time.monotonic() < deadline:
            cmds = ",".join(f'{{"publish":{{"channel":"{CHANNEL}","data":{pub_json(phase, i + k)}}}}}'
                            for k in range(batch))
            resp = api.post("batch", f'{{"commands":[{cmds}]}}'.encode())
            e = resp.count(b'"error"')
            errors += e
            sent += batch - e
            i += batch
        return sent, errors, time.time_ns()
    return go


def cpu_busy() -> dict[str, tuple[float, float]]:
    """Per CPU from /proc/stat: (seconds running tasks, steal seconds). Interrupt time (which
    includes our own loopback traffic's softirq work) is left out."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                name, *v = line.split()
                v = [int(x) for x in v[:8]]  # user nice system idle iowait irq softirq steal
                out[name] = ((v[0] + v[1] + v[2]) / CLK_TCK, v[7] / CLK_TCK)
    return out


def snapshot_cpu(ctx) -> dict:
    t = os.times()
    return {
        "broker": sum(proc_cpu(b.pid) for b in ctx["brokers"]),
        "redis": proc_cpu(ctx["redis"].pid) if ctx["redis"] else 0.0,
        "clients": sum(proc_cpu(p.pid) for p, _ in ctx["workers"]),
        "publisher": t.user + t.system,
        "cpus": cpu_busy(),
    }


def expect_msg(conn, kind: str, timeout: float):
    if not conn.poll(timeout):
        raise TimeoutError(f"worker did not answer '{kind}' within {timeout}s")
    msg = conn.recv()
    if msg[0] == "fatal":
        raise RuntimeError(f"worker failed: {msg[1]}")
    if msg[0] != kind:
        raise RuntimeError(f"worker answered {msg[0]!r}, expected {kind!r}")
    return msg


# --------------------------------------------------------------------------- broker

def find_binary(explicit: str | None) -> tuple[str, str]:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if explicit:
        return explicit, "given"
    for kind in ("release", "debug"):
        p = os.path.join(root, ".build", kind, "broker")
        if os.access(p, os.X_OK):
            return p, kind
    sys.exit("no broker binary: build with `swift build -c release --product broker` or pass --binary")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(port: int, workdir: str, cpu: int | None):
    """A redis-server for the Redis-engine scenario (no persistence), on the brokers' CPU."""
    server = shutil.which("redis-server")
    if not server:
        raise RuntimeError("redis-server not found: run scripts/install-system-deps.sh")
    cmd = [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", workdir]
    if cpu is not None and shutil.which("taskset"):
        cmd = ["taskset", "-c", str(cpu)] + cmd
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:  # no event to await from outside the process: poll with a deadline
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as c:
                c.sendall(b"PING\r\n")
                if c.recv(16).startswith(b"+PONG"):
                    return proc
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("redis-server did not start")
        time.sleep(0.05)


def start_broker(binary: str, port: int, workdir: str, cpu: int | None, redis_port: int | None = None):
    cfg = {
        "http_server": {"port": port, "address": "127.0.0.1"},
        "log": {"level": "error"},
        "client": {"token": {"hmac_secret_key": SECRET}, "allowed_origins": ["*"]},
        "http_api": {"key": API_KEY},
        "health": {"enabled": True},
        "channel": {"without_namespace": {"allow_subscribe_for_client": True}},
    }
    if redis_port is not None:
        cfg["engine"] = {"type": "redis", "redis": {"address": f"redis://127.0.0.1:{redis_port}", "prefix": "bench"}}
    workdir = os.path.join(workdir, f"node-{port}")
    os.makedirs(workdir, exist_ok=True)
    cfg_path = os.path.join(workdir, "config.json")
    with open(cfg_path, "w") as f:
        json.dump(cfg, f)
    log = open(os.path.join(workdir, "broker.log"), "wb")
    cmd = [binary, "serve", "--config", cfg_path]
    if cpu is not None and shutil.which("taskset"):
        cmd = ["taskset", "-c", str(cpu)] + cmd  # taskset execs the broker: same pid
        pre = None
    else:
        pre = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, preexec_fn=pre)
    deadline = time.monotonic() + 30
    while True:  # no event to await from outside the process: poll /health with a deadline
        if proc.poll() is not None:
            raise RuntimeError(f"broker exited with {proc.returncode}; log: {log.name}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/health")
            if c.getresponse().status == 200:
                c.close()
                return proc, log.name
            c.close()
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"broker not healthy within 30s; log: {log.name}")
        time.sleep(0.05)


def stop_broker(proc):
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subscribers", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=50, help="publications/s in scenario (a)")
    ap.add_argument("--duration", type=float, default=10, help="seconds per scenario")
    ap.add_argument("--procs", type=int, default=4, help="subscriber processes")
    ap.add_argument("--batch", type=int, default=50, help="publishes per /api/batch in scenario (b)")
    ap.add_argument("--sample-every", type=int, default=10, help="latency sample every Nth message per subscriber")
    ap.add_argument("--drain", type=float, default=15, help="max seconds to wait for deliveries after publishing")
    ap.add_argument("--binary")
    ap.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    ap.add_argument("--no-pin", action="store_true", help="don't pin broker/clients to CPUs")
    ap.add_argument("--engine", choices=["memory", "redis"], default="memory",
                    help="redis: a redis-server and --nodes brokers sharing it; subscribers spread over the nodes, "
                         "publications through the first node's API (so most deliveries cross Redis)")
    ap.add_argument("--nodes", type=int, default=2, help="broker nodes with --engine redis")
    args = ap.parse_args()

    binary, kind = find_binary(args.binary)
    port = args.port or free_port()
    ncpu = os.cpu_count() or 1
    broker_cpu = client_cpu = None
    if not args.no_pin and ncpu >= 2:
        broker_cpu, client_cpu = 0, 1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    # Bound the whole run even if something hangs.
    budget = 120 + 2 * (args.duration + args.drain + 30)

    def on_alarm(*_):
        raise TimeoutError(f"overall budget {budget:.0f}s exceeded")
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(int(budget))

    if kind == "debug":
        print("NOTE: using the DEBUG broker build (no release binary found) - numbers are not representative",
              file=sys.stderr)
    print(f"broker: {binary} ({kind}); port {port}; {args.subscribers} subscribers in {args.procs} processes; "
          f"pinning: {'broker CPU0, clients+publisher CPU1' if broker_cpu is not None else 'none'}", file=sys.stderr)

    workdir = tempfile.mkdtemp(prefix="fanout-bench-")
    try:
        return run(args, binary, kind, port, ncpu, broker_cpu, client_cpu, workdir)
    except Exception as e:
        log = os.path.join(workdir, "broker.log")
        print(f"error: {type(e).__name__}: {e}\nbroker log {log}:\n{tail(log)}", file=sys.stderr)
        return False


def run(args, binary, kind, port, ncpu, broker_cpu, client_cpu, workdir) -> bool:
    ctx = {"workers": [], "subscribers": args.subscribers, "drain": args.drain, "brokers": [], "redis": None,
           "pinned": broker_cpu is not None}
    nodes = args.nodes if args.engine == "redis" else 1
    out = {"build": kind, "binary": binary, "engine": args.engine, "nodes": nodes,
           "subscribers": args.subscribers, "procs": args.procs,
           "payload_bytes": PAYLOAD_BYTES, "cpus": ncpu, "pinned": broker_cpu is not None}
    ok = False
    try:
        redis_port = None
        if args.engine == "redis":
            redis_port = free_port()
            ctx["redis"] = start_redis(redis_port, workdir, broker_cpu)
        ports = [port] + [free_port() for _ in range(nodes - 1)]
        for node_port in ports:
            proc, _ = start_broker(binary, node_port, workdir, broker_cpu, redis_port)
            ctx["brokers"].append(proc)
        pin(client_cpu)
        rss0 = sum(proc_rss_kb(b.pid) for b in ctx["brokers"])

        # Subscribers.
        mpctx = mp.get_context("fork")
        users = [f"bench-{k}" for k in range(args.subscribers)]
        t_conn = time.monotonic()
        for w in range(args.procs):
            parent, child = mpctx.Pipe()
            p = mpctx.Process(target=worker_main, daemon=True,
                              args=(child, ports[w % len(ports)], users[w::args.procs], args.sample_every, client_cpu))
            p.start()
            ctx["workers"].append((p, parent))
        connected, errs = 0, []
        for p, c in ctx["workers"]:
            m = expect_msg(c, "ready", 120)
            connected += m[1]
            errs += m[2]
        conn_s = time.monotonic() - t_conn
        if connected != args.subscribers:
            raise RuntimeError(f"only {connected}/{args.subscribers} subscribers ready; e.g. {errs}")
        rss1 = sum(proc_rss_kb(b.pid) for b in ctx["brokers"])
        out["connect_seconds"] = round(conn_s, 2)
        out["rss_kb_idle"] = rss0
        out["rss_kb_connected"] = rss1
        out["rss_kb_per_connection"] = round((rss1 - rss0) / args.subscribers, 1)
        print(f"{connected} subscribers ready in {conn_s:.1f}s; broker RSS {rss0} -> {rss1} KB", file=sys.stderr)

        api = Api(port)
        print(f"(a) fixed rate {args.rate:g}/s for {args.duration:g}s ...", file=sys.stderr)
        out["fixed_rate"] = run_phase(ctx, "1", api, publish_fixed_rate(api, "1", args.rate, args.duration))
        print(f"(b) /api/batch x{args.batch} as fast as possible for {args.duration:g}s ...", file=sys.stderr)
        out["max_rate"] = run_phase(ctx, "2", api, publish_batches(api, "2", args.batch, args.duration))
        out["rss_kb_after"] = sum(proc_rss_kb(b.pid) for b in ctx["brokers"])
        ok = True
    finally:
        signal.alarm(0)
        for p, c in ctx["workers"]:
            try:
                c.send(("stop",))
            except OSError:
                pass
        for p, c in ctx["workers"]:
            try:
                if c.poll(5):
                    c.recv()
            except (OSError, EOFError):
                pass
            p.join(5)
            if p.is_alive():
                p.terminate()
        for b in ctx["brokers"]:
            if not ok and b.poll() is not None:
                rc = b.returncode
                why = f"signal {-rc}" if rc < 0 else f"exit code {rc}"
                print(f"a broker had already ended during the run ({why})", file=sys.stderr)
            stop_broker(b)
        if ctx["redis"] is not None:
            ctx["redis"].terminate()
            ctx["redis"].wait(10)
    if ok:
        shutil.rmtree(workdir, ignore_errors=True)
        report(args, out)
    return ok


def tail(path: str, n: int = 15) -> str:
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def verdict(r: dict) -> str:
    broker_sat = r["broker_cpu_pct"] >= 90
    client_sat = r["client_side_cpu_pct"] >= 90
    if client_sat and not broker_sat:
        v = "CLIENT-BOUND (client CPU saturated)"
    elif broker_sat and not client_sat:
        v = "broker CPU-bound"
    elif broker_sat and client_sat:
        v = "both CPUs saturated"
    else:
        v = "neither CPU saturated"
    other = r.get("other_load_pct") or {}
    if any(x >= 15 for x in other.values()):
        v += "; MACHINE BUSY"
    return v


def report(args, out):
    a, b = out["fixed_rate"], out["max_rate"]
    a["bottleneck"] = verdict(a)
    b["bottleneck"] = verdict(b)
    rows = [
        ("publications sent", "published", "{:,}"),
        ("publish errors", "publish_errors", "{:,}"),
        ("publications/s (accepted)", "publications_per_s", "{:,.1f}"),
        ("API call ms (mean)", "api_call_ms_mean", "{}"),
        ("deliveries expected", "expected_deliveries", "{:,}"),
        ("deliveries received", "delivered", "{:,}"),
        ("LOST", "lost", "{:,}"),
        ("subscribers missing msgs", "incomplete_subscribers", "{:,}"),
        ("deliveries/s", "deliveries_per_s", "{:,.1f}"),
        ("latency p50 ms", "latency_ms_p50", "{}"),
        ("latency p99 ms", "latency_ms_p99", "{}"),
        ("latency max ms", "latency_ms_max", "{}"),
        ("wall s (publish+drain)", "wall_seconds", "{}"),
        ("broker CPU s", "broker_cpu_s", "{}"),
        ("broker CPU % of 1 core", "broker_cpu_pct", "{}"),
        ("subscriber procs CPU s", "clients_cpu_s", "{}"),
        ("publisher CPU s", "publisher_cpu_s", "{}"),
        ("client side CPU % (CPU1)", "client_side_cpu_pct", "{}"),
        ("broker CPU us/delivery", "broker_cpu_us_per_delivery", "{}"),
        ("redis CPU s", "redis_cpu_s", "{}"),
        ("redis CPU us/delivery", "redis_cpu_us_per_delivery", "{}"),
        ("client CPU us/delivery", "client_cpu_us_per_delivery", "{}"),
        ("other load % CPU0", ("other_load_pct", "cpu0"), "{}"),
        ("other load % CPU1", ("other_load_pct", "cpu1"), "{}"),
        ("steal % CPU0/CPU1", "steal", "{}"),
        ("disconnects", "disconnects", "{}"),
        ("bottleneck", "bottleneck", "{}"),
    ]
    title_a = f"(a) {args.rate:g}/s x {args.duration:g}s"
    title_b = f"(b) batch x{args.batch}, max"
    print()
    print(f"fan-out benchmark: {out['subscribers']} subscribers on one channel, {PAYLOAD_BYTES}-byte payload, "
          f"broker build: {out['build'].upper()}, engine: {out['engine']} ({out['nodes']} node(s))")
    print(f"broker RSS: idle {out['rss_kb_idle']:,} KB, {out['subscribers']} connected {out['rss_kb_connected']:,} KB "
          f"-> {out['rss_kb_per_connection']} KB/connection; after scenarios {out['rss_kb_after']:,} KB; "
          f"connect+subscribe took {out['connect_seconds']}s")
    print(f"{'':28} {title_a:>26} {title_b:>26}")
    def get(r, key):
        if key == "steal":
            st = r["machine_cpu_steal_pct"]
            return "/".join(str(st.get(c, "-")) for c in ("cpu0", "cpu1"))
        if isinstance(key, tuple):
            return (r.get(key[0]) or {}).get(key[1])
        return r.get(key)
    for label, key, fmt in rows:
        va, vb = get(a, key), get(b, key)
        fa = fmt.format(va) if va is not None else "-"
        fb = fmt.format(vb) if vb is not None else "-"
        print(f"{label:28} {fa:>26} {fb:>26}")
    if a["close_codes"] or b["close_codes"]:
        print(f"close codes: (a) {a['close_codes']} (b) {b['close_codes']}")
    if "MACHINE BUSY" in a["bottleneck"] + b["bottleneck"]:
        print("WARNING: other processes used >=15% of a benchmark CPU during a scenario: numbers are unreliable.")
    if out["build"] == "debug":
        print("NOTE: DEBUG build of the broker - expect release to be much faster.")
    print(json.dumps(out, separators=(",", ":")))


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
