"""The official centrifuge-python SDK (JSON protocol) against the broker.

Publications come from the official `cent` server API client.
"""

from __future__ import annotations

import asyncio
import re

import pytest
from cent import (
    Disconnect,
    DisconnectRequest,
    PublishRequest,
    SubscribeRequest,
    UnsubscribeRequest,
)
from centrifuge import (
    ClientState,
    ReplyError,
    StreamPosition,
    SubscriptionState,
)

from conftest import eventually, make_sub_token, make_token, new_sub, run, sdk_clients, uid

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


async def publish(api, channel, data, **kw):
    return await asyncio.to_thread(api.publish, PublishRequest(channel=channel, data=data, **kw))


async def connected(make, broker, user="u1", **kw):
    if "token" not in kw and "get_token" not in kw:
        kw["token"] = make_token(user, secret=broker.secret)
    client, rec = make(broker.ws_url, **kw)
    await client.connect()
    ctx = await rec.wait("connected")
    return client, rec, ctx


async def subscribed(client, channel, **kw):
    sub, srec = new_sub(client, channel, **kw)
    await sub.subscribe()
    ctx = await srec.wait("subscribed")
    return sub, srec, ctx


async def barrier(api, sub_rec, channel):
    """Publish a marker into `channel` (which the SDK client is subscribed to) and
    wait for it: everything the server sent before has been processed by then."""
    marker = {"marker": uid()}
    await publish(api, channel, marker)
    await sub_rec.wait("publication", lambda c: c.pub.data == marker)


# ---------------------------------------------------------------------------


def test_connect_connected_context_and_disconnect(broker):
    async def main():
        async with sdk_clients() as make:
            c1, rec1, ctx1 = await connected(make, broker, "u-" + uid())
            c2, rec2, ctx2 = await connected(make, broker, "u-" + uid())
            assert c1.state == ClientState.CONNECTED
            assert isinstance(ctx1.client, str) and ctx1.client, ctx1
            assert UUID_RE.match(ctx1.client), f"client id should be a UUID like Centrifugo's: {ctx1.client!r}"
            assert ctx1.client != ctx2.client
            assert isinstance(ctx1.version, str)
            assert ctx1.data is None
            await c1.disconnect()
            assert c1.state == ClientState.DISCONNECTED
            d = await rec1.wait("disconnected")
            assert d.code == 0  # DISCONNECT_CALLED (client side)
            # The other client is unaffected.
            assert c2.state == ClientState.CONNECTED
            assert rec2.all("disconnected") == []

    run(main())


def test_subscribe_receive_publication_and_unsubscribe(broker, api):
    async def main():
        ch = "chat:sub-" + uid()
        marker_ch = "nohist:marker-" + uid()
        async with sdk_clients() as make:
            client, _, _ = await connected(make, broker)
            sub, srec, sctx = await subscribed(client, ch)
            assert sub.state == SubscriptionState.SUBSCRIBED
            assert sctx.channel == ch
            assert sctx.recoverable is True and sctx.positioned is True  # force_recovery
            assert sctx.was_recovering is False and sctx.recovered is False
            assert sctx.stream_position is not None
            assert sctx.stream_position.offset == 0
            assert sctx.stream_position.epoch, "epoch must be set for a channel with history"

            res = await publish(api, ch, {"text": "hi"})
            assert res.offset == 1
            assert res.epoch == sctx.stream_position.epoch
            pctx = await srec.wait("publication")
            assert pctx.pub.data == {"text": "hi"}
            assert pctx.pub.offset == 1
            assert pctx.pub.info is None, "server API publications carry no info"
            assert pctx.pub.tags == {}

            # After unsubscribe nothing more arrives for the channel.
            msub, mrec, _ = await subscribed(client, marker_ch)
            await sub.unsubscribe()
            assert sub.state == SubscriptionState.UNSUBSCRIBED
            u = await srec.wait("unsubscribed")
            assert u.code == 0  # UNSUBSCRIBE_CALLED
            await publish(api, ch, {"text": "after"})
            await barrier(api, mrec, marker_ch)
            assert [c.pub.data for c in srec.all("publication")] == [{"text": "hi"}]
            await eventually(lambda: broker.channels_count(ch) == 0, desc="channel gone after unsubscribe")

    run(main())


def test_client_publish_allowed_and_denied(broker):
    async def main():
        user = "u-" + uid()
        ch = "chat:pub-" + uid()
        async with sdk_clients() as make:
            client, _, cctx = await connected(
                make, broker, token=make_token(user, secret=broker.secret, info={"name": "Alex"})
            )
            sub, srec, _ = await subscribed(client, ch)
            await sub.publish({"text": "from client"})
            pctx = await srec.wait("publication")
            assert pctx.pub.data == {"text": "from client"}
            assert pctx.pub.offset == 1
            assert pctx.pub.info is not None, "client publications carry the publisher's ClientInfo"
            assert pctx.pub.info.client == cctx.client
            assert pctx.pub.info.user == user
            assert pctx.pub.info.conn_info == {"name": "Alex"}

            # allow_publish_for_client: publish without being subscribed.
            await client.publish("nohist:free-" + uid(), {"x": 1})

            # No publish permission in this namespace -> 103.
            nsub, _, _ = await subscribed(client, "nopub:ro-" + uid())
            with pytest.raises(ReplyError) as ei:
                await nsub.publish({"x": 1})
            assert ei.value.code == 103
            assert ei.value.message == "permission denied"
            # Publishing where only subscribers may, without being subscribed -> 103.
            with pytest.raises(ReplyError) as ei:
                await client.publish("chat:other-" + uid(), {"x": 1})
            assert ei.value.code == 103
            # Unknown namespace -> 102.
            with pytest.raises(ReplyError) as ei:
                await client.publish("nosuchns:x", {"x": 1})
            assert ei.value.code == 102
            assert ei.value.message == "unknown channel"
            assert client.state == ClientState.CONNECTED

    run(main())


def test_history_limit_since_reverse(broker, api):
    async def main():
        ch = "chat:hist-" + uid()
        async with sdk_clients() as make:
            client, _, _ = await connected(make, broker)
            sub, _, _ = await subscribed(client, ch)
            epoch = ""
            for i in range(1, 6):
                r = await publish(api, ch, {"n": i})
                assert r.offset == i
                epoch = epoch or r.epoch
                assert r.epoch == epoch

            h = await sub.history(limit=-1)
            assert [p.offset for p in h.publications] == [1, 2, 3, 4, 5]
            assert [p.data for p in h.publications] == [{"n": i} for i in range(1, 6)]
            assert h.offset == 5 and h.epoch == epoch

            h = await sub.history(limit=2)
            assert [p.offset for p in h.publications] == [1, 2]
            assert h.offset == 5

            h = await sub.history(limit=2, since=StreamPosition(offset=2, epoch=epoch))
            assert [p.offset for p in h.publications] == [3, 4]

            h = await sub.history(limit=2, reverse=True)
            assert [p.offset for p in h.publications] == [5, 4]

            h = await sub.history(limit=10, reverse=True, since=StreamPosition(offset=4, epoch=epoch))
            assert [p.offset for p in h.publications] == [3, 2, 1]

            # limit 0: only the stream position.
            h = await sub.history()
            assert h.publications == []
            assert h.offset == 5 and h.epoch == epoch

            # A stale epoch cannot be bridged.
            with pytest.raises(ReplyError) as ei:
                await sub.history(limit=10, since=StreamPosition(offset=1, epoch="not-the-epoch"))
            assert ei.value.code == 112
            assert ei.value.message == "unrecoverable position"

            # History off -> 108.
            nsub, _, _ = await subscribed(client, "nohist:h-" + uid())
            with pytest.raises(ReplyError) as ei:
                await nsub.history(limit=10)
            assert ei.value.code == 108
            assert ei.value.message == "not available"

    run(main())


def test_presence_and_presence_stats_two_clients(broker):
    async def main():
        ch = "chat:pres-" + uid()
        ua, ub = "ua-" + uid(), "ub-" + uid()
        async with sdk_clients() as make:
            ca, _, ctxa = await connected(make, broker, token=make_token(ua, secret=broker.secret, info={"n": "A"}))
            cb, _, ctxb = await connected(make, broker, ub)
            suba, _, _ = await subscribed(ca, ch)
            subb, _, _ = await subscribed(cb, ch)

            p = await suba.presence()
            assert set(p.clients) == {ctxa.client, ctxb.client}
            assert p.clients[ctxa.client].user == ua
            assert p.clients[ctxa.client].client == ctxa.client
            assert p.clients[ctxa.client].conn_info == {"n": "A"}
            assert p.clients[ctxb.client].user == ub
            assert p.clients[ctxb.client].conn_info is None

            s = await subb.presence_stats()
            assert (s.num_clients, s.num_users) == (2, 2)

            # A second connection of user A: 3 clients, still 2 distinct users.
            ca2, _, ctxa2 = await connected(make, broker, ua)
            await subscribed(ca2, ch)
            s = await suba.presence_stats()
            assert (s.num_clients, s.num_users) == (3, 2)

            # Unsubscribe removes from presence.
            await subb.unsubscribe()

            async def only_a():
                return set((await suba.presence()).clients) == {ctxa.client, ctxa2.client}

            await eventually(only_a, desc="unsubscribed client removed from presence")

            # Presence off -> 108.
            nsub, _, _ = await subscribed(ca, "nohist:p-" + uid())
            with pytest.raises(ReplyError) as ei:
                await nsub.presence()
            assert ei.value.code == 108

    run(main())


def test_join_leave_events(broker, api):
    async def main():
        ch = "chat:jl-" + uid()
        u2 = "u2-" + uid()
        async with sdk_clients() as make:
            c1, _, ctx1 = await connected(make, broker, "u1-" + uid())
            c2, _, ctx2 = await connected(make, broker, token=make_token(u2, secret=broker.secret, info={"k": "v"}))
            sub1, rec1, _ = await subscribed(c1, ch, join_leave=True)
            sub2, _, _ = await subscribed(c2, ch)

            j = await rec1.wait("join", lambda c: c.info.client == ctx2.client)
            assert j.info.user == u2
            assert j.info.conn_info == {"k": "v"}
            await sub2.unsubscribe()
            lv = await rec1.wait("leave", lambda c: c.info.client == ctx2.client)
            assert lv.info.user == u2
            # Only c2 joined/left apart from c1 itself.
            assert {c.info.client for c in rec1.all("join")} <= {ctx1.client, ctx2.client}

    run(main())


def test_join_leave_not_pushed_without_request_but_forced_in_fpjl(broker, api):
    async def main():
        ch = "chat:nojl-" + uid()
        fch = "fpjl:jl-" + uid()
        async with sdk_clients() as make:
            c1, _, _ = await connected(make, broker)
            c2, _, ctx2 = await connected(make, broker, "other-" + uid())
            # chat: join_leave enabled, but c1 did not ask for it -> no join pushes.
            sub1, rec1, _ = await subscribed(c1, ch)
            await subscribed(c2, ch)
            await barrier(api, rec1, ch)
            assert rec1.all("join") == [], "join pushed although join_leave was not requested"
            # fpjl: force_push_join_leave -> pushed without asking.
            fsub1, frec1, _ = await subscribed(c1, fch)
            fsub2, _, _ = await subscribed(c2, fch)
            await frec1.wait("join", lambda c: c.info.client == ctx2.client)
            await fsub2.unsubscribe()
            await frec1.wait("leave", lambda c: c.info.client == ctx2.client)

    run(main())


def test_server_side_subscriptions_from_token_channels(broker, api):
    async def main():
        ch = "srv:tok-" + uid()
        async with sdk_clients() as make:
            token = make_token("u-" + uid(), secret=broker.secret, channels=[ch])
            client, rec, _ = await connected(make, broker, token=token)
            s = await rec.wait("server_subscribed", lambda c: c.channel == ch)
            assert s.recoverable is True and s.positioned is True
            assert s.stream_position is not None and s.stream_position.epoch
            r = await publish(api, ch, {"srv": 1})
            p = await rec.wait("server_publication", lambda c: c.channel == ch)
            assert p.pub.data == {"srv": 1}
            assert p.pub.offset == r.offset == 1
            assert broker.channels_count(ch) == 1

    run(main())


def test_private_channel_with_subscription_token(broker):
    async def main():
        user = "u-" + uid()
        ch = "$chat:priv-" + uid()
        calls = []

        async def get_sub_token(channel):
            calls.append(channel)
            return make_sub_token(user, channel, secret=broker.secret, info={"role": "x"}, data={"welcome": True})

        async with sdk_clients() as make:
            client, _, cctx = await connected(make, broker, user)
            sub, srec, sctx = await subscribed(client, ch, get_token=get_sub_token)
            assert calls == [ch]
            assert sctx.data == {"welcome": True}, "subscribe result data comes from the sub token"
            p = await sub.presence()
            assert p.clients[cctx.client].chan_info == {"role": "x"}, "chan_info comes from the sub token info"

    run(main())


def test_private_channel_bad_or_missing_token_is_103(broker):
    async def main():
        user = "u-" + uid()
        async with sdk_clients() as make:
            client, _, _ = await connected(make, broker, user)

            async def bad_token(channel):
                return make_sub_token(user, channel, secret="wrong-secret")

            sub, srec = new_sub(client, "$chat:bad-" + uid(), get_token=bad_token)
            await sub.subscribe()
            u = await srec.wait("unsubscribed")
            assert u.code == 103 and u.reason == "permission denied"
            assert sub.state == SubscriptionState.UNSUBSCRIBED

            sub2, srec2 = new_sub(client, "$chat:none-" + uid())
            await sub2.subscribe()
            u = await srec2.wait("unsubscribed")
            assert u.code == 103
            # A subscription error is not a connection error.
            assert client.state == ClientState.CONNECTED
            ok, _, _ = await subscribed(client, "chat:after-" + uid())
            assert ok.state == SubscriptionState.SUBSCRIBED

    run(main())


def test_expired_connection_token_triggers_get_token(broker):
    async def main():
        user = "u-" + uid()
        calls = []

        async def get_token():
            calls.append(1)
            return make_token(user, secret=broker.secret)

        async with sdk_clients() as make:
            expired = make_token(user, secret=broker.secret, exp_in=-60)
            client, rec = make(broker.ws_url, token=expired, get_token=get_token)
            await client.connect()
            await rec.wait("connected", timeout=10)
            errs = rec.all("error")
            codes = [getattr(e.error, "code", None) for e in errs]
            assert 109 in codes, f"expected a 109 token expired reply error, got {errs}"
            assert len(calls) == 1, "SDK must fetch a new token exactly once after 109"
            assert client.state == ClientState.CONNECTED

    run(main())


def test_invalid_connection_token_disconnects_3500(broker):
    async def main():
        async with sdk_clients() as make:
            bad = make_token("u1", secret="not-the-secret")
            client, rec = make(broker.ws_url, token=bad)
            await client.connect()
            d = await rec.wait("disconnected")
            assert d.code == 3500 and d.reason == "invalid token"
            assert client.state == ClientState.DISCONNECTED

    run(main())


@pytest.mark.parametrize("how", ["api_disconnect_3011", "socket_drop"])
def test_recovery_after_reconnect_nothing_lost(broker, api, how):
    """Publications made while the client is disconnected are recovered exactly
    once, in order; the subscribed context says recovered."""

    async def main():
        user = "u-" + uid()
        ch = "chat:rec-" + uid()
        missed = [{"m": i} for i in range(7)]
        async with sdk_clients() as make:
            client, rec, ctx1 = await connected(make, broker, user, min_reconnect_delay=0.05, max_reconnect_delay=0.5)
            sub, srec, _ = await subscribed(client, ch)
            for i in range(3):
                await publish(api, ch, {"before": i})
            await srec.wait("publication", count=3)

            published_while_down = asyncio.Event()

            async def on_connecting(ctx):
                rec.add("connecting", ctx)
                if ctx.code != 0 and not published_while_down.is_set():
                    # Runs before the SDK schedules the reconnect: the broker
                    # has these while the client is away.
                    for m in missed:
                        await publish(api, ch, m)
                    published_while_down.set()

            client.events.on_connecting = on_connecting

            if how == "api_disconnect_3011":
                await asyncio.to_thread(
                    api.disconnect,
                    DisconnectRequest(user=user, disconnect=Disconnect(code=3011, reason="force reconnect")),
                )
            else:
                client._conn.transport.abort()  # drop the TCP connection, no close frame

            c = await rec.wait("connecting", lambda c: c.code != 0)
            if how == "api_disconnect_3011":
                assert (c.code, c.reason) == (3011, "force reconnect")
            await asyncio.wait_for(published_while_down.wait(), 10)
            ctx2 = await rec.wait("connected", count=2, timeout=10)
            assert ctx2[1].client != ctx1.client

            s2 = (await srec.wait("subscribed", count=2, timeout=10))[1]
            assert s2.was_recovering is True
            assert s2.recovered is True
            await srec.wait("publication", count=3 + len(missed), timeout=10)
            await barrier(api, srec, ch)
            pubs = [c.pub for c in srec.all("publication")]
            datas = [p.data for p in pubs][:-1]  # minus the barrier marker
            assert datas == [{"before": i} for i in range(3)] + missed, "missed publications lost/duplicated/reordered"
            offsets = [p.offset for p in pubs]
            assert offsets == list(range(1, len(pubs) + 1))

    run(main())


def test_recovery_fails_when_too_many_missed(broker, api):
    async def main():
        user = "u-" + uid()
        ch = "small:rec-" + uid()  # history_size 2
        async with sdk_clients() as make:
            client, rec, _ = await connected(make, broker, user, min_reconnect_delay=0.05, max_reconnect_delay=0.5)
            sub, srec, _ = await subscribed(client, ch)
            await publish(api, ch, {"n": 0})
            await srec.wait("publication")

            async def on_connecting(ctx):
                rec.add("connecting", ctx)
                if ctx.code == 3011:
                    for i in range(1, 6):
                        await publish(api, ch, {"n": i})

            client.events.on_connecting = on_connecting
            await asyncio.to_thread(
                api.disconnect, DisconnectRequest(user=user, disconnect=Disconnect(code=3011, reason="force reconnect"))
            )
            s2 = (await srec.wait("subscribed", count=2, timeout=10))[1]
            assert s2.was_recovering is True
            assert s2.recovered is False, "a gap larger than the history cannot be recovered"
            assert s2.stream_position.offset == 6, "unrecovered: offset is the stream top"
            # No partial recovery is delivered.
            assert [c.pub.data for c in srec.all("publication")] == [{"n": 0}]

    run(main())


def test_server_side_subscription_recovered_on_reconnect(broker, api):
    async def main():
        user = "u-" + uid()
        ch = "srv:srec-" + uid()
        async with sdk_clients() as make:
            token = make_token(user, secret=broker.secret, channels=[ch])
            client, rec, _ = await connected(make, broker, token=token, min_reconnect_delay=0.05, max_reconnect_delay=0.5)
            await rec.wait("server_subscribed")
            for i in range(2):
                await publish(api, ch, {"i": i})
            await rec.wait("server_publication", count=2)

            async def on_connecting(ctx):
                rec.add("connecting", ctx)
                if ctx.code == 3011:
                    for i in range(2, 5):
                        await publish(api, ch, {"i": i})

            client.events.on_connecting = on_connecting
            await asyncio.to_thread(
                api.disconnect, DisconnectRequest(user=user, disconnect=Disconnect(code=3011, reason="force reconnect"))
            )
            s2 = (await rec.wait("server_subscribed", count=2, timeout=10))[1]
            assert s2.channel == ch
            assert s2.was_recovering is True and s2.recovered is True
            pubs = await rec.wait("server_publication", count=5, timeout=10)
            assert [p.pub.data for p in pubs] == [{"i": i} for i in range(5)]
            assert [p.pub.offset for p in pubs] == [1, 2, 3, 4, 5]

    run(main())


def test_api_unsubscribe_push(broker, api):
    async def main():
        user = "u-" + uid()
        ch = "chat:unsub-" + uid()
        async with sdk_clients() as make:
            client, _, _ = await connected(make, broker, user)
            sub, srec, _ = await subscribed(client, ch)
            await asyncio.to_thread(api.unsubscribe, UnsubscribeRequest(user=user, channel=ch))
            u = await srec.wait("unsubscribed")
            assert (u.code, u.reason) == (2000, "server unsubscribe")
            assert sub.state == SubscriptionState.UNSUBSCRIBED
            assert client.state == ClientState.CONNECTED
            await eventually(lambda: broker.channels_count(ch) == 0, desc="channel gone after API unsubscribe")

    run(main())


def test_api_subscribe_adds_server_side_subscription(broker, api):
    async def main():
        user = "u-" + uid()
        ch = "srv:apisub-" + uid()
        async with sdk_clients() as make:
            client, rec, _ = await connected(make, broker, user)
            await asyncio.to_thread(api.subscribe, SubscribeRequest(user=user, channel=ch, data={"hello": 1}))
            s = await rec.wait("server_subscribed", lambda c: c.channel == ch)
            assert s.data == {"hello": 1}
            assert s.recoverable is True  # srv namespace forces recovery
            await publish(api, ch, {"via": "api-sub"})
            p = await rec.wait("server_publication", lambda c: c.channel == ch)
            assert p.pub.data == {"via": "api-sub"}
            await asyncio.to_thread(api.unsubscribe, UnsubscribeRequest(user=user, channel=ch))
            await rec.wait("server_unsubscribed", lambda c: c.channel == ch)
            await eventually(lambda: broker.channels_count(ch) == 0, desc="channel gone after API unsubscribe")

    run(main())


def test_api_disconnect_reaches_client_with_code(broker, api):
    async def main():
        u1, u2 = "u-" + uid(), "u-" + uid()
        async with sdk_clients() as make:
            c1, rec1, _ = await connected(make, broker, u1)
            c2, rec2, _ = await connected(make, broker, u2)
            await asyncio.to_thread(api.disconnect, DisconnectRequest(user=u1))
            d = await rec1.wait("disconnected")
            assert (d.code, d.reason) == (3503, "force disconnect")
            assert c1.state == ClientState.DISCONNECTED

            await asyncio.to_thread(
                api.disconnect, DisconnectRequest(user=u2, disconnect=Disconnect(code=4501, reason="custom bye"))
            )
            d = await rec2.wait("disconnected")
            assert (d.code, d.reason) == (4501, "custom bye")
            assert c2.state == ClientState.DISCONNECTED

    run(main())


def test_api_disconnect_single_client_of_user(broker, api):
    async def main():
        user = "u-" + uid()
        async with sdk_clients() as make:
            c1, rec1, ctx1 = await connected(make, broker, user)
            c2, rec2, _ = await connected(make, broker, user)
            await asyncio.to_thread(api.disconnect, DisconnectRequest(user=user, client=ctx1.client))
            d = await rec1.wait("disconnected")
            assert d.code == 3503
            # The user's other connection stays.
            sub, _, _ = await subscribed(c2, "chat:still-" + uid())
            assert c2.state == ClientState.CONNECTED
            assert rec2.all("disconnected") == []

    run(main())
