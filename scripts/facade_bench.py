#!/usr/bin/env python3
"""Benchmark of the Scrumble facade: feed reads on 10,000 posts, comment creation, and the time until a
real-time subscriber receives a new comment.

Run by scripts/facade-bench.sh, which builds the release binaries, starts PostgreSQL, the broker and the
facade (pinned to CPUs), and passes their URLs/pids here. This script:

  setup    signs up users through the API, creates the workspaces, seeds 10,000 posts (plus comments and
           reactions, so the feed's per-post aggregates do real work) directly with SQL;
  phase 1  wrk GET  /feed?limit=20                 first page of the feed          (req/s, p50/p99)
  phase 2  wrk GET  /feed?limit=20&cursor=<deep>   a page ~5,000 posts deep        (req/s, p50/p99)
  phase 3  wrk POST /posts/{id}/comments           comment creation, closed loop   (req/s, p50/p99),
           then how many outbox rows were still unpublished when wrk stopped and how long the relay took
           to drain them (every comment enqueues 2 rows: workspace event + the post author's notification)
  phase 4  N sequential comments from Python with a centrifuge-python subscriber on workspace:<id> and the
           post author's personal channel: request→201 and request→publication received (p50/p99/max)
  phase 5  phase 4 again (paced) while wrk runs phase 3's comment load on another workspace

For every wrk run it also reports the CPU used by the facade, PostgreSQL (postmaster + all backends), the
broker and wrk itself, as % of one core (utime+stime deltas from /proc).
"""
from __future__ import annotations

import argparse
import atexit
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

import requests

CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------------- helpers

def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


def proc_ticks(pid: int) -> int:
    """utime + stime of a process (all its threads), in clock ticks; 0 if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = raw[raw.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # fields 14 and 15 of stat(5)


def pg_pids(postmaster: int) -> list[int]:
    """The postmaster and all its children (backends, walwriter, ...)."""
    pids = [postmaster]
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(raw[raw.rindex(")") + 2:].split()[1]) == postmaster:
            pids.append(int(entry))
    return pids


class CPUMeter:
    """CPU of the facade, PostgreSQL and the broker between start() and stop(), as % of one core."""

    def __init__(self, pids: dict[str, int], postmaster: int) -> None:
        self.pids, self.postmaster = pids, postmaster

    @staticmethod
    def _machine_busy() -> int:
        """Busy ticks of the whole machine (all CPUs), from /proc/stat."""
        f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] if len(f) > 7 else 0)  # user nice system irq softirq steal

    def _sample(self) -> dict[str, int]:
        s = {name: proc_ticks(pid) for name, pid in self.pids.items()}
        s["machine"] = self._machine_busy()
        # Backends are long-lived (the facade's pool), so summing live children is accurate enough.
        s["postgres"] = sum(proc_ticks(p) for p in pg_pids(self.postmaster))
        return s

    def start(self) -> None:
        self.t0, self.s0 = time.monotonic(), self._sample()

    def stop(self) -> dict[str, float]:
        s1, wall = self._sample(), time.monotonic() - self.t0
        return {k: 100.0 * (s1[k] - self.s0[k]) / CLK_TCK / wall for k in s1}


class API:
    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()

    def call(self, method: str, path: str, token: str | None = None, body=None, expect: int = 200, **params):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        r = self.http.request(method, self.base + path, json=body, headers=headers, params=params, timeout=30)
        if r.status_code != expect:
            raise RuntimeError(f"{method} {path} -> {r.status_code} (expected {expect}): {r.text[:500]}")
        return r.json() if r.content else None

    def signup(self, name: str) -> tuple[str, str]:
        s = self.call("POST", "/v1/auth/signup", body={"email": f"{name}-{uuid.uuid4().hex[:8]}@bench.example",
                                                       "password": "correct horse battery"}, expect=201)
        return s["token"], s["user"]["id"]


def psql(url: str, sql: str) -> str:
    return subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


# ---------------------------------------------------------------------------------------------- setup

SEED_SQL = """
-- {members} members x {days} past local days = {posts} check-ins, ~3 comments and ~2 reactions per post
-- (same shape as Tests/FacadeTests/FeedExplainTests.swift). Dates end yesterday, so today's API
-- check-ins are not blocked by the one-per-day rule.
INSERT INTO users (email) SELECT 'seed' || i || '-{tag}@bench.example' FROM generate_series(1, {members}) i;
INSERT INTO members (workspace_id, user_id, display_name, role)
  SELECT '{ws}', u.id, split_part(u.email, '@', 1), 'member' FROM users u WHERE u.email LIKE '%-{tag}@bench.example';
CREATE TEMP TABLE seed_members AS SELECT id FROM members WHERE workspace_id = '{ws}' AND role = 'member';
INSERT INTO posts (workspace_id, member_id, kind, local_date, body, created_at)
  SELECT '{ws}', m.id, 'checkin', d::date, 'Plan for ' || d::date || ': finish the thing, review PRs, lunch',
         d + interval '8 hours' + (row_number() OVER (PARTITION BY d ORDER BY m.id)) * interval '1 minute'
  FROM seed_members m,
       generate_series(date_trunc('day', now()) - interval '{days} days',
                       date_trunc('day', now()) - interval '1 day', interval '1 day') d;
INSERT INTO comments (post_id, member_id, body, created_at)
  SELECT p.id, m.id, 'Sounds good, ping me for the review', p.created_at + interval '1 hour' * k
  FROM posts p CROSS JOIN generate_series(1, 3) k
  JOIN LATERAL (SELECT id FROM seed_members ORDER BY md5(p.id::text || k) LIMIT 1) m ON true
  WHERE p.workspace_id = '{ws}';
INSERT INTO reactions (member_id, post_id, emoji)
  SELECT m.id, p.id, e FROM posts p CROSS JOIN unnest(ARRAY['👍', '🎉']) e
  JOIN LATERAL (SELECT id FROM seed_members ORDER BY md5(p.id::text || e) LIMIT 1) m ON true
  WHERE p.workspace_id = '{ws}';
ANALYZE;
"""


def setup(api: API, db: str, posts: int) -> dict:
    members = 50
    days = (posts + members - 1) // members
    owner, owner_id = api.signup("bench-owner")      # reads the feed and writes the load comments
    ws = api.call("POST", "/v1/workspaces", owner, {"name": "Bench", "time_zone": "UTC"}, expect=201)["id"]
    t0 = time.monotonic()
    psql(db, SEED_SQL.format(ws=ws, members=members, days=days, posts=members * days, tag=uuid.uuid4().hex[:6]))
    counts = psql(db, f"SELECT (SELECT count(*) FROM posts WHERE workspace_id = '{ws}') || ' posts, ' || "
                      f"(SELECT count(*) FROM comments) || ' comments, ' || (SELECT count(*) FROM reactions) || ' reactions'")
    log(f"seeded workspace {ws}: {counts} in {time.monotonic() - t0:.1f}s")
    # Comments under load go to the 100 most recent posts (the ones people actually see).
    load_posts = psql(db, f"SELECT string_agg(id::text, ',') FROM (SELECT id FROM posts WHERE workspace_id = '{ws}' "
                          f"ORDER BY created_at DESC LIMIT 100) x").split(",")

    # A cursor ~5,000 posts deep, obtained the way a client would (following next_cursor).
    cursor, seen = None, 0
    while seen < posts // 2:
        page = api.call("GET", f"/v1/workspaces/{ws}/feed", owner, limit=100, **({"cursor": cursor} if cursor else {}))
        seen += len(page["items"])
        cursor = page["next_cursor"]
    first = api.call("GET", f"/v1/workspaces/{ws}/feed", owner, limit=20)
    assert len(first["items"]) == 20 and first["items"][0]["comment_count"] >= 1, first["items"][0]

    # The probe workspace: Alice posts, Bob comments, Alice's client subscribes. Kept separate from the
    # load workspace so the Python subscriber receives only the probe's publications.
    alice, alice_id = api.signup("alice")
    bob, bob_id = api.signup("bob")
    probe_ws = api.call("POST", "/v1/workspaces", alice, {"name": "Probe", "time_zone": "UTC"}, expect=201)["id"]
    invite = api.call("POST", f"/v1/workspaces/{probe_ws}/invites", alice, {}, expect=201)
    api.call("POST", f"/v1/invites/{invite['token']}/accept", bob, {"display_name": "Bob"}, expect=200)
    probe_post = api.call("POST", f"/v1/workspaces/{probe_ws}/posts", alice,
                          {"kind": "checkin", "body": "Today: benchmark the facade"}, expect=201)["id"]
    return dict(owner=owner, ws=ws, load_posts=load_posts, deep_cursor=cursor, deep_offset=seen,
                alice=alice, alice_id=alice_id, bob=bob, probe_ws=probe_ws, probe_post=probe_post)


# ---------------------------------------------------------------------------------------------- wrk

COMMENT_LUA = """
-- POST a comment on a random one of the given posts.
local paths = {{{paths}}}
local n = 0
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer {token}"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  local body = '{{"body":"load comment ' .. n .. ' from wrk, looks good to me"}}'
  return wrk.format("POST", paths[math.random(#paths)], nil, body)
end
"""

def top_statements(db: str, n: int = 4) -> list[tuple[int, float, float, str]]:
    """The statements that took the most PostgreSQL time since the last reset:
    (calls, mean ms, total ms, query start)."""
    rows = psql(db, f"""
        SELECT calls, round(mean_exec_time::numeric, 3), round(total_exec_time::numeric, 0),
               left(regexp_replace(query, '\\s+', ' ', 'g'), 90)
        FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND query NOT LIKE '%pg_stat_statements%'
        ORDER BY total_exec_time DESC LIMIT {n}""")
    out = []
    for line in rows.splitlines():
        calls, mean, total, query = line.split("|", 3)
        out.append((int(calls), float(mean), float(total), query))
    return out


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def parse_wrk(out: str) -> dict:
    def ms(s: str) -> float:
        m = re.match(r"([\d.]+)(us|ms|s|m)$", s)
        return float(m.group(1)) * UNITS[m.group(2)]

    r: dict = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for p in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{p}%\s+(\S+)", out, re.M)
        r[f"p{p}"] = ms(m.group(1)) if m else float("nan")
    r["requests"] = int(re.search(r"(\d+) requests in", out).group(1))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    r["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: (.*)", out)
    r["socket_errors"] = m.group(1).strip() if m else ""
    return r


def run_wrk(args, name: str, url: str, token: str, meter: CPUMeter, lua: str | None = None) -> dict:
    cmd = ["taskset", "-c", args.loadgen_cpus, "wrk", f"-t{args.threads}", f"-c{args.connections}",
           f"-d{args.duration}s", "--latency", "-H", f"Authorization: Bearer {token}"]
    if lua:
        cmd += ["-s", lua]
    log(f"{name}: {' '.join(cmd[:8])} ... {url}")
    if args.pg_stats:
        psql(args.database_url, "SELECT pg_stat_statements_reset()")
    meter.start()
    proc = subprocess.Popen(cmd + [url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read()
    # Reap wrk ourselves to get its own CPU time (rusage of that child only).
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = meter.stop()
    cpu["wrk"] = 100.0 * (usage.ru_utime + usage.ru_stime) / args.duration
    # Everything else on the machine (the Python probe, and any unrelated load that would skew the numbers).
    cpu["other"] = cpu.pop("machine") - sum(cpu[k] for k in ("facade", "postgres", "broker", "wrk"))
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed:\n{out}")
    r = parse_wrk(out)
    r["cpu"] = cpu
    r["sql"] = top_statements(args.database_url) if args.pg_stats else []
    r["raw"] = out
    return r


# ---------------------------------------------------------------------------------------------- e2e

class Probe:
    """Alice's realtime client (workspace + personal channel) and Bob's HTTP session posting comments."""

    def __init__(self, args, api: API, ctx: dict) -> None:
        self.args, self.api, self.ctx = args, api, ctx
        self.arrived: dict[tuple[str, str], float] = {}      # (channel kind, comment id) -> monotonic time
        self.waiters: dict[tuple[str, str], asyncio.Future] = {}

    def _on_pub(self, kind: str, data: dict) -> None:
        now = time.perf_counter()
        if kind == "workspace":
            if data.get("type") != "comment.created":
                return
            cid = data["data"]["id"]
        else:  # personal: notification.created whose payload embeds the comment
            comment = (data.get("data") or {}).get("payload", {}).get("comment") or {}
            cid = comment.get("id")
            if cid is None:
                m = re.search(r'"comment":\s*\{[^{}]*?"id":\s*"([0-9a-f-]{36})"', json.dumps(data))
                cid = m.group(1) if m else None
            if cid is None:
                return
        key = (kind, cid)
        self.arrived[key] = now
        fut = self.waiters.pop(key, None)
        if fut and not fut.done():
            fut.set_result(now)

    async def arrival(self, kind: str, cid: str, timeout: float = 30.0) -> float:
        key = (kind, cid)
        if key in self.arrived:
            return self.arrived[key]
        fut = asyncio.get_running_loop().create_future()
        self.waiters[key] = fut
        return await asyncio.wait_for(fut, timeout)

    async def connect(self) -> None:
        from centrifuge import Client, SubscriptionEventHandler

        probe = self

        def handler(kind: str):
            class H(SubscriptionEventHandler):
                async def on_publication(self, c):
                    probe._on_pub(kind, c.pub.data)
            return H()

        alice = self.ctx["alice"]
        conn = self.api.call("GET", "/v1/realtime/token", alice)
        channel = f"workspace:{self.ctx['probe_ws']}"
        sub_token = self.api.call("GET", "/v1/realtime/subscription-token", alice, channel=channel)["token"]
        self.client = Client(self.args.broker_ws, token=conn["token"], timeout=10.0)
        self.ws_sub = self.client.new_subscription(channel, events=handler("workspace"), token=sub_token)
        self.personal_sub = self.client.new_subscription(f"personal:#{self.ctx['alice_id']}", events=handler("personal"))
        await self.client.connect()
        await self.ws_sub.subscribe()
        await self.personal_sub.subscribe()
        await self.ws_sub.ready(timeout=10)
        await self.personal_sub.ready(timeout=10)

    async def run(self, count: int, interval: float = 0.0) -> dict:
        """`count` sequential comments by Bob on Alice's post; returns per-comment latencies (ms)."""
        import aiohttp

        url = f"{self.api.base}/v1/workspaces/{self.ctx['probe_ws']}/posts/{self.ctx['probe_post']}/comments"
        headers = {"Authorization": f"Bearer {self.ctx['bob']}"}
        res = {"http": [], "workspace": [], "personal": []}
        async with aiohttp.ClientSession(headers=headers) as http:
            for i in range(count):
                t0 = time.perf_counter()
                async with http.post(url, json={"body": f"probe comment {i}"}) as r:
                    body = await r.json()
                    t_resp = time.perf_counter()
                    if r.status != 201:
                        raise RuntimeError(f"comment -> {r.status}: {body}")
                cid = body["id"]
                t_ws, t_personal = await asyncio.gather(self.arrival("workspace", cid), self.arrival("personal", cid))
                res["http"].append((t_resp - t0) * 1000)
                res["workspace"].append((t_ws - t0) * 1000)
                res["personal"].append((t_personal - t0) * 1000)
                if interval:
                    await asyncio.sleep(max(0.0, interval - (time.perf_counter() - t0)))
        return res

    async def close(self) -> None:
        await self.client.disconnect()


def summarize(values: list[float]) -> dict:
    return {"n": len(values), "p50": statistics.median(values), "p99": percentile(values, 99), "max": max(values),
            "mean": statistics.fmean(values)}


# ---------------------------------------------------------------------------------------------- main

def outbox_pending(db: str) -> int:
    return int(psql(db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL"))


def wait_outbox_drained(db: str, timeout: float = 300) -> tuple[int, float]:
    """Pending outbox rows now, and seconds until the relay published them all."""
    t0, pending = time.monotonic(), outbox_pending(db)
    while outbox_pending(db) > 0:
        if time.monotonic() - t0 > timeout:
            return pending, float("inf")
        time.sleep(0.1)
    return pending, time.monotonic() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--facade", required=True, help="facade base URL")
    ap.add_argument("--broker-ws", required=True, help="broker WebSocket URL")
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--facade-pid", type=int, required=True)
    ap.add_argument("--broker-pid", type=int, required=True)
    ap.add_argument("--postmaster-pid", type=int, required=True)
    ap.add_argument("--posts", type=int, default=10_000)
    ap.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--e2e-count", type=int, default=300)
    ap.add_argument("--loadgen-cpus", default="1", help="taskset CPU list for wrk")
    ap.add_argument("--pin-note", default="", help="printed with the results")
    ap.add_argument("--raw", action="store_true", help="also print wrk's raw output")
    ap.add_argument("--no-pg-stats", dest="pg_stats", action="store_false",
                    help="skip the pg_stat_statements summary (the extension must exist in the database)")
    args = ap.parse_args()

    api = API(args.facade)
    db = args.database_url
    ctx = setup(api, db, args.posts)
    meter = CPUMeter({"facade": args.facade_pid, "broker": args.broker_pid}, args.postmaster_pid)
    tmp = Path(tempfile.mkdtemp(prefix="facade-bench-lua-"))
    atexit.register(shutil.rmtree, tmp, True)
    base = args.facade
    ws = ctx["ws"]
    results: list[tuple[str, dict]] = []

    # Phase 1/2: feed reads. Same viewer, same page, keep-alive connections: measures the facade's
    # request handling + the one-statement feed query (20 posts with aggregates) + JSON building.
    results.append(("GET feed, first page (limit=20)",
                    run_wrk(args, "feed first page", f"{base}/v1/workspaces/{ws}/feed?limit=20", ctx["owner"], meter)))
    deep = urllib.parse.quote(ctx["deep_cursor"])
    results.append((f"GET feed, page after {ctx['deep_offset']} posts",
                    run_wrk(args, "feed deep page", f"{base}/v1/workspaces/{ws}/feed?limit=20&cursor={deep}",
                            ctx["owner"], meter)))

    # Phase 3: comment creation under closed-loop load: transaction with membership check, insert,
    # 2 outbox rows (workspace event + notification of the post author) and a NOTIFY per commit.
    lua = tmp / "comment.lua"
    paths = ",".join(f'"/v1/workspaces/{ws}/posts/{p}/comments"' for p in ctx["load_posts"])
    lua.write_text(COMMENT_LUA.format(paths=paths, token=ctx["owner"]))
    outbox_before = int(psql(db, "SELECT count(*) FROM outbox"))
    r = run_wrk(args, "POST comments", base, ctx["owner"], meter, lua=str(lua))
    r["outbox_rows"] = int(psql(db, "SELECT count(*) FROM outbox")) - outbox_before
    r["pending"], r["drain_s"] = wait_outbox_drained(db)
    results.append(("POST comment (wrk, no subscriber timing)", r))
    log(f"comments: {r['outbox_rows']} outbox rows; {r['pending']} unpublished when wrk stopped, "
        f"drained in {r['drain_s']:.1f}s")

    # Phase 4: end-to-end latency, idle system: request -> 201, request -> publication on
    # workspace:<id> (comment.created) and on Alice's personal channel (notification.created).
    async def e2e():
        probe = Probe(args, api, ctx)
        await probe.connect()
        try:
            await probe.run(10)  # warm-up (connection setup, first publications)
            idle = await probe.run(args.e2e_count)

            # Phase 5: the same probe, paced at 10/s, while wrk creates comments on the load workspace.
            box: dict = {}

            def load():
                box["r"] = run_wrk(args, "POST comments + probe", base, ctx["owner"], meter, lua=str(lua))
                box["r"]["pending"] = outbox_pending(db)  # backlog the moment wrk stops

            t = threading.Thread(target=load)
            t.start()
            await asyncio.sleep(1.0)
            loaded = await probe.run(max(10, int((args.duration - 2) * 10)), interval=0.1)
            await asyncio.to_thread(t.join)
            return idle, loaded, box["r"]
        finally:
            await probe.close()

    idle, loaded, wrk_under = asyncio.run(e2e())
    # The probe outlives wrk by ~1 s, so the drain time here is measured from the probe's end.
    wrk_under["drain_s"] = wait_outbox_drained(db)[1]

    # ------------------------------------------------------------------------------------------ report
    print()
    print("=" * 100)
    print(f"Scrumble facade benchmark — {args.posts} seeded posts, wrk -t{args.threads} -c{args.connections} "
          f"-d{args.duration}s (keep-alive)")
    if args.pin_note:
        print(args.pin_note)
    print("=" * 100)
    hdr = f"{'wrk run':<44}{'req/s':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'errors':>8}" \
          f"{'facade':>8}{'pg':>7}{'broker':>8}{'wrk':>6}{'other':>7}"
    print(hdr)
    print("-" * len(hdr))
    for name, r in results + [("POST comment while probe runs (phase 5)", wrk_under)]:
        errs = r["non2xx"] + (1 if r["socket_errors"] else 0)
        c = r["cpu"]
        print(f"{name:<44}{r['rps']:>9.0f}{r['p50']:>9.2f}{r['p90']:>9.2f}{r['p99']:>9.2f}{errs:>8}"
              f"{c['facade']:>7.0f}%{c['postgres']:>6.0f}%{c['broker']:>7.0f}%{c['wrk']:>5.0f}%{c['other']:>6.0f}%")
    print("(CPU = % of one core during the run; 200% = both cores; other = rest of the machine, incl. the probe)")
    for name, r in results + [("phase 5 wrk", wrk_under)]:
        if "pending" in r:
            print(f"{name}: outbox rows unpublished when wrk stopped: {r['pending']}, "
                  f"relay drained them in {r['drain_s']:.1f}s")
    print()
    if args.pg_stats:
        print()
        print("PostgreSQL time per wrk run (pg_stat_statements, top statements by total time):")
        for name, r in results + [("POST comment while probe runs (phase 5)", wrk_under)]:
            print(f"  {name}  ({r['requests']} requests)")
            for calls, mean, total, query in r["sql"]:
                print(f"    {calls / max(1, r['requests']):5.2f}/req  mean {mean:7.3f} ms  total {total / 1000:6.2f} s  {query}")
    print()
    hdr2 = f"{'comment end-to-end (ms from request start)':<66}{'n':>5}{'p50':>9}{'p99':>9}{'max':>9}{'mean':>9}"
    print(hdr2)
    print("-" * len(hdr2))
    for label, res in (("idle", idle), ("under wrk load, 10/s", loaded)):
        for key, what in (("http", "201 received"), ("workspace", "comment.created on workspace:<id>"),
                          ("personal", "notification.created on personal:#<author>")):
            s = summarize(res[key])
            print(f"{label + ': ' + what:<66}{s['n']:>5}{s['p50']:>9.2f}{s['p99']:>9.2f}{s['max']:>9.2f}{s['mean']:>9.2f}")
    if args.raw:
        for name, r in results + [("phase 5", wrk_under)]:
            print(f"\n----- wrk: {name}\n{r['raw']}")


if __name__ == "__main__":
    main()
