import Synchronization
import Testing

@testable import Broker
@testable import BrokerProtocol

// MARK: - Engine contract (any PubSubEngine & PresenceEngine)

/// The behaviour every engine must have (compat doc §6, §7 and the `PubSubEngine` contract).
/// Written against `EngineUnderTest` factories so a Redis engine can run the same tests.
@Suite("Engine contract")
struct EngineContractTests {
    // MARK: Publish and offsets

    /// Without history a publish has no stream position, and the sink gets it with an empty epoch.
    @Test(arguments: EngineUnderTest.all)
    func publishWithoutHistoryHasNoPosition(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        try await h.engine.subscribe(channel: "news")
        let r = try await h.engine.publish(channel: "news", publication: enginePub("a"), options: PublishOptions())
        #expect(r.position == nil)
        #expect(r.fromCache == false)
        await h.sink.waitForEvents(count: 1)
        let got = h.sink.publications(in: "news")
        #expect(got.count == 1)
        #expect(got.first?.epoch == "")
        #expect(got.first?.publication.engineText == "a")
    }

    /// Size without TTL (or TTL without size) keeps no history: history is on only if both are > 0.
    @Test(arguments: EngineUnderTest.all)
    func historyNeedsBothSizeAndTTL(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        var sizeOnly = PublishOptions()
        sizeOnly.historySize = 10
        var ttlOnly = PublishOptions()
        ttlOnly.historyTTL = .seconds(60)
        #expect(try await h.engine.publish(channel: "c", publication: enginePub("a"), options: sizeOnly).position == nil)
        #expect(try await h.engine.publish(channel: "c", publication: enginePub("b"), options: ttlOnly).position == nil)
        let hist = try await h.history("c")
        #expect(hist.publications.isEmpty)
        #expect(hist.offset == 0)
    }

    /// `skip_history` fans out but stores nothing and returns no position.
    @Test(arguments: EngineUnderTest.all)
    func skipHistoryFansOutOnly(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        try await h.engine.subscribe(channel: "c")
        var o = PublishOptions.engineHistory()
        o.skipHistory = true
        let r = try await h.engine.publish(channel: "c", publication: enginePub("a"), options: o)
        #expect(r.position == nil)
        await h.sink.waitForEvents(count: 1)
        #expect(h.sink.publications(in: "c").count == 1)
        let hist = try await h.history("c")
        #expect(hist.publications.isEmpty)
        #expect(hist.offset == 0)
    }

    /// With history, offsets start at 1 and grow by one under a single non-empty epoch.
    @Test(arguments: EngineUnderTest.all)
    func offsetsStartAtOneUnderOneEpoch(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        let results = try await h.publishMany("c", count: 3)
        let positions = results.compactMap(\.position)
        #expect(positions.map(\.offset) == [1, 2, 3])
        let epoch = try #require(positions.first?.epoch)
        #expect(!epoch.isEmpty)
        #expect(positions.allSatisfy { $0.epoch == epoch })
        #expect(results.allSatisfy { !$0.fromCache })
        let hist = try await h.history("c")
        #expect(engineOffsets(hist.publications) == [1, 2, 3])
        #expect(hist.publications.map(\.engineText) == ["m1", "m2", "m3"])
        #expect(hist.epoch == epoch)
        #expect(hist.offset == 3)
    }

    /// Channels have independent streams: each starts at offset 1 with its own epoch.
    @Test(arguments: EngineUnderTest.all)
    func channelsHaveIndependentStreams(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        try await h.publishMany("a", count: 3)
        let b = try await h.publishMany("b", count: 1)
        #expect(b.first?.position?.offset == 1)
        #expect(try await h.history("a").offset == 3)
        #expect(engineOffsets(try await h.history("b").publications) == [1])
    }

    /// A publish acknowledged to the publisher is already in history.
    @Test(arguments: EngineUnderTest.all)
    func acknowledgedPublishIsInHistory(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        for i in 1...5 {
            let r = try await h.engine.publish(channel: "c", publication: enginePub("x\(i)"), options: .engineHistory())
            let top = try await h.history("c", HistoryQuery(limit: 0))
            #expect(top.offset == r.position?.offset)
            #expect(top.epoch == r.position?.epoch)
        }
    }

    // MARK: History reads

    /// A channel that never had a publication reports top offset 0 under an epoch, and that epoch is the one
    /// the first publish then uses (so a client positioned on the empty stream can recover).
    @Test(arguments: EngineUnderTest.all)
    func emptyStreamTopAndFirstPublishShareEpoch(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        let empty = try await h.history("c", HistoryQuery(limit: -1))
        #expect(empty.publications.isEmpty)
        #expect(empty.offset == 0)
        #expect(!empty.epoch.isEmpty)
        let again = try await h.history("c", HistoryQuery(limit: 0))
        #expect(again.epoch == empty.epoch)
        let r = try await h.engine.publish(channel: "c", publication: enginePub("a"), options: .engineHistory())
        #expect(r.position == StreamPosition(offset: 1, epoch: empty.epoch))
    }

    /// limit 0 returns no publications, only the top offset and epoch.
    @Test(arguments: EngineUnderTest.all)
    func limitZeroReturnsOnlyTop(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        let results = try await h.publishMany("c", count: 3)
        let hist = try await h.history("c", HistoryQuery(limit: 0))
        #expect(hist.publications.isEmpty)
        #expect(hist.offset == 3)
        #expect(hist.epoch == results[0].position?.epoch)
    }

    /// limit -1 returns everything, oldest first; limit N the first (oldest) N.
    @Test(arguments: EngineUnderTest.all)
    func limitAllAndLimitN(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        try await h.publishMany("c", count: 5)
        #expect(engineOffsets(try await h.history("c", HistoryQuery(limit: -1)).publications) == [1, 2, 3, 4, 5])
        #expect(engineOffsets(try await h.history("c", HistoryQuery(limit: 2)).publications) == [1, 2])
        #expect(engineOffsets(try await h.history("c", HistoryQuery(limit: 5)).publications) == [1, 2, 3, 4, 5])
        #expect(engineOffsets(try await h.history("c", HistoryQuery(limit: 50)).publications) == [1, 2, 3, 4, 5])
        let limited = try await h.history("c", HistoryQuery(limit: 2))
        #expect(limited.offset == 5)
    }

    /// Forward `since` returns offsets greater than since.offset, ascending, capped by limit.
    @Test(arguments: EngineUnderTest.all)
    func sinceForward(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        let epoch = try #require(try await h.publishMany("c", count: 5)[0].position?.epoch)
        let all = try await h.history("c", HistoryQuery(since: StreamPosition(offset: 2, epoch: epoch), limit: -1))
        #expect(engineOffsets(all.publications) == [3, 4, 5])
        #expect(all.offset == 5)
        #expect(all.epoch == epoch)
        let two = try await h.history("c", HistoryQuery(since: StreamPosition(offset: 2, epoch: epoch), limit: 2))
        #expect(engineOffsets(two.publications) == [3, 4])
        let fromZero = try await h.history("c", HistoryQuery(since: StreamPosition(offset: 0, epoch: epoch), limit: -1))
        #expect(engineOffsets(fromZero.publications) == [1, 2, 3, 4, 5])
        let atTop = try await h.history("c", HistoryQuery(since: StreamPosition(offset: 5, epoch: epoch), limit: -1))
        #expect(atTop.publications.isEmpty)
        #expect(atTop.offset == 5)
        // An empty epoch is not checked.
        let noEpoch = try await h.history("c", HistoryQuery(since: StreamPosition(offset: 3, epoch: ""), limit: -1))
        #expect(engineOffsets(noEpoch.publications) == [4, 5])
    }

    /// `reverse` without since returns the newest first.
    @Test(arguments: EngineUnderTest.all)
    func reverseWithoutSinceIsNewestFirst(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        try await h.publishMany("c", count: 5)
        #expect(engineOffsets(try await h.history("c", HistoryQuery(limit: -1, reverse: true)).publications) == [5, 4, 3, 2, 1])
        #expect(engineOffsets(try await h.history("c", HistoryQuery(limit: 2, reverse: true)).publications) == [5, 4])
        let top = try await h.history("c", HistoryQuery(limit: 0, reverse: true))
        #expect(top.publications.isEmpty)
        #expect(top.offset == 5)
    }

    /// Reverse `since` returns offsets smaller than since.offset, newest first, capped by limit.
    @Test(arguments: EngineUnderTest.all)
    func sinceReverse(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        let epoch = try #require(try await h.publishMany("c", count: 5)[0].position?.epoch)
        let q = { (offset: UInt64, limit: Int) in HistoryQuery(since: StreamPosition(offset: offset, epoch: epoch), limit: limit, reverse: true) }
        #expect(engineOffsets(try await h.history("c", q(4, -1)).publications) == [3, 2, 1])
        #expect(engineOffsets(try await h.history("c", q(4, 2)).publications) == [3, 2])
        #expect(engineOffsets(try await h.history("c", q(6, -1)).publications) == [5, 4, 3, 2, 1])
        #expect(try await h.history("c", q(1, -1)).publications.isEmpty)
        #expect(try await h.history("c", q(4, -1)).offset == 5)
    }

    /// A since offset beyond the top reads nothing forward and everything (newest first) in reverse.
    @Test(arguments: EngineUnderTest.all)
    func sinceBeyondTop(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        let epoch = try #require(try await h.publishMany("c", count: 3)[0].position?.epoch)
        let fwd = try await h.history("c", HistoryQuery(since: StreamPosition(offset: 100, epoch: epoch), limit: -1))
        #expect(fwd.publications.isEmpty)
        #expect(fwd.offset == 3)
        let rev = try await h.history("c", HistoryQuery(since: StreamPosition(offset: 100, epoch: epoch), limit: -1, reverse: true))
        #expect(engineOffsets(rev.publications) == [3, 2, 1])
    }

    /// A client may send any uint64 as since.offset (history, recovery): a huge one is answered, not a crash.
    @Test(arguments: EngineUnderTest.all)
    func sinceHugeOffsetDoesNotCrash(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        try await h.publishMany("c", count: 3)
        let fwd = try await h.history("c", HistoryQuery(since: StreamPosition(offset: UInt64.max, epoch: ""), limit: 300))
        #expect(fwd.publications.isEmpty)
        #expect(fwd.offset == 3)
        let rev = try await h.history("c", HistoryQuery(since: StreamPosition(offset: UInt64.max, epoch: ""), limit: -1, reverse: true))
        #expect(engineOffsets(rev.publications) == [3, 2, 1])
    }

    /// `reverse` with since.offset 0 is a bad request (107), whatever the limit.
    @Test(arguments: EngineUnderTest.all)
    func reverseWithSinceOffsetZeroIsBadRequest(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        let epoch = try #require(try await h.publishMany("c", count: 2)[0].position?.epoch)
        for since in [StreamPosition(offset: 0, epoch: epoch), StreamPosition(offset: 0, epoch: "")] {
            let err = await engineError {
                _ = try await h.history("c", HistoryQuery(since: since, limit: -1, reverse: true))
            }
            #expect(err == .badRequest)
        }
        // Forward with offset 0 is fine.
        #expect(engineOffsets(try await h.history("c", HistoryQuery(since: StreamPosition(offset: 0, epoch: epoch), limit: -1)).publications) == [1, 2])
    }

    /// A non-empty since.epoch different from the stream's is an unrecoverable position (112), both directions.
    @Test(arguments: EngineUnderTest.all)
    func sinceWithAnotherEpochIsUnrecoverable(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        let epoch = try #require(try await h.publishMany("c", count: 3)[0].position?.epoch)
        let other = epoch == "zzzzzzzz" ? "yyyyyyyy" : "zzzzzzzz"
        for reverse in [false, true] {
            for limit in [-1, 0, 1] {
                let err = await engineError {
                    _ = try await h.history("c", HistoryQuery(since: StreamPosition(offset: 1, epoch: other), limit: limit, reverse: reverse))
                }
                #expect(err == .unrecoverablePosition, "reverse \(reverse) limit \(limit)")
            }
        }
    }

    /// history_size keeps only the newest publications while the top offset keeps growing.
    @Test(arguments: EngineUnderTest.all)
    func historySizeTrimsOldest(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        let o = PublishOptions.engineHistory(size: 3)
        let results = try await h.publishMany("c", count: 5, options: o)
        #expect(results.compactMap(\.position?.offset) == [1, 2, 3, 4, 5])
        let hist = try await h.history("c")
        #expect(engineOffsets(hist.publications) == [3, 4, 5])
        #expect(hist.publications.map(\.engineText) == ["m3", "m4", "m5"])
        #expect(hist.offset == 5)
        let next = try await h.engine.publish(channel: "c", publication: enginePub("m6"), options: o)
        #expect(next.position?.offset == 6)
        #expect(engineOffsets(try await h.history("c").publications) == [4, 5, 6])
        #expect(engineOffsets(try await h.history("c", HistoryQuery(limit: -1, reverse: true)).publications) == [6, 5, 4])
    }

    // MARK: TTLs

    /// After history_ttl the publications are gone but epoch and top offset stay; the next publish continues the stream.
    @Test(arguments: EngineUnderTest.all)
    func historyTTLDropsPublicationsKeepsMeta(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        let o = PublishOptions.engineHistory(ttl: .seconds(10), metaTTL: .seconds(3600))
        let epoch = try #require(try await h.publishMany("c", count: 2, options: o)[0].position?.epoch)
        h.clock.advance(.seconds(9))
        #expect(engineOffsets(try await h.history("c").publications) == [1, 2])
        h.clock.advance(.seconds(2))
        let expired = try await h.history("c")
        #expect(expired.publications.isEmpty)
        #expect(expired.offset == 2)
        #expect(expired.epoch == epoch)
        let next = try await h.engine.publish(channel: "c", publication: enginePub("m3"), options: o)
        #expect(next.position == StreamPosition(offset: 3, epoch: epoch))
        #expect(engineOffsets(try await h.history("c").publications) == [3])
    }

    /// history_ttl counts from the latest append: a newer publish keeps the older ones alive too.
    @Test(arguments: EngineUnderTest.all)
    func historyTTLCountsFromLatestAppend(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        let o = PublishOptions.engineHistory(ttl: .seconds(10), metaTTL: .seconds(3600))
        try await h.publishMany("c", count: 1, options: o)
        h.clock.advance(.seconds(6))
        _ = try await h.engine.publish(channel: "c", publication: enginePub("m2"), options: o)
        h.clock.advance(.seconds(6))
        #expect(engineOffsets(try await h.history("c").publications) == [1, 2])
        h.clock.advance(.seconds(5))
        #expect(try await h.history("c").publications.isEmpty)
    }

    /// Once the meta TTL passed, the next publish starts a new epoch at offset 1.
    @Test(arguments: EngineUnderTest.all)
    func metaTTLExpiryStartsNewEpoch(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        let o = PublishOptions.engineHistory(ttl: .seconds(10), metaTTL: .seconds(60))
        let old = try #require(try await h.publishMany("c", count: 3, options: o)[0].position?.epoch)
        h.clock.advance(.seconds(61))
        let r = try await h.engine.publish(channel: "c", publication: enginePub("new"), options: o)
        let pos = try #require(r.position)
        #expect(pos.offset == 1)
        #expect(pos.epoch != old)
        #expect(!pos.epoch.isEmpty)
        let hist = try await h.history("c", HistoryQuery(limit: -1, metaTTL: .seconds(60)))
        #expect(engineOffsets(hist.publications) == [1])
        #expect(hist.epoch == pos.epoch)
        // The old epoch is now unrecoverable.
        let err = await engineError {
            _ = try await h.history("c", HistoryQuery(since: StreamPosition(offset: 3, epoch: old), limit: -1, metaTTL: .seconds(60)))
        }
        #expect(err == .unrecoverablePosition)
    }

    /// Reading a lost stream reports top 0 under a new epoch, and the next publish is offset 1 of that epoch.
    @Test(arguments: EngineUnderTest.all)
    func historyAfterMetaExpiryShowsNewEmptyStream(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        let o = PublishOptions.engineHistory(ttl: .seconds(10), metaTTL: .seconds(60))
        let old = try #require(try await h.publishMany("c", count: 3, options: o)[0].position?.epoch)
        h.clock.advance(.seconds(61))
        let hist = try await h.history("c", HistoryQuery(limit: -1, metaTTL: .seconds(60)))
        #expect(hist.publications.isEmpty)
        #expect(hist.offset == 0)
        #expect(hist.epoch != old)
        let r = try await h.engine.publish(channel: "c", publication: enginePub("new"), options: o)
        #expect(r.position == StreamPosition(offset: 1, epoch: hist.epoch))
    }

    /// Reading history keeps the meta alive for another meta TTL, so the epoch a reader saw stays valid.
    @Test(arguments: EngineUnderTest.all)
    func historyReadExtendsMetaTTL(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        let o = PublishOptions.engineHistory(ttl: .seconds(10), metaTTL: .seconds(60))
        let epoch = try #require(try await h.publishMany("c", count: 1, options: o)[0].position?.epoch)
        h.clock.advance(.seconds(50))
        _ = try await h.history("c", HistoryQuery(limit: 0, metaTTL: .seconds(60)))
        h.clock.advance(.seconds(50))
        let r = try await h.engine.publish(channel: "c", publication: enginePub("m2"), options: o)
        #expect(r.position == StreamPosition(offset: 2, epoch: epoch))
    }

    /// removeHistory drops the publications and keeps epoch and top; offsets continue afterwards.
    @Test(arguments: EngineUnderTest.all)
    func removeHistoryKeepsEpochAndTop(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        let epoch = try #require(try await h.publishMany("c", count: 3)[0].position?.epoch)
        try await h.engine.removeHistory(channel: "c")
        let hist = try await h.history("c")
        #expect(hist.publications.isEmpty)
        #expect(hist.offset == 3)
        #expect(hist.epoch == epoch)
        let r = try await h.engine.publish(channel: "c", publication: enginePub("m4"), options: .engineHistory())
        #expect(r.position == StreamPosition(offset: 4, epoch: epoch))
        #expect(engineOffsets(try await h.history("c").publications) == [4])
        // Removing the history of a channel that has none is harmless.
        try await h.engine.removeHistory(channel: "never-published")
    }

    // MARK: Idempotency

    /// A repeated idempotency key returns the first result with fromCache and is not delivered or stored again.
    @Test(arguments: EngineUnderTest.all)
    func idempotencyKeyReturnsCachedResult(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        try await h.engine.subscribe(channel: "c")
        let o = PublishOptions.engineHistory(idempotencyKey: "k1")
        let first = try await h.engine.publish(channel: "c", publication: enginePub("a"), options: o)
        let second = try await h.engine.publish(channel: "c", publication: enginePub("b"), options: o)
        #expect(first.fromCache == false)
        #expect(second.fromCache == true)
        #expect(first.position != nil)
        #expect(second.position == first.position)
        await h.sink.waitForEvents(count: 1)
        #expect(h.sink.publications(in: "c").map(\.publication.engineText) == ["a"])
        let hist = try await h.history("c")
        #expect(hist.publications.map(\.engineText) == ["a"])
        #expect(hist.offset == 1)
    }

    /// Another key, or the same key on another channel, publishes normally.
    @Test(arguments: EngineUnderTest.all)
    func idempotencyKeyIsPerChannelAndKey(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        _ = try await h.engine.publish(channel: "c", publication: enginePub("a"), options: .engineHistory(idempotencyKey: "k1"))
        let otherKey = try await h.engine.publish(channel: "c", publication: enginePub("b"), options: .engineHistory(idempotencyKey: "k2"))
        #expect(otherKey.fromCache == false)
        #expect(otherKey.position?.offset == 2)
        let otherChannel = try await h.engine.publish(channel: "d", publication: enginePub("c"), options: .engineHistory(idempotencyKey: "k1"))
        #expect(otherChannel.fromCache == false)
        #expect(otherChannel.position?.offset == 1)
        let noKey = try await h.engine.publish(channel: "c", publication: enginePub("d"), options: .engineHistory())
        #expect(noKey.fromCache == false)
        #expect(noKey.position?.offset == 3)
    }

    /// Idempotency also works without history: nil position both times, one delivery.
    @Test(arguments: EngineUnderTest.all)
    func idempotencyWithoutHistory(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        try await h.engine.subscribe(channel: "c")
        var o = PublishOptions()
        o.idempotencyKey = "k"
        let first = try await h.engine.publish(channel: "c", publication: enginePub("a"), options: o)
        let second = try await h.engine.publish(channel: "c", publication: enginePub("a"), options: o)
        #expect(first == PublishResult(position: nil, fromCache: false))
        #expect(second == PublishResult(position: nil, fromCache: true))
        await h.sink.waitForEvents(count: 1)
        #expect(h.sink.publications(in: "c").count == 1)
    }

    /// After idempotentResultTTL the same key publishes again.
    @Test(arguments: EngineUnderTest.all)
    func idempotencyResultExpires(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        try await h.engine.subscribe(channel: "c")
        let o = PublishOptions.engineHistory(ttl: .seconds(3600), metaTTL: .seconds(7200), idempotencyKey: "k", idempotentResultTTL: .seconds(300))
        let first = try await h.engine.publish(channel: "c", publication: enginePub("a"), options: o)
        h.clock.advance(.seconds(299))
        let cached = try await h.engine.publish(channel: "c", publication: enginePub("a"), options: o)
        #expect(cached.fromCache)
        #expect(cached.position == first.position)
        h.clock.advance(.seconds(2))
        let again = try await h.engine.publish(channel: "c", publication: enginePub("a"), options: o)
        #expect(again.fromCache == false)
        #expect(again.position == StreamPosition(offset: 2, epoch: first.position?.epoch ?? "?"))
        await h.sink.waitForEvents(count: 2)
        #expect(h.sink.publications(in: "c").count == 2)
        // The new result is cached in turn.
        let cachedAgain = try await h.engine.publish(channel: "c", publication: enginePub("a"), options: o)
        #expect(cachedAgain.fromCache)
        #expect(cachedAgain.position == again.position)
    }

    // MARK: Delivery

    /// The sink receives a channel's publications in offset order, each with the stream's epoch and its data.
    @Test(arguments: EngineUnderTest.all)
    func sinkReceivesPublicationsInOrderWithEpoch(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        try await h.engine.subscribe(channel: "c")
        let epoch = try #require(try await h.publishMany("c", count: 5)[0].position?.epoch)
        await h.sink.waitForEvents(count: 5)
        let got = h.sink.publications(in: "c")
        #expect(got.map(\.publication.offset) == [1, 2, 3, 4, 5])
        #expect(got.map(\.publication.engineText) == ["m1", "m2", "m3", "m4", "m5"])
        #expect(got.allSatisfy { $0.epoch == epoch })
    }

    /// The delivered publication keeps what the publisher set (info, tags, time) besides the offset.
    @Test(arguments: EngineUnderTest.all)
    func sinkReceivesFullPublication(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        try await h.engine.subscribe(channel: "c")
        let info = ClientInfo(user: "42", client: "c-1", connInfo: Payload(bytes: Array("{}".utf8)))
        let p = Publication(data: Payload(bytes: Array("{\"x\":1}".utf8)), info: info, tags: ["k": "v"], time: 1234)
        _ = try await h.engine.publish(channel: "c", publication: p, options: .engineHistory())
        await h.sink.waitForEvents(count: 1)
        var expected = p
        expected.offset = 1
        #expect(h.sink.publications(in: "c").map(\.publication) == [expected])
        #expect(try await h.history("c").publications == [expected])
    }

    /// Joins and leaves reach the sink with their channel and client info, in order.
    @Test(arguments: EngineUnderTest.all)
    func sinkReceivesJoinsAndLeaves(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        try await h.engine.subscribe(channel: "room")
        let a = ClientInfo(user: "1", client: "ca")
        let b = ClientInfo(user: "2", client: "cb", chanInfo: Payload(bytes: Array("\"x\"".utf8)))
        try await h.engine.publishJoin(channel: "room", info: a)
        try await h.engine.publishJoin(channel: "room", info: b)
        try await h.engine.publishLeave(channel: "room", info: a)
        await h.sink.waitForEvents(count: 3)
        #expect(
            h.sink.events(in: "room") == [
                .join(channel: "room", info: a),
                .join(channel: "room", info: b),
                .leave(channel: "room", info: a),
            ])
    }

    /// Many tasks publishing to one channel: every offset 1…N is assigned once, and the sink sees them contiguous and increasing.
    @Test(arguments: EngineUnderTest.all)
    func concurrentPublishesAreDeliveredInOffsetOrder(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        try await h.engine.subscribe(channel: "hot")
        let tasks = 8
        let perTask = 50
        let total = tasks * perTask
        let o = PublishOptions.engineHistory(size: total)
        let engine = h.engine
        let offsets = try await withThrowingTaskGroup(of: [UInt64].self) { group in
            for t in 0..<tasks {
                group.addTask {
                    var mine: [UInt64] = []
                    for i in 0..<perTask {
                        let r = try await engine.publish(channel: "hot", publication: enginePub("t\(t)-\(i)"), options: o)
                        mine.append(r.position?.offset ?? 0)
                    }
                    return mine
                }
            }
            var all: [UInt64] = []
            for try await part in group { all += part }
            return all
        }
        #expect(offsets.sorted() == Array(1...UInt64(total)))
        await h.sink.waitForEvents(count: total)
        let delivered = h.sink.publications(in: "hot").map(\.publication.offset)
        #expect(delivered == Array(1...UInt64(total)))
        #expect(Set(h.sink.publications(in: "hot").map(\.epoch)).count == 1)
        #expect(engineOffsets(try await h.history("hot").publications) == Array(1...UInt64(total)))
    }

    /// Concurrent publishes to many channels keep every channel's own deliveries contiguous.
    @Test(arguments: EngineUnderTest.all)
    func concurrentPublishesToManyChannels(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        let channels = (0..<16).map { "ch\($0)" }
        for c in channels { try await h.engine.subscribe(channel: c) }
        let engine = h.engine
        let perChannel = 20
        try await withThrowingTaskGroup(of: Void.self) { group in
            for c in channels {
                for _ in 0..<2 {
                    group.addTask {
                        for i in 0..<perChannel / 2 {
                            _ = try await engine.publish(channel: c, publication: enginePub("\(i)"), options: .engineHistory())
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        await h.sink.waitForEvents(count: channels.count * perChannel)
        for c in channels {
            #expect(h.sink.publications(in: c).map(\.publication.offset) == Array(1...UInt64(perChannel)), "channel \(c)")
        }
    }

    /// After shutdown returns, nothing more is delivered to the sink.
    @Test(arguments: EngineUnderTest.all)
    func noDeliveryAfterShutdown(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        try await h.engine.subscribe(channel: "c")
        _ = try await h.engine.publish(channel: "c", publication: enginePub("before"), options: PublishOptions())
        await h.sink.waitForEvents(count: 1)
        await h.engine.shutdown()
        _ = try? await h.engine.publish(channel: "c", publication: enginePub("after"), options: PublishOptions())
        try? await h.engine.publishJoin(channel: "c", info: ClientInfo(user: "1", client: "x"))
        #expect(h.sink.events.count == 1)
    }

    // MARK: Presence

    /// Presence is keyed by client ID; stats count clients and distinct users.
    @Test(arguments: EngineUnderTest.all)
    func presenceAddGetStats(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        let e = h.engine
        let c1 = ClientInfo(user: "u1", client: "c1", connInfo: Payload(bytes: Array("{\"n\":1}".utf8)))
        let c2 = ClientInfo(user: "u1", client: "c2")
        let c3 = ClientInfo(user: "u2", client: "c3")
        for info in [c1, c2, c3] { try await e.addPresence(channel: "room", info: info, ttl: .seconds(60)) }
        #expect(try await e.presence(channel: "room") == ["c1": c1, "c2": c2, "c3": c3])
        #expect(try await e.presenceStats(channel: "room") == PresenceStats(numClients: 3, numUsers: 2))
        // Other channels are unaffected.
        #expect(try await e.presence(channel: "other").isEmpty)
        #expect(try await e.presenceStats(channel: "other") == PresenceStats(numClients: 0, numUsers: 0))
    }

    /// Adding the same client again refreshes its entry instead of duplicating it.
    @Test(arguments: EngineUnderTest.all)
    func presenceReAddReplaces(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        let e = h.engine
        try await e.addPresence(channel: "room", info: ClientInfo(user: "u1", client: "c1"), ttl: .seconds(60))
        let updated = ClientInfo(user: "u1", client: "c1", chanInfo: Payload(bytes: Array("\"v2\"".utf8)))
        try await e.addPresence(channel: "room", info: updated, ttl: .seconds(60))
        #expect(try await e.presence(channel: "room") == ["c1": updated])
        #expect(try await e.presenceStats(channel: "room") == PresenceStats(numClients: 1, numUsers: 1))
    }

    /// Removing clients updates presence and stats; removing the last client empties the channel; unknown clients are ignored.
    @Test(arguments: EngineUnderTest.all)
    func presenceRemove(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        let e = h.engine
        let c1 = ClientInfo(user: "u1", client: "c1")
        let c2 = ClientInfo(user: "u1", client: "c2")
        let c3 = ClientInfo(user: "u2", client: "c3")
        for info in [c1, c2, c3] { try await e.addPresence(channel: "room", info: info, ttl: .seconds(60)) }
        try await e.removePresence(channel: "room", clientID: "c2", user: "u1")
        #expect(try await e.presence(channel: "room") == ["c1": c1, "c3": c3])
        #expect(try await e.presenceStats(channel: "room") == PresenceStats(numClients: 2, numUsers: 2))
        try await e.removePresence(channel: "room", clientID: "c3", user: "u2")
        #expect(try await e.presenceStats(channel: "room") == PresenceStats(numClients: 1, numUsers: 1))
        try await e.removePresence(channel: "room", clientID: "nobody", user: "x")
        try await e.removePresence(channel: "room", clientID: "c1", user: "u1")
        #expect(try await e.presence(channel: "room").isEmpty)
        #expect(try await e.presenceStats(channel: "room") == PresenceStats(numClients: 0, numUsers: 0))
        // The channel can be joined again after becoming empty.
        try await e.addPresence(channel: "room", info: c2, ttl: .seconds(60))
        #expect(try await e.presence(channel: "room") == ["c2": c2])
        // Removing from a channel that never had presence is harmless.
        try await e.removePresence(channel: "empty", clientID: "c1", user: "u1")
    }
}

// MARK: - MemoryEngine specifics

/// What only the memory engine does: epoch format, synchronous core, sharding, housekeeping.
@Suite("MemoryEngine")
struct MemoryEngineTests {
    private func makeEngine(shardCount: Int = 8, epochs: [String]? = nil) async throws -> (MemoryEngine, ManualEngineClock, RecordingEngineSink) {
        let clock = ManualEngineClock()
        let sink = RecordingEngineSink()
        let engine: MemoryEngine
        if let epochs {
            let source = EpochSequence(epochs)
            engine = MemoryEngine(clock: clock.brokerClock, shardCount: shardCount, epochSource: { source.next() })
        } else {
            engine = MemoryEngine(clock: clock.brokerClock, shardCount: shardCount)
        }
        try await engine.start(sink: sink)
        return (engine, clock, sink)
    }

    /// Hands out the given epochs in order (then "exhausted").
    private final class EpochSequence: Sendable {
        private let state: Mutex<[String]>
        init(_ epochs: [String]) { state = Mutex(epochs) }
        func next() -> String { state.withLock { $0.isEmpty ? "exhausted" : $0.removeFirst() } }
    }

    /// randomEpoch makes 8 ASCII letters, as Centrifugo v6 does, and differs between calls.
    @Test func randomEpochIsEightLetters() {
        let epochs = (0..<50).map { _ in MemoryEngine.randomEpoch() }
        for e in epochs {
            #expect(e.utf8.count == 8)
            #expect(e.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) }, "\(e)")
        }
        #expect(Set(epochs).count == epochs.count)
    }

    /// The injected epoch source names each new stream, and a lost stream takes the next one.
    @Test func injectedEpochSourceIsUsed() async throws {
        let (engine, clock, _) = try await makeEngine(epochs: ["EPOCHONE", "EPOCHTWO"])
        let o = PublishOptions.engineHistory(ttl: .seconds(10), metaTTL: .seconds(60))
        #expect(engine.publishNow(channel: "c", publication: enginePub("a"), options: o).position == StreamPosition(offset: 1, epoch: "EPOCHONE"))
        clock.advance(.seconds(61))
        #expect(engine.publishNow(channel: "c", publication: enginePub("b"), options: o).position == StreamPosition(offset: 1, epoch: "EPOCHTWO"))
    }

    /// The synchronous core delivers to the sink before publishNow returns and serves historyNow.
    @Test func synchronousCoreDeliversBeforeReturning() async throws {
        let (engine, _, sink) = try await makeEngine()
        let r = engine.publishNow(channel: "c", publication: enginePub("a"), options: .engineHistory())
        #expect(sink.publications(in: "c").map(\.publication.offset) == [1])
        let h = try engine.historyNow(channel: "c", query: HistoryQuery(limit: -1))
        #expect(h.offset == 1)
        #expect(h.epoch == r.position?.epoch)
        #expect(throws: EngineError.badRequest) {
            try engine.historyNow(channel: "c", query: HistoryQuery(since: StreamPosition(offset: 0, epoch: ""), limit: -1, reverse: true))
        }
    }

    /// Publishing before start() (no sink yet) is not an error and still stores the publication.
    @Test func publishBeforeStartIsStored() async throws {
        let engine = MemoryEngine(clock: ManualEngineClock().brokerClock)
        let r = try await engine.publish(channel: "c", publication: enginePub("a"), options: .engineHistory())
        #expect(r.position?.offset == 1)
        #expect(try await engine.history(channel: "c", query: HistoryQuery(limit: -1)).publications.count == 1)
    }

    /// With a single shard (every channel shares one lock and one map) channels stay independent.
    @Test(arguments: [0, 1])
    func singleShardKeepsChannelsApart(shardCount: Int) async throws {
        let (engine, _, _) = try await makeEngine(shardCount: shardCount)
        for ch in ["a", "b", "c"] {
            _ = engine.publishNow(channel: ch, publication: enginePub(ch), options: .engineHistory(idempotencyKey: "k"))
        }
        for ch in ["a", "b", "c"] {
            let h = try engine.historyNow(channel: ch, query: HistoryQuery(limit: -1))
            #expect(h.publications.map(\.engineText) == [ch])
            #expect(h.offset == 1)
        }
        try await engine.addPresence(channel: "a", info: ClientInfo(user: "1", client: "x"), ttl: .seconds(60))
        #expect(try await engine.presence(channel: "b").isEmpty)
        try await engine.removeHistory(channel: "a")
        #expect(try engine.historyNow(channel: "b", query: HistoryQuery(limit: -1)).publications.count == 1)
    }

    // MARK: removeExpired
    //
    // Expiry is also checked lazily on access, so to see what removeExpired itself freed, the tests
    // move the clock past expiry, run removeExpired, then move the clock back before expiry: only
    // state that removeExpired really dropped looks gone at that earlier time.

    /// Control: without removeExpired, rewinding the clock brings the old stream and cached result back into view.
    @Test func withoutHousekeepingStateIsOnlyLazilyExpired() async throws {
        let (engine, clock, _) = try await makeEngine(epochs: ["AAAAAAAA", "BBBBBBBB"])
        let o = PublishOptions.engineHistory(ttl: .seconds(10), metaTTL: .seconds(60), idempotencyKey: "k", idempotentResultTTL: .seconds(30))
        _ = engine.publishNow(channel: "c", publication: enginePub("a"), options: o)
        clock.advance(.seconds(120))
        clock.rewind(.seconds(115))
        let h = try engine.historyNow(channel: "c", query: HistoryQuery(limit: -1, metaTTL: .seconds(60)))
        #expect(h.epoch == "AAAAAAAA")
        #expect(h.offset == 1)
        #expect(h.publications.count == 1)
        #expect(engine.publishNow(channel: "c", publication: enginePub("a"), options: o).fromCache)
    }

    /// removeExpired frees a stream whose meta TTL passed: the channel comes back under a new epoch.
    @Test func removeExpiredFreesExpiredStreams() async throws {
        let (engine, clock, _) = try await makeEngine(epochs: ["AAAAAAAA", "BBBBBBBB"])
        let o = PublishOptions.engineHistory(ttl: .seconds(10), metaTTL: .seconds(60))
        _ = engine.publishNow(channel: "c", publication: enginePub("a"), options: o)
        _ = engine.publishNow(channel: "c", publication: enginePub("b"), options: o)
        clock.advance(.seconds(61))
        engine.removeExpired()
        clock.rewind(.seconds(56))
        let h = try engine.historyNow(channel: "c", query: HistoryQuery(limit: -1, metaTTL: .seconds(60)))
        #expect(h.epoch == "BBBBBBBB")
        #expect(h.offset == 0)
        #expect(h.publications.isEmpty)
    }

    /// removeExpired frees idempotency results past their TTL: the same key publishes again.
    @Test func removeExpiredFreesIdempotencyResults() async throws {
        let (engine, clock, sink) = try await makeEngine()
        let o = PublishOptions.engineHistory(ttl: .seconds(3600), metaTTL: .seconds(7200), idempotencyKey: "k", idempotentResultTTL: .seconds(30))
        let first = engine.publishNow(channel: "c", publication: enginePub("a"), options: o)
        clock.advance(.seconds(31))
        engine.removeExpired()
        clock.rewind(.seconds(21))
        let again = engine.publishNow(channel: "c", publication: enginePub("a"), options: o)
        #expect(again.fromCache == false)
        #expect(again.position == StreamPosition(offset: 2, epoch: first.position?.epoch ?? "?"))
        #expect(sink.publications(in: "c").count == 2)
    }

    /// removeExpired keeps live streams and unexpired results, dropping only publications whose history TTL passed.
    @Test func removeExpiredKeepsLiveState() async throws {
        let (engine, clock, _) = try await makeEngine(epochs: ["AAAAAAAA", "BBBBBBBB"])
        let o = PublishOptions.engineHistory(ttl: .seconds(10), metaTTL: .seconds(60), idempotencyKey: "k", idempotentResultTTL: .seconds(300))
        let first = engine.publishNow(channel: "c", publication: enginePub("a"), options: o)
        _ = engine.publishNow(channel: "live", publication: enginePub("x"), options: .engineHistory(ttl: .seconds(600)))
        clock.advance(.seconds(11))
        engine.removeExpired()
        clock.rewind(.seconds(6))
        // The meta survives, the publications (expired at +10 s) were dropped by removeExpired.
        let h = try engine.historyNow(channel: "c", query: HistoryQuery(limit: -1, metaTTL: .seconds(60)))
        #expect(h.epoch == "AAAAAAAA")
        #expect(h.offset == 1)
        #expect(h.publications.isEmpty)
        // A stream with a longer TTL keeps its publications.
        #expect(try engine.historyNow(channel: "live", query: HistoryQuery(limit: -1)).publications.count == 1)
        // The idempotency result is still cached.
        let cached = engine.publishNow(channel: "c", publication: enginePub("a"), options: o)
        #expect(cached.fromCache)
        #expect(cached.position == first.position)
    }

    /// A presence record expires after its TTL unless re-added; removeExpired frees it.
    @Test func presenceExpiresAfterTTL() async throws {
        let (engine, clock, _) = try await makeEngine()
        let info = ClientInfo(user: "u", client: "c")
        try await engine.addPresence(channel: "room", info: info, ttl: .seconds(60))
        clock.advance(.seconds(59))
        #expect(try await engine.presence(channel: "room") == ["c": info])
        clock.advance(.seconds(2))
        #expect(try await engine.presence(channel: "room").isEmpty)
        #expect(try await engine.presenceStats(channel: "room") == PresenceStats(numClients: 0, numUsers: 0))
    }

    /// Re-adding a record (the connection's periodic presence update) extends its life.
    @Test func presenceRefreshExtendsTTL() async throws {
        let (engine, clock, _) = try await makeEngine()
        let info = ClientInfo(user: "u", client: "c")
        try await engine.addPresence(channel: "room", info: info, ttl: .seconds(60))
        clock.advance(.seconds(40))
        try await engine.addPresence(channel: "room", info: info, ttl: .seconds(60))
        clock.advance(.seconds(40))
        #expect(try await engine.presence(channel: "room") == ["c": info])
        engine.removeExpired()
        clock.advance(.seconds(30))
        engine.removeExpired()
        clock.rewind(.seconds(30))
        // Freed by removeExpired while expired: gone even when looked at from before its expiry.
        #expect(try await engine.presence(channel: "room").isEmpty)
    }
}

@Suite("Engine contract: control channel")
struct EngineControlContractTests {
    @Test(arguments: EngineUnderTest.all)
    func controlMessagesComeBackToTheSenderInOrder(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        for i in 1...20 { try await h.engine.publishControl(Array("c\(i)".utf8)) }
        #expect(await h.sink.wait(timeout: .seconds(5)) { $0.controls.count == 20 })
        #expect(h.sink.controlTexts == (1...20).map { "c\($0)" })
        await h.engine.shutdown()
    }
}
