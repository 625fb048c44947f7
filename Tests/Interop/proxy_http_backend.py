"""A real HTTP backend for the broker's proxies: aiohttp on its own event loop in a thread.

`POST /<kind>` (connect, refresh, subscribe, publish, sub_refresh, rpc, or any path a test names) records
`(kind, body, headers)` and answers from `responses[kind]`:

- a dict: sent as JSON (default `{"result": {}}`);
- a callable(body) -> dict;
- `Status(code, body=b"")`: that HTTP status;
- `Raw(bytes)`: that body with status 200 (garbage, for failure tests);
- `Slow(seconds, answer)`: the answer after a delay (the broker's timeout fires first);
- `Gate(event, answer)`: the answer once the test sets `event` (a threading.Event).
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass
from typing import Any, Dict, List, Tuple

from aiohttp import web


@dataclass
class Status:
    code: int
    body: bytes = b""


@dataclass
class Raw:
    body: bytes


@dataclass
class Slow:
    seconds: float
    answer: Any


@dataclass
class Gate:
    event: threading.Event
    answer: Any


class HTTPProxyBackend:
    def __init__(self) -> None:
        self.requests: List[Tuple[str, Dict[str, Any], Dict[str, str]]] = []
        self.responses: Dict[str, Any] = {}
        self.port = 0
        self._cond = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="proxy-backend", daemon=True)
        self._runner: web.AppRunner | None = None

    # -- lifecycle ----------------------------------------------------------------
    def start(self) -> "HTTPProxyBackend":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/{kind}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def url(self, kind: str) -> str:
        return f"http://127.0.0.1:{self.port}/{kind}"

    # -- what arrived ---------------------------------------------------------------
    def calls(self, kind: str) -> List[Dict[str, Any]]:
        with self._cond:
            return [body for k, body, _ in self.requests if k == kind]

    def headers(self, kind: str) -> List[Dict[str, str]]:
        with self._cond:
            return [h for k, _, h in self.requests if k == kind]

    def wait(self, kind: str, count: int = 1, timeout: float = 10.0) -> Dict[str, Any]:
        """Blocks until `count` requests of `kind` arrived; returns the last of them."""
        with self._cond:
            ok = self._cond.wait_for(lambda: len([1 for k, _, _ in self.requests if k == kind]) >= count, timeout)
            assert ok, f"no {count} x {kind} request within {timeout}s; got {[k for k, _, _ in self.requests]}"
            return [body for k, body, _ in self.requests if k == kind][count - 1]

    async def await_request(self, kind: str, count: int = 1, timeout: float = 10.0) -> Dict[str, Any]:
        return await asyncio.to_thread(self.wait, kind, count, timeout)

    # -- answering ------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        kind = request.match_info["kind"]
        body = await request.json()
        with self._cond:
            self.requests.append((kind, body, {k.lower(): v for k, v in request.headers.items()}))
            self._cond.notify_all()
        answer = self.responses.get(kind, {"result": {}})
        if isinstance(answer, Gate):
            await asyncio.to_thread(answer.event.wait, 30)
            answer = answer.answer
        if isinstance(answer, Slow):
            await asyncio.sleep(answer.seconds)
            answer = answer.answer
        if callable(answer):
            answer = answer(body)
        if isinstance(answer, Status):
            return web.Response(status=answer.code, body=answer.body)
        if isinstance(answer, Raw):
            return web.Response(status=200, body=answer.body, content_type="application/json")
        return web.Response(status=200, text=json.dumps(answer), content_type="application/json")
