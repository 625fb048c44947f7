#!/usr/bin/env python3
"""Scrumble quick start: the REST API and its realtime events, end to end.

What it does, against a running facade + broker:
  1. signs up Alice and Bob (new emails on every run);
  2. Alice creates a workspace, invites Bob by email, Bob accepts the invite;
  3. Alice connects to the broker with centrifuge-python, using the facade's connection token
     (GET /v1/realtime/token), and subscribes to the workspace channel with a subscription token
     (GET /v1/realtime/subscription-token); both tokens are refreshed through the SDK's get_token callbacks
     (subscription tokens live 5 minutes by default: a member removed from the workspace is unsubscribed by the
     broker at once, and should that ever be missed, the next renewal is refused with 403 and ends it);
  4. Alice posts a check-in, Bob comments on it;
  5. Alice prints every event the workspace channel delivers, and the script exits 0 once the
     comment.created event has arrived (exit 1, with what to check, when it does not).

Run it:
  pip install centrifuge-python
  scripts/start.sh                          # in another terminal: broker :8000, PostgreSQL, facade :8080
  python3 examples/scrumble_quickstart.py

Environment:
  FACADE_URL          the facade's base URL             (default http://localhost:8080)
  BROKER_WS_URL       the broker's WebSocket endpoint   (default ws://localhost:8000/connection/websocket)
  QUICKSTART_TIMEOUT  seconds to wait for each step     (default 15)
"""
from __future__ import annotations

import asyncio
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any, Optional

from centrifuge import (
    Client,
    ClientEventHandler,
    PublicationContext,
    SubscriptionEventHandler,
    UnauthorizedError,
)

FACADE_URL = os.environ.get("FACADE_URL", "http://localhost:8080").rstrip("/")
BROKER_WS_URL = os.environ.get("BROKER_WS_URL", "ws://localhost:8000/connection/websocket")
TIMEOUT = float(os.environ.get("QUICKSTART_TIMEOUT", "15"))


class Failure(Exception):
    """Something the reader has to fix; the message says what. Exit code 1."""


# ---------------------------------------------------------------------------
# The REST API (plain urllib: JSON in, JSON out, errors as {"error": {"code", "message", "fields"}})
# ---------------------------------------------------------------------------


class ApiError(Failure):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status


def api(method: str, path: str, session: Optional[str] = None, body: Any = None, **query: str) -> Any:
    """One call to the facade. `session` is the session token returned by sign-up / sign-in."""
    url = FACADE_URL + path + ("?" + urllib.parse.urlencode(query) if query else "")
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if session:
        headers["Authorization"] = f"Bearer {session}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
    except urllib.error.HTTPError as e:  # the facade answered with an error status
        try:
            error = json.loads(e.read())["error"]
        except Exception:
            error = {"code": "http_error", "message": e.reason}
        raise ApiError(e.code, error.get("code", "?"), f"{method} {path}: {error.get('message', '')}") from None
    except (urllib.error.URLError, OSError) as e:  # nothing answered
        reason = getattr(e, "reason", e)
        raise Failure(
            f"Cannot reach the Scrumble facade at {FACADE_URL} ({reason}): start the product with "
            f"scripts/start.sh, or set FACADE_URL to where the facade runs."
        ) from None
    return json.loads(raw) if raw else None


def sign_up(name: str) -> tuple[str, str]:
    """Creates an account; returns (email, session token)."""
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
    session = api("POST", "/v1/auth/signup", body={"email": email, "password": "correct horse battery"})
    print(f"signed up {email}")
    return email, session["token"]


# ---------------------------------------------------------------------------
# Broker tokens. Keep the parsing of the token responses here: it is the part to adapt
# if the facade's response changes.
# ---------------------------------------------------------------------------


@dataclass
class ConnectionToken:
    token: str  # the broker connection JWT
    personal_channel: str  # personal:#<user id>: subscribe with no further token (only this user may join it)
    workspace_channels: list[str]  # workspace:<id> of my workspaces: each needs a subscription token
    ws_url: str  # where to connect


def connection_token(session: str) -> ConnectionToken:
    """GET /v1/realtime/token -> {"token", "expires_at", "expires_in", "personal_channel", "workspace_channels"}.

    The response does not name the broker's WebSocket URL, so that comes from BROKER_WS_URL.
    """
    body = api("GET", "/v1/realtime/token", session)
    return ConnectionToken(token=body["token"], personal_channel=body.get("personal_channel", ""),
                           workspace_channels=list(body.get("workspace_channels", [])), ws_url=BROKER_WS_URL)


def subscription_token(session: str, channel: str) -> str:
    """GET /v1/realtime/subscription-token?channel=workspace:<id> -> {"token", "channel", "expires_at", "expires_in"}.

    403 not_a_member once the user is no longer an active member of the workspace.
    """
    return api("GET", "/v1/realtime/subscription-token", session, channel=channel)["token"]


async def fetch_token(fetch, *args) -> str:
    """Runs a blocking token request off the event loop, for the SDK's get_token callbacks.

    A 401/403 from the facade (session expired, no longer a member) raises UnauthorizedError:
    the SDK then stops instead of retrying forever.
    """
    try:
        return await asyncio.to_thread(fetch, *args)
    except ApiError as e:
        if e.status in (401, 403):
            raise UnauthorizedError(str(e)) from None
        raise


# ---------------------------------------------------------------------------
# Printing the events of the workspace channel: {"type", "workspace_id", "data"}
# ---------------------------------------------------------------------------


def describe(event: dict) -> str:
    kind, data = event.get("type", "?"), event.get("data") or {}
    author = (data.get("author") or {}).get("display_name")
    if author and "body" in data:  # post.created, comment.created, ...
        return f'{kind} by {author}: "{data["body"]}"'
    if kind.startswith("member."):
        return f"{kind}: {data.get('display_name')}"
    return f"{kind}: {json.dumps(data, separators=(',', ':'))}"


class Waiter:
    """Remembers what happened, and lets main() await it with a timeout."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.last_error: Optional[str] = None
        self.changed = asyncio.Event()

    def note(self, what: str) -> None:
        self.seen.append(what)
        self.changed.set()

    async def until(self, done, timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not done():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass
        return True


class ConnectionEvents(ClientEventHandler):
    def __init__(self, waiter: Waiter) -> None:
        self.waiter = waiter

    async def on_connected(self, ctx) -> None:
        print(f"Alice connected to the broker (client {ctx.client})")
        self.waiter.note("connected")

    async def on_disconnected(self, ctx) -> None:
        self.waiter.last_error = f"disconnected: {ctx.code} {ctx.reason}"
        self.waiter.note("disconnected")

    async def on_error(self, ctx) -> None:
        self.waiter.last_error = str(ctx.error)


class WorkspaceEvents(SubscriptionEventHandler):
    def __init__(self, waiter: Waiter) -> None:
        self.waiter = waiter

    async def on_subscribed(self, ctx) -> None:
        self.waiter.note("subscribed")

    async def on_unsubscribed(self, ctx) -> None:
        self.waiter.last_error = f"unsubscribed: {ctx.code} {ctx.reason}"
        self.waiter.note("unsubscribed")

    async def on_error(self, ctx) -> None:
        self.waiter.last_error = str(ctx.error)

    async def on_publication(self, ctx: PublicationContext) -> None:
        event = ctx.pub.data  # the facade's envelope
        print(f"  Alice received {describe(event)}")
        self.waiter.note(event.get("type", "?"))


# ---------------------------------------------------------------------------
# The walk-through
# ---------------------------------------------------------------------------


async def main() -> None:
    # 1. Two accounts.
    alice_email, alice = sign_up("Alice")
    bob_email, bob = sign_up("Bob")

    # 2. A workspace, an invite by email, and Bob joins.
    workspace = api("POST", "/v1/workspaces", alice,
                    {"name": "Quick start team", "time_zone": "Europe/Paris", "display_name": "Alice"})
    ws_id = workspace["id"]
    print(f"workspace {workspace['name']!r} created ({ws_id})")
    invite = api("POST", f"/v1/workspaces/{ws_id}/invites", alice, {"email": bob_email})
    print(f"Alice invited {bob_email}")
    # The invite's token is what Bob would receive by email; here we hand it to him directly. It is bound to
    # bob_email: anyone else who tried it would get 403 invite_addressee_mismatch.
    api("POST", f"/v1/invites/{invite['token']}/accept", bob, {"display_name": "Bob"})
    print("Bob accepted the invite")

    # 3. Alice goes realtime: a connection token, then the workspace channel.
    creds = connection_token(alice)
    channel = f"workspace:{ws_id}"
    print(f"Alice got a connection token; her channels: {creds.personal_channel}, {', '.join(creds.workspace_channels)}")

    async def refresh_connection_token() -> str:  # the SDK calls this before the token expires
        return (await fetch_token(connection_token, alice)).token

    async def get_subscription_token(for_channel: str) -> str:  # on subscribe, and before the token expires
        return await fetch_token(subscription_token, alice, for_channel)

    connection = Waiter()
    client = Client(creds.ws_url, events=ConnectionEvents(connection),
                    token=creds.token, get_token=refresh_connection_token)
    feed = Waiter()
    sub = client.new_subscription(channel, events=WorkspaceEvents(feed), get_token=get_subscription_token)
    try:
        await client.connect()
        # connect() returns at once; the SDK keeps retrying in the background until connected (or given up).
        await connection.until(lambda: {"connected", "disconnected"} & set(connection.seen), TIMEOUT)
        if "connected" not in connection.seen:
            raise Failure(
                f"Alice could not connect to the broker at {creds.ws_url} within {TIMEOUT:g} s "
                f"(last error: {connection.last_error or 'none'}). Is the broker running (scripts/start.sh starts "
                f"it on :8000)? Is BROKER_WS_URL right? Does the broker's client.token.hmac_secret_key match the "
                f"facade's BROKER_TOKEN_SECRET?"
            )
        await sub.subscribe()
        await feed.until(lambda: {"subscribed", "unsubscribed"} & set(feed.seen), TIMEOUT)
        if "subscribed" not in feed.seen:
            raise Failure(f"Alice could not subscribe to {channel} ({feed.last_error or 'no answer'}).")
        print(f"Alice subscribed to {channel}")

        # 4. Alice checks in, Bob comments from his own account.
        post = await asyncio.to_thread(api, "POST", f"/v1/workspaces/{ws_id}/posts", alice,
                                       {"kind": "checkin", "body": "Yesterday: signed up. Today: the quick start."})
        print("Alice posted a check-in")
        await asyncio.to_thread(api, "POST", f"/v1/workspaces/{ws_id}/posts/{post['id']}/comments", bob,
                                {"body": "Looks good!"})
        print("Bob commented on it")

        # 5. Both events come back through the outbox relay and the broker.
        expected = ["post.created", "comment.created"]
        if not await feed.until(lambda: set(expected) <= set(feed.seen), TIMEOUT):
            missing = [t for t in expected if t not in feed.seen]
            received = [t for t in feed.seen if t not in ("subscribed", "unsubscribed")]
            raise Failure(
                f"Timed out after {TIMEOUT:g} s: {' and '.join(missing)} did not arrive on {channel} "
                f"(received: {', '.join(received) or 'nothing'}). The facade writes each event to its outbox and "
                f"its relay publishes it to the broker: is the facade's relay running (not FACADE_NO_RELAY=1), "
                f"and is the broker reachable from the facade (BROKER_API_URL, BROKER_API_KEY)?"
            )
        print("done: Alice saw Bob's comment in real time")
    finally:
        await client.disconnect()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except Failure as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
