#!/usr/bin/env python3
"""Runs centrifuge-python's own server tests (tests/test_client.py from its sdist) against the broker.

The sdist's docker-compose.yml says how upstream configures Centrifugo for these tests; we read its
`environment` list and start the broker with exactly those CENTRIFUGO_* variables (no config file), on the
port the tests expect (8000). The tests run over both JSON and Protobuf.
"""
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request

VERSION = os.environ.get("CENTRIFUGE_PYTHON_VERSION", "0.7.0")
ROOT = pathlib.Path(__file__).resolve().parent.parent
BROKER = os.environ.get("BROKER_BIN", str(ROOT / ".build" / "debug" / "broker"))
PORT = 8000  # hard-coded in the SDK's tests


def compose_environment(compose_text: str) -> dict:
    """The `- KEY=VALUE` entries of the compose file's environment list."""
    env = {}
    for line in compose_text.splitlines():
        m = re.match(r"\s*-\s*(CENTRIFUGO_[A-Z0-9_]+)=(.*)$", line)
        if m:
            env[m.group(1)] = m.group(2).strip().strip('"')
    return env


def wait_until_serving(proc, deadline_s=20.0):
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"broker exited with {proc.returncode} during start-up")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/connection/websocket", timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("broker did not answer on port 8000 in time (is the port taken?)")


def main() -> int:
    work = pathlib.Path(tempfile.mkdtemp(prefix="sdk-suite-"))
    try:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
             f"centrifuge-python=={VERSION}", "-d", str(work)],
            check=True,
        )
        archive = next(work.glob("centrifuge_python-*.tar.gz"))
        with tarfile.open(archive) as tar:
            tar.extractall(work, filter="data")
        src = next(p for p in work.iterdir() if p.is_dir())
        env = dict(os.environ)
        env.update(compose_environment((src / "docker-compose.yml").read_text()))
        env["CENTRIFUGO_HTTP_SERVER_ADDRESS"] = "127.0.0.1"
        env["CENTRIFUGO_HTTP_SERVER_PORT"] = str(PORT)
        env["CENTRIFUGO_LOG_LEVEL"] = "info"
        log = open(work / "broker.log", "w")
        broker = subprocess.Popen([BROKER, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_serving(broker)
            # The tests import the installed `centrifuge` package; run them from the sdist's root.
            result = subprocess.run(
                [sys.executable, "-m", "unittest", "-v", "tests.test_client"],
                cwd=src, timeout=600, capture_output=True, text=True,
            )
            tail = [l for l in result.stderr.splitlines() if re.match(r"^(Ran |OK|FAILED|FAIL:|ERROR:)", l)]
            print("\n".join(tail))
            if result.returncode != 0:
                print(result.stderr[-20000:])
            return result.returncode
        finally:
            broker.send_signal(signal.SIGTERM)
            try:
                broker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                broker.kill()
            log.close()
            if broker.returncode not in (0, None, -signal.SIGKILL):
                print((work / "broker.log").read_text()[-5000:])
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
