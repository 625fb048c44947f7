import BrokerProtocol

/// Who a connecting client is, as its connection token or the connect proxy told, or nobody (anonymous).
struct ConnectionCredentials: Sendable {
    enum Source: Sendable, Equatable {
        /// A verified connection JWT.
        case token
        /// The connect proxy's `result`.
        case proxy
        /// No token, no proxy: `client.allow_anonymous_connect_without_token` or `client.insecure`.
        case anonymous
    }

    var source: Source
    /// The token's claims, or the proxy's result in the same shape (`expire_at` only, never `exp`).
    var claims: ConnectionClaims
    /// The connect proxy's `data`: sent to the client in the connect result.
    var data: Payload?

    static let anonymous = ConnectionCredentials(source: .anonymous, claims: ConnectionClaims())
}

/// What a connect is granted: the rule path's answer, applied by the session.
struct ConnectGrant: Sendable {
    var user: String
    var info: Payload?
    /// Unix ms; 0 = never.
    var expiresAt: Int64
    /// Server-side subscriptions, in the order they are made.
    var subscriptions: [SubscribePlan]
    /// `single_connection`: the personal channel whose other connections must go first.
    var singleConnectionChannel: String?
    var data: Payload?
    /// The token's or proxy's `meta`: kept for the other proxies (`include_connection_meta`).
    var meta: [UInt8]?
}
