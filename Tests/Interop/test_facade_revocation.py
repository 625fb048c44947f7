"""Access that ends when membership ends, end to end: facade + PostgreSQL + broker + centrifuge-python.

- A member removed while subscribed to workspace:<id> is unsubscribed by the broker within a second (the
  facade's outbox carries a server-API `unsubscribe` written in the removal's transaction) and receives
  nothing published after it.
- When that unsubscribe never reaches the broker (no relay runs), the short-lived subscription token bounds the
  damage: its renewal through get_token is refused, and the subscription ends within the token's lifetime.
- An invite made for one email is refused to anyone else (403 invite_addressee_mismatch).

Needs the facade binary and PostgreSQL (FACADE_TEST_DATABASE_URL), as test_facade_e2e.py.
"""
from __future__ import annotations

import asyncio
import time

import pytest
from centrifuge import Client, UnauthorizedError

from conftest import Recorder, client_events, new_sub, run, start_broker, uid
from test_facade_e2e import ADMIN_URL, Facade, broker_config, fresh_database, realtime_client

pytestmark = pytest.mark.skipif(not ADMIN_URL, reason="FACADE_TEST_DATABASE_URL not set (scripts/test.sh starts PostgreSQL)")


@pytest.fixture(scope="module")
def stack():
    broker = start_broker(broker_config(), name="facade-revocation")
    facade = Facade(fresh_database(), broker)
    yield facade, broker
    facade.stop()
    broker.stop()


def team_with_bob(facade):
    """Alice owns a workspace; Bob joined through an invite made for his email. Returns ids and sessions."""
    bob_email = f"bob-{uid()}@example.com"
    alice, alice_id = facade.signup("alice")
    bob = facade.call("POST", "/v1/auth/signup", body={"email": bob_email, "password": "correct horse"}, expect=201)
    ws = facade.call("POST", "/v1/workspaces", alice, {"name": "Team " + uid(), "time_zone": "UTC"}, expect=201)["id"]
    invite = facade.call("POST", f"/v1/workspaces/{ws}/invites", alice, {"email": bob_email}, expect=201)
    assert invite["kind"] == "email"
    member = facade.call("POST", f"/v1/invites/{invite['token']}/accept", bob["token"], {"display_name": "Bob"}, expect=200)
    return ws, (alice, alice_id), (bob["token"], bob["user"]["id"], member["id"])


def test_removed_member_is_unsubscribed_within_a_second_and_gets_nothing_after(stack):
    facade, broker = stack
    ws, (alice, alice_id), (bob, bob_id, bob_member) = team_with_bob(facade)

    async def main():
        bob_client, bob_ws, bob_personal = await realtime_client(facade, broker, bob, bob_id, ws)
        alice_client, alice_ws, _ = await realtime_client(facade, broker, alice, alice_id, ws)
        try:
            started = time.monotonic()
            await asyncio.to_thread(facade.call, "DELETE", f"/v1/workspaces/{ws}/members/{bob_member}", alice, None, 204)
            gone = await bob_ws.wait("unsubscribed", timeout=1.0)
            elapsed = time.monotonic() - started
            assert elapsed < 1.0, elapsed
            assert (gone.code, gone.reason) == (2000, "server unsubscribe"), (gone.code, gone.reason)
            # Bob saw his own departure before the unsubscribe.
            types = [c.pub.data["type"] for c in bob_ws.all("publication")]
            assert types and types[-1] == "member.left", types

            # Something happens in the workspace after the removal: Alice gets it, Bob does not.
            todo = await asyncio.to_thread(
                facade.call, "POST", f"/v1/workspaces/{ws}/todos", alice, {"title": "after Bob left"}, 201)
            await alice_ws.wait("publication", lambda c: c.pub.data.get("data", {}).get("id") == todo["id"])
            assert [c.pub.data["type"] for c in bob_ws.all("publication")] == types
            # Bob stays connected; only the workspace subscription ended.
            assert not bob_personal.all("unsubscribed") and bob_client.state.value == "connected"
            print(f"\nunsubscribe reached the removed member {elapsed * 1000:.0f} ms after DELETE was sent")
        finally:
            await bob_client.disconnect()
            await alice_client.disconnect()

    run(main())


def test_deleting_the_workspace_unsubscribes_every_member(stack):
    facade, broker = stack
    ws, (alice, alice_id), (bob, bob_id, _) = team_with_bob(facade)

    async def main():
        bob_client, bob_ws, _ = await realtime_client(facade, broker, bob, bob_id, ws)
        alice_client, alice_ws, _ = await realtime_client(facade, broker, alice, alice_id, ws)
        try:
            await asyncio.to_thread(facade.call, "DELETE", f"/v1/workspaces/{ws}", alice, None, 204)
            for rec in (alice_ws, bob_ws):
                gone = await rec.wait("unsubscribed", timeout=1.0)
                assert gone.code == 2000
                assert rec.all("publication")[-1].pub.data["type"] == "workspace.deleted"
        finally:
            await bob_client.disconnect()
            await alice_client.disconnect()

    run(main())


def test_a_missed_unsubscribe_cannot_outlive_the_subscription_token(broker_factory):
    """No relay runs, so the broker never hears of the removal; the 2-second subscription token does."""
    broker = broker_factory(broker_config(), name="facade-ttl")
    facade = Facade(fresh_database(), broker, FACADE_NO_RELAY="1", BROKER_SUBSCRIPTION_TOKEN_TTL="2")
    try:
        ws, (alice, _), (bob, bob_id, bob_member) = team_with_bob(facade)
        renewals = []

        async def sub_token(ctx):
            """What an app's get_token does (see examples/scrumble_quickstart.py): 401/403 → UnauthorizedError."""
            r = await asyncio.to_thread(
                facade.http.get, facade.url + "/v1/realtime/subscription-token", params={"channel": f"workspace:{ws}"},
                headers={"Authorization": f"Bearer {bob}"}, timeout=5)
            renewals.append(r.status_code)
            if r.status_code in (401, 403):
                raise UnauthorizedError(r.json()["error"]["code"])
            assert r.status_code == 200, r.text
            assert r.json()["expires_in"] == 2
            return r.json()["token"]

        async def main():
            conn = facade.call("GET", "/v1/realtime/token", bob, expect=200)
            rec = Recorder()
            client = Client(broker.ws_url, events=client_events(rec), token=conn["token"], proxy=None, timeout=5.0)
            await client.connect()
            await rec.wait("connected")
            try:
                sub, srec = new_sub(client, f"workspace:{ws}", get_token=sub_token)
                await sub.subscribe()
                await srec.wait("subscribed")
                started = time.monotonic()
                await asyncio.to_thread(facade.call, "DELETE", f"/v1/workspaces/{ws}/members/{bob_member}", alice, None, 204)
                gone = await srec.wait("unsubscribed", timeout=2 + 2.0)
                elapsed = time.monotonic() - started
                assert renewals[-1] == 403, renewals
                assert elapsed <= 2 + 1.5, elapsed
                print(f"\nwithout the unsubscribe, the subscription ended {elapsed:.1f} s after the removal "
                      f"(token lifetime 2 s; code {gone.code} {gone.reason})")
            finally:
                await client.disconnect()

        run(main())
    finally:
        facade.stop()


def test_an_invite_for_another_email_is_refused(stack):
    facade, broker = stack
    alice, _ = facade.signup("alice")
    carol_email = f"carol-{uid()}@example.com"
    ws = facade.call("POST", "/v1/workspaces", alice, {"name": "Team " + uid(), "time_zone": "UTC"}, expect=201)["id"]
    invite = facade.call("POST", f"/v1/workspaces/{ws}/invites", alice, {"email": carol_email}, expect=201)
    assert (invite["kind"], invite["email"]) == ("email", carol_email)

    mallory, _ = facade.signup("mallory")
    r = facade.http.post(f"{facade.url}/v1/invites/{invite['token']}/accept", json={},
                         headers={"Authorization": f"Bearer {mallory}"}, timeout=5)
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "invite_addressee_mismatch"
    assert carol_email not in r.text
    # Mallory is no member: no workspace, no subscription token.
    assert facade.http.get(f"{facade.url}/v1/workspaces/{ws}", headers={"Authorization": f"Bearer {mallory}"},
                           timeout=5).status_code == 403
    r = facade.http.get(f"{facade.url}/v1/realtime/subscription-token", params={"channel": f"workspace:{ws}"},
                        headers={"Authorization": f"Bearer {mallory}"}, timeout=5)
    assert r.status_code == 403

    carol = facade.call("POST", "/v1/auth/signup", body={"email": carol_email.upper(), "password": "correct horse"},
                        expect=201)
    member = facade.call("POST", f"/v1/invites/{invite['token']}/accept", carol["token"], None, expect=200)
    assert member["user_id"] == carol["user"]["id"]
