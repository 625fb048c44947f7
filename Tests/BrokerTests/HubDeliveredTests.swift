import NIOConcurrencyHelpers
import NIOPosix
import Testing

@testable import Broker

@Suite("Hub delivery barrier")
struct HubDeliveredTests {
    @Test func deliveredWaitsForWorkQueuedBeforeItOnLoopsWithSubscribers() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loops = [group.next(), group.next()]
        let hub = Hub(eventLoops: loops, metrics: BrokerMetrics(), interestChanged: nil)
        hub.loopAdded(1, channel: "chat:a")
        let done = NIOLockedValueBox([Int]())
        // Work already queued on both loops (as a delivery would be) when the barrier is asked for.
        for (i, loop) in loops.enumerated() {
            loop.execute {
                usleep(i == 1 ? 150_000 : 1_500_000)
                done.withLockedValue { $0.append(i) }
            }
        }
        await hub.delivered(["chat:a"])
        // Loop 1 has subscribers on the channel: its earlier work finished. Loop 0 (10x longer) was not waited for.
        #expect(done.withLockedValue { $0 }.contains(1))
        #expect(!done.withLockedValue { $0 }.contains(0))
        await hub.delivered(["chat:none"])  // no subscribers anywhere: returns at once
        try await group.shutdownGracefully()
    }
}
