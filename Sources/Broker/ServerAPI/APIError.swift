import BrokerProtocol

/// A server API error in Centrifugo's set (100, 102, 104, 107, 108, 112, 113).
public struct APIError: Error, Sendable, Equatable {
    public var code: UInt32
    public var message: String

    public init(code: UInt32, message: String) {
        self.code = code
        self.message = message
    }

    public static let internalError = APIError(code: 100, message: "internal server error")
    public static let unknownChannel = APIError(code: 102, message: "unknown channel")
    public static let notFound = APIError(code: 104, message: "not found")
    public static let badRequest = APIError(code: 107, message: "bad request")
    public static let notAvailable = APIError(code: 108, message: "not available")
    public static let unrecoverablePosition = APIError(code: 112, message: "unrecoverable position")

    /// HTTP status in the transport error mode.
    var transportStatus: UInt {
        switch code {
        case 102, 104: return 404
        case 107, 108: return 400
        case 112: return 416
        case 113: return 409
        default: return 500
        }
    }

    static func from(_ error: any Error) -> APIError {
        if let e = error as? APIError { return e }
        if let e = error as? ClientError {
            switch e.code {
            case 102: return .unknownChannel
            case 107: return .badRequest
            case 108: return .notAvailable
            case 112: return .unrecoverablePosition
            default: return .internalError
            }
        }
        if error is EngineError { return from(ClientError.from(error)) }
        return .internalError
    }
}
