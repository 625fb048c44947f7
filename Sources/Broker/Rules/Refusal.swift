import BrokerProtocol

/// The "no" of a rule-path decision: an error reply, after which the connection goes on, or a disconnect.
enum Refusal: Error, Sendable, Equatable {
    case error(ClientError)
    case disconnect(Disconnect)
}

extension ClientError {
    /// The protocol code of any failure below the rule path (engine, proxy, …): the one mapping of them.
    static func from(_ error: any Error) -> ClientError {
        if let e = error as? ClientError { return e }
        if let e = error as? EngineError {
            switch e {
            case .unrecoverablePosition: return .unrecoverablePosition
            case .badRequest: return .badRequest
            case .unavailable: return .internalError
            }
        }
        return .internalError
    }
}
