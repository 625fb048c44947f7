import Testing

@testable import Broker
@testable import BrokerProtocol

@Suite struct UniConnectRequestTests {
    @Test func cfConnectIsDecodedWithGoQueryRules() throws {
        #expect(try UniConnectRequest.fromQuery("a=1&cf_connect=%7B%22token%22%3A%22x+y%22%7D")?.token == "x y")
    }

    @Test func anAbsentOrEmptyCfConnectIsNoRequest() throws {
        #expect(try UniConnectRequest.fromQuery("") == nil)
        #expect(try UniConnectRequest.fromQuery("a=1") == nil)
        #expect(try UniConnectRequest.fromQuery("cf_connect=") == nil)
    }

    @Test func aMalformedCfConnectIsAnError() {
        #expect(throws: CommandDecodingError.self) { try UniConnectRequest.fromQuery("cf_connect=%7Bx") }
        #expect(throws: CommandDecodingError.self) { try UniConnectRequest.fromQuery("cf_connect=%ZZ") }
    }
}
