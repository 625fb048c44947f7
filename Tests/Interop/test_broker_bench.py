"""broker-bench (Sources/BrokerBench) against a real broker: it counts every publication, and it spreads its
connections to a loopback server over several source addresses (LoopbackSources).

Functional only: no timing is asserted. The generator's debug build is the one `swift build` makes.
"""
import json
import os
import subprocess
import time

import pytest

from conftest import API_KEY, HMAC_SECRET, REPO_ROOT, base_config, deep_merge

BENCH_BIN = os.environ.get("BENCH_BIN") or str(REPO_ROOT / ".build" / "debug" / "broker-bench")


def bench_config():
    # The generator sends Origin: http://<host>:<port> of the server it connects to.
    return deep_merge(base_config(), {"client": {"allowed_origins": ["*"]}})


def bench_command(broker, scenarios, out):
    return [
        BENCH_BIN, "--url", broker.ws_url, "--api-key", API_KEY, "--secret", HMAC_SECRET,
        "--server-pid", str(broker.proc.pid), "--scenarios", scenarios, "--pause", "0", "--quiet",
        "--json", str(out),
    ]


@pytest.fixture
def bench_bin():
    if not os.access(BENCH_BIN, os.X_OK):
        pytest.fail(f"broker-bench not built: {BENCH_BIN} (run `swift build`)", pytrace=False)
    return BENCH_BIN


def test_fanout_and_churn_count_every_publication(broker_factory, bench_bin, tmp_path):
    broker = broker_factory(bench_config(), name="bench")
    out = tmp_path / "out.json"
    done = subprocess.run(bench_command(broker, "fanout:subs=200,rate=20,dur=1,churn:conc=4,dur=1", out),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    results = {r["kind"]: r for r in json.loads(out.read_text())}

    fanout = results["fanout"]
    assert fanout["connected"] == 200 and fanout["connectFailures"] == 0
    assert fanout["publications"] > 0
    assert fanout["expectedDeliveries"] == 200 * fanout["publications"]
    assert fanout["delivered"] == fanout["expectedDeliveries"]
    assert fanout["lost"] == 0 and fanout["duplicated"] == 0
    assert_cpu_split(fanout, fanout["delivered"])

    churn = results["churn"]
    assert churn["connected"] > 0 and churn["connectFailures"] == 0
    assert churn["delivered"] == churn["connected"] and churn["duplicated"] == 0
    assert_cpu_split(churn, churn["cycles"])


def test_subscriptions_from_the_token_channels_claim(broker_factory, bench_bin, tmp_path):
    """sub=token: each subscriber's channel goes in its connection token (a server-side subscription) and no
    subscribe command is sent. Were the claim not honoured, the connect reply would carry no `subs` and the
    generator would count every subscriber as failed; only a working subscription receives the publications."""
    broker = broker_factory(bench_config(), name="bench-token")
    out = tmp_path / "token.json"
    scenarios = "fanout:subs=100,rate=20,dur=1,sub=token,churn:conc=4,dur=1,sub=token"
    done = subprocess.run(bench_command(broker, scenarios, out), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    results = {r["kind"]: r for r in json.loads(out.read_text())}

    fanout = results["fanout"]
    assert fanout["connected"] == 100 and fanout["connectFailures"] == 0, fanout["failureReasons"]
    assert fanout["publications"] > 0
    assert fanout["delivered"] == 100 * fanout["publications"]
    assert fanout["lost"] == 0 and fanout["duplicated"] == 0

    churn = results["churn"]
    assert churn["connected"] > 0 and churn["connectFailures"] == 0, churn["failureReasons"]
    assert churn["delivered"] == churn["connected"]


def assert_cpu_split(result, ops):
    """The server's CPU per op is its CPU seconds over the ops, and the kernel part is within it (both read from
    /proc/PID/stat, utime and stime)."""
    assert result["serverCpuSeconds"] > 0
    assert 0 <= result["serverKernelCpuSeconds"] <= result["serverCpuSeconds"]
    assert result["serverMicrosPerOp"] == pytest.approx(1e6 * result["serverCpuSeconds"] / ops, abs=0.01)
    assert 0 <= result["serverKernelMicrosPerOp"] <= result["serverMicrosPerOp"]
    assert result["generatorMicrosPerOp"] > 0
    if "connectServerMicros" in result:
        assert 0 <= result["connectServerKernelMicros"] <= result["connectServerMicros"]
        assert 0 <= result["connectGeneratorKernelMicros"] <= result["connectGeneratorMicros"]


def client_sources(port):
    """Local addresses of the established client sockets connected to 127.0.0.1:port."""
    listing = subprocess.run(["ss", "-Htn", "state", "established", f"( dport = :{port} )"],
                             capture_output=True, text=True, check=True).stdout
    return [line.split()[-2].rsplit(":", 1)[0] for line in listing.splitlines() if line.strip()]


def test_loopback_connections_leave_from_sixteen_addresses(broker_factory, bench_bin, tmp_path):
    broker = broker_factory(bench_config(), name="bench-idle")
    subs = 64
    gen = subprocess.Popen(bench_command(broker, f"idle:subs={subs},dur=20", tmp_path / "idle.json"),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        # Wait for the idle phase: every subscriber connected (the ramp takes well under a second). The
        # generator's server-API connections are not subscribers; they leave from 127.0.0.1.
        deadline = time.monotonic() + 30
        subscribers = []
        while time.monotonic() < deadline and gen.poll() is None:
            subscribers = [a for a in client_sources(broker.port) if a != "127.0.0.1"]
            if len(subscribers) >= subs:
                break
            time.sleep(0.05)
        assert len(subscribers) == subs, f"{len(subscribers)} subscribers seen; generator exit {gen.poll()}"
        assert set(subscribers) == {f"127.0.0.{2 + i}" for i in range(16)}
    finally:
        gen.kill()
        gen.wait(timeout=10)
