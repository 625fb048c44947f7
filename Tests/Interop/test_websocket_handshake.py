"""The WebSocket opening handshake on raw sockets: what the broker's own handshake (not NIO's upgrade
handler) must get right for any client library, and what plain HTTP on the same port still gets."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket

from conftest import ALLOWED_ORIGIN, LOOPBACK, make_token, raw_http

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def upgrade_request(key: str, connection: str = "Upgrade", extra: str = "") -> bytes:
    return (
        f"GET /connection/websocket HTTP/1.1\r\nHost: x\r\nOrigin: {ALLOWED_ORIGIN}\r\n"
        f"Upgrade: websocket\r\nConnection: {connection}\r\nSec-WebSocket-Key: {key}\r\n"
        f"Sec-WebSocket-Version: 13\r\n{extra}\r\n"
    ).encode()


def masked_text_frame(text: str) -> bytes:
    payload = text.encode()
    assert len(payload) < 65536
    if len(payload) < 126:
        length = bytes([0x80 | len(payload)])
    else:
        length = bytes([0x80 | 126]) + len(payload).to_bytes(2, "big")
    mask = os.urandom(4)
    return bytes([0x81]) + length + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def read_head(sock: socket.socket, buf: bytes = b"") -> tuple[bytes, bytes]:
    """Reads up to the end of an HTTP response head; returns (head, rest)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before the response head; got {buf!r}"
        buf += chunk
    end = buf.index(b"\r\n\r\n") + 4
    return buf[:end], buf[end:]


def read_text_frame(sock: socket.socket, buf: bytes) -> str:
    """One unmasked, unfragmented server text frame (short or 16-bit length)."""
    while len(buf) < 2:
        buf += sock.recv(65536)
    assert buf[0] == 0x81, f"expected a final text frame, got {buf[:2]!r}"
    length, start = buf[1] & 0x7F, 2
    if length == 126:
        while len(buf) < 4:
            buf += sock.recv(65536)
        length, start = int.from_bytes(buf[2:4], "big"), 4
    while len(buf) < start + length:
        buf += sock.recv(65536)
    return buf[start : start + length].decode()


def headers_of(head: bytes) -> dict[str, str]:
    lines = head.decode().split("\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines if ln)}


def test_handshake_answers_101_with_the_accept_value_and_subprotocol(broker):
    key = base64.b64encode(os.urandom(16)).decode()
    sock = socket.create_connection((LOOPBACK, broker.port), timeout=5)
    try:
        sock.sendall(upgrade_request(key, extra="Sec-WebSocket-Protocol: centrifuge-json\r\n"))
        head, _ = read_head(sock)
        assert head.startswith(b"HTTP/1.1 101 "), head
        h = headers_of(head)
        expected = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        assert h["sec-websocket-accept"] == expected
        assert h["upgrade"].lower() == "websocket"
        assert h["connection"].lower() == "upgrade"
        assert h["sec-websocket-protocol"] == "centrifuge-json"
    finally:
        sock.close()


def test_frames_sent_with_the_upgrade_request_are_not_lost(broker):
    """A client that does not wait for the 101 (the connect command in the same packet, behind a
    `Connection: keep-alive, Upgrade` as Firefox sends) still gets its connect answered."""
    key = base64.b64encode(os.urandom(16)).decode()
    connect = json.dumps({"id": 1, "connect": {"token": make_token("early-bird")}})
    sock = socket.create_connection((LOOPBACK, broker.port), timeout=5)
    try:
        sock.sendall(upgrade_request(key, connection="keep-alive, Upgrade") + masked_text_frame(connect))
        head, rest = read_head(sock)
        assert head.startswith(b"HTTP/1.1 101 "), head
        reply = json.loads(read_text_frame(sock, rest).split("\n")[0])
        assert reply["id"] == 1, reply
        assert reply["connect"]["client"], reply
    finally:
        sock.close()


def test_upgrade_is_only_done_on_a_connections_first_request(broker):
    key = base64.b64encode(os.urandom(16)).decode()
    health = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    responses, _ = raw_http(broker, health + upgrade_request(key), expect=2)
    assert [status for status, _, _ in responses] == [200, 400]
    assert responses[1][2] == {"error": "expected a WebSocket upgrade"}


def test_declined_handshake_is_answered_as_plain_http(broker):
    """A bad Origin gets 403, a missing key 400, and neither switches protocols."""
    bad_origin = upgrade_request("dGhlIHNhbXBsZSBub25jZQ==").replace(ALLOWED_ORIGIN.encode(), b"http://evil.example")
    responses, _ = raw_http(broker, bad_origin, expect=1)
    assert responses[0][0] == 403
    no_key = upgrade_request("x").replace(b"Sec-WebSocket-Key: x\r\n", b"")
    responses, _ = raw_http(broker, no_key, expect=1)
    assert responses[0][0] == 400


def test_head_request_gets_headers_without_a_body(broker):
    """The body of a HEAD answer is left out (Content-Length stays), so a request pipelined behind it
    is read correctly."""
    sock = socket.create_connection((LOOPBACK, broker.port), timeout=5)
    try:
        sock.sendall(b"HEAD /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        first, rest = read_head(sock)
        assert first.startswith(b"HTTP/1.1 200 "), first
        assert int(headers_of(first)["content-length"]) > 0
        second, rest = read_head(sock, rest)
        assert second.startswith(b"HTTP/1.1 200 "), (first, second)
        length = int(headers_of(second)["content-length"])
        while len(rest) < length:
            rest += sock.recv(65536)
        json.loads(rest[:length])
    finally:
        sock.close()
