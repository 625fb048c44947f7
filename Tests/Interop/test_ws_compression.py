"""WebSocket compression (permessage-deflate, RFC 7692) as `websocket.compression` turns it on, as in Centrifugo:
negotiated with Python's `websockets` and the official centrifuge-python SDK, checked on raw sockets frame by frame
(RSV1, raw deflate without context takeover, inflated here with Python's zlib), refused bombs, nothing negotiated
when it is off, and one deflate per publication however many subscribers receive it."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import subprocess
import zlib
from typing import Any, Dict, List, Optional, Tuple

import pytest
import websockets

from conftest import (
    ALLOWED_ORIGIN,
    BROKER_BIN,
    LOOPBACK,
    RawWS,
    base_config,
    deep_merge,
    http_session,
    make_token,
    new_sub,
    run,
    sdk_clients,
    start_broker,
    uid,
)

ANSWER = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
METRIC = "broker_websocket_compressed_pushes_total"
BAD_REQUEST = 3501
MESSAGE_TOO_BIG = 1009


@pytest.fixture(scope="module")
def deflating():
    """A broker with permessage-deflate on both WebSocket endpoints (Centrifugo's defaults otherwise)."""
    b = start_broker(
        deep_merge(base_config(), {"websocket": {"compression": True},
                                   "uni_websocket": {"enabled": True, "compression": True}}),
        name="deflate",
    )
    yield b
    b.stop()


def compressed_pushes(b) -> int:
    for line in http_session().get(f"{b.http_url}/metrics", timeout=5).text.splitlines():
        if line.startswith(METRIC + " ") or line.startswith(METRIC + "{"):
            return int(float(line.split()[-1]))
    raise AssertionError(f"{METRIC} not in /metrics")


def document(n: int = 40) -> Dict[str, Any]:
    """Publication data that compresses well (what the setting is for)."""
    return {"items": [{"user": f"user-{i}", "text": "standup notes for today", "done": i % 2 == 0} for i in range(n)]}


# ---------------------------------------------------------------------------
# Raw frames (the bytes on the wire), deflated and inflated with Python's zlib
# ---------------------------------------------------------------------------


def deflate(data: bytes) -> bytes:
    """A message body as RFC 7692 has a client send it: raw deflate, sync flush, tail removed."""
    c = zlib.compressobj(wbits=-15)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


def inflate(data: bytes) -> bytes:
    """Inflates a server message on a fresh stream: the broker promised no context takeover."""
    return zlib.decompressobj(wbits=-15).decompress(data + b"\x00\x00\xff\xff")


def client_frame(payload: bytes, opcode: int = 0x1, fin: bool = True, rsv1: bool = False) -> bytes:
    head = bytes([(0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class RawConn:
    """A WebSocket connection on a plain socket: the handshake's headers and every frame's RSV1 are visible."""

    def __init__(self, port: int, path: str = "/connection/websocket", offer: Optional[str] = None) -> None:
        self.sock = socket.create_connection((LOOPBACK, port), timeout=5)
        key = base64.b64encode(os.urandom(16)).decode()
        extra = f"Sec-WebSocket-Extensions: {offer}\r\n" if offer else ""
        self.sock.sendall(
            (f"GET {path} HTTP/1.1\r\nHost: x\r\nOrigin: {ALLOWED_ORIGIN}\r\nUpgrade: websocket\r\n"
             f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            assert chunk, f"closed during the handshake: {self.buf!r}"
            self.buf += chunk
        end = self.buf.index(b"\r\n\r\n") + 4
        head, self.buf = self.buf[:end].decode(), self.buf[end:]
        assert head.startswith("HTTP/1.1 101"), head
        self.headers = {
            k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in head.split("\r\n")[1:] if ":" in line)
        }

    def _need(self, n: int) -> None:
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            assert chunk, "connection closed"
            self.buf += chunk

    def frame(self) -> Tuple[bool, int, bytes]:
        """The next frame (the broker does not fragment): (rsv1, opcode, payload)."""
        self._need(2)
        b0, b1 = self.buf[0], self.buf[1]
        assert b0 & 0x80, "the broker sends whole messages"
        n, start = b1 & 0x7F, 2
        if n == 126:
            self._need(4)
            n, start = int.from_bytes(self.buf[2:4], "big"), 4
        elif n == 127:
            self._need(10)
            n, start = int.from_bytes(self.buf[2:10], "big"), 10
        self._need(start + n)
        payload, self.buf = self.buf[start:start + n], self.buf[start + n:]
        return bool(b0 & 0x40), b0 & 0x0F, payload

    def message(self) -> Tuple[bool, List[Dict[str, Any]]]:
        """The next text message, inflated when RSV1 says so: (was compressed, its JSON lines)."""
        rsv1, opcode, payload = self.frame()
        assert opcode == 0x1, f"expected a text frame, got opcode {opcode}: {payload[:80]!r}"
        text = inflate(payload) if rsv1 else payload
        return rsv1, [json.loads(line) for line in text.decode().split("\n") if line.strip()]

    def close_code(self) -> int:
        while True:
            _, opcode, payload = self.frame()
            if opcode == 0x8:
                return int.from_bytes(payload[:2], "big")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_compressed(self, obj: Dict[str, Any]) -> None:
        self.send(client_frame(deflate(json.dumps(obj).encode()), rsv1=True))

    def close(self) -> None:
        self.sock.close()


# ---------------------------------------------------------------------------
# (a) negotiated: what the broker sends inflates, what the client sends compressed is understood
# ---------------------------------------------------------------------------


def test_websockets_negotiates_deflate_and_both_directions_work(deflating):
    ch = "zip-" + uid()
    data = document()

    async def main():
        # Python's websockets offers permessage-deflate (with client_max_window_bits) by default and then
        # compresses every message it sends: the connect and subscribe commands below arrive compressed.
        c = await RawWS.open(deflating.ws_url, compression="deflate")
        try:
            assert c.ws.response.headers["Sec-WebSocket-Extensions"] == ANSWER
            assert [type(e).__name__ for e in c.ws.protocol.extensions] == ["PerMessageDeflate"]
            reply = await c.connect(make_token("zip-" + uid(), secret=deflating.secret))
            assert "connect" in reply, reply
            assert "error" not in await c.call("subscribe", {"channel": ch})
            await deflating.aapi("publish", {"channel": ch, "data": data})
            await deflating.aapi("publish", {"channel": ch, "data": {"n": 2}})
            pubs = await c.pubs(ch, 2)
            assert [p["data"] for p in pubs] == [data, {"n": 2}]
        finally:
            await c.close()

    run(main())


def test_frames_are_raw_deflate_with_rsv1_both_ways(deflating):
    ch = "zip-" + uid()
    data = document()
    conn = RawConn(deflating.port, offer="permessage-deflate; client_max_window_bits")
    try:
        assert conn.headers["sec-websocket-extensions"] == ANSWER
        conn.send_compressed({"id": 1, "connect": {"token": make_token("raw-" + uid(), secret=deflating.secret)}})
        compressed, [reply] = conn.message()
        assert compressed and reply["id"] == 1 and "connect" in reply, reply
        # A compressed message in two frames: RSV1 on the first only, the deflate stream split between them.
        body = deflate(json.dumps({"id": 2, "subscribe": {"channel": ch}}).encode())
        conn.send(client_frame(body[:5], fin=False, rsv1=True) + client_frame(body[5:], opcode=0x0))
        compressed, [reply] = conn.message()
        assert compressed and reply["id"] == 2 and "subscribe" in reply, reply
        deflating.api("publish", {"channel": ch, "data": data})
        compressed, [push] = conn.message()
        assert compressed
        assert push["push"]["channel"] == ch and push["push"]["pub"]["data"] == data
    finally:
        conn.close()


def test_uni_websocket_deflates_too(deflating):
    ch = f"srv:{uid()}"
    data = document()
    connect = json.dumps({"token": make_token("uni-" + uid(), secret=deflating.secret, channels=[ch])})
    conn = RawConn(deflating.port, path="/connection/uni_websocket", offer="permessage-deflate")
    try:
        assert conn.headers["sec-websocket-extensions"] == ANSWER
        # uni_websocket's one client message, its connect request, sent compressed.
        conn.send(client_frame(deflate(connect.encode()), rsv1=True))
        compressed, [reply] = conn.message()
        assert compressed and ch in reply["connect"]["subs"], reply
        deflating.api("publish", {"channel": ch, "data": data})
        compressed, [push] = conn.message()
        assert compressed and push == {"channel": ch, "pub": {"data": data, "offset": 1}}
    finally:
        conn.close()


def test_a_decompression_bomb_is_refused_with_1009(deflating):
    # 2 MB of spaces deflates to about 2 KB, well within message_size_limit (64 KB on the wire), but inflates
    # past decompressed_message_size_limit (10 × 64 KB by default).
    bomb = deflate(b'{"id":1,"connect":{"data":"' + b" " * 2_000_000 + b'"}}')
    assert len(bomb) < 65536
    conn = RawConn(deflating.port, offer="permessage-deflate")
    try:
        conn.send(client_frame(bomb, rsv1=True))
        assert conn.close_code() == MESSAGE_TOO_BIG
    finally:
        conn.close()
    assert deflating.alive()
    # Just under the limit is fine.
    ok = RawConn(deflating.port, offer="permessage-deflate")
    try:
        token = make_token("big-" + uid(), secret=deflating.secret)
        message = json.dumps({"id": 1, "connect": {"token": token, "name": "x" * 654_000}}).encode()
        assert 650_000 < len(message) <= 655_360
        ok.send(client_frame(deflate(message), rsv1=True))
        _, [reply] = ok.message()
        assert reply["id"] == 1, reply
    finally:
        ok.close()


def test_min_size_leaves_small_messages_uncompressed(broker_factory):
    b = broker_factory(deep_merge(base_config(), {"websocket": {"compression": True, "compression_min_size": 300}}))
    ch = f"srv:{uid()}"
    conn = RawConn(b.port, offer="permessage-deflate")
    try:
        assert conn.headers["sec-websocket-extensions"] == ANSWER
        conn.send_compressed({"id": 1, "connect": {"token": make_token("min-" + uid(), secret=b.secret, channels=[ch])}})
        _, [reply] = conn.message()
        assert ch in reply["connect"]["subs"], reply
        b.api("publish", {"channel": ch, "data": {"n": 1}})
        compressed, [push] = conn.message()
        assert not compressed and push["push"]["pub"]["data"] == {"n": 1}
        b.api("publish", {"channel": ch, "data": document()})
        compressed, [push] = conn.message()
        assert compressed and push["push"]["pub"]["data"] == document()
        assert compressed_pushes(b) == 1
    finally:
        conn.close()


# ---------------------------------------------------------------------------
# (b) compression off: nothing negotiated, a compressed frame is a protocol error
# ---------------------------------------------------------------------------


def test_compression_off_negotiates_nothing(broker):
    async def main():
        c = await RawWS.open(broker.ws_url, compression="deflate")
        try:
            assert "Sec-WebSocket-Extensions" not in c.ws.response.headers
            assert c.ws.protocol.extensions == []
            reply = await c.connect(make_token("plain-" + uid(), secret=broker.secret))
            assert "connect" in reply, reply
        finally:
            await c.close()

    run(main())
    conn = RawConn(broker.port, offer="permessage-deflate")
    try:
        assert "sec-websocket-extensions" not in conn.headers
        conn.send_compressed({"id": 1, "connect": {"token": make_token("plain-" + uid(), secret=broker.secret)}})
        assert conn.close_code() == BAD_REQUEST
    finally:
        conn.close()


def test_a_level_outside_zlibs_range_stops_checkconfig_naming_the_key(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(deep_merge(base_config(), {"websocket": {"compression": True, "compression_level": 12}})))
    p = subprocess.run([BROKER_BIN, "checkconfig", "--config", str(path)], capture_output=True, text=True, timeout=30)
    out = p.stdout + p.stderr
    assert p.returncode == 1, (p.returncode, out)
    assert "websocket.compression_level" in out and "12 is not a zlib compression level" in out, out


def test_offers_it_cannot_honour_are_declined(deflating):
    conn = RawConn(deflating.port, offer="permessage-deflate; server_max_window_bits=10")
    try:
        assert "sec-websocket-extensions" not in conn.headers
    finally:
        conn.close()


# ---------------------------------------------------------------------------
# (c) one deflate per publication, however many subscribers
# ---------------------------------------------------------------------------


@pytest.mark.timeout(180)
def test_a_thousand_deflate_subscribers_cost_one_deflate(deflating):
    ch = f"srv:{uid()}"
    data = document()
    n = 1000

    async def open_one(i: int):
        ws = await websockets.connect(
            deflating.ws_url, compression="deflate", proxy=None, ping_interval=None, open_timeout=30, max_size=None,
            origin=ALLOWED_ORIGIN)
        assert ws.response.headers["Sec-WebSocket-Extensions"] == ANSWER
        token = make_token(f"k-{i}", secret=deflating.secret, channels=[ch])
        await ws.send(json.dumps({"id": 1, "connect": {"token": token}}))
        reply = json.loads(await asyncio.wait_for(ws.recv(), 30))
        assert ch in reply["connect"]["subs"], reply
        return ws

    async def publication(ws):
        while True:
            for line in (await asyncio.wait_for(ws.recv(), 30)).split("\n"):
                if line.strip() and line != "{}":
                    return json.loads(line)["push"]

    async def main():
        clients: List[Any] = []
        try:
            for start in range(0, n, 100):
                clients += await asyncio.gather(*(open_one(i) for i in range(start, start + 100)))
            before = compressed_pushes(deflating)
            await deflating.aapi("publish", {"channel": ch, "data": data})
            pushes = await asyncio.gather(*(publication(ws) for ws in clients))
            assert len(pushes) == n
            assert all(p["channel"] == ch and p["pub"]["data"] == data for p in pushes)
            assert compressed_pushes(deflating) - before == 1
        finally:
            await asyncio.gather(*(ws.close() for ws in clients), return_exceptions=True)

    run(main(), timeout=170)


# ---------------------------------------------------------------------------
# (d) the official SDK with compression on
# ---------------------------------------------------------------------------


def test_centrifuge_python_works_with_compression(deflating):
    ch = "zip-" + uid()
    data = document()

    async def main():
        async with sdk_clients() as make:
            client, rec = make(deflating.ws_url, token=make_token("sdk-" + uid(), secret=deflating.secret))
            await client.connect()
            await rec.wait("connected")
            sub, srec = new_sub(client, ch)
            await sub.subscribe()
            await srec.wait("subscribed")
            before = compressed_pushes(deflating)
            await deflating.aapi("publish", {"channel": ch, "data": data})
            ctx = await srec.wait("publication")
            assert ctx.pub.data == data
            # The SDK's websockets negotiated deflate: the publication went to it compressed.
            assert compressed_pushes(deflating) - before == 1
            result = await sub.publish({"from": "sdk"})  # a compressed command the broker inflates
            assert result is not None
            ctx = await srec.wait("publication", lambda c: c.pub.data == {"from": "sdk"})

    run(main())
