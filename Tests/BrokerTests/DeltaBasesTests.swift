import Testing

@testable import Broker
@testable import BrokerProtocol

@Suite("Delta bases")
struct DeltaBasesTests {
    private func pub(_ text: String, _ offset: UInt64) -> Publication {
        Publication(data: Payload(bytes: Array(text.utf8)), offset: offset)
    }

    @Test func baseIsThePreviousPublicationOnlyWhenConsecutive() {
        let b = DeltaBases()
        #expect(b.advance("c", publication: pub("a", 1), epoch: "e") == nil)  // no delta subscriber: not tracked
        b.subscriberAdded("c")
        #expect(b.advance("c", publication: pub("b", 2), epoch: "e") == nil)  // nothing before it seen
        #expect(b.advance("c", publication: pub("c", 3), epoch: "e")?.bytes == Array("b".utf8))
        #expect(b.advance("c", publication: pub("e", 5), epoch: "e") == nil)  // offset 4 never reached this node
        #expect(b.advance("c", publication: pub("f", 6), epoch: "x") == nil)  // new epoch
        #expect(b.advance("c", publication: pub("g", 7), epoch: "x")?.bytes == Array("f".utf8))
        b.subscriberRemoved("c")
        #expect(b.advance("c", publication: pub("h", 8), epoch: "x") == nil)
    }

    @Test func channelsWithoutHistoryChainByArrival() {
        let b = DeltaBases()
        b.subscriberAdded("c")
        b.subscriberAdded("c")
        #expect(b.advance("c", publication: pub("a", 0), epoch: "") == nil)
        #expect(b.advance("c", publication: pub("b", 0), epoch: "")?.bytes == Array("a".utf8))
        b.subscriberRemoved("c")
        #expect(b.advance("c", publication: pub("c", 0), epoch: "")?.bytes == Array("b".utf8))  // one left
    }
}
