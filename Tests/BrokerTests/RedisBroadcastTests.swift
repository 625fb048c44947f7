import BrokerProtocol
import Testing

@testable import Broker

/// A broadcast through Redis (one script per fan-out stream) gives every channel what a publish to it would.
@Suite("Redis broadcast")
struct RedisBroadcastTests {
    static let redisEngines = EngineUnderTest.all.filter { $0.name != "memory" }

    @Test(arguments: redisEngines)
    func broadcastPublishesEachChannelAsAPublishWould(_ kind: EngineUnderTest) async throws {
        let h = try await EngineHarness.start(kind)
        let broadcaster = try #require(h.engine as? any BroadcastPublishing)
        // Enough channels for every fan-out stream and more than one script per stream.
        let channels = (0..<1200).map { "b\($0)" }
        for ch in channels.prefix(40) { try await h.engine.subscribe(channel: ch) }
        _ = try await h.publishMany("b0", count: 2)  // b0's stream already has two publications
        let first = channels.map { ch in
            BroadcastItem(
                channel: ch, publication: enginePub("x"),
                options: ch == "b1" ? PublishOptions() : .engineHistory(idempotencyKey: ch == "b2" ? "k" : ""))
        }
        let results = try await broadcaster.publish(broadcast: first).map { try $0.get() }
        #expect(results[0].position?.offset == 3)
        #expect(results[1].position == nil)  // b1 keeps no history
        #expect(results.dropFirst(2).allSatisfy { $0.position?.offset == 1 && !$0.fromCache })
        let epoch = try #require(results[0].position?.epoch)
        #expect(try await h.history("b0").epoch == epoch)
        #expect(try await h.history("b1199").publications.map(\.engineText) == ["x"])

        // The idempotency key answers the first result again, without publishing.
        let again = try await broadcaster.publish(broadcast: [first[2]]).map { try $0.get() }
        #expect(again == [PublishResult(position: results[2].position, fromCache: true)])

        // Every subscribed channel got its publication once, with its offset.
        await h.sink.waitForEvents(count: 2 + 40)
        #expect(h.sink.publications(in: "b0").map(\.publication.offset) == [1, 2, 3])
        #expect(h.sink.publications(in: "b1").map(\.publication.offset) == [0])
        for ch in channels.dropFirst(2).prefix(38) {
            #expect(h.sink.publications(in: ch).map(\.publication.offset) == [1], "\(ch)")
        }
        await h.engine.shutdown()
    }
}
