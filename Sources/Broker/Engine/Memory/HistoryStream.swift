import BrokerProtocol
import DequeModule

/// One channel's history in memory: a bounded, expiring run of publications under an epoch.
///
/// The publications expire together `ttl` after the latest append (as a Redis stream with EXPIRE
/// would); the meta (epoch and top offset) lives `metaTTL` after the latest append, and once it is
/// gone the next append starts a new epoch at offset 1.
struct HistoryStream {
    private(set) var epoch: String
    private(set) var top: UInt64 = 0
    private var items: Deque<Publication> = []
    private var itemsExpireAt: Int64 = 0
    private(set) var metaExpireAt: Int64

    init(epoch: String, now: Int64, metaTTL: Duration) {
        self.epoch = epoch
        self.metaExpireAt = now + metaTTL.milliseconds
    }

    var count: Int { items.count }

    /// Drops publications whose TTL passed.
    mutating func expire(now: Int64) {
        if !items.isEmpty, now >= itemsExpireAt { items.removeAll() }
    }

    mutating func append(_ publication: Publication, now: Int64, size: Int, ttl: Duration, metaTTL: Duration) -> Publication {
        expire(now: now)
        top += 1
        var p = publication
        p.offset = top
        items.append(p)
        while items.count > size { items.removeFirst() }
        itemsExpireAt = now + ttl.milliseconds
        metaExpireAt = now + metaTTL.milliseconds
        return p
    }

    mutating func removeAll() {
        items.removeAll()
    }

    mutating func touchMeta(now: Int64, metaTTL: Duration) {
        metaExpireAt = max(metaExpireAt, now + metaTTL.milliseconds)
    }

    /// Applies a history query. Epoch and `reverse`/`since` validation is the caller's.
    func read(since: StreamPosition?, limit: Int, reverse: Bool) -> [Publication] {
        if limit == 0 || items.isEmpty { return [] }
        let maxCount = limit < 0 ? Int.max : limit
        var out: [Publication] = []
        if !reverse {
            let after = since?.offset ?? 0
            // Offsets are contiguous inside `items`: index of the first one > after.
            let firstOffset = items[items.startIndex].offset
            // UInt64 arithmetic, clamped before converting: `since` comes from clients.
            let skip = after >= firstOffset ? after - firstOffset + 1 : 0
            if skip >= UInt64(items.count) { return [] }
            var i = Int(skip)
            while i < items.count, out.count < maxCount {
                out.append(items[i])
                i += 1
            }
        } else {
            var i = items.count - 1
            if let since {
                let firstOffset = items[items.startIndex].offset
                if since.offset <= firstOffset { return [] }
                let distance = since.offset - firstOffset
                i = distance > UInt64(items.count) ? items.count - 1 : Int(distance) - 1
            }
            while i >= 0, out.count < maxCount {
                out.append(items[i])
                i -= 1
            }
        }
        return out
    }
}
