/// One master of a Redis Cluster, as `CLUSTER SLOTS` names it.
public struct RedisClusterNode: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// The node's ID (40 hex characters); it changes when a replica takes over, never on a slot migration.
    public var id: String

    public var address: String { "\(host):\(port)" }
    public var description: String { address }
}

/// Which master serves each slot, from one `CLUSTER SLOTS` answer.
public struct RedisClusterTopology: Sendable, Equatable {
    /// The masters that serve at least one slot.
    public private(set) var masters: [RedisClusterNode] = []
    /// Slot → index into `masters`; -1 for a slot nobody serves.
    private var owners = [Int16](repeating: -1, count: RedisClusterSlots.count)

    public func master(ofSlot slot: Int) -> RedisClusterNode? {
        let i = owners[slot]
        return i < 0 ? nil : masters[Int(i)]
    }

    /// The slots nobody serves, as ranges (empty when the cluster covers all 16384).
    public var uncovered: [ClosedRange<Int>] {
        var out: [ClosedRange<Int>] = []
        var start: Int?
        for s in 0...RedisClusterSlots.count {
            let free = s < RedisClusterSlots.count && owners[s] < 0
            if free, start == nil { start = s }
            if !free, let first = start {
                out.append(first...(s - 1))
                start = nil
            }
        }
        return out
    }

    /// Some slot of `node` (for a probe key that must land on it), nil when it serves none.
    public func anySlot(of node: RedisClusterNode) -> Int? {
        guard let i = masters.firstIndex(of: node) else { return nil }
        return owners.firstIndex(of: Int16(i))
    }

    /// The masters' IDs, space-separated: the scripts accept a stream last written under one of them as moved
    /// by a slot migration (same data), and start a new epoch for one written under any other node (a failover).
    public var masterIDs: String { masters.map(\.id).joined(separator: " ") }

    /// Parses `CLUSTER SLOTS`: `[[start, end, [host, port, id, …], replicas…], …]`. An empty host means the
    /// address the question was sent to (`askedHost`).
    public init(slotsReply reply: RESPValue, askedHost: String) throws(RedisError) {
        guard let ranges = reply.elements else { throw .protocol("CLUSTER SLOTS answered \(reply)") }
        for range in ranges {
            guard let r = range.elements, r.count >= 3, case .integer(let start) = r[0], case .integer(let end) = r[1],
                start >= 0, end >= start, end < RedisClusterSlots.count, let node = r[2].elements, node.count >= 3,
                let host = node[0].string, let port = Self.int(node[1]), let id = node[2].string
            else { throw .protocol("unreadable CLUSTER SLOTS entry \(range)") }
            let master = RedisClusterNode(host: host.isEmpty || host == "?" ? askedHost : host, port: port, id: id)
            let index: Int
            if let known = masters.firstIndex(of: master) {
                index = known
            } else {
                index = masters.count
                masters.append(master)
            }
            for s in Int(start)...Int(end) { owners[s] = Int16(index) }
        }
    }

    private static func int(_ v: RESPValue) -> Int? {
        if case .integer(let i) = v { return Int(i) }
        return v.string.flatMap { Int($0) }
    }
}
