"""Server HTTP API: the official `cent` client for every method, plus raw HTTP
checks of shapes, auth and status codes (Centrifugo v6 semantics)."""

from __future__ import annotations

import base64
import json

import pytest
import requests
from cent import (
    BatchRequest,
    BroadcastRequest,
    CentApiResponseError,
    CentUnauthorizedError,
    ChannelsRequest,
    Client as CentClient,
    Disconnect,
    DisconnectRequest,
    HistoryRemoveRequest,
    HistoryRequest,
    InfoRequest,
    PresenceRequest,
    PresenceStatsRequest,
    PublishRequest,
    RefreshRequest,
    StreamPosition,
    SubscribeRequest,
    UnsubscribeRequest,
)

from conftest import (
    api_request,
    eventually,
    http_session,
    make_token,
    raw_clients,
    raw_http,
    raw_connected,
    run,
    uid,
)


def post(broker, method, body, headers=None, params=None, raw=False):
    h = {"X-API-Key": broker.api_key} if headers is None else headers
    data = body if raw else json.dumps(body)
    return http_session().post(f"{broker.api_url}/{method}", data=data, headers=h, params=params, timeout=5)


def api_error(fn, *args):
    with pytest.raises(CentApiResponseError) as ei:
        fn(*args)
    return ei.value.code, ei.value.message


# ---------------------------------------------------------------------------
# publish
# ---------------------------------------------------------------------------


def test_publish_with_history_returns_offset_and_epoch(broker, api):
    ch = "chat:p-" + uid()
    r1 = api.publish(PublishRequest(channel=ch, data={"n": 1}))
    r2 = api.publish(PublishRequest(channel=ch, data={"n": 2}))
    assert r1.offset == 1 and r2.offset == 2
    assert r1.epoch and r1.epoch == r2.epoch
    body = post(broker, "publish", {"channel": ch, "data": {"n": 3}}).json()
    assert body == {"result": {"offset": 3, "epoch": r1.epoch}}


def test_pipelined_requests_are_answered_in_order(broker):
    # Publishes on the memory engine are answered at once, history goes through a task:
    # the answers must still come back in the order the requests were sent.
    ch = "chat:pipe-" + uid()
    reqs = [
        api_request(broker, "publish", {"channel": ch, "data": {"n": 1}}),
        api_request(broker, "history", {"channel": ch, "limit": -1}),
        api_request(broker, "publish", {"channel": ch, "data": {"n": 2}}),
        api_request(broker, "info", {}),
        api_request(broker, "publish", {"channel": ch, "data": {"n": 3}}),
    ]
    responses, _ = raw_http(broker, b"".join(reqs), expect=5)
    assert [r[0] for r in responses] == [200] * 5
    bodies = [r[2]["result"] for r in responses]
    assert bodies[0]["offset"] == 1
    assert "publications" in bodies[1]
    assert bodies[2]["offset"] == 2
    assert "nodes" in bodies[3]
    assert bodies[4]["offset"] == 3


def test_more_pipelined_requests_than_are_served_at_once(broker):
    # 40 requests in one write: more than the connection answers at a time, so reading
    # pauses and resumes; every one is answered, in order.
    ch = "chat:pipe-many-" + uid()
    reqs = [api_request(broker, "publish", {"channel": ch, "data": {"n": i}}) for i in range(40)]
    responses, _ = raw_http(broker, b"".join(reqs), expect=40)
    assert [r[2]["result"]["offset"] for r in responses] == list(range(1, 41))


def test_nothing_is_answered_after_connection_close(broker):
    ch = "chat:pipe-close-" + uid()
    reqs = [
        api_request(broker, "publish", {"channel": ch, "data": {"n": 1}}),
        api_request(broker, "publish", {"channel": ch, "data": {"n": 2}}, close=True),
        api_request(broker, "publish", {"channel": ch, "data": {"n": 3}}),
    ]
    responses, closed = raw_http(broker, b"".join(reqs), expect=3)
    assert closed
    assert [r[2]["result"]["offset"] for r in responses] == [1, 2]
    assert responses[1][1].get("connection") == "close"


def test_malformed_http_gets_400_and_a_close(broker):
    # Asking for one answer more than can come makes the reader wait for the close.
    responses, closed = raw_http(broker, b"POST /api/publish HTTP/1.1\r\nHost x\r\n\r\n", expect=2)
    assert closed
    assert len(responses) == 1 and responses[0][0] == 400
    assert responses[0][1].get("connection") == "close"
    # An answered request, then garbage on the same connection: the answer stands, then 400.
    ch = "chat:pipe-bad-" + uid()
    good = api_request(broker, "publish", {"channel": ch, "data": {"n": 1}})
    responses, closed = raw_http(broker, good + b"\x00\x01 nonsense\r\n\r\n", expect=3)
    assert closed
    assert responses[0][0] == 200 and responses[0][2]["result"]["offset"] == 1
    assert [r[0] for r in responses[1:]] in ([400], [])
    # The broker still serves everyone else.
    assert post(broker, "publish", {"channel": ch, "data": {"n": 2}}).json()["result"]["offset"] == 2


def test_publish_errors_on_the_immediate_path(broker):
    # The memory engine's immediate publish answers the same errors as the general path.
    unknown_ns = post(broker, "publish", {"channel": "nope:x", "data": {}}).json()
    assert unknown_ns["error"]["code"] == 102
    no_data = post(broker, "publish", {"channel": "chat:x-" + uid()}).json()
    assert no_data["error"]["code"] == 107
    transport = post(
        broker,
        "publish",
        {"channel": "nope:x", "data": {}},
        headers={"X-API-Key": broker.api_key, "X-Centrifugo-Error-Mode": "transport"},
    )
    assert transport.status_code == 404 and transport.json()["code"] == 102
    assert post(broker, "publish", {"channel": "chat:x", "data": {}}, headers={}).status_code == 401


def test_publish_without_history_returns_empty_result(broker, api):
    r = post(broker, "publish", {"channel": "nohist:p-" + uid(), "data": {"x": 1}})
    assert r.status_code == 200
    assert r.headers.get("Content-Type", "").startswith("application/json")
    assert r.json() == {"result": {}}
    res = api.publish(PublishRequest(channel="nohist:p-" + uid(), data={"x": 1}))
    assert (res.offset, res.epoch) == (0, "")


def test_publish_errors(broker, api):
    assert api_error(api.publish, PublishRequest(channel="nosuchns:x", data={})) == (102, "unknown channel")
    assert post(broker, "publish", {"channel": "nosuchns:x", "data": {}}).json() == {
        "error": {"code": 102, "message": "unknown channel"}
    }
    # Missing channel -> 107.
    assert post(broker, "publish", {"data": {"x": 1}}).json() == {"error": {"code": 107, "message": "bad request"}}
    assert api_error(api.publish, PublishRequest(channel="", data={"x": 1})) == (107, "bad request")
    # No data (default publication_data_format rejects empty data) -> 107.
    assert post(broker, "publish", {"channel": "chat:nodata-" + uid()}).json()["error"]["code"] == 107
    # Bad base64 -> 107.
    assert post(broker, "publish", {"channel": "chat:b64-" + uid(), "b64data": "%%%not-base64%%%"}).json()[
        "error"
    ]["code"] == 107


def test_publish_delivers_to_subscriber_with_tags(broker, api):
    async def main():
        ch = "chat:tags-" + uid()
        async with raw_clients() as open_ws:
            c, _ = await raw_connected(open_ws, broker)
            assert "error" not in await c.call("subscribe", {"channel": ch})
            res = api.publish(PublishRequest(channel=ch, data={"t": 1}, tags={"kind": "msg", "x": "y"}))
            pub = (await c.pubs(ch, 1))[0]
            assert pub == {"data": {"t": 1}, "offset": res.offset, "tags": {"kind": "msg", "x": "y"}}
            h = api.history(HistoryRequest(channel=ch, limit=-1))
            assert h.publications[0].tags == {"kind": "msg", "x": "y"}

    run(main())


def test_publish_b64data_reaches_json_client_as_json(broker, api):
    async def main():
        ch = "chat:b64-" + uid()
        async with raw_clients() as open_ws:
            c, _ = await raw_connected(open_ws, broker)
            assert "error" not in await c.call("subscribe", {"channel": ch})
            b64 = base64.b64encode(json.dumps({"bin": True}).encode()).decode()
            res = api.publish(PublishRequest(channel=ch, data=None, b64data=b64))
            assert res.offset == 1
            pub = (await c.pubs(ch, 1))[0]
            assert pub["data"] == {"bin": True}

    run(main())


def test_publish_idempotency_key(broker, api):
    async def main():
        ch = "chat:idem-" + uid()
        key = "k-" + uid()
        async with raw_clients() as open_ws:
            c, _ = await raw_connected(open_ws, broker)
            assert "error" not in await c.call("subscribe", {"channel": ch})
            r1 = api.publish(PublishRequest(channel=ch, data={"v": 1}, idempotency_key=key))
            r2 = api.publish(PublishRequest(channel=ch, data={"v": 1}, idempotency_key=key))
            assert (r2.offset, r2.epoch) == (r1.offset, r1.epoch) == (1, r1.epoch)
            r3 = api.publish(PublishRequest(channel=ch, data={"v": 2}))
            assert r3.offset == 2
            pubs = await c.pubs(ch, 2)
            assert [(p["data"], p["offset"]) for p in pubs] == [({"v": 1}, 1), ({"v": 2}, 2)]
            h = api.history(HistoryRequest(channel=ch, limit=-1))
            assert [p.data for p in h.publications] == [{"v": 1}, {"v": 2}]

    run(main())


def test_publish_skip_history(broker, api):
    async def main():
        ch = "chat:skip-" + uid()
        async with raw_clients() as open_ws:
            c, _ = await raw_connected(open_ws, broker)
            assert "error" not in await c.call("subscribe", {"channel": ch})
            api.publish(PublishRequest(channel=ch, data={"kept": 1}))
            api.publish(PublishRequest(channel=ch, data={"skipped": 1}, skip_history=True))
            pubs = await c.pubs(ch, 2)
            assert pubs[0] == {"data": {"kept": 1}, "offset": 1}
            assert pubs[1]["data"] == {"skipped": 1}
            assert "offset" not in pubs[1], "a publication that skipped history has no offset"
            h = api.history(HistoryRequest(channel=ch, limit=-1))
            assert [p.data for p in h.publications] == [{"kept": 1}]
            assert h.offset == 1

    run(main())


# ---------------------------------------------------------------------------
# broadcast
# ---------------------------------------------------------------------------


def test_broadcast(broker, api):
    async def main():
        a, b = "chat:bc-" + uid(), "nohist:bc-" + uid()
        async with raw_clients() as open_ws:
            c, _ = await raw_connected(open_ws, broker)
            assert "error" not in await c.call("subscribe", {"channel": a})
            assert "error" not in await c.call("subscribe", {"channel": b})
            res = api.broadcast(BroadcastRequest(channels=[a, b], data={"bc": 1}))
            assert len(res.responses) == 2
            assert res.responses[0].error is None and res.responses[0].result.offset == 1
            assert res.responses[0].result.epoch
            assert res.responses[1].error is None and res.responses[1].result.offset == 0
            assert (await c.pubs(a, 1))[0]["data"] == {"bc": 1}
            assert (await c.pubs(b, 1))[0]["data"] == {"bc": 1}

            body = post(broker, "broadcast", {"channels": [b, "nosuchns:x"], "data": {"bc": 2}}).json()
            assert body == {
                "result": {
                    "responses": [
                        {"result": {}},
                        {"error": {"code": 102, "message": "unknown channel"}},
                    ]
                }
            }
            assert post(broker, "broadcast", {"data": {"x": 1}}).json()["error"]["code"] == 107

    run(main())


# ---------------------------------------------------------------------------
# subscribe / unsubscribe / disconnect / refresh
# ---------------------------------------------------------------------------


def test_subscribe_and_unsubscribe(broker, api):
    async def main():
        user = "u-" + uid()
        ch = "srv:s-" + uid()
        async with raw_clients() as open_ws:
            c, conn = await raw_connected(open_ws, broker, user)
            assert post(broker, "subscribe", {"user": user, "channel": ch}).json() == {"result": {}}
            push = await c.push(lambda p: p.get("channel") == ch and "subscribe" in p)
            assert push["subscribe"].get("recoverable") is True
            assert push["subscribe"].get("positioned") is True
            assert push["subscribe"].get("epoch")
            api.publish(PublishRequest(channel=ch, data={"s": 1}))
            assert (await c.pubs(ch, 1))[0] == {"data": {"s": 1}, "offset": 1}
            assert broker.channels_count(ch) == 1

            assert post(broker, "unsubscribe", {"user": user, "channel": ch}).json() == {"result": {}}
            push = await c.push(lambda p: p.get("channel") == ch and "unsubscribe" in p)
            assert push["unsubscribe"] == {"code": 2000, "reason": "server unsubscribe"}
            await eventually(lambda: broker.channels_count(ch) == 0)

            # cent request classes work too.
            api.subscribe(SubscribeRequest(user=user, channel=ch, client=conn["client"]))
            await c.push(lambda p: p.get("channel") == ch and "subscribe" in p)
            api.unsubscribe(UnsubscribeRequest(user=user, channel=ch, client=conn["client"]))
            await c.push(lambda p: p.get("channel") == ch and "unsubscribe" in p)

            # Validation.
            assert post(broker, "subscribe", {"channel": ch}).json()["error"]["code"] == 107
            assert post(broker, "subscribe", {"user": user}).json()["error"]["code"] == 107
            assert post(broker, "subscribe", {"user": user, "channel": "nosuchns:x"}).json()["error"]["code"] == 102
            assert post(broker, "unsubscribe", {"channel": ch}).json()["error"]["code"] == 107
            # A user with no connections: still a success.
            assert post(broker, "subscribe", {"user": "nobody-" + uid(), "channel": ch}).json() == {"result": {}}

    run(main())


def test_disconnect(broker, api):
    async def main():
        user = "u-" + uid()
        async with raw_clients() as open_ws:
            c1, conn1 = await raw_connected(open_ws, broker, user)
            c2, conn2 = await raw_connected(open_ws, broker, user)
            c3, _ = await raw_connected(open_ws, broker, user)
            # whitelist keeps c2
            api.disconnect(
                DisconnectRequest(
                    user=user, whitelist=[conn2["client"]], disconnect=Disconnect(code=4000, reason="go away")
                )
            )
            assert await c1.expect_close() == (4000, "go away")
            assert await c3.expect_close() == (4000, "go away")
            # c2 still works
            assert "error" not in await c2.call("subscribe", {"channel": "chat:d-" + uid()})
            assert post(broker, "disconnect", {"user": user}).json() == {"result": {}}
            assert await c2.expect_close() == (3503, "force disconnect")
            assert post(broker, "disconnect", {}).json()["error"]["code"] == 107

    run(main())


def test_refresh(broker, api):
    async def main():
        user = "u-" + uid()
        async with raw_clients() as open_ws:
            c, _ = await raw_connected(open_ws, broker, user)
            res = api.refresh(RefreshRequest(user=user, expire_at=4102444800))
            assert res is not None
            assert post(broker, "refresh", {"user": user, "expire_at": 4102444800}).json() == {"result": {}}
            # still connected
            assert "error" not in await c.call("subscribe", {"channel": "chat:r-" + uid()})
            # expired -> connection closed as expired
            assert post(broker, "refresh", {"user": user, "expired": True}).json() == {"result": {}}
            assert await c.expect_close() == (3005, "connection expired")
            assert post(broker, "refresh", {}).json()["error"]["code"] == 107

    run(main())


# ---------------------------------------------------------------------------
# presence / presence_stats
# ---------------------------------------------------------------------------


def test_presence_and_presence_stats(broker, api):
    async def main():
        ch = "chat:pr-" + uid()
        ua, ub = "ua-" + uid(), "ub-" + uid()
        async with raw_clients() as open_ws:
            assert api.presence(PresenceRequest(channel=ch)).presence == {}
            assert post(broker, "presence", {"channel": ch}).json() == {"result": {"presence": {}}}
            st = api.presence_stats(PresenceStatsRequest(channel=ch))
            assert (st.num_clients, st.num_users) == (0, 0)

            a, ca = await raw_connected(open_ws, broker, ua, info={"name": "A"})
            b, cb = await raw_connected(open_ws, broker, ub)
            b2, cb2 = await raw_connected(open_ws, broker, ub)
            for c in (a, b, b2):
                assert "error" not in await c.call("subscribe", {"channel": ch})

            pres = post(broker, "presence", {"channel": ch}).json()["result"]["presence"]
            assert set(pres) == {ca["client"], cb["client"], cb2["client"]}
            assert pres[ca["client"]] == {"user": ua, "client": ca["client"], "conn_info": {"name": "A"}}
            assert pres[cb["client"]] == {"user": ub, "client": cb["client"]}
            p = api.presence(PresenceRequest(channel=ch))
            assert p.presence[ca["client"]].user == ua

            st = api.presence_stats(PresenceStatsRequest(channel=ch))
            assert (st.num_clients, st.num_users) == (3, 2)
            assert post(broker, "presence_stats", {"channel": ch}).json() == {
                "result": {"num_clients": 3, "num_users": 2}
            }

            assert api_error(api.presence, PresenceRequest(channel="nohist:x-" + uid())) == (108, "not available")
            assert api_error(api.presence_stats, PresenceStatsRequest(channel="nohist:x")) == (108, "not available")
            assert api_error(api.presence, PresenceRequest(channel="nosuchns:x")) == (102, "unknown channel")
            assert post(broker, "presence", {}).json()["error"]["code"] == 107

    run(main())


# ---------------------------------------------------------------------------
# history / history_remove
# ---------------------------------------------------------------------------


def test_history_limit_since_reverse(broker, api):
    ch = "chat:h-" + uid()
    epoch = ""
    for i in range(1, 6):
        epoch = api.publish(PublishRequest(channel=ch, data={"i": i})).epoch

    h = api.history(HistoryRequest(channel=ch, limit=-1))
    assert [(p.offset, p.data) for p in h.publications] == [(i, {"i": i}) for i in range(1, 6)]
    assert (h.offset, h.epoch) == (5, epoch)
    assert all(p.info is None for p in h.publications)

    assert [p.offset for p in api.history(HistoryRequest(channel=ch, limit=2)).publications] == [1, 2]
    h = api.history(HistoryRequest(channel=ch, limit=10, since=StreamPosition(offset=2, epoch=epoch)))
    assert [p.offset for p in h.publications] == [3, 4, 5]
    h = api.history(HistoryRequest(channel=ch, limit=2, reverse=True))
    assert [p.offset for p in h.publications] == [5, 4]
    h = api.history(HistoryRequest(channel=ch, limit=10, reverse=True, since=StreamPosition(offset=3, epoch=epoch)))
    assert [p.offset for p in h.publications] == [2, 1]

    # No limit: position only.
    body = post(broker, "history", {"channel": ch}).json()
    assert body["result"].get("publications", []) == []
    assert body["result"]["offset"] == 5 and body["result"]["epoch"] == epoch

    # Raw publication shape.
    body = post(broker, "history", {"channel": ch, "limit": 1}).json()
    assert body["result"]["publications"] == [{"data": {"i": 1}, "offset": 1}]

    assert api_error(
        api.history, HistoryRequest(channel=ch, limit=10, since=StreamPosition(offset=1, epoch="xxxxxxxx"))
    ) == (112, "unrecoverable position")
    assert api_error(api.history, HistoryRequest(channel="nohist:h-" + uid(), limit=1)) == (108, "not available")
    assert api_error(api.history, HistoryRequest(channel="nosuchns:h", limit=1)) == (102, "unknown channel")
    assert post(broker, "history", {"limit": 1}).json()["error"]["code"] == 107


def test_history_remove_keeps_meta(broker, api):
    ch = "chat:hr-" + uid()
    for i in range(3):
        epoch = api.publish(PublishRequest(channel=ch, data={"i": i})).epoch
    assert post(broker, "history_remove", {"channel": ch}).json() == {"result": {}}
    h = api.history(HistoryRequest(channel=ch, limit=-1))
    assert h.publications == []
    assert (h.offset, h.epoch) == (3, epoch), "history_remove must keep the stream position"
    r = api.publish(PublishRequest(channel=ch, data={"after": 1}))
    assert (r.offset, r.epoch) == (4, epoch)
    api.history_remove(HistoryRemoveRequest(channel=ch))
    assert api_error(api.history_remove, HistoryRemoveRequest(channel="nohist:x")) == (108, "not available")
    assert post(broker, "history_remove", {}).json()["error"]["code"] == 107


# ---------------------------------------------------------------------------
# channels / info / batch / rpc
# ---------------------------------------------------------------------------


def test_channels_with_pattern(broker, api):
    async def main():
        base = "chat:chan-" + uid()
        async with raw_clients() as open_ws:
            clients = [await raw_connected(open_ws, broker) for _ in range(3)]
            for c, _ in clients[:2]:
                assert "error" not in await c.call("subscribe", {"channel": base + "-1"})
            assert "error" not in await clients[2][0].call("subscribe", {"channel": base + "-2"})
            res = api.channels(ChannelsRequest(pattern=base + "-*"))
            assert {k: v.num_clients for k, v in res.channels.items()} == {base + "-1": 2, base + "-2": 1}
            body = post(broker, "channels", {"pattern": base + "-1"}).json()
            assert body == {"result": {"channels": {base + "-1": {"num_clients": 2}}}}
            all_channels = api.channels(ChannelsRequest()).channels
            assert base + "-1" in all_channels and base + "-2" in all_channels

    run(main())


def test_info(broker, api):
    async def main():
        async with raw_clients() as open_ws:
            await raw_connected(open_ws, broker)
            res = api.info(InfoRequest())
            assert len(res.nodes) == 1
            node = res.nodes[0]
            assert node.uid and node.name
            assert node.num_clients >= 1
            assert node.uptime >= 0
            raw = post(broker, "info", {}).json()["result"]["nodes"][0]
            assert isinstance(raw["uid"], str) and isinstance(raw["name"], str)

    run(main())


def test_batch(broker, api):
    ch = "chat:batch-" + uid()
    body = post(
        broker,
        "batch",
        {
            "commands": [
                {"publish": {"channel": ch, "data": {"n": 1}}},
                {"publish": {"channel": "nosuchns:x", "data": {"n": 1}}},
                {"publish": {"channel": "nohist:b-" + uid(), "data": {"n": 1}}},
                {"history": {"channel": ch, "limit": -1}},
            ],
            "parallel": False,
        },
    ).json()
    replies = body["replies"]
    assert len(replies) == 4
    assert replies[0]["publish"]["offset"] == 1 and replies[0]["publish"]["epoch"]
    assert replies[1] == {"error": {"code": 102, "message": "unknown channel"}}
    assert replies[2] == {"publish": {}}
    assert [p["data"] for p in replies[3]["history"]["publications"]] == [{"n": 1}]

    res = api.batch(
        BatchRequest(
            requests=[
                PublishRequest(channel=ch, data={"n": 2}),
                PublishRequest(channel=ch, data={"n": 3}),
            ],
            parallel=True,
        )
    )
    assert len(res.replies) == 2
    assert sorted([res.replies[0].offset, res.replies[1].offset]) == [2, 3]
    res = api.batch(BatchRequest(requests=[HistoryRequest(channel=ch, limit=-1), PresenceStatsRequest(channel=ch)]))
    assert [p.data for p in res.replies[0].publications] == [{"n": 1}, {"n": 2}, {"n": 3}] or [
        p.data for p in res.replies[0].publications
    ] == [{"n": 1}, {"n": 3}, {"n": 2}]
    assert res.replies[1].num_clients == 0


def test_rpc_unknown_method_not_found(broker):
    body = post(broker, "rpc", {"method": "no-such-method", "params": {}}).json()
    assert body["error"]["code"] == 104


# ---------------------------------------------------------------------------
# HTTP-level behaviour: auth, status codes
# ---------------------------------------------------------------------------


def test_auth_missing_or_wrong_key_is_401_empty(broker):
    body = {"channel": "nohist:a-" + uid(), "data": {"x": 1}}
    for headers in ({}, {"X-API-Key": "wrong"}, {"Authorization": "apikey wrong"}, {"Authorization": "Bearer " + broker.api_key}):
        r = post(broker, "publish", body, headers=headers)
        assert r.status_code == 401, (headers, r.status_code, r.text)
        assert r.text == "", f"401 must have an empty body, got {r.text!r}"
    with pytest.raises(CentUnauthorizedError):
        CentClient(broker.api_url, "wrong-key", session=http_session()).publish(PublishRequest(**body))


def test_auth_alternatives_accepted(broker):
    body = {"channel": "nohist:a-" + uid(), "data": {"x": 1}}
    assert post(broker, "publish", body, headers={"Authorization": "apikey " + broker.api_key}).json() == {"result": {}}
    assert post(broker, "publish", body, headers={"Authorization": "APIKey " + broker.api_key}).json() == {"result": {}}
    assert post(broker, "publish", body, headers={}, params={"api_key": broker.api_key}).json() == {"result": {}}


def test_http_status_codes(broker):
    s = http_session()
    # malformed JSON -> 400
    r = post(broker, "publish", b"{not json", raw=True)
    assert r.status_code == 400
    # non-POST -> 405
    r = s.get(f"{broker.api_url}/publish", headers={"X-API-Key": broker.api_key}, timeout=5)
    assert r.status_code == 405
    r = s.put(f"{broker.api_url}/publish", data="{}", headers={"X-API-Key": broker.api_key}, timeout=5)
    assert r.status_code == 405
    # unknown method -> 404
    r = post(broker, "no_such_method", {})
    assert r.status_code == 404


def test_health_and_metrics(broker):
    s = http_session()
    r = s.get(f"{broker.http_url}/health", timeout=5)
    assert r.status_code == 200
    assert r.json() == {}
    assert r.headers.get("Content-Type", "").startswith("application/json")
    r = s.get(f"{broker.http_url}/metrics", timeout=5)
    assert r.status_code == 200
    assert "centrifugo_" in r.text


def test_api_does_not_accept_requests_on_websocket_path(broker):
    r = http_session().get(broker.ws_url.replace("ws://", "http://"), timeout=5)
    assert r.status_code in (400, 405, 426), r.status_code
