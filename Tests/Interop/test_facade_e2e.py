"""The Scrumble facade end to end: REST calls → outbox → broker → an official centrifuge-python client.

Needs the facade binary (FACADE_BIN, default .build/debug/facade) and a PostgreSQL server
(FACADE_TEST_DATABASE_URL, started by scripts/test.sh); each test module gets its own database.
"""
from __future__ import annotations

import asyncio
import copy
import json
import os
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from centrifuge import Client

from conftest import (
    REPO_ROOT, Recorder, base_config, client_events, deep_merge, free_port, http_session, new_sub, run, start_broker,
    uid,
)

FACADE_BIN = os.environ.get("FACADE_BIN") or str(REPO_ROOT / ".build" / "debug" / "facade")
ADMIN_URL = os.environ.get("FACADE_TEST_DATABASE_URL", "")
TOKEN_SECRET = "e2e-broker-token-secret-at-least-32-bytes"
pytestmark = pytest.mark.skipif(not ADMIN_URL, reason="FACADE_TEST_DATABASE_URL not set (scripts/test.sh starts PostgreSQL)")


def broker_config():
    """The workspace and personal namespaces of broker.json."""
    cfg = base_config()
    cfg["client"]["token"]["hmac_secret_key"] = TOKEN_SECRET
    repo_cfg = json.loads((REPO_ROOT / "broker.json").read_text())
    names = {"workspace", "personal"}
    cfg["channel"]["namespaces"] += [copy.deepcopy(n) for n in repo_cfg["channel"]["namespaces"] if n["name"] in names]
    return cfg


class Facade:
    def __init__(self, database_url: str, broker, **extra_env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dir = Path(tempfile.mkdtemp(prefix="facade-e2e-"))
        env = dict(os.environ)
        env.update({
            "DATABASE_URL": database_url, "FACADE_HOST": "127.0.0.1", "FACADE_PORT": str(self.port),
            "BROKER_API_URL": broker.api_url, "BROKER_API_KEY": broker.api_key, "BROKER_TOKEN_SECRET": TOKEN_SECRET,
            "FACADE_JWT_SECRET": "e2e-session-secret-at-least-32-bytes-long", "FACADE_BCRYPT_COST": "4",
        })
        env.update(extra_env)
        self.log = open(self.dir / "facade.log", "wb")
        self.proc = subprocess.Popen([FACADE_BIN, "serve"], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.http = http_session()
        deadline = time.monotonic() + 60
        while True:
            assert self.proc.poll() is None, (self.dir / "facade.log").read_text()
            try:
                if self.http.get(self.url + "/health", timeout=1).status_code == 200:
                    break
            except Exception:
                pass
            assert time.monotonic() < deadline, "facade did not become healthy"
            time.sleep(0.1)

    def call(self, method: str, path: str, token: str | None = None, body=None, expect: int | None = None, **params):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        r = self.http.request(method, self.url + path, json=body, headers=headers, params=params, timeout=10)
        if expect is not None:
            assert r.status_code == expect, (method, path, r.status_code, r.text)
        return r.json() if r.content else None

    def signup(self, name: str):
        s = self.call("POST", "/v1/auth/signup", body={"email": f"{name}-{uid()}@example.com", "password": "correct horse"},
                      expect=201)
        return s["token"], s["user"]["id"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=15)
        self.log.close()


def fresh_database() -> str:
    name = "e2e_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", ADMIN_URL, "-q", "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def psql(url: str, sql: str) -> str:
    return subprocess.run(["psql", url, "-qAt", "-c", sql], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def stack():
    broker = start_broker(broker_config(), name="facade-e2e")
    facade = Facade(fresh_database(), broker)
    yield facade, broker
    facade.stop()
    broker.stop()


def team(facade):
    """Alice owns a workspace, Bob joined it through an invite."""
    alice, alice_id = facade.signup("alice")
    bob, bob_id = facade.signup("bob")
    ws = facade.call("POST", "/v1/workspaces", alice, {"name": "Team " + uid(), "time_zone": "Europe/Paris"}, expect=201)
    invite = facade.call("POST", f"/v1/workspaces/{ws['id']}/invites", alice, {}, expect=201)
    facade.call("POST", f"/v1/invites/{invite['token']}/accept", bob, {"display_name": "Bob"}, expect=200)
    return ws["id"], (alice, alice_id), (bob, bob_id)


async def realtime_client(facade, broker, session: str, user_id: str, workspace: str):
    """A centrifuge-python client connected with the facade's tokens, on the workspace and personal channels."""
    conn = facade.call("GET", "/v1/realtime/token", session, expect=200)
    # The token has no channels claim: the answer names the channels this client subscribes to itself.
    assert conn["personal_channel"] == f"personal:#{user_id}" and f"workspace:{workspace}" in conn["workspace_channels"]
    rec = Recorder()
    client = Client(broker.ws_url, events=client_events(rec), token=conn["token"], proxy=None, timeout=5.0)
    await client.connect()
    await rec.wait("connected")
    channel = f"workspace:{workspace}"

    async def sub_token(ctx):
        return (await asyncio.to_thread(
            facade.call, "GET", "/v1/realtime/subscription-token", session, None, 200, channel=channel))["token"]

    ws_sub, ws_rec = new_sub(client, channel, get_token=sub_token)
    await ws_sub.subscribe()
    await ws_rec.wait("subscribed")
    personal, personal_rec = new_sub(client, f"personal:#{user_id}")
    await personal.subscribe()
    await personal_rec.wait("subscribed")
    return client, ws_rec, personal_rec


def test_changes_reach_team_members_in_real_time(stack):
    facade, broker = stack
    ws, (alice, alice_id), (bob, bob_id) = team(facade)

    async def main():
        bob_client, bob_ws, _ = await realtime_client(facade, broker, bob, bob_id, ws)
        alice_client, _, alice_personal = await realtime_client(facade, broker, alice, alice_id, ws)
        try:
            post = await asyncio.to_thread(
                facade.call, "POST", f"/v1/workspaces/{ws}/posts", alice, {"kind": "checkin", "body": "Plan: ship it"}, 201)
            ev = await bob_ws.wait("publication", lambda c: c.pub.data.get("type") == "post.created")
            assert ev.pub.data["workspace_id"] == ws and ev.pub.data["data"]["id"] == post["id"]

            started = time.monotonic()
            comment = await asyncio.to_thread(
                facade.call, "POST", f"/v1/workspaces/{ws}/posts/{post['id']}/comments", bob, {"body": "Nice"}, 201)
            ev = await bob_ws.wait("publication", lambda c: c.pub.data.get("type") == "comment.created")
            assert ev.pub.data["data"]["id"] == comment["id"]
            assert time.monotonic() - started < 3
            # Alice is told on her personal channel that Bob commented on her post.
            note = await alice_personal.wait("publication")
            assert "comment" in json.dumps(note.pub.data)
        finally:
            await bob_client.disconnect()
            await alice_client.disconnect()

    run(main())


def test_non_members_get_no_workspace_channel(stack):
    facade, broker = stack
    ws, _, _ = team(facade)
    carol, carol_id = facade.signup("carol")
    r = facade.http.get(facade.url + "/v1/realtime/subscription-token", params={"channel": f"workspace:{ws}"},
                        headers={"Authorization": f"Bearer {carol}"}, timeout=5)
    assert r.status_code == 403 and r.json()["error"]["code"], r.text

    async def main():
        conn = facade.call("GET", "/v1/realtime/token", carol, expect=200)
        rec = Recorder()
        client = Client(broker.ws_url, events=client_events(rec), token=conn["token"], proxy=None, timeout=5.0)
        await client.connect()
        await rec.wait("connected")
        try:
            sub, srec = new_sub(client, f"workspace:{ws}")
            await sub.subscribe()
            refused = await srec.wait("unsubscribed")
            assert (refused.code, refused.reason) == (103, "permission denied")
        finally:
            await client.disconnect()

    run(main())


def test_outbox_delivers_exactly_once_after_the_broker_comes_back(stack):
    facade, broker = stack
    ws, (alice, _), _ = team(facade)
    post = facade.call("POST", f"/v1/workspaces/{ws}/posts", alice, {"kind": "checkin", "body": "Plan"}, expect=201)
    broker.stop()
    bodies = [f"while down {i}" for i in range(3)]
    for b in bodies:
        facade.call("POST", f"/v1/workspaces/{ws}/posts/{post['id']}/comments", alice, {"body": b}, expect=201)
    broker.start()  # same port, empty memory engine: only what the relay sends from now on is in history

    def delivered():
        h = broker.api("history", {"channel": f"workspace:{ws}", "limit": -1})["result"]["publications"]
        return [p["data"]["data"]["body"] for p in h if p["data"]["type"] == "comment.created"]

    deadline = time.monotonic() + 30
    while delivered() != bodies:
        assert time.monotonic() < deadline, f"outbox not delivered: {delivered()}"
        time.sleep(0.2)
    time.sleep(1.5)  # one more poll cycle of the relay: nothing may be sent twice
    assert delivered() == bodies


def test_facade_killed_between_commit_and_publish_delivers_once_after_restart(broker_factory):
    broker = broker_factory(broker_config(), name="facade-kill")
    db = fresh_database()
    # A facade without a relay: the comment's outbox row commits, and nothing publishes it.
    facade = Facade(db, broker, FACADE_NO_RELAY="1")
    ws, (alice, _), _ = team(facade)
    post = facade.call("POST", f"/v1/workspaces/{ws}/posts", alice, {"kind": "checkin", "body": "Plan"}, expect=201)
    comment = facade.call("POST", f"/v1/workspaces/{ws}/posts/{post['id']}/comments", alice, {"body": "late"}, expect=201)
    facade.proc.kill()  # SIGKILL: no shutdown, no flush
    facade.proc.wait(timeout=10)
    facade.log.close()
    pending = psql(db, "SELECT id, payload::text FROM outbox WHERE sent_at IS NULL ORDER BY id").splitlines()
    row_id, payload = next((line.split("|", 1) for line in pending if comment["id"] in line))
    # The worst case: the dying process had already published this row but not recorded it.
    broker.api("publish", {"channel": f"workspace:{ws}", "data": json.loads(payload), "idempotency_key": f"outbox-{row_id}"})

    restarted = Facade(db, broker)  # with its relay
    try:
        def comment_events():
            h = broker.api("history", {"channel": f"workspace:{ws}", "limit": -1})["result"]["publications"]
            return [p for p in h if p["data"]["type"] == "comment.created"]

        deadline = time.monotonic() + 30
        while psql(db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL") != "0":
            assert time.monotonic() < deadline, "the restarted relay did not deliver the pending rows"
            time.sleep(0.2)
        events = comment_events()
        assert [e["data"]["data"]["id"] for e in events] == [comment["id"]], events
    finally:
        restarted.stop()


def test_every_publication_matches_the_openapi_document(stack):
    """Each realtime event the facade publishes validates against components/schemas/RealtimeEvent, on the
    channel the document gives its type; the token responses validate against their schemas too."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    facade, broker = stack
    doc = facade.call("GET", "/openapi.json", expect=200)
    registry = Registry().with_resource("urn:facade-openapi", Resource.from_contents(doc, default_specification=DRAFT202012))

    def validator(name):
        return Draft202012Validator({"$ref": f"urn:facade-openapi#/components/schemas/{name}"}, registry=registry)

    ws, (alice, alice_id), (bob, bob_id) = team(facade)
    base = f"/v1/workspaces/{ws}"
    members = facade.call("GET", f"{base}/members", alice, expect=200)["items"]
    bob_member = next(m["id"] for m in members if m["user_id"] == bob_id)
    facade.call("PATCH", f"{base}/members/{bob_member}", alice, {"role": "admin"}, expect=200)
    post = facade.call("POST", f"{base}/posts", alice, {"kind": "checkin", "body": "Plan", "mentions": [bob_member]}, expect=201)
    facade.call("PATCH", f"{base}/posts/{post['id']}", alice, {"body": "Plan B"}, expect=200)
    facade.call("POST", f"{base}/posts/{post['id']}/comments", bob, {"body": "Nice"}, expect=201)
    facade.call("POST", f"{base}/posts/{post['id']}/reactions", bob, {"emoji": "ok"}, expect=201)
    facade.call("DELETE", f"{base}/posts/{post['id']}/reactions/ok", bob, expect=204)
    todo = facade.call("POST", f"{base}/todos", alice, {"title": "Ship"}, expect=201)
    facade.call("PATCH", f"{base}/todos/{todo['id']}", bob, {"done": True}, expect=200)
    facade.call("DELETE", f"{base}/todos/{todo['id']}", bob, expect=204)
    for name, path, params in [("ConnectionToken", "/v1/realtime/token", {}),
                               ("SubscriptionToken", "/v1/realtime/subscription-token", {"channel": f"workspace:{ws}"})]:
        validator(name).validate(facade.call("GET", path, bob, expect=200, **params))
    facade.call("DELETE", f"{base}/members/{bob_member}", bob, expect=204)
    facade.call("DELETE", base, alice, expect=204)

    def history(channel):
        return [p["data"] for p in broker.api("history", {"channel": channel, "limit": -1})["result"]["publications"]]

    deadline = time.monotonic() + 30
    while not any(e["type"] == "workspace.deleted" for e in history(f"workspace:{ws}")):
        assert time.monotonic() < deadline, history(f"workspace:{ws}")
        time.sleep(0.2)
    channels = doc["x-realtime-channels"]
    published = {
        "workspace:{workspace_id}": history(f"workspace:{ws}"),
        "personal:#{user_id}": history(f"personal:#{alice_id}") + history(f"personal:#{bob_id}"),
    }
    seen = set()
    event = validator("RealtimeEvent")
    for channel, events in published.items():
        for e in events:
            event.validate(e)
            assert e["type"] in channels[channel]["events"], (channel, e["type"])
            assert e["workspace_id"] == ws
            seen.add(e["type"])
    documented = set(doc["components"]["schemas"]["RealtimeEvent"]["discriminator"]["mapping"])
    assert seen == documented, documented - seen
    kinds = {e["data"]["kind"] for e in published["personal:#{user_id}"]}
    assert kinds == {"invite_accepted", "mention", "comment", "reaction"}, kinds
