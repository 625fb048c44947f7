"""Real Redis Cluster topologies on loopback for the interop suite (redis-server and redis-cli from PATH).

`ClusterTopology(masters=3, replicas_per_master=1)`: cluster-enabled nodes on free ports in a temp dir, joined by
`redis-cli --cluster create`, ready once every node's `CLUSTER INFO` says `cluster_state:ok` and every node sees
every slot assigned. Helpers to kill a master (SIGKILL), wait for a replica's promotion, restart a killed node (it
rejoins as a replica), and move slots with `redis-cli --cluster reshard`.

`stall_replication(replica)` cuts a replica off its master's replication stream (it stays promotable), so that
what the master acknowledges afterwards is lost when the master dies.

`UncoveredCluster`: cluster-enabled nodes that know each other but leave part of the 16384 slots unassigned
(`cluster_state:fail`). `StandaloneRedis`: a plain, non-cluster redis-server.

Every node gets its own client port and cluster-bus port (`--cluster-port`, Redis >= 7), so nothing depends on
`port + 10000` being free.
"""
from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from redis_servers import redis_command, wait_until_answers

LOOPBACK = "127.0.0.1"
SLOTS = 16384

# Short node timeout so that failure detection and promotion take a couple of seconds; validity factor 0 so that
# a replica always considers itself fit for failover, however long ago it last heard from its master.
CLUSTER_ARGS = [
    "--cluster-enabled", "yes",
    "--cluster-config-file", "nodes.conf",
    "--cluster-node-timeout", "1000",
    "--cluster-replica-validity-factor", "0",
    "--cluster-require-full-coverage", "yes",
    "--cluster-allow-replica-migration", "no",
    # A replica's first sync starts at once (Redis 7 waits 5 s by default for more replicas to share a diskless
    # transfer): until it has synced, a replica has nothing to take over with.
    "--repl-diskless-sync-delay", "0",
]
PLAIN_ARGS = ["--bind", LOOPBACK, "--save", "", "--appendonly", "no"]


def _free_ports(n: int) -> List[int]:
    """n distinct free ports (all sockets held until every one is chosen, so none repeats)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((LOOPBACK, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def wait_for(condition: Callable[[], object], what: str, timeout: float = 20.0, interval: float = 0.05):
    """Polls `condition` (errors talking to Redis count as not yet) until truthy; returns its value."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            value = condition()
            if value:
                return value
            last = value
        except (OSError, RuntimeError) as e:
            last = e
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for: {what} (last: {last!r})")
        time.sleep(interval)


def key_slot(key: str) -> int:
    """The hash slot of a key, as CLUSTER KEYSLOT computes it: CRC16 (XMODEM) of the hash tag (the part between the
    first `{` and the next `}`, when not empty) or of the whole key, modulo 16384."""
    data = key.encode()
    start = data.find(b"{")
    if start >= 0:
        end = data.find(b"}", start + 1)
        if end > start + 1:
            data = data[start + 1:end]
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc % SLOTS


def cluster_info(port: int) -> Dict[str, str]:
    text = redis_command(port, "CLUSTER", "INFO", timeout=1.0) or ""
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


class ClusterNode:
    """One line of `CLUSTER NODES`."""

    def __init__(self, line: str) -> None:
        parts = line.split()
        self.id = parts[0]
        addr = parts[1].split(",")[0]  # ip:port@cport[,hostname]
        self.port = int(addr.split("@")[0].rsplit(":", 1)[1])
        self.flags = set(parts[2].split(","))
        self.master_id = None if parts[3] == "-" else parts[3]
        self.link = parts[7]
        self.slots: List[Tuple[int, int]] = []
        for s in parts[8:]:
            if s.startswith("["):  # a slot being imported/migrated: [slot->-id] / [slot-<-id]
                continue
            lo, _, hi = s.partition("-")
            self.slots.append((int(lo), int(hi or lo)))

    @property
    def is_master(self) -> bool:
        return "master" in self.flags

    @property
    def failed(self) -> bool:
        return "fail" in self.flags or "fail?" in self.flags or "noaddr" in self.flags

    @property
    def slot_count(self) -> int:
        return sum(hi - lo + 1 for lo, hi in self.slots)

    def __repr__(self) -> str:
        return f"<{self.port} {','.join(sorted(self.flags))} slots={self.slot_count}>"


class _RedisProcesses:
    """redis-server processes, one directory each, started and stopped by port."""

    def __init__(self, prefix: str) -> None:
        self.server = shutil.which("redis-server")
        self.cli = shutil.which("redis-cli")
        assert self.server and self.cli, "redis-server/redis-cli not on PATH: run scripts/install-system-deps.sh --test"
        self.dir = Path(tempfile.mkdtemp(prefix=prefix))
        self.procs: Dict[int, subprocess.Popen] = {}
        self.args: Dict[int, List[str]] = {}

    def _spawn(self, port: int, args: List[str]) -> None:
        d = self.dir / str(port)
        d.mkdir(exist_ok=True)
        self.args[port] = args
        with open(d / "log", "ab") as log:
            self.procs[port] = subprocess.Popen(
                [self.server, "--port", str(port), "--dir", str(d), *PLAIN_ARGS, *args],
                cwd=d, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        wait_until_answers(port, self.procs[port], lambda: self.log(port), f"redis-server on {port}")

    def log(self, port: int) -> str:
        try:
            return (self.dir / str(port) / "log").read_text(errors="replace")
        except OSError:
            return ""

    def alive(self, port: int) -> bool:
        p = self.procs.get(port)
        return p is not None and p.poll() is None

    def kill(self, port: int) -> None:
        """SIGKILL: no goodbye to the cluster, no flush."""
        p = self.procs[port]
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.wait(timeout=5)

    def stop(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.kill()
        for p in self.procs.values():
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


class ClusterTopology(_RedisProcesses):
    """`masters` masters with `replicas_per_master` replicas each, all slots covered, cluster_state ok."""

    def __init__(self, masters: int = 3, replicas_per_master: int = 1) -> None:
        assert masters >= 3, "redis-cli --cluster create needs at least 3 masters"
        super().__init__("redis-cluster-")
        self.masters = masters
        self.replicas_per_master = replicas_per_master
        n = masters * (1 + replicas_per_master)
        ports = _free_ports(2 * n)
        self.ports = ports[:n]
        self.bus_ports = dict(zip(self.ports, ports[n:]))

    # -- lifecycle -------------------------------------------------------------------------------------------------
    def _spawn_node(self, port: int) -> None:
        self._spawn(port, [*CLUSTER_ARGS, "--cluster-port", str(self.bus_ports[port])])

    def start(self) -> "ClusterTopology":
        try:
            for port in self.ports:
                self._spawn_node(port)
            p = subprocess.run(
                [self.cli, "--cluster", "create", *(f"{LOOPBACK}:{port}" for port in self.ports),
                 "--cluster-replicas", str(self.replicas_per_master), "--cluster-yes"],
                capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
            )
            assert p.returncode == 0, f"redis-cli --cluster create failed ({p.returncode}):\n{p.stdout}\n{p.stderr}"
            self.wait_ok(timeout=30)
            wait_for(lambda: len(self.master_ports()) == self.masters
                     and all(len(self.replicas_of(m)) == self.replicas_per_master for m in self.master_ports()),
                     "every master has its replicas", 20)
            self.wait_replicas_synced()
        except BaseException:
            self.stop()
            raise
        return self

    def restart(self, port: int) -> None:
        """Starts a killed node again with its nodes.conf: it rejoins (an old master as a replica of its successor)."""
        assert not self.alive(port), f"{port} is still running"
        self._spawn_node(port)

    def synced(self, port: int) -> bool:
        """A replica whose link to its master is up and whose initial sync is over."""
        info = redis_command(port, "INFO", "replication", timeout=1.0) or ""
        return ("role:slave" in info and "master_link_status:up" in info
                and "master_sync_in_progress:0" in info)

    def wait_replicas_synced(self, timeout: float = 30.0) -> None:
        """Until every live replica has synced with its master (what a master has, its replica has too, bar the
        last moment's writes)."""
        def all_synced():
            replicas = [n.port for n in self.nodes() if "slave" in n.flags and self.alive(n.port)]
            return replicas and all(self.synced(p) for p in replicas)

        wait_for(all_synced, "every replica synced with its master", timeout)

    # -- state -----------------------------------------------------------------------------------------------------
    @property
    def seeds(self) -> str:
        """Every node as `127.0.0.1:port`, comma-separated: one `cluster_address` entry."""
        return ",".join(f"{LOOPBACK}:{p}" for p in self.ports)

    def live_ports(self) -> List[int]:
        return [p for p in self.ports if self.alive(p)]

    def nodes(self, via: Optional[int] = None) -> List[ClusterNode]:
        """`CLUSTER NODES` as seen by `via` (default: the first live node)."""
        port = via if via is not None else self.live_ports()[0]
        text = redis_command(port, "CLUSTER", "NODES", timeout=1.0) or ""
        return [ClusterNode(line) for line in text.splitlines() if line.strip()]

    def master_ports(self) -> List[int]:
        """Live masters serving slots, by port (as the first live node sees them)."""
        return sorted(n.port for n in self.nodes() if n.is_master and n.slots and not n.failed and self.alive(n.port))

    def node_id(self, port: int) -> str:
        return redis_command(port, "CLUSTER", "MYID", timeout=1.0)

    def replicas_of(self, master_port: int) -> List[int]:
        mid = self.node_id(master_port) if self.alive(master_port) else self._id_of_port(master_port)
        return sorted(n.port for n in self.nodes() if n.master_id == mid and not n.failed)

    def replica_of(self, master_port: int) -> Optional[int]:
        """A live replica of `master_port` (None if it has none)."""
        replicas = [p for p in self.replicas_of(master_port) if self.alive(p)]
        return replicas[0] if replicas else None

    def _id_of_port(self, port: int) -> str:
        for n in self.nodes():
            if n.port == port:
                return n.id
        raise AssertionError(f"no node on port {port} in CLUSTER NODES")

    def slots_of(self, port: int) -> List[int]:
        """The slots `port` serves (as the first live node sees it)."""
        for n in self.nodes():
            if n.port == port:
                return [s for lo, hi in n.slots for s in range(lo, hi + 1)]
        return []

    def owner_of_slot(self, slot: int) -> Optional[int]:
        for n in self.nodes():
            if n.is_master and not n.failed and any(lo <= slot <= hi for lo, hi in n.slots):
                return n.port
        return None

    @staticmethod
    def keyslot(key: str) -> int:
        return key_slot(key)

    def is_ok(self) -> bool:
        """Every live node says cluster_state:ok, sees all slots assigned and ok, and agrees on who serves them."""
        views = []
        for port in self.live_ports():
            info = cluster_info(port)
            if info.get("cluster_state") != "ok" or info.get("cluster_slots_ok") != str(SLOTS):
                return False
            views.append(sorted((n.port, tuple(n.slots)) for n in self.nodes(port) if n.is_master and n.slots
                                and not n.failed))
        return bool(views) and all(v == views[0] for v in views)

    def wait_ok(self, timeout: float = 30.0) -> None:
        wait_for(self.is_ok, "cluster_state:ok on every node, all slots covered, one view", timeout)

    # -- faults and operations -------------------------------------------------------------------------------------
    def wait_promoted(self, old_master_port: int, timeout: float = 30.0) -> int:
        """Until a former replica of `old_master_port` (killed) is a master serving its slots and the cluster is ok
        again. Returns the new master's port."""
        old_id = self._id_of_port(old_master_port)
        candidates = [n.port for n in self.nodes() if n.master_id == old_id]

        def promoted():
            for port in candidates:
                if not self.alive(port):
                    continue
                me = next((n for n in self.nodes(port) if "myself" in n.flags), None)
                if me is not None and me.is_master and me.slots and self.is_ok():
                    return port
            return None

        return wait_for(promoted, f"a replica of {old_master_port} promoted", timeout)

    def stall_replication(self, replica_port: int) -> None:
        """Cuts `replica_port` off its master's replication stream (it keeps its place in the cluster and can still
        be promoted): a wrong `masterauth`, then its master link killed, so every resync attempt fails. Whatever the
        master acknowledges from now on only the master has."""
        assert redis_command(replica_port, "CONFIG", "SET", "masterauth", "stalled-on-purpose") == "OK"
        redis_command(replica_port, "CLIENT", "KILL", "TYPE", "master")
        wait_for(lambda: "master_link_status:down" in redis_command(replica_port, "INFO", "replication"),
                 f"replication to {replica_port} stalled", 5)

    def resume_replication(self, port: int) -> None:
        """Undoes `stall_replication` (the node may be a master by now: then only the setting is reset)."""
        assert redis_command(port, "CONFIG", "SET", "masterauth", "") == "OK"

    def reshard(self, from_port: int, to_port: int, slots: int, timeout: float = 120.0) -> subprocess.CompletedProcess:
        """Moves `slots` slots (the lowest-numbered ones `from_port` serves) with their keys to `to_port`."""
        p = subprocess.run(
            [self.cli, "--cluster", "reshard", f"{LOOPBACK}:{from_port}",
             "--cluster-from", self.node_id(from_port), "--cluster-to", self.node_id(to_port),
             "--cluster-slots", str(slots), "--cluster-yes", "--cluster-pipeline", "100"],
            capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
        )
        assert p.returncode == 0, f"redis-cli --cluster reshard failed ({p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr}"
        return p


class UncoveredCluster(_RedisProcesses):
    """`nodes` cluster-enabled masters that know each other; slots 0..covered-1 are assigned (split between the
    first nodes), the rest stay unassigned, so `cluster_state:fail` (with `covered=SLOTS`, a whole cluster of masters
    only). `extra_args` go to every redis-server."""

    def __init__(self, nodes: int = 3, covered: int = 10923, extra_args: Tuple[str, ...] = ()) -> None:
        super().__init__("redis-cluster-uncovered-")
        self.extra_args = list(extra_args)
        ports = _free_ports(2 * nodes)
        self.ports = ports[:nodes]
        self.bus_ports = dict(zip(self.ports, ports[nodes:]))
        self.covered = covered

    @property
    def seeds(self) -> str:
        return ",".join(f"{LOOPBACK}:{p}" for p in self.ports)

    def start(self) -> "UncoveredCluster":
        try:
            for port in self.ports:
                self._spawn(port, [*CLUSTER_ARGS, "--cluster-port", str(self.bus_ports[port]), *self.extra_args])
            first = self.ports[0]
            for port in self.ports[1:]:
                assert redis_command(first, "CLUSTER", "MEET", LOOPBACK, str(port), str(self.bus_ports[port])) == "OK"
            # The covered range split over all nodes but the last (which keeps none: "one master's slots unassigned").
            owners = self.ports[:-1] if len(self.ports) > 1 else self.ports
            step = -(-self.covered // len(owners))
            for i, port in enumerate(owners):
                lo, hi = i * step, min(self.covered, (i + 1) * step) - 1
                if lo <= hi:
                    assert redis_command(port, "CLUSTER", "ADDSLOTSRANGE", str(lo), str(hi)) == "OK"
            wait_for(lambda: all(cluster_info(p).get("cluster_known_nodes") == str(len(self.ports))
                                 and cluster_info(p).get("cluster_slots_assigned") == str(self.covered)
                                 for p in self.ports), "nodes know each other and the assigned slots", 20)
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def uncovered(self) -> Tuple[int, int]:
        return self.covered, SLOTS - 1


class StandaloneRedis(_RedisProcesses):
    """A plain redis-server (cluster mode off)."""

    def __init__(self) -> None:
        super().__init__("redis-standalone-")
        self.port = _free_ports(1)[0]

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def start(self) -> "StandaloneRedis":
        try:
            self._spawn(self.port, [])
        except BaseException:
            self.stop()
            raise
        return self
