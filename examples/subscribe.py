"""Subscribe to a broker channel with the official Python SDK and print every publication.

    python3 -m pip install centrifuge-python
    python3 examples/subscribe.py TOKEN CHANNEL [--url ws://localhost:8000/connection/websocket] [--count N]

TOKEN is a connection JWT (`scripts/broker gentoken -c broker.json -u 42` makes one). The script prints
"subscribed to CHANNEL" once the broker has confirmed the subscription, then one line per publication, and
runs until Ctrl-C (or until it has printed N publications with --count).
"""

import argparse
import asyncio
import json
import sys

from centrifuge import (
    Client,
    ClientEventHandler,
    DisconnectedContext,
    ErrorContext,
    PublicationContext,
    SubscribedContext,
    SubscriptionErrorContext,
    SubscriptionEventHandler,
    UnsubscribedContext,
)


class Printer(SubscriptionEventHandler):
    """Prints what the subscription receives; sets `done` after `count` publications (0: never)."""

    def __init__(self, channel: str, count: int) -> None:
        self.channel = channel
        self.count = count
        self.received = 0
        self.done = asyncio.Event()

    async def on_subscribed(self, ctx: SubscribedContext) -> None:
        print(f"subscribed to {self.channel}", flush=True)

    async def on_publication(self, ctx: PublicationContext) -> None:
        data = json.dumps(ctx.pub.data, ensure_ascii=False)
        print(f"{self.channel} offset {ctx.pub.offset}: {data}", flush=True)
        self.received += 1
        if self.count and self.received >= self.count:
            self.done.set()

    async def on_unsubscribed(self, ctx: UnsubscribedContext) -> None:
        # The broker refused or ended the subscription: the code and reason say why (e.g. 103 permission denied).
        print(f"unsubscribed from {self.channel}: {ctx.reason} (code {ctx.code})", file=sys.stderr, flush=True)
        self.done.set()

    async def on_error(self, ctx: SubscriptionErrorContext) -> None:
        print(f"subscription error: {ctx.error}", file=sys.stderr, flush=True)


class ConnectionEvents(ClientEventHandler):
    def __init__(self, done: asyncio.Event, url: str) -> None:
        self.done = done
        self.url = url

    async def on_error(self, ctx: ErrorContext) -> None:
        # The SDK keeps retrying with backoff; say why, so a broker that is down is not a silent wait.
        print(f"cannot connect to {self.url} yet ({ctx.error}); retrying — is the broker running (scripts/start.sh)?",
              file=sys.stderr, flush=True)

    async def on_disconnected(self, ctx: DisconnectedContext) -> None:
        # Codes 3500+ are final (e.g. 3500 invalid token): the SDK will not reconnect.
        print(f"disconnected: {ctx.reason} (code {ctx.code})", file=sys.stderr, flush=True)
        self.done.set()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("token", help="connection JWT")
    parser.add_argument("channel", help="channel to subscribe to, e.g. chat:index")
    parser.add_argument("--url", default="ws://localhost:8000/connection/websocket")
    parser.add_argument("--count", type=int, default=0, help="exit after this many publications (0: run until Ctrl-C)")
    args = parser.parse_args()

    printer = Printer(args.channel, args.count)
    client = Client(args.url, token=args.token, events=ConnectionEvents(printer.done, args.url))
    subscription = client.new_subscription(args.channel, events=printer)
    await client.connect()
    await subscription.subscribe()
    await printer.done.wait()
    await client.disconnect()
    return 0 if args.count and printer.received >= args.count else 1


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except KeyboardInterrupt:
        pass
