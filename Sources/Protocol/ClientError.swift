/// An error reply (`Reply.error`): the command failed, the connection stays open.
///
/// Codes and messages are Centrifugo's, verbatim, because SDKs branch on them
/// (109 → fetch a new token, `temporary` → retry with backoff).
public struct ClientError: Error, Sendable, Equatable, Hashable {
    public var code: UInt32
    public var message: String
    public var temporary: Bool

    public init(code: UInt32, message: String, temporary: Bool = false) {
        self.code = code
        self.message = message
        self.temporary = temporary
    }

    public static let internalError = ClientError(code: 100, message: "internal server error", temporary: true)
    public static let unauthorized = ClientError(code: 101, message: "unauthorized")
    public static let unknownChannel = ClientError(code: 102, message: "unknown channel")
    public static let permissionDenied = ClientError(code: 103, message: "permission denied")
    public static let methodNotFound = ClientError(code: 104, message: "method not found")
    public static let alreadySubscribed = ClientError(code: 105, message: "already subscribed")
    public static let limitExceeded = ClientError(code: 106, message: "limit exceeded")
    public static let badRequest = ClientError(code: 107, message: "bad request")
    public static let notAvailable = ClientError(code: 108, message: "not available")
    public static let tokenExpired = ClientError(code: 109, message: "token expired")
    public static let expired = ClientError(code: 110, message: "expired")
    public static let tooManyRequests = ClientError(code: 111, message: "too many requests", temporary: true)
    public static let unrecoverablePosition = ClientError(code: 112, message: "unrecoverable position")
}

/// Why the server closes a connection; sent as the WebSocket close code and reason.
///
/// 3000–3499: the SDK reconnects. 3500–3999: terminal.
public struct Disconnect: Error, Sendable, Equatable, Hashable {
    public var code: UInt16
    public var reason: String

    public init(code: UInt16, reason: String) {
        self.code = code
        self.reason = reason
    }

    /// Whether SDKs reconnect after this code.
    public var reconnect: Bool {
        !((3500...3999).contains(code) || (4500...4999).contains(code))
    }

    public static let connectionClosed = Disconnect(code: 3000, reason: "connection closed")
    public static let shutdown = Disconnect(code: 3001, reason: "shutdown")
    public static let serverError = Disconnect(code: 3004, reason: "internal server error")
    public static let expired = Disconnect(code: 3005, reason: "connection expired")
    public static let subExpired = Disconnect(code: 3006, reason: "subscription expired")
    public static let slow = Disconnect(code: 3008, reason: "slow")
    public static let writeError = Disconnect(code: 3009, reason: "write error")
    public static let insufficientState = Disconnect(code: 3010, reason: "insufficient state")
    public static let forceReconnect = Disconnect(code: 3011, reason: "force reconnect")
    public static let noPong = Disconnect(code: 3012, reason: "no pong")
    public static let tooManyRequests = Disconnect(code: 3013, reason: "too many requests")
    public static let invalidToken = Disconnect(code: 3500, reason: "invalid token")
    public static let badRequest = Disconnect(code: 3501, reason: "bad request")
    public static let stale = Disconnect(code: 3502, reason: "stale")
    public static let forceNoReconnect = Disconnect(code: 3503, reason: "force disconnect")
    public static let connectionLimit = Disconnect(code: 3504, reason: "connection limit")
    public static let channelLimit = Disconnect(code: 3505, reason: "channel limit")
    public static let inappropriateProtocol = Disconnect(code: 3506, reason: "inappropriate protocol")
    public static let permissionDenied = Disconnect(code: 3507, reason: "permission denied")
    public static let notAvailable = Disconnect(code: 3508, reason: "not available")
    public static let tooManyErrors = Disconnect(code: 3509, reason: "too many errors")
    /// WebSocket close code for a frame over `websocket.message_size_limit`.
    public static let messageTooBig = Disconnect(code: 1009, reason: "message too big")
}

/// Why the server removed one subscription (`unsubscribe` push). < 2500: stay unsubscribed; ≥ 2500: resubscribe.
public struct Unsubscribe: Sendable, Equatable, Hashable {
    public var code: UInt32
    public var reason: String

    public init(code: UInt32, reason: String) {
        self.code = code
        self.reason = reason
    }

    public static let server = Unsubscribe(code: 2000, reason: "server unsubscribe")
    public static let insufficientState = Unsubscribe(code: 2500, reason: "insufficient state")
    public static let expired = Unsubscribe(code: 2501, reason: "subscription expired")
    public static let stateInvalidated = Unsubscribe(code: 2502, reason: "state invalidated")
}
