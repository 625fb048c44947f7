import Testing
@testable import BrokerProtocol

struct CodesTests {
    // The doc's §3.1 table: code, exact message, temporary.
    static let clientErrors: [(ClientError, UInt32, String, Bool)] = [
        (.internalError, 100, "internal server error", true),
        (.unauthorized, 101, "unauthorized", false),
        (.unknownChannel, 102, "unknown channel", false),
        (.permissionDenied, 103, "permission denied", false),
        (.methodNotFound, 104, "method not found", false),
        (.alreadySubscribed, 105, "already subscribed", false),
        (.limitExceeded, 106, "limit exceeded", false),
        (.badRequest, 107, "bad request", false),
        (.notAvailable, 108, "not available", false),
        (.tokenExpired, 109, "token expired", false),
        (.expired, 110, "expired", false),
        (.tooManyRequests, 111, "too many requests", true),
        (.unrecoverablePosition, 112, "unrecoverable position", false),
    ]

    @Test("Client error constants match the doc's table: code, exact message and temporary flag", arguments: clientErrors)
    func clientError(_ e: ClientError, _ code: UInt32, _ message: String, _ temporary: Bool) {
        #expect(e.code == code)
        #expect(e.message == message)
        #expect(e.temporary == temporary)
    }

    @Test("Client error codes are distinct")
    func clientErrorsDistinct() {
        #expect(Set(Self.clientErrors.map(\.0.code)).count == Self.clientErrors.count)
    }

    @Test("A custom client error is not temporary unless asked")
    func customClientError() {
        #expect(ClientError(code: 5000, message: "x").temporary == false)
        #expect(ClientError(code: 5000, message: "x", temporary: true).temporary)
    }

    // The doc's §3.3 table: code, exact reason, reconnect.
    static let disconnects: [(Disconnect, UInt16, String, Bool)] = [
        (.connectionClosed, 3000, "connection closed", true),
        (.shutdown, 3001, "shutdown", true),
        (.serverError, 3004, "internal server error", true),
        (.expired, 3005, "connection expired", true),
        (.subExpired, 3006, "subscription expired", true),
        (.slow, 3008, "slow", true),
        (.writeError, 3009, "write error", true),
        (.insufficientState, 3010, "insufficient state", true),
        (.forceReconnect, 3011, "force reconnect", true),
        (.noPong, 3012, "no pong", true),
        (.tooManyRequests, 3013, "too many requests", true),
        (.invalidToken, 3500, "invalid token", false),
        (.badRequest, 3501, "bad request", false),
        (.stale, 3502, "stale", false),
        (.forceNoReconnect, 3503, "force disconnect", false),
        (.connectionLimit, 3504, "connection limit", false),
        (.channelLimit, 3505, "channel limit", false),
        (.inappropriateProtocol, 3506, "inappropriate protocol", false),
        (.permissionDenied, 3507, "permission denied", false),
        (.notAvailable, 3508, "not available", false),
        (.tooManyErrors, 3509, "too many errors", false),
        (.messageTooBig, 1009, "message too big", true),
    ]

    @Test("Disconnect constants match the doc's table: code, exact reason and whether SDKs reconnect", arguments: disconnects)
    func disconnect(_ d: Disconnect, _ code: UInt16, _ reason: String, _ reconnect: Bool) {
        #expect(d.code == code)
        #expect(d.reason == reason)
        #expect(d.reconnect == reconnect)
        // Close reasons must fit a WebSocket close frame: ASCII, at most 123 bytes.
        #expect(d.reason.utf8.count <= 123)
        #expect(d.reason.utf8.allSatisfy { $0 < 0x80 })
    }

    @Test(
        "reconnect follows the close-code ranges: 3000–3499 and 4000–4499 reconnect, 3500–3999 and 4500–4999 do not",
        arguments: [
            (1000, true), (1006, true), (1009, true), (2999, true), (3000, true), (3499, true), (3500, false), (3999, false),
            (4000, true), (4499, true), (4500, false), (4999, false), (5000, true), (65535, true),
        ] as [(UInt16, Bool)])
    func reconnectRanges(_ code: UInt16, _ reconnect: Bool) {
        #expect(Disconnect(code: code, reason: "").reconnect == reconnect)
    }

    @Test("Every code in the terminal ranges is terminal and every code in the reconnect ranges reconnects")
    func reconnectRangesExhaustive() {
        for code in UInt16(3000)...3499 { #expect(Disconnect(code: code, reason: "").reconnect, "\(code)") }
        for code in UInt16(3500)...3999 { #expect(!Disconnect(code: code, reason: "").reconnect, "\(code)") }
        for code in UInt16(4000)...4499 { #expect(Disconnect(code: code, reason: "").reconnect, "\(code)") }
        for code in UInt16(4500)...4999 { #expect(!Disconnect(code: code, reason: "").reconnect, "\(code)") }
    }

    @Test("Unsubscribe constants match the doc: 2000 stays unsubscribed, 2500–2502 resubscribe")
    func unsubscribeCodes() {
        #expect(Unsubscribe.server == Unsubscribe(code: 2000, reason: "server unsubscribe"))
        #expect(Unsubscribe.insufficientState == Unsubscribe(code: 2500, reason: "insufficient state"))
        #expect(Unsubscribe.expired == Unsubscribe(code: 2501, reason: "subscription expired"))
        #expect(Unsubscribe.stateInvalidated == Unsubscribe(code: 2502, reason: "state invalidated"))
        #expect(Unsubscribe.server.code < 2500)
        for u in [Unsubscribe.insufficientState, .expired, .stateInvalidated] { #expect(u.code >= 2500) }
    }
}
