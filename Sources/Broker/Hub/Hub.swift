import BrokerProtocol
import NIOConcurrencyHelpers
import NIOCore

/// Channel → subscribers for this node, split by event loop.
///
/// Each event loop owns a `LoopHub` with its own subscriber lists, touched only on that loop.
/// The `Hub` keeps, per channel, the set of loops that have subscribers (a bitmask, in sharded
/// locks); delivering a push is one task per interested loop, never one per subscriber, and the
/// push is encoded once before it is handed to the loops.
public final class Hub: EngineEventSink, @unchecked Sendable {
    public let loops: [LoopHub]
    let allocator = ByteBufferAllocator()
    private let loopIndex: [ObjectIdentifier: Int]
    private let shards: [NIOLockedValueBox<[String: UInt64]>]
    /// Told when the node gains its first / loses its last subscriber on a channel (the engine's interest).
    private let interestChanged: (@Sendable (String, Bool) -> Void)?
    let metrics: BrokerMetrics
    /// Bases for fossil-delta subscribers' patches.
    let deltaBases = DeltaBases()
    /// The node's handler of control messages, set once the node exists.
    private let controlReceiver = NIOLockedValueBox<(@Sendable ([UInt8]) -> Void)?>(nil)

    init(eventLoops: [any EventLoop], metrics: BrokerMetrics, interestChanged: (@Sendable (String, Bool) -> Void)?) {
        self.metrics = metrics
        precondition(eventLoops.count <= 64, "the hub supports at most 64 event loops")
        var index: [ObjectIdentifier: Int] = [:]
        for (i, loop) in eventLoops.enumerated() { index[ObjectIdentifier(loop)] = i }
        self.loopIndex = index
        self.shards = (0..<64).map { _ in NIOLockedValueBox([:]) }
        self.interestChanged = interestChanged
        var hubs: [LoopHub] = []
        for (i, loop) in eventLoops.enumerated() { hubs.append(LoopHub(eventLoop: loop, index: i)) }
        self.loops = hubs
        for h in hubs { h.hub = self }
    }

    public func loopHub(for eventLoop: any EventLoop) -> LoopHub? {
        loopIndex[ObjectIdentifier(eventLoop)].map { loops[$0] }
    }

    private func shard(_ channel: String) -> NIOLockedValueBox<[String: UInt64]> {
        var h: UInt32 = 2_166_136_261
        for b in channel.utf8 {
            h ^= UInt32(b)
            h &*= 16_777_619
        }
        return shards[Int(h % UInt32(shards.count))]
    }

    /// A loop got its first subscriber on `channel`.
    func loopAdded(_ loop: Int, channel: String) {
        let first = shard(channel).withLockedValue { map -> Bool in
            let old = map[channel] ?? 0
            map[channel] = old | (1 << UInt64(loop))
            return old == 0
        }
        if first { interestChanged?(channel, true) }
    }

    /// A loop lost its last subscriber on `channel`.
    func loopRemoved(_ loop: Int, channel: String) {
        let last = shard(channel).withLockedValue { map -> Bool in
            let new = (map[channel] ?? 0) & ~(1 << UInt64(loop))
            map[channel] = new == 0 ? nil : new
            return new == 0
        }
        if last { interestChanged?(channel, false) }
    }

    private func loopMask(_ channel: String) -> UInt64 {
        shard(channel).withLockedValue { $0[channel] ?? 0 }
    }

    /// Channels with at least one subscriber on this node.
    public func channels() -> [String] {
        shards.flatMap { $0.withLockedValue { Array($0.keys) } }
    }

    public var channelCount: Int {
        shards.reduce(0) { $0 + $1.withLockedValue { $0.count } }
    }

    public func hasSubscribers(_ channel: String) -> Bool { loopMask(channel) != 0 }

    // MARK: EngineEventSink

    public func handlePublication(channel: String, publication: Publication, epoch: String) {
        let mask = loopMask(channel)
        if mask == 0 { return }
        let base = deltaBases.advance(channel, publication: publication, epoch: epoch)
        dispatch(
            PreparedPush.publication(channel: channel, publication: publication, epoch: epoch, deltaBase: base, allocator: allocator),
            mask: mask)
    }

    public func handleJoin(channel: String, info: ClientInfo) {
        let mask = loopMask(channel)
        if mask == 0 { return }
        dispatch(PreparedPush.join(channel: channel, info: info, allocator: allocator), mask: mask)
    }

    public func handleLeave(channel: String, info: ClientInfo) {
        let mask = loopMask(channel)
        if mask == 0 { return }
        dispatch(PreparedPush.leave(channel: channel, info: info, allocator: allocator), mask: mask)
    }

    public func handlePositionLost(channels: [String]) {
        for loopHub in loops {
            loopHub.eventLoop.execute {
                for channel in channels { loopHub.positionLost(channel: channel) }
            }
        }
    }

    func setControlReceiver(_ receiver: @escaping @Sendable ([UInt8]) -> Void) {
        controlReceiver.withLockedValue { $0 = receiver }
    }

    public func handleControl(_ message: [UInt8]) {
        controlReceiver.withLockedValue { $0 }?(message)
    }

    private func dispatch(_ push: PreparedPush, mask: UInt64) {
        var m = mask
        while m != 0 {
            let i = m.trailingZeroBitCount
            m &= m - 1
            let loopHub = loops[i]
            loopHub.eventLoop.execute { loopHub.deliver(push) }
        }
    }
}
