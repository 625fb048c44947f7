"""examples/scrumble_quickstart.py, run as a newcomer runs it, against a real broker + facade.

The broker and the facade (on a throwaway PostgreSQL database: FACADE_TEST_DATABASE_URL) are started
the way test_facade_e2e.py starts them, on free ports; the example gets their URLs through
FACADE_URL / BROKER_WS_URL.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import REPO_ROOT, LOOPBACK, free_port
from test_facade_e2e import ADMIN_URL, Facade, broker_config, fresh_database

EXAMPLE = REPO_ROOT / "examples" / "scrumble_quickstart.py"
COMMENT_LINE = 'Alice received comment.created by Bob: "Looks good!"'
needs_postgres = pytest.mark.skipif(not ADMIN_URL, reason="FACADE_TEST_DATABASE_URL not set (scripts/test.sh starts PostgreSQL)")


def run_example(facade_url: str, broker_ws_url: str, timeout: float = 90, **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    full_env.update({"FACADE_URL": facade_url, "BROKER_WS_URL": broker_ws_url, "PYTHONUNBUFFERED": "1"}, **env)
    return subprocess.run([sys.executable, str(EXAMPLE)], env=full_env, capture_output=True, text=True,
                          timeout=timeout, cwd=str(REPO_ROOT))


def report(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"


@pytest.fixture
def stack(broker_factory):
    """A broker and a facade; extra facade environment through stack(**env)."""
    started = []

    def start(**facade_env: str):
        broker = broker_factory(broker_config(), name="examples")
        facade = Facade(fresh_database(), broker, **facade_env)
        started.append(facade)
        return facade, broker

    yield start
    for facade in started:
        facade.stop()


@needs_postgres
@pytest.mark.timeout(180)
def test_quickstart_sees_the_comment_in_real_time(stack):
    facade, broker = stack()
    result = run_example(facade.url, broker.ws_url)
    assert result.returncode == 0, report(result)
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert COMMENT_LINE in lines, report(result)
    assert 'Alice received post.created by Alice: "Yesterday: signed up. Today: the quick start."' in lines, report(result)
    assert lines[-1].startswith("done:"), report(result)


@needs_postgres
@pytest.mark.timeout(180)
def test_quickstart_fails_clearly_when_the_events_do_not_arrive(stack):
    facade, broker = stack(FACADE_NO_RELAY="1")  # the outbox fills up, nothing is published
    result = run_example(facade.url, broker.ws_url, QUICKSTART_TIMEOUT="3")
    assert result.returncode == 1, report(result)
    assert COMMENT_LINE not in result.stdout, report(result)
    assert "comment.created did not arrive" in result.stderr, report(result)
    assert "relay" in result.stderr, report(result)


def test_quickstart_names_the_facade_url_when_nothing_answers():
    url = f"http://{LOOPBACK}:{free_port()}"
    result = run_example(url, "ws://127.0.0.1:1/connection/websocket", timeout=30)
    assert result.returncode == 1, report(result)
    assert url in result.stderr and "scripts/start.sh" in result.stderr, report(result)
