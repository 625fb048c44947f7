import Testing

@testable import BrokerProtocol

@Suite("Delta publication shapes")
struct DeltaPublicationTests {
    private func pub(_ json: String, offset: UInt64 = 1) -> Publication {
        Publication(data: Payload(bytes: Array(json.utf8)), offset: offset)
    }

    @Test func fullOverJSONIsAJSONString() throws {
        let p = try #require(DeltaPublication.full(pub(#"{"a":"é"}"#), json: true))
        #expect(String(decoding: p.data.bytes, as: UTF8.self) == #""{\"a\":\"é\"}""#)
        #expect(!p.delta)
        #expect(DeltaPublication.full(pub("{}"), json: false) == pub("{}"))
    }

    @Test func patchIsUsedOnlyWhenSmaller() throws {
        let old = #"{"items":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20],"v":1}"#
        let new = #"{"items":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20],"v":2}"#
        let patch = FossilDelta.create(from: Array(old.utf8), to: Array(new.utf8))
        let json = try #require(DeltaPublication.patched(pub(new), patch: patch, json: true))
        #expect(json.delta)
        #expect(json.data.bytes.count < new.utf8.count)
        let binary = try #require(DeltaPublication.patched(pub(new), patch: patch, json: false))
        #expect(binary.delta && binary.data.bytes == patch && binary.data.isBinary)
        // A "patch" as long as the data: the full data goes instead.
        let big = try #require(DeltaPublication.patched(pub("{}"), patch: Array("1234".utf8), json: false))
        #expect(!big.delta && big.data.bytes == Array("{}".utf8))
    }

    @Test func patchThatIsNotUTF8GoesInFullOverJSON() throws {
        let target = pub(String(repeating: #"{"k":"ééééééééééééééééééééééé"}"#, count: 2))
        let cut: [UInt8] = [0x31, 0x0A, 0x31, 0x3A, 0xC3, 0x3B]  // an insert holding half of "é"
        let shaped = try #require(DeltaPublication.patched(target, patch: cut, json: true))
        #expect(!shaped.delta)
        #expect(shaped == DeltaPublication.full(target, json: true))
    }

    @Test func recoveredChainAppliesInOrder() throws {
        let texts = (1...5).map { #"{"n":\#($0),"pad":"\#(String(repeating: "x", count: 80))"}"# }
        let pubs = texts.enumerated().map { pub($1, offset: UInt64($0 + 1)) }
        let chain = try #require(DeltaPublication.recovered(pubs, json: false))
        #expect(!chain[0].delta)
        var base = chain[0].data.bytes
        for (shaped, text) in zip(chain.dropFirst(), texts.dropFirst()) {
            #expect(shaped.delta)
            base = try FossilDelta.apply(shaped.data.bytes, to: base)
            #expect(base == Array(text.utf8))
        }
        #expect(chain.map(\.offset) == [1, 2, 3, 4, 5])
    }
}
