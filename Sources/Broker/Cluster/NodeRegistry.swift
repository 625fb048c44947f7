import NIOConcurrencyHelpers

/// The other nodes this node has heard from, by their heartbeats.
///
/// A node that misses heartbeats for `maxAge` is considered gone, as is one that said it was leaving.
final class NodeRegistry: Sendable {
    private struct Entry {
        var info: NodeInfo
        var seenAt: Int64
    }

    private let entries = NIOLockedValueBox([String: Entry]())
    let maxAgeMillis: Int64

    init(maxAgeMillis: Int64) {
        self.maxAgeMillis = maxAgeMillis
    }

    /// Records a heartbeat; true when the node was not known (new, or back after expiring).
    @discardableResult
    func heard(_ info: NodeInfo, at now: Int64) -> Bool {
        entries.withLockedValue { map in
            let known = map[info.uid].map { now - $0.seenAt <= maxAgeMillis } ?? false
            map[info.uid] = Entry(info: info, seenAt: now)
            return !known
        }
    }

    func forget(_ uid: String) {
        entries.withLockedValue { _ = $0.removeValue(forKey: uid) }
    }

    /// Live nodes (sorted by name, then ID), dropping the expired ones.
    func alive(now: Int64) -> [NodeInfo] {
        entries.withLockedValue { map in
            map = map.filter { now - $0.value.seenAt <= maxAgeMillis }
            return map.values.map(\.info).sorted { ($0.name, $0.uid) < ($1.name, $1.uid) }
        }
    }
}
