import BrokerProtocol
import NIOConcurrencyHelpers
import Synchronization

/// Per channel with fossil-delta subscribers on this node: the data of the last publication the hub
/// delivered, which is the base the next publication is patched against.
///
/// Publications reach the hub in stream order per channel, so "the last one delivered" is the one every
/// subscriber that is ready for deltas last received. A base is used only when it is the publication right
/// before the new one (offset - 1 in the same epoch, or both without offsets); otherwise subscribers get the
/// full data, which is always safe.
final class DeltaBases: Sendable {
    private struct Channel {
        var subscribers = 0
        var lastData: Payload?
        var lastOffset: UInt64 = 0
        var lastEpoch = ""
    }

    private let shards: [NIOLockedValueBox<[String: Channel]>] = (0..<16).map { _ in NIOLockedValueBox([:]) }
    /// Delta subscribers on this node: while 0, a publication costs no hash and no lock here.
    private let total = Atomic<Int>(0)

    private func shard(_ channel: String) -> NIOLockedValueBox<[String: Channel]> {
        shards[Int(RedisSharding.fnv1a64(channel) % UInt64(shards.count))]
    }

    func subscriberAdded(_ channel: String) {
        total.add(1, ordering: .relaxed)
        shard(channel).withLockedValue { $0[channel, default: Channel()].subscribers += 1 }
    }

    func subscriberRemoved(_ channel: String) {
        total.subtract(1, ordering: .relaxed)
        shard(channel).withLockedValue { map in
            guard var c = map[channel] else { return }
            c.subscribers -= 1
            map[channel] = c.subscribers <= 0 ? nil : c
        }
    }

    /// Records `publication` as the channel's new base and returns the previous one when a patch against
    /// it is valid; nil when the channel has no delta subscribers or the previous data is not the base.
    func advance(_ channel: String, publication: Publication, epoch: String) -> Payload? {
        if total.load(ordering: .relaxed) == 0 { return nil }
        return shard(channel).withLockedValue { map -> Payload? in
            guard var c = map[channel] else { return nil }
            var base: Payload?
            if let last = c.lastData {
                let consecutive =
                    publication.offset == 0
                    ? c.lastOffset == 0
                    : c.lastOffset + 1 == publication.offset && c.lastEpoch == epoch
                if consecutive { base = last }
            }
            c.lastData = publication.data
            c.lastOffset = publication.offset
            c.lastEpoch = epoch
            map[channel] = c
            return base
        }
    }
}
