import BrokerProtocol

/// The calls a proxy serves (Centrifugo's proxy service), named as in metrics and logs.
enum ProxyKind: String, Sendable, CaseIterable {
    case connect, refresh, subscribe, publish, rpc
    case subRefresh = "sub_refresh"
    case subscribeStream = "subscribe_stream"
}

/// What the broker tells a proxy: Centrifugo's request fields, the connection's first, then the call's own.
struct ProxyRequest: Sendable {
    var client: String
    /// `websocket`, `uni_websocket`, `uni_sse` or `uni_http_stream`.
    var transport: String
    /// `json` or `protobuf`.
    var `protocol`: String
    /// The connection's user; not sent to the connect proxy, which is asked for it.
    var user: String?
    var channel: String?
    /// The subscription token the client sent along (subscribe).
    var token: String?
    /// The RPC method.
    var method: String?
    var data: Payload?
    /// The connection's `meta` (`include_connection_meta`).
    var meta: [UInt8]?
    /// Connect only: the client's name and version and the channels it asked for.
    var name: String?
    var version: String?
    var channels: [String] = []
    /// Headers passed on to the backend (allowed transport headers and emulated headers).
    var headers: [(String, String)] = []
}

/// A proxy's answer: its `result` (nil when absent), or the `error` or `disconnect` for the client.
enum ProxyAnswer<Result: Sendable>: Sendable {
    case result(Result?)
    case error(ClientError)
    case disconnect(Disconnect)
}

/// The connect proxy's `result`, in the shape of a connection token's claims (`expire_at` only, never `exp`).
struct ConnectProxyResult: Sendable {
    var claims: ConnectionClaims
    var data: Payload?
}

/// The subscribe proxy's `result`.
struct SubscribeProxyResult: Sendable {
    /// Unix seconds; 0 = never.
    var expireAt: Int64 = 0
    var info: Payload?
    var data: Payload?
    var override = SubscriptionOverride()
}

/// The publish proxy's `result`: what to publish instead, and how.
struct PublishProxyResult: Sendable {
    /// Replaces the client's data when set.
    var data: Payload?
    var skipHistory = false
    var tags: [String: String] = [:]
    var idempotencyKey: String = ""
}

/// The refresh and sub_refresh proxies' `result`.
struct RefreshProxyResult: Sendable {
    var expired = false
    /// Unix seconds; 0 = never.
    var expireAt: Int64 = 0
    var info: Payload?
    /// Refresh only: the connection's new `meta`.
    var meta: [UInt8]?
}

/// The RPC proxy's `result`.
struct RPCProxyResult: Sendable {
    var data: Payload?
}

/// Why a proxy call produced no answer: the backend was not reached in time, refused, failed or answered nonsense.
struct ProxyCallError: Error, Sendable, CustomStringConvertible {
    var description: String
    /// A status the proxy's `status_to_code_transforms` turns into an answer for the client.
    var status: Int?
}
