import Testing

@testable import Broker
@testable import BrokerProtocol

/// One channel's in-memory stream, driven directly (no engine, no locks).
@Suite("HistoryStream")
struct HistoryStreamTests {
    private static let t0: Int64 = 1_000_000

    /// A stream that appended `count` publications at t0 and keeps the newest `size`: offsets (count-size+1)...count.
    private func stream(count: Int, size: Int = 100, ttl: Duration = .seconds(60), metaTTL: Duration = .seconds(3600)) -> HistoryStream {
        var s = HistoryStream(epoch: "EPOCH", now: Self.t0, metaTTL: metaTTL)
        for i in 0..<count {
            _ = s.append(enginePub("m\(i + 1)"), now: Self.t0, size: size, ttl: ttl, metaTTL: metaTTL)
        }
        return s
    }

    private func read(_ s: HistoryStream, since: UInt64?, limit: Int = -1, reverse: Bool = false) -> [UInt64] {
        engineOffsets(s.read(since: since.map { StreamPosition(offset: $0, epoch: "EPOCH") }, limit: limit, reverse: reverse))
    }

    // MARK: Basics

    /// A new stream has its epoch, top 0, no publications and meta expiry at now + metaTTL.
    @Test func newStreamIsEmpty() {
        let s = HistoryStream(epoch: "E", now: 5_000, metaTTL: .seconds(2))
        #expect(s.epoch == "E")
        #expect(s.top == 0)
        #expect(s.count == 0)
        #expect(s.metaExpireAt == 7_000)
        #expect(s.read(since: nil, limit: -1, reverse: false).isEmpty)
        #expect(s.read(since: nil, limit: -1, reverse: true).isEmpty)
        #expect(s.read(since: StreamPosition(offset: 3, epoch: "E"), limit: -1, reverse: true).isEmpty)
    }

    /// append assigns offsets 1, 2, 3…, returns the stored publication and pushes the meta expiry forward.
    @Test func appendAssignsOffsets() {
        var s = HistoryStream(epoch: "E", now: 0, metaTTL: .seconds(10))
        let p1 = s.append(enginePub("a"), now: 1_000, size: 10, ttl: .seconds(5), metaTTL: .seconds(10))
        let p2 = s.append(enginePub("b"), now: 2_000, size: 10, ttl: .seconds(5), metaTTL: .seconds(10))
        #expect(p1.offset == 1)
        #expect(p1.engineText == "a")
        #expect(p2.offset == 2)
        #expect(s.top == 2)
        #expect(s.count == 2)
        #expect(s.metaExpireAt == 12_000)
        #expect(s.epoch == "E")
    }

    /// The offset given in the input publication is ignored; the stream numbers it.
    @Test func appendOverridesIncomingOffset() {
        var s = HistoryStream(epoch: "E", now: 0, metaTTL: .seconds(10))
        var p = enginePub("a")
        p.offset = 99
        #expect(s.append(p, now: 0, size: 10, ttl: .seconds(5), metaTTL: .seconds(10)).offset == 1)
    }

    /// Over `size`, the oldest publications are dropped; the top keeps counting.
    @Test func sizeTrimsOldest() {
        let s = stream(count: 5, size: 3)
        #expect(s.count == 3)
        #expect(s.top == 5)
        #expect(read(s, since: nil) == [3, 4, 5])
    }

    /// limit 0 reads nothing, with or without since, either direction.
    @Test func limitZeroReadsNothing() {
        let s = stream(count: 5)
        #expect(read(s, since: nil, limit: 0).isEmpty)
        #expect(read(s, since: 2, limit: 0).isEmpty)
        #expect(read(s, since: nil, limit: 0, reverse: true).isEmpty)
        #expect(read(s, since: 4, limit: 0, reverse: true).isEmpty)
    }

    // MARK: Forward windows (retained offsets 3…5 of top 5)

    /// Forward without since (or since 0) reads from the oldest retained publication, limited to N.
    @Test func forwardFromStart() {
        let s = stream(count: 5, size: 3)
        #expect(read(s, since: nil) == [3, 4, 5])
        #expect(read(s, since: 0) == [3, 4, 5])
        #expect(read(s, since: nil, limit: 2) == [3, 4])
        #expect(read(s, since: nil, limit: 3) == [3, 4, 5])
        #expect(read(s, since: nil, limit: 4) == [3, 4, 5])
    }

    /// since before the first retained offset reads everything retained (the gap is the reader's to detect).
    @Test func forwardSinceBeforeFirstRetained() {
        let s = stream(count: 5, size: 3)
        #expect(read(s, since: 1) == [3, 4, 5])
        #expect(read(s, since: 1, limit: 1) == [3])
    }

    /// since just before / at the first retained offset.
    @Test func forwardSinceAtFirstRetained() {
        let s = stream(count: 5, size: 3)
        #expect(read(s, since: 2) == [3, 4, 5])
        #expect(read(s, since: 3) == [4, 5])
        #expect(read(s, since: 4, limit: 5) == [5])
    }

    /// since == top reads nothing, and so does since beyond top.
    @Test func forwardSinceAtOrBeyondTop() {
        let s = stream(count: 5, size: 3)
        #expect(read(s, since: 5).isEmpty)
        #expect(read(s, since: 6).isEmpty)
        #expect(read(s, since: 1_000).isEmpty)
    }

    /// A since offset far beyond the top (a client may send any uint64) reads nothing instead of trapping.
    @Test
    func forwardSinceHugeOffset() {
        let s = stream(count: 5, size: 3)
        #expect(read(s, since: UInt64.max).isEmpty)
        #expect(read(s, since: UInt64(Int.max) + 10).isEmpty)
    }

    // MARK: Reverse windows (retained offsets 3…5 of top 5)

    /// Reverse without since reads newest first, limited to N.
    @Test func reverseFromTop() {
        let s = stream(count: 5, size: 3)
        #expect(read(s, since: nil, reverse: true) == [5, 4, 3])
        #expect(read(s, since: nil, limit: 2, reverse: true) == [5, 4])
    }

    /// Reverse since beyond the top reads from the newest.
    @Test func reverseSinceBeyondTop() {
        let s = stream(count: 5, size: 3)
        #expect(read(s, since: 6, reverse: true) == [5, 4, 3])
        #expect(read(s, since: 1_000, reverse: true) == [5, 4, 3])
        #expect(read(s, since: 1_000, limit: 1, reverse: true) == [5])
    }

    /// Reverse since == top reads the older ones only.
    @Test func reverseSinceAtTop() {
        let s = stream(count: 5, size: 3)
        #expect(read(s, since: 5, reverse: true) == [4, 3])
        #expect(read(s, since: 5, limit: 1, reverse: true) == [4])
    }

    /// Reverse since at, or below, the first retained offset reads nothing; one above reads just the first.
    @Test func reverseSinceAtFirstRetained() {
        let s = stream(count: 5, size: 3)
        #expect(read(s, since: 4, reverse: true) == [3])
        #expect(read(s, since: 3, reverse: true).isEmpty)
        #expect(read(s, since: 2, reverse: true).isEmpty)
        #expect(read(s, since: 1, reverse: true).isEmpty)
    }

    /// A reverse since offset far beyond the top reads from the newest instead of trapping.
    @Test
    func reverseSinceHugeOffset() {
        let s = stream(count: 5, size: 3)
        #expect(read(s, since: UInt64.max, reverse: true) == [5, 4, 3])
    }

    // MARK: Expiry and meta

    /// Publications expire together history_ttl after the latest append; epoch and top stay.
    @Test func expireDropsPublicationsKeepsMeta() {
        var s = HistoryStream(epoch: "E", now: 0, metaTTL: .seconds(60))
        _ = s.append(enginePub("a"), now: 0, size: 10, ttl: .seconds(10), metaTTL: .seconds(60))
        _ = s.append(enginePub("b"), now: 5_000, size: 10, ttl: .seconds(10), metaTTL: .seconds(60))
        s.expire(now: 14_999)
        #expect(s.count == 2)
        s.expire(now: 15_000)
        #expect(s.count == 0)
        #expect(s.top == 2)
        #expect(s.epoch == "E")
        #expect(s.metaExpireAt == 65_000)
    }

    /// Appending after the publications expired continues the offsets and keeps only the new one.
    @Test func appendAfterExpiryContinuesOffsets() {
        var s = HistoryStream(epoch: "E", now: 0, metaTTL: .seconds(60))
        _ = s.append(enginePub("a"), now: 0, size: 10, ttl: .seconds(10), metaTTL: .seconds(60))
        _ = s.append(enginePub("b"), now: 0, size: 10, ttl: .seconds(10), metaTTL: .seconds(60))
        let p = s.append(enginePub("c"), now: 20_000, size: 10, ttl: .seconds(10), metaTTL: .seconds(60))
        #expect(p.offset == 3)
        #expect(s.count == 1)
        #expect(engineOffsets(s.read(since: nil, limit: -1, reverse: false)) == [3])
        #expect(engineOffsets(s.read(since: StreamPosition(offset: 1, epoch: "E"), limit: -1, reverse: false)) == [3])
        #expect(engineOffsets(s.read(since: StreamPosition(offset: 9, epoch: "E"), limit: -1, reverse: true)) == [3])
    }

    /// removeAll drops the publications but not the epoch or the top.
    @Test func removeAllKeepsMeta() {
        var s = stream(count: 4)
        s.removeAll()
        #expect(s.count == 0)
        #expect(s.top == 4)
        #expect(s.epoch == "EPOCH")
        #expect(read(s, since: nil).isEmpty)
        #expect(s.append(enginePub("x"), now: Self.t0, size: 10, ttl: .seconds(60), metaTTL: .seconds(3600)).offset == 5)
    }

    /// touchMeta extends the meta expiry but never shortens it.
    @Test func touchMetaOnlyExtends() {
        var s = HistoryStream(epoch: "E", now: 0, metaTTL: .seconds(100))
        s.touchMeta(now: 10_000, metaTTL: .seconds(10))
        #expect(s.metaExpireAt == 100_000)
        s.touchMeta(now: 10_000, metaTTL: .seconds(200))
        #expect(s.metaExpireAt == 210_000)
    }
}
