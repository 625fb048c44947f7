"""Raw WebSocket frames (JSON protocol): exact reply shapes, error codes and
close codes, as Centrifugo v6 produces them."""

from __future__ import annotations

import asyncio
import base64
import json
import signal
import socket
import time

import jwt
import pytest
import requests
from websockets.exceptions import InvalidStatus

from conftest import (
    ALLOWED_ORIGIN,
    API_KEY,
    LOOPBACK,
    RawWS,
    base_config,
    deep_merge,
    ec_keypair,
    eventually,
    free_port,
    http_session,
    make_sub_token,
    make_token,
    raw_clients,
    raw_connected,
    rsa_keypair,
    run,
    start_broker,
    uid,
)

BAD_REQUEST = (3501, "bad request")


def err(cmd_id, code, message):
    return {"id": cmd_id, "error": {"code": code, "message": message}}


# ---------------------------------------------------------------------------
# Dedicated brokers
# ---------------------------------------------------------------------------

TIGHT_OVERRIDES = {
    "client": {
        "ping_interval": "2s",
        "pong_timeout": "1s",
        "stale_close_delay": "1s",
        "channel_limit": 3,
        "allow_anonymous_connect_without_token": True,
    },
    "websocket": {"message_size_limit": 4096},
    "channel": {
        "without_namespace": {
            "allow_subscribe_for_client": True,
            "allow_subscribe_for_anonymous": True,
        }
    },
}


@pytest.fixture(scope="module")
def tight():
    """Small limits and timers: ping 2s / pong 1s, stale 1s, channel_limit 3,
    message_size_limit 4096, anonymous connect allowed."""
    b = start_broker(deep_merge(base_config(), TIGHT_OVERRIDES), name="tight")
    yield b
    b.stop()


@pytest.fixture(scope="module")
def keys_broker():
    rsa_priv, rsa_pub = rsa_keypair()
    ec_priv, ec_pub = ec_keypair()
    cfg = deep_merge(
        base_config(),
        {"client": {"token": {"rsa_public_key": rsa_pub, "ecdsa_public_key": ec_pub}}},
    )
    b = start_broker(cfg, name="keys")
    b.rsa_priv, b.ec_priv = rsa_priv, ec_priv
    yield b
    b.stop()


# ---------------------------------------------------------------------------
# Connect
# ---------------------------------------------------------------------------


def test_connect_reply_shape(broker):
    async def main():
        async with raw_clients() as open_ws:
            c = await open_ws(broker.ws_url)
            await c.send({"id": 1, "connect": {"token": make_token("u1", exp_in=None), "name": "interop"}})
            rep = await c.reply(1)
            assert set(rep) == {"id", "connect"}, rep
            res = rep["connect"]
            assert set(res) == {"client", "version", "ping", "pong"}, f"unexpected connect result fields: {res}"
            assert isinstance(res["client"], str) and len(res["client"]) == 36
            assert isinstance(res["version"], str) and res["version"]
            assert res["ping"] == 25 and res["pong"] is True

    run(main())


def test_native_ping_mode_has_no_app_level_ping(broker):
    async def main():
        async with raw_clients() as open_ws:
            c = await open_ws(broker.ws_url + "?cf_ws_frame_ping_pong=true")
            await c.send({"id": 1, "connect": {"token": make_token("u1", exp_in=None)}})
            res = (await c.reply(1))["connect"]
            assert "ping" not in res and "pong" not in res, res
            assert "error" not in await c.call("subscribe", {"channel": "chat:native-" + uid()})

    run(main())


def test_connect_reply_with_expiring_token(broker):
    async def main():
        async with raw_clients() as open_ws:
            c = await open_ws(broker.ws_url)
            res = (await c.connect(make_token("u1", exp_in=3600)))["connect"]
            assert res["expires"] is True
            assert 3590 <= res["ttl"] <= 3600
            # refresh with a new token
            rep = await c.call("refresh", {"token": make_token("u1", exp_in=7200)})
            assert set(rep) == {"id", "refresh"}
            assert rep["refresh"]["expires"] is True and 7190 <= rep["refresh"]["ttl"] <= 7200
            # refresh for another user -> 3500
            await c.send({"id": 99, "refresh": {"token": make_token("someone-else", exp_in=7200)}})
            assert await c.expect_close() == (3500, "invalid token")

    run(main())


def test_connect_result_subs_for_token_channels(broker):
    async def main():
        ch = "srv:subs-" + uid()
        broker.api("publish", {"channel": ch, "data": {"a": 1}})
        broker.api("publish", {"channel": ch, "data": {"a": 2}})
        async with raw_clients() as open_ws:
            c, res = await raw_connected(open_ws, broker, channels=[ch])
            assert set(res["subs"]) == {ch}
            s = res["subs"][ch]
            assert s["recoverable"] is True and s["positioned"] is True
            assert s["offset"] == 2 and isinstance(s["epoch"], str) and s["epoch"]
            broker.api("publish", {"channel": ch, "data": {"a": 3}})
            assert await c.push() == {"channel": ch, "pub": {"data": {"a": 3}, "offset": 3}}

    run(main())


def test_invalid_token_closes_3500(broker):
    async def main():
        async with raw_clients() as open_ws:
            for token in ("garbage", make_token("u1", secret="wrong"), make_token("u1", channel="x")):
                c = await open_ws(broker.ws_url)
                await c.send({"id": 1, "connect": {"token": token}})
                assert await c.expect_close() == (3500, "invalid token"), token

    run(main())


def test_expired_token_error_109_then_unusable(broker):
    async def main():
        async with raw_clients() as open_ws:
            c = await open_ws(broker.ws_url)
            rep = await c.connect(make_token("u1", exp_in=-30))
            assert rep == err(1, 109, "token expired")
            # The connection stays open but is unusable.
            await c.send({"id": 2, "subscribe": {"channel": "chat:x"}})
            assert await c.expect_close() == BAD_REQUEST

    run(main())


def test_anonymous_without_permission_closes_3501(broker):
    async def main():
        async with raw_clients() as open_ws:
            c = await open_ws(broker.ws_url)
            await c.send({"id": 1, "connect": {}})
            assert await c.expect_close() == BAD_REQUEST

    run(main())


def test_anonymous_allowed(tight):
    async def main():
        async with raw_clients() as open_ws:
            c = await open_ws(tight.ws_url)
            res = (await c.connect())["connect"]
            assert res["client"]
            ch = "anon-" + uid()
            assert await c.call("subscribe", {"channel": ch}) == {"id": 2, "subscribe": {}}
            # chat allows clients but not anonymous ones
            assert await c.call("subscribe", {"channel": "chat:x-" + uid()}) == err(3, 103, "permission denied")
            pres = tight.api("channels", {"pattern": ch})["result"]["channels"]
            assert pres == {ch: {"num_clients": 1}}

    run(main())


def test_rs256_and_es256_tokens(keys_broker):
    b = keys_broker

    async def main():
        async with raw_clients() as open_ws:
            exp = int(time.time()) + 600
            rs = jwt.encode({"sub": "rsa-user", "exp": exp}, b.rsa_priv, algorithm="RS256")
            es = jwt.encode({"sub": "ec-user", "exp": exp}, b.ec_priv, algorithm="ES256")
            hs = make_token("hs-user")
            for token in (rs, es, hs):
                c = await open_ws(b.ws_url)
                rep = await c.connect(token)
                assert "connect" in rep, rep
            other_rsa, _ = rsa_keypair()
            bad = jwt.encode({"sub": "x", "exp": exp}, other_rsa, algorithm="RS256")
            c = await open_ws(b.ws_url)
            await c.send({"id": 1, "connect": {"token": bad}})
            assert await c.expect_close() == (3500, "invalid token")

    run(main())


# ---------------------------------------------------------------------------
# Framing and protocol errors
# ---------------------------------------------------------------------------


def test_several_commands_in_one_frame(broker):
    async def main():
        ch = "nohist:multi-" + uid()
        async with raw_clients() as open_ws:
            c = await open_ws(broker.ws_url)
            await c.send(
                {"id": 1, "connect": {"token": make_token("u-multi")}},
                {"id": 2, "subscribe": {"channel": ch}},
                {"id": 3, "publish": {"channel": ch, "data": {"x": 1}}},
                {"id": 4, "presence": {"channel": ch}},
            )
            order = []
            got = {}
            while len(got) < 4:
                for m in await c.read_messages():
                    if "id" in m:
                        order.append(m["id"])
                        got[m["id"]] = m
                    elif m != {}:
                        c.buffer.append(m)
            assert order == [1, 2, 3, 4], f"replies must come in command order, got {order}"
            cid = got[1]["connect"]["client"]
            assert got[2] == {"id": 2, "subscribe": {}}
            assert got[3] == {"id": 3, "publish": {}}
            assert got[4] == err(4, 108, "not available")
            push = await c.push()
            assert push == {"channel": ch, "pub": {"data": {"x": 1}, "info": {"user": "u-multi", "client": cid}}}
            # two more in one frame, after connect
            await c.send({"id": 5, "unsubscribe": {"channel": ch}}, {"id": 6, "subscribe": {"channel": ch}})
            assert await c.reply(5) == {"id": 5, "unsubscribe": {}}
            assert await c.reply(6) == {"id": 6, "subscribe": {}}

    run(main())


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param('{"id":1,"subscribe":{"channel":"chat:x"}}', id="command-before-connect"),
        pytest.param('{"id":1,"connect":{}', id="malformed-json"),
        pytest.param("not json at all", id="not-json"),
        pytest.param("", id="empty-frame"),
        pytest.param("{}", id="pong-before-connect"),
    ],
)
def test_bad_first_frame_closes_3501(broker, frame):
    async def main():
        async with raw_clients() as open_ws:
            c = await open_ws(broker.ws_url)
            await c.send_text(frame)
            assert await c.expect_close() == BAD_REQUEST

    run(main())


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param('{"id":2,"connect":{"token":"%TOKEN%"}}', id="second-connect"),
        pytest.param('{"id":2,"foo":{"channel":"x"}}', id="unknown-method"),
        pytest.param('{"id":2}', id="empty-command"),
        pytest.param('{"id":2,"subscribe":{"channel":""}}', id="empty-channel"),
        pytest.param('{"id":2,"subscribe":{"channel":"chat:x"}', id="malformed-json"),
        pytest.param("{}", id="unsolicited-pong"),
        pytest.param('{"id":0,"subscribe":{"channel":"chat:x"}}', id="id-zero-is-a-pong"),
    ],
)
def test_bad_frame_after_connect_closes_3501(broker, frame):
    async def main():
        async with raw_clients() as open_ws:
            c, _ = await raw_connected(open_ws, broker)
            await c.send_text(frame.replace("%TOKEN%", make_token("u1")))
            assert await c.expect_close() == BAD_REQUEST

    run(main())


def test_binary_garbage_frame_closes_3501(broker):
    async def main():
        async with raw_clients() as open_ws:
            c, _ = await raw_connected(open_ws, broker)
            await c.send_bytes(b"\x00\x01\x02\xff\xfe")
            assert await c.expect_close() == BAD_REQUEST

    run(main())


def test_oversized_frame_closes_1009(tight):
    async def main():
        async with raw_clients() as open_ws:
            c, _ = await raw_connected(open_ws, tight)
            big = json.dumps({"id": 2, "publish": {"channel": "nohist:big", "data": {"s": "x" * 8192}}})
            await c.send_text(big)
            code, _ = await c.expect_close()
            assert code == 1009

    run(main())


def test_frame_under_size_limit_is_fine(tight):
    async def main():
        async with raw_clients() as open_ws:
            c, _ = await raw_connected(open_ws, tight)
            rep = await c.call("publish", {"channel": "nohist:ok-" + uid(), "data": {"s": "x" * 3000}})
            assert rep == {"id": 2, "publish": {}}

    run(main())


def test_stale_connection_closes_3502(tight):
    async def main():
        async with raw_clients() as open_ws:
            c = await open_ws(tight.ws_url)
            t0 = time.monotonic()
            assert await c.expect_close(timeout=6) == (3502, "stale")
            elapsed = time.monotonic() - t0
            assert 0.7 <= elapsed <= 4.0, f"stale close after {elapsed:.2f}s, stale_close_delay is 1s"

    run(main())


# ---------------------------------------------------------------------------
# Subscribe / publish / history / presence errors and exact replies
# ---------------------------------------------------------------------------


def test_command_errors_exact(broker):
    async def main():
        async with raw_clients() as open_ws:
            c, _ = await raw_connected(open_ws, broker)
            ch = "chat:dup-" + uid()
            n = 2

            async def call(method, params):
                nonlocal n
                await c.send({"id": n, method: params})
                rep = await c.reply(n)
                n += 1
                return rep

            assert await call("subscribe", {"channel": "nosuchns:x"}) == err(n - 1, 102, "unknown channel")
            r = await call("subscribe", {"channel": ch})
            assert "subscribe" in r
            assert await call("subscribe", {"channel": ch}) == err(n - 1, 105, "already subscribed")
            too_long = "chat:" + "a" * 251  # 256 > channel.max_length 255
            assert await call("subscribe", {"channel": too_long}) == err(n - 1, 107, "bad request")
            assert await call("subscribe", {"channel": "chat:h\u00e9llo-" + uid()}) == err(n - 1, 107, "bad request")
            assert await call("subscribe", {"channel": "$chat:priv-" + uid()}) == err(n - 1, 103, "permission denied")
            assert await call("subscribe", {"channel": "srv:x-" + uid()}) == err(n - 1, 103, "permission denied")
            assert await call("history", {"channel": "nohist:x", "limit": 1}) == err(n - 1, 108, "not available")
            assert await call("presence", {"channel": "nohist:x"}) == err(n - 1, 108, "not available")
            assert await call("presence_stats", {"channel": "nohist:x"}) == err(n - 1, 108, "not available")
            nopub = "nopub:x-" + uid()
            assert "subscribe" in await call("subscribe", {"channel": nopub})
            assert await call("publish", {"channel": nopub, "data": {"x": 1}}) == err(n - 1, 103, "permission denied")
            # not subscribed to a subscriber-only channel
            assert await call("history", {"channel": "chat:other-" + uid(), "limit": 1}) == err(
                n - 1, 103, "permission denied"
            )
            assert await call("publish", {"channel": "nosuchns:x", "data": {}}) == err(n - 1, 102, "unknown channel")
            # sub token for a different user -> 3500 disconnect
            bad = make_sub_token("someone-else", "$chat:p")
            await c.send({"id": n, "subscribe": {"channel": "$chat:p", "token": bad}})
            assert await c.expect_close() == (3500, "invalid token")

    run(main())


def test_channel_limit_106(tight):
    async def main():
        async with raw_clients() as open_ws:
            c, _ = await raw_connected(open_ws, tight)
            for i in range(3):
                assert "subscribe" in await c.call("subscribe", {"channel": f"chat:lim-{i}-{uid()}"})
            rep = await c.call("subscribe", {"channel": "chat:lim-4-" + uid()})
            assert rep == err(5, 106, "limit exceeded")

    run(main())


def test_exact_subscribe_publish_history_replies(broker):
    async def main():
        async with raw_clients() as open_ws:
            c, conn = await raw_connected(open_ws, broker, "u-exact")
            plain = "nohist:e-" + uid()
            assert await c.call("subscribe", {"channel": plain}) == {"id": 2, "subscribe": {}}
            assert await c.call("publish", {"channel": plain, "data": {"text": "hi"}}) == {"id": 3, "publish": {}}
            assert await c.push() == {
                "channel": plain,
                "pub": {"data": {"text": "hi"}, "info": {"user": "u-exact", "client": conn["client"]}},
            }

            ch = "chat:e-" + uid()
            rep = await c.call("subscribe", {"channel": ch})
            res = rep["subscribe"]
            assert set(res) == {"recoverable", "epoch", "positioned"}, f"fresh stream: offset 0 omitted: {res}"
            assert res["recoverable"] is True and res["positioned"] is True
            epoch = res["epoch"]
            assert isinstance(epoch, str) and epoch
            for i in range(3):
                broker.api("publish", {"channel": ch, "data": {"i": i}})
            pubs = await c.pubs(ch, 3)
            assert pubs == [{"data": {"i": i}, "offset": i + 1} for i in range(3)]

            rep = await c.call("history", {"channel": ch, "limit": 2, "since": {"offset": 1, "epoch": epoch}})
            assert rep == {
                "id": 5,
                "history": {
                    "publications": [{"data": {"i": 1}, "offset": 2}, {"data": {"i": 2}, "offset": 3}],
                    "epoch": epoch,
                    "offset": 3,
                },
            }
            rep = await c.call("history", {"channel": ch})
            assert rep["history"]["offset"] == 3 and rep["history"]["epoch"] == epoch
            assert rep["history"].get("publications", []) == []
            rep = await c.call("history", {"channel": ch, "limit": 1, "since": {"offset": 1, "epoch": "bad"}})
            assert rep == err(7, 112, "unrecoverable position")
            rep = await c.call("presence_stats", {"channel": ch})
            assert rep == {"id": 8, "presence_stats": {"num_clients": 1, "num_users": 1}}
            rep = await c.call("presence", {"channel": ch})
            assert rep == {
                "id": 9,
                "presence": {"presence": {conn["client"]: {"user": "u-exact", "client": conn["client"]}}},
            }

    run(main())


def test_recovery_raw(broker):
    async def main():
        ch = "chat:rr-" + uid()
        epoch = ""
        for i in range(3):
            epoch = broker.api("publish", {"channel": ch, "data": {"i": i}})["result"]["epoch"]
        async with raw_clients() as open_ws:
            c, _ = await raw_connected(open_ws, broker)
            rep = await c.call("subscribe", {"channel": ch, "recover": True, "epoch": epoch, "offset": 1})
            assert rep == {
                "id": 2,
                "subscribe": {
                    "recoverable": True,
                    "epoch": epoch,
                    "publications": [{"data": {"i": 1}, "offset": 2}, {"data": {"i": 2}, "offset": 3}],
                    "recovered": True,
                    "offset": 1,
                    "positioned": True,
                    "was_recovering": True,
                },
            }
            # live publications continue after the recovered ones
            broker.api("publish", {"channel": ch, "data": {"i": 3}})
            assert await c.pubs(ch, 1) == [{"data": {"i": 3}, "offset": 4}]

            c2, _ = await raw_connected(open_ws, broker)
            rep = await c2.call("subscribe", {"channel": ch, "recover": True, "epoch": "wrong", "offset": 1})
            assert rep == {
                "id": 2,
                "subscribe": {
                    "recoverable": True,
                    "epoch": epoch,
                    "offset": 4,
                    "positioned": True,
                    "was_recovering": True,
                },
            }

            # Already at the top: recovered, nothing to deliver.
            c3, _ = await raw_connected(open_ws, broker)
            rep = await c3.call("subscribe", {"channel": ch, "recover": True, "epoch": epoch, "offset": 4})
            res = rep["subscribe"]
            assert res["recovered"] is True and res["was_recovering"] is True
            assert res.get("publications", []) == [] and res["offset"] == 4

    run(main())


def test_no_publication_after_unsubscribe_reply(broker):
    async def main():
        ch, marker = "nohist:u-" + uid(), "nohist:m-" + uid()
        async with raw_clients() as open_ws:
            c, _ = await raw_connected(open_ws, broker)
            await c.call("subscribe", {"channel": ch})
            await c.call("subscribe", {"channel": marker})
            assert await c.call("unsubscribe", {"channel": ch}) == {"id": 4, "unsubscribe": {}}
            broker.api("publish", {"channel": ch, "data": {"late": 1}})
            broker.api("publish", {"channel": marker, "data": {"m": 1}})
            await c.pubs(marker, 1)
            assert [m for m in c.buffer if m.get("push", {}).get("channel") == ch] == []

    run(main())


def test_join_leave_push_shapes(broker):
    async def main():
        ch = "chat:jlraw-" + uid()
        async with raw_clients() as open_ws:
            a, ca = await raw_connected(open_ws, broker, "ua")
            b, cb = await raw_connected(open_ws, broker, "ub", info={"n": 1})
            assert "subscribe" in await a.call("subscribe", {"channel": ch, "join_leave": True})
            assert "subscribe" in await b.call("subscribe", {"channel": ch})
            j = await a.push(lambda p: "join" in p and p["join"]["info"]["client"] == cb["client"])
            assert j == {"channel": ch, "join": {"info": {"user": "ub", "client": cb["client"], "conn_info": {"n": 1}}}}
            await b.call("unsubscribe", {"channel": ch})
            lv = await a.push(lambda p: "leave" in p)
            assert lv == {"channel": ch, "leave": {"info": {"user": "ub", "client": cb["client"], "conn_info": {"n": 1}}}}

    run(main())


def test_binary_publication_to_json_client_closes_3506(broker):
    async def main():
        ch = "nohist:bin-" + uid()
        async with raw_clients() as open_ws:
            c, _ = await raw_connected(open_ws, broker)
            await c.call("subscribe", {"channel": ch})
            broker.api("publish", {"channel": ch, "b64data": base64.b64encode(b"\xff\x00\xfenot json").decode()})
            assert await c.expect_close() == (3506, "inappropriate protocol")

    run(main())


# ---------------------------------------------------------------------------
# Ping / pong
# ---------------------------------------------------------------------------


def test_ping_pong(tight):
    async def main():
        async with raw_clients() as open_ws:
            good = await open_ws(tight.ws_url, auto_pong=True)
            bad = await open_ws(tight.ws_url, auto_pong=False)
            await good.connect(make_token("good"))
            res = (await bad.connect(make_token("bad")))["connect"]
            assert res["ping"] == 2 and res["pong"] is True

            async def bad_flow():
                t0 = time.monotonic()
                code = await bad.expect_close(timeout=8)
                return code, time.monotonic() - t0, bad.pings

            async def good_flow():
                still_open = await good.is_open_after(5.5)
                return still_open, good.pings

            (bad_close, bad_elapsed, bad_pings), (good_open, good_pings) = await asyncio.gather(bad_flow(), good_flow())
            assert bad_pings >= 1, "server must send a ping ({}) before closing for no pong"
            assert bad_close == (3012, "no pong")
            assert bad_elapsed <= 5.0
            assert good_open, "a client answering pings must stay connected"
            assert good_pings >= 2, f"expected >=2 pings in 5.5s with ping_interval 2s, got {good_pings}"
            # and it is still usable
            assert await good.call("publish", {"channel": "nohist:pp-" + uid(), "data": {}}) != {}

    run(main(), timeout=30)


# ---------------------------------------------------------------------------
# Origin
# ---------------------------------------------------------------------------


def test_origin_check(broker):
    async def main():
        with pytest.raises(InvalidStatus) as ei:
            await RawWS.open(broker.ws_url, origin="http://evil.example")
        assert ei.value.response.status_code == 403
        async with raw_clients() as open_ws:
            c = await open_ws(broker.ws_url, origin=ALLOWED_ORIGIN)
            assert "connect" in await c.connect(make_token("u1"))
            c2 = await open_ws(broker.ws_url)  # no Origin header -> allowed
            assert "connect" in await c2.connect(make_token("u1"))

    run(main())


# ---------------------------------------------------------------------------
# Isolation
# ---------------------------------------------------------------------------


def test_flooding_client_does_not_affect_others(broker):
    async def main():
        ch = "chat:iso-" + uid()
        async with raw_clients() as open_ws:
            victim, _ = await raw_connected(open_ws, broker, "victim")
            assert "subscribe" in await victim.call("subscribe", {"channel": ch})
            flooder, _ = await raw_connected(open_ws, broker, "flooder")

            async def flood():
                n = 100
                for _ in range(200):
                    cmds = []
                    for _ in range(10):
                        cmds.append({"id": n, "presence_stats": {"channel": "chat:nope"}})
                        n += 1
                    await flooder.send(*cmds)
                await flooder.send_text("{{{ garbage")
                return await flooder.expect_close(timeout=20)

            async def publish_all():
                for i in range(20):
                    await broker.aapi("publish", {"channel": ch, "data": {"i": i}})

            flood_task = asyncio.create_task(flood())
            await publish_all()
            pubs = await victim.pubs(ch, 20, timeout=10)
            assert [p["data"]["i"] for p in pubs] == list(range(20))
            assert await flood_task == BAD_REQUEST
            assert "presence_stats" in await victim.call("presence_stats", {"channel": ch})

    run(main())


def test_slow_client_closed_3008_others_unaffected(broker_factory):
    b = broker_factory(deep_merge(base_config(), {"client": {"queue_max_size": 200000}}), name="slow")

    async def main():
        slow_ch, fast_ch = "nohist:slow-" + uid(), "nohist:fast-" + uid()
        async with raw_clients() as open_ws:
            fast, _ = await raw_connected(open_ws, b, "fast")
            assert "subscribe" in await fast.call("subscribe", {"channel": fast_ch})

            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect((LOOPBACK, b.port))
            sock.setblocking(False)
            slow = await open_ws(b.ws_url, sock=sock, max_queue=1)
            assert "connect" in await slow.connect(make_token("slow"))
            assert "subscribe" in await slow.call("subscribe", {"channel": slow_ch})

            # The slow client stops reading; ~8 MB goes out to it (more than the kernel's
            # autotuned loopback send buffer can absorb, so the broker's own queue fills up).
            payload = {"s": "x" * 20000}
            total = 400
            for start in range(0, total, 20):
                cmds = [{"publish": {"channel": slow_ch, "data": payload}} for _ in range(20)]
                r = await b.aapi("batch", {"commands": cmds})
                assert len(r["replies"]) == 20
                await b.aapi("publish", {"channel": fast_ch, "data": {"k": start}})

            # The server drops the slow subscriber on its own (the client reads nothing).
            await eventually(lambda: b.channels_count(slow_ch) == 0, timeout=10, desc="slow client dropped")
            # Others are unaffected.
            got = await fast.pubs(fast_ch, total // 20, timeout=10)
            assert [p["data"]["k"] for p in got] == list(range(0, total, 20))
            b.api("publish", {"channel": fast_ch, "data": {"after": 1}})
            assert (await fast.pubs(fast_ch, 1))[0]["data"] == {"after": 1}

            # Now the slow client reads: what is left, then the end of the connection.
            code, reason = await slow.expect_close(timeout=15)
            received = sum(1 for m in slow.buffer if "push" in m and m["push"].get("channel") == slow_ch)
            assert received < total, "the slow client was not cut off"
            assert code in (3008, 1006), f"expected close 3008 (slow) or no close frame, got {code} {reason!r}"
            if code != 1006:
                assert reason == "slow"

    run(main(), timeout=50)


# ---------------------------------------------------------------------------
# Process-level behaviour
# ---------------------------------------------------------------------------


def test_sigterm_closes_clients_3001_and_exits_0(broker_factory):
    b = broker_factory(name="sigterm")

    async def main():
        async with raw_clients() as open_ws:
            c, _ = await raw_connected(open_ws, b)
            await c.call("subscribe", {"channel": "chat:bye-" + uid()})
            b.proc.send_signal(signal.SIGTERM)
            assert await c.expect_close(timeout=10) == (3001, "shutdown")

    run(main())
    rc = b.proc.wait(timeout=20)
    assert rc == 0, f"broker exit code on SIGTERM: {rc}"


def test_env_overrides_config(broker_factory):
    cfg = base_config()
    cfg["client"]["token"]["hmac_secret_key"] = "file-secret"
    env = {
        "CENTRIFUGO_CLIENT_TOKEN_HMAC_SECRET_KEY": "env-secret",
        "CENTRIFUGO_CHANNEL_NAMESPACES": json.dumps(
            [{"name": "envns", "history_size": 10, "history_ttl": "60s", "allow_subscribe_for_client": True}]
        ),
    }
    b = broker_factory(cfg, env=env, name="env")

    async def main():
        async with raw_clients() as open_ws:
            c = await open_ws(b.ws_url)
            rep = await c.connect(make_token("u1", secret="env-secret"))
            assert "connect" in rep, rep
            rep = await c.call("subscribe", {"channel": "envns:x"})
            assert "subscribe" in rep, rep
            assert await c.call("subscribe", {"channel": "chat:x"}) == err(3, 102, "unknown channel")
            c2 = await open_ws(b.ws_url)
            await c2.send({"id": 1, "connect": {"token": make_token("u1", secret="file-secret")}})
            assert await c2.expect_close() == (3500, "invalid token")

    run(main())
    r = b.api("publish", {"channel": "envns:y", "data": {"x": 1}})
    assert r["result"]["offset"] == 1


def test_port_flag_overrides_config(broker_factory):
    other = free_port()
    b = broker_factory(name="port", config_port=other)
    assert b.port != other
    assert http_session().get(f"{b.http_url}/health", timeout=3).status_code == 200
    with pytest.raises(requests.ConnectionError):
        http_session().get(f"http://{LOOPBACK}:{other}/health", timeout=3)
    assert b.config["http_api"]["key"] == API_KEY
