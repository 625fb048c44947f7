"""Unidirectional transports (Centrifugo v6 `uni_sse`, `uni_http_stream`,
`uni_websocket`): the connect request travels in the URL, the POST body or the
first WebSocket message; the server sends bare Push objects (no `{"push":...}`
wrapper), first a `connect` push, `{}` pings, and a `disconnect` push before
it ends the stream.

HTTP streams are read over a raw socket so the test sees exactly what goes on
the wire (status, headers, chunked body, end of stream)."""

from __future__ import annotations

import json
import socket
import time
import urllib.parse
from typing import Any, Dict, List, Optional

import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from conftest import LOOPBACK, api_request, base_config, deep_merge, make_token, raw_http, run, start_broker, uid

SSE = "/connection/uni_sse"
HTTP_STREAM = "/connection/uni_http_stream"
UNI_WS = "/connection/uni_websocket"

UNI_OVERRIDES = {
    "client": {"ping_interval": "2s", "pong_timeout": "1s"},
    "uni_sse": {"enabled": True},
    "uni_http_stream": {"enabled": True},
    "uni_websocket": {"enabled": True},
}


@pytest.fixture(scope="module")
def uni():
    """A broker with every unidirectional transport on and a 2 s ping interval."""
    b = start_broker(deep_merge(base_config(), UNI_OVERRIDES), name="uni")
    yield b
    b.stop()


# ---------------------------------------------------------------------------
# A raw HTTP/1.1 streaming client
# ---------------------------------------------------------------------------


class EndOfStream(Exception):
    pass


class HTTPStream:
    """One streaming request; `next_message()` returns the next JSON message of
    the body (an SSE `data:` event or an NDJSON line)."""

    def __init__(self, port: int, method: str, path: str, body: Optional[bytes] = None, sse: bool = True,
                 headers: Optional[Dict[str, str]] = None) -> None:
        self.sse = sse
        self.sock = socket.create_connection((LOOPBACK, port), timeout=10)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {LOOPBACK}:{port}"]
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}")
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b""))
        self.buf = b""
        self.body = b""
        self.ended = False
        head = self._read_until(b"\r\n\r\n").decode()
        status_line, *header_lines = head.split("\r\n")
        self.status = int(status_line.split()[1])
        self.headers = {}
        for h in header_lines:
            k, _, v = h.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        self.chunked = self.headers.get("transfer-encoding", "").lower() == "chunked"

    def _recv(self) -> bytes:
        data = self.sock.recv(65536)
        if not data:
            raise EndOfStream("connection closed")
        return data

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self.buf:
            self.buf += self._recv()
        out, _, self.buf = self.buf.partition(marker)
        return out

    def _read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self.buf += self._recv()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _next_chunk(self) -> bytes:
        if self.ended:
            raise EndOfStream("response ended")
        if not self.chunked:
            if self.buf:
                out, self.buf = self.buf, b""
                return out
            return self._recv()
        size = int(self._read_until(b"\r\n").split(b";")[0], 16)
        data = self._read_exact(size)
        assert self._read_exact(2) == b"\r\n"
        if size == 0:
            self.ended = True
            raise EndOfStream("response ended")
        return data

    def next_message(self, timeout: float = 5.0) -> Dict[str, Any]:
        self.sock.settimeout(timeout)
        sep = b"\n\n" if self.sse else b"\n"
        while True:
            if sep in self.body:
                item, _, self.body = self.body.partition(sep)
                item = item.strip(b"\r\n")
                if not item:
                    continue
                if self.sse:
                    assert item.startswith(b"data: "), item
                    item = item[len(b"data: "):]
                return json.loads(item)
            self.body += self._next_chunk()

    def message_where(self, pred, timeout: float = 5.0) -> Dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            m = self.next_message(max(0.1, deadline - time.monotonic()))
            if pred(m):
                return m

    def expect_end(self, timeout: float = 5.0) -> List[Dict[str, Any]]:
        """Reads to the end of the response; returns the messages seen on the way."""
        seen = []
        deadline = time.monotonic() + timeout
        with pytest.raises(EndOfStream):
            while True:
                seen.append(self.next_message(max(0.1, deadline - time.monotonic())))
        return seen

    def connection_closed(self, timeout: float = 3.0) -> bool:
        self.sock.settimeout(timeout)
        try:
            return self.buf == b"" and self.sock.recv(1) == b""
        except OSError:
            return True

    def close(self) -> None:
        self.sock.close()


def sse_get(b, connect: Optional[Dict[str, Any]] = None) -> HTTPStream:
    path = SSE
    if connect is not None:
        path += "?cf_connect=" + urllib.parse.quote(json.dumps(connect))
    return HTTPStream(b.port, "GET", path)


def sse_post(b, connect: Dict[str, Any]) -> HTTPStream:
    return HTTPStream(b.port, "POST", SSE, json.dumps(connect).encode(), headers={"Content-Type": "application/json"})


def http_stream(b, connect: Dict[str, Any]) -> HTTPStream:
    return HTTPStream(b.port, "POST", HTTP_STREAM, json.dumps(connect).encode(), sse=False)


def publish(b, channel: str, data: Dict[str, Any]) -> Dict[str, Any]:
    return b.api("publish", {"channel": channel, "data": data})["result"]


def presence_clients(b, channel: str) -> List[str]:
    return list(b.api("presence", {"channel": channel})["result"]["presence"].keys())


# ---------------------------------------------------------------------------
# uni_sse
# ---------------------------------------------------------------------------


def test_a_stream_pipelined_behind_an_open_request_is_refused(uni):
    # `history` runs as a task, so it is still open when the SSE request behind it arrives in the same
    # read: the stream cannot take the connection over; the earlier answer stands, then 400 and a close.
    ch = "chat:uni-pipe-" + uid()
    stream = f"GET {SSE}?cf_connect=%7B%7D HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    responses, closed = raw_http(uni, api_request(uni, "history", {"channel": ch}) + stream, expect=3)
    assert closed
    assert [r[0] for r in responses] == [200, 400]
    assert responses[0][2]["result"]["epoch"]  # the history answer (chat keeps history)
    assert "pipelined" in responses[1][2]["error"]


def test_sse_connect_push_publication_ping_and_api_disconnect(uni):
    user, ch = "sse-" + uid(), f"srv:{uid()}"
    s = sse_get(uni, {"token": make_token(user, channels=[ch])})
    try:
        assert s.status == 200
        assert s.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert "no-cache" in s.headers["cache-control"]
        connect = s.next_message()["connect"]
        assert connect["client"] and connect["session"] and connect["version"]
        assert connect["ping"] == 2 and "pong" not in connect
        assert connect["expires"] is True and connect["ttl"] > 3500
        assert connect["subs"][ch]["recoverable"] is True
        assert presence_clients(uni, ch) == [connect["client"]]

        publish(uni, ch, {"n": 1})
        assert s.next_message() == {"channel": ch, "pub": {"data": {"n": 1}, "offset": 1}}
        # Pings are bare `{}` events.
        assert s.message_where(lambda m: m == {}, timeout=5) == {}

        assert uni.api("disconnect", {"user": user}) == {"result": {}}
        rest = s.expect_end()
        assert rest[-1] == {"disconnect": {"code": 3503, "reason": "force disconnect"}}
        assert s.connection_closed()
        eventually_empty(uni, ch)
    finally:
        s.close()


def test_sse_post_body_connect_and_personal_data(uni):
    user, ch = "ssep-" + uid(), f"srv:{uid()}"
    s = sse_post(uni, {"token": make_token(user, channels=[ch]), "name": "curl"})
    try:
        assert s.status == 200
        connect = s.next_message()["connect"]
        assert ch in connect["subs"]
        publish(uni, ch, {"text": "hi\nthere"})
        pub = s.message_where(lambda m: "pub" in m)
        assert pub["channel"] == ch and pub["pub"]["data"] == {"text": "hi\nthere"}
    finally:
        s.close()


def test_sse_without_connect_request_is_anonymous_and_refused(uni):
    # No token and no anonymous access: the connect fails with 3501, sent as a disconnect push.
    s = sse_get(uni)
    try:
        assert s.status == 200
        assert s.expect_end() == [{"disconnect": {"code": 3501, "reason": "bad request"}}]
    finally:
        s.close()


@pytest.mark.parametrize(
    "token_kw,expected",
    [
        ({"secret": "wrong-secret"}, {"code": 3500, "reason": "invalid token"}),
        ({"exp_in": -10}, {"code": 3005, "reason": "connection expired"}),
    ],
)
def test_sse_bad_token_ends_with_disconnect_push(uni, token_kw, expected):
    s = sse_get(uni, {"token": make_token("u-" + uid(), **token_kw)})
    try:
        assert s.status == 200
        assert s.expect_end() == [{"disconnect": expected}]
    finally:
        s.close()


def test_connect_code_to_unidirectional_disconnect(broker_factory):
    b = broker_factory(deep_merge(base_config(), deep_merge(UNI_OVERRIDES, {"client": {
        "connect_code_to_unidirectional_disconnect": {
            "enabled": True, "transforms": [{"code": 109, "to": {"code": 4501, "reason": "refresh token"}}]}}})))
    s = sse_get(b, {"token": make_token("exp-" + uid(), exp_in=-10)})
    try:
        assert s.expect_end() == [{"disconnect": {"code": 4501, "reason": "refresh token"}}]
    finally:
        s.close()


def test_connect_code_to_http_response(broker_factory):
    b = broker_factory(deep_merge(base_config(), deep_merge(UNI_OVERRIDES, {
        "uni_sse": {"connect_code_to_http_response": {
            "enabled": True, "transforms": [{"code": 3500, "to": {"status_code": 401}}]}},
        "uni_http_stream": {"connect_code_to_http_response": {
            "enabled": True, "transforms": [{"code": 109, "to": {"status_code": 403, "body": "expired"}}]}},
    })))

    def answer(s):
        try:
            return s.status, s._read_exact(int(s.headers["content-length"])).decode()
        finally:
            s.close()

    assert answer(sse_get(b, {"token": make_token("u", secret="wrong")})) == (401, "invalid token")
    assert answer(sse_get(b, {"token": make_token("u", exp_in=-5)})) == (500, "Internal Server Error")
    assert answer(http_stream(b, {"token": make_token("u", exp_in=-5)})) == (403, "expired")
    # A good connect still streams.
    ch = f"srv:{uid()}"
    s = sse_get(b, {"token": make_token("ok-" + uid(), channels=[ch])})
    try:
        assert s.status == 200 and ch in s.next_message()["connect"]["subs"]
    finally:
        s.close()


def test_sse_malformed_connect_request_is_400(uni):
    s = HTTPStream(uni.port, "GET", SSE + "?cf_connect=" + urllib.parse.quote("{not json"))
    try:
        assert s.status == 400
    finally:
        s.close()
    s = HTTPStream(uni.port, "POST", SSE, b"[1,2")
    try:
        assert s.status == 400
    finally:
        s.close()


def test_sse_post_body_over_limit_is_413(broker_factory):
    b = broker_factory(deep_merge(base_config(), {"uni_sse": {"enabled": True, "max_request_body_size": 64}}))
    s = HTTPStream(b.port, "POST", SSE, json.dumps({"token": "x" * 200}).encode())
    try:
        assert s.status == 413
    finally:
        s.close()


def test_sse_recovers_server_side_subscription_from_connect_positions(uni):
    user, ch = "rec-" + uid(), f"srv:{uid()}"
    token = make_token(user, channels=[ch])
    first = publish(uni, ch, {"n": 1})
    epoch = first["epoch"]
    publish(uni, ch, {"n": 2})
    publish(uni, ch, {"n": 3})
    s = sse_get(uni, {"token": token, "subs": {ch: {"recover": True, "epoch": epoch, "offset": 1}}})
    try:
        sub = s.next_message()["connect"]["subs"][ch]
        assert sub["recovered"] is True and sub["was_recovering"] is True
        assert [p["data"] for p in sub["publications"]] == [{"n": 2}, {"n": 3}]
        assert sub["epoch"] == epoch
    finally:
        s.close()


def test_sse_client_going_away_releases_the_connection(uni):
    user, ch = "gone-" + uid(), f"srv:{uid()}"
    s = sse_get(uni, {"token": make_token(user, channels=[ch])})
    client = s.next_message()["connect"]["client"]
    assert presence_clients(uni, ch) == [client]
    s.close()
    eventually_empty(uni, ch)
    assert uni.channels_count(ch) == 0


def test_sse_shutdown_sends_3001(broker_factory):
    b = broker_factory(deep_merge(base_config(), UNI_OVERRIDES))
    s = sse_get(b, {"token": make_token("shut-" + uid())})
    try:
        assert "connect" in s.next_message()
        b.stop()
        assert s.expect_end()[-1] == {"disconnect": {"code": 3001, "reason": "shutdown"}}
    finally:
        s.close()


def eventually_empty(b, ch: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while presence_clients(b, ch):
        assert time.monotonic() < deadline, f"presence of {ch} not released"
        time.sleep(0.05)


# ---------------------------------------------------------------------------
# uni_http_stream
# ---------------------------------------------------------------------------


def test_http_stream_connect_publication_ping_and_disconnect(uni):
    user, ch = "hs-" + uid(), f"srv:{uid()}"
    s = http_stream(uni, {"token": make_token(user, channels=[ch])})
    try:
        assert s.status == 200 and s.chunked
        assert "text/event-stream" not in s.headers.get("content-type", "")
        connect = s.next_message()["connect"]
        assert connect["subs"][ch]["positioned"] is True and "pong" not in connect
        publish(uni, ch, {"n": 1})
        assert s.next_message() == {"channel": ch, "pub": {"data": {"n": 1}, "offset": 1}}
        assert s.message_where(lambda m: m == {}, timeout=5) == {}
        uni.api("disconnect", {"user": user, "disconnect": {"code": 4001, "reason": "bye"}})
        assert s.expect_end()[-1] == {"disconnect": {"code": 4001, "reason": "bye"}}
        eventually_empty(uni, ch)
    finally:
        s.close()


def test_http_stream_server_unsubscribe_and_subscribe_pushes(uni):
    user, ch, extra = "hsu-" + uid(), f"srv:{uid()}", f"srv:{uid()}"
    s = http_stream(uni, {"token": make_token(user, channels=[ch])})
    try:
        s.next_message()
        uni.api("subscribe", {"user": user, "channel": extra})
        sub = s.message_where(lambda m: "subscribe" in m)
        assert sub["channel"] == extra
        uni.api("unsubscribe", {"user": user, "channel": ch})
        assert s.message_where(lambda m: "unsubscribe" in m) == {
            "channel": ch, "unsubscribe": {"code": 2000, "reason": "server unsubscribe"}}
    finally:
        s.close()


def test_http_stream_api_refresh_sends_refresh_push(uni):
    user = "hsr-" + uid()
    s = http_stream(uni, {"token": make_token(user)})
    try:
        s.next_message()
        uni.api("refresh", {"user": user, "expire_at": int(time.time()) + 600})
        refresh = s.message_where(lambda m: "refresh" in m)["refresh"]
        assert refresh["expires"] is True and 590 <= refresh["ttl"] <= 600
    finally:
        s.close()


def test_http_stream_needs_post(uni):
    s = HTTPStream(uni.port, "GET", HTTP_STREAM, sse=False)
    try:
        assert s.status == 405
    finally:
        s.close()


def test_http_stream_bad_token(uni):
    s = http_stream(uni, {"token": "not-a-jwt"})
    try:
        assert s.status == 200
        assert s.expect_end() == [{"disconnect": {"code": 3500, "reason": "invalid token"}}]
    finally:
        s.close()


def test_plain_http_keep_alive_still_works_next_to_streams(uni):
    # Two plain requests on one connection, then a stream path on a fresh one.
    s = HTTPStream(uni.port, "GET", "/health", sse=False)
    assert s.status == 200
    s.close()
    with socket.create_connection((LOOPBACK, uni.port), timeout=5) as c:
        for _ in range(2):
            c.sendall(f"GET /health HTTP/1.1\r\nHost: {LOOPBACK}\r\n\r\n".encode())
            data = b""
            while b"\r\n\r\n" not in data:
                data += c.recv(4096)
            head, _, rest = data.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200")
            length = int([h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")][0].split(b":")[1])
            while len(rest) < length:
                rest += c.recv(4096)


# ---------------------------------------------------------------------------
# uni_websocket
# ---------------------------------------------------------------------------


def uni_ws_url(b, connect: Optional[Dict[str, Any]] = None) -> str:
    url = f"ws://{LOOPBACK}:{b.port}{UNI_WS}"
    if connect is not None:
        url += "?cf_connect=" + urllib.parse.quote(json.dumps(connect))
    return url


async def ws_json(ws, timeout: float = 5.0) -> Dict[str, Any]:
    return json.loads(await asyncio_wait(ws.recv(), timeout))


async def asyncio_wait(aw, timeout):
    import asyncio

    return await asyncio.wait_for(aw, timeout)


def test_uni_websocket_connect_via_first_message(uni):
    user, ch = "uws-" + uid(), f"srv:{uid()}"

    async def main():
        async with websockets.connect(uni_ws_url(uni)) as ws:
            await ws.send(json.dumps({"token": make_token(user, channels=[ch])}))
            connect = (await ws_json(ws))["connect"]
            assert connect["client"] and ch in connect["subs"] and "pong" not in connect
            await ws.send("ignored")  # later messages are read and dropped
            await asyncio_wait(uni.aapi("publish", {"channel": ch, "data": {"n": 1}}), 5)
            m = await ws_json(ws)
            while m == {}:
                m = await ws_json(ws)
            assert m == {"channel": ch, "pub": {"data": {"n": 1}, "offset": 1}}
            await asyncio_wait(uni.aapi("disconnect", {"user": user}), 5)
            m = await ws_json(ws)
            while m == {}:
                m = await ws_json(ws)
            assert m == {"disconnect": {"code": 3503, "reason": "force disconnect"}}
            with pytest.raises(ConnectionClosed) as ei:
                await asyncio_wait(ws.recv(), 5)
            assert ei.value.rcvd.code == 3503

    run(main())


def test_uni_websocket_connect_via_query_and_pings(uni):
    user, ch = "uwq-" + uid(), f"srv:{uid()}"

    async def main():
        async with websockets.connect(uni_ws_url(uni, {"token": make_token(user, channels=[ch])})) as ws:
            connect = (await ws_json(ws))["connect"]
            assert ch in connect["subs"]
            assert await ws_json(ws, timeout=5) == {}

    run(main())


def test_uni_websocket_joined_frames_and_no_disconnect_push(broker_factory):
    b = broker_factory(deep_merge(base_config(), {
        "uni_websocket": {"enabled": True, "join_push_messages": True, "disable_disconnect_push": True}}))
    user, ch = "uwj-" + uid(), f"srv:{uid()}"

    async def main():
        async with websockets.connect(uni_ws_url(b, {"token": make_token(user, channels=[ch])})) as ws:
            assert ch in (await ws_json(ws))["connect"]["subs"]
            await asyncio_wait(b.aapi("batch", {"commands": [
                {"publish": {"channel": ch, "data": {"n": i}}} for i in range(3)]}), 5)
            got = []
            while len(got) < 3:
                frame = await asyncio_wait(ws.recv(), 5)
                got += [json.loads(line) for line in frame.split("\n") if line and line != "{}"]
            assert [m["pub"]["data"]["n"] for m in got] == [0, 1, 2]
            await asyncio_wait(b.aapi("disconnect", {"user": user}), 5)
            # Only the close frame tells why.
            with pytest.raises(ConnectionClosed) as ei:
                while True:
                    assert await asyncio_wait(ws.recv(), 5) == "{}"
            assert (ei.value.rcvd.code, ei.value.rcvd.reason) == (3503, "force disconnect")

    run(main())


def test_uni_websocket_bad_first_message_closes_3501(uni):
    async def main():
        async with websockets.connect(uni_ws_url(uni)) as ws:
            await ws.send("{bad")
            with pytest.raises(ConnectionClosed) as ei:
                await asyncio_wait(ws.recv(), 5)
            assert ei.value.rcvd.code == 3501

    run(main())


def test_uni_websocket_malformed_cf_connect_is_400(uni):
    async def main():
        with pytest.raises(InvalidStatus) as ei:
            async with websockets.connect(f"ws://{LOOPBACK}:{uni.port}{UNI_WS}?cf_connect=%7Bbad"):
                pass
        assert ei.value.response.status_code == 400

    run(main())


# ---------------------------------------------------------------------------
# Disabled (the default) → 404
# ---------------------------------------------------------------------------


def test_disabled_uni_transports_are_404(broker):
    s = sse_get(broker, {})
    try:
        assert s.status == 404
    finally:
        s.close()
    s = http_stream(broker, {})
    try:
        assert s.status == 404
    finally:
        s.close()

    async def main():
        with pytest.raises(InvalidStatus) as ei:
            async with websockets.connect(uni_ws_url(broker)):
                pass
        assert ei.value.response.status_code == 404

    run(main())


# ---------------------------------------------------------------------------
# Outbound queue limit
# ---------------------------------------------------------------------------


def test_http_stream_slow_reader_is_dropped(broker_factory):
    b = broker_factory(deep_merge(base_config(), deep_merge(UNI_OVERRIDES, {"client": {"queue_max_size": 200000}})),
                       name="uni-slow")
    user, ch = "slow-" + uid(), "nohist:slow-" + uid()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((LOOPBACK, b.port))
    body = json.dumps({"token": make_token(user, channels=[ch])}).encode()
    sock.sendall(f"POST {HTTP_STREAM} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
    deadline = time.monotonic() + 5
    while b.channels_count(ch) == 0:
        assert time.monotonic() < deadline, "stream did not connect"
        time.sleep(0.05)

    # The client reads nothing while ~8 MB is published to it.
    payload = {"s": "x" * 20000}
    total = 400
    for _ in range(0, total, 20):
        b.api("batch", {"commands": [{"publish": {"channel": ch, "data": payload}} for _ in range(20)]})
    deadline = time.monotonic() + 10
    while b.channels_count(ch) != 0:
        assert time.monotonic() < deadline, "slow reader not dropped"
        time.sleep(0.05)

    # What was queued before the cut arrives, then the connection ends.
    sock.settimeout(10)
    received = b""
    while True:
        data = sock.recv(1 << 20)
        if not data:
            break
        received += data
    sock.close()
    assert received.count(b'"pub"') < total
