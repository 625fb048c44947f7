import BrokerProtocol

/// Per-subscription overrides a token may carry (`subs.<ch>.override`).
public struct SubscriptionOverride: Sendable, Equatable {
    public var presence: Bool?
    public var joinLeave: Bool?
    public var forcePushJoinLeave: Bool?
    public var forcePositioning: Bool?
    public var forceRecovery: Bool?
    public init() {}
}

/// One entry of a connection token's `subs` claim.
public struct TokenSubscription: Sendable, Equatable {
    public var channel: String
    /// `info` (raw JSON text) or `b64info` (decoded bytes, `infoIsBinary` = true).
    public var info: [UInt8]?
    public var infoIsBinary = false
    public var data: [UInt8]?
    public var dataIsBinary = false
    public var override = SubscriptionOverride()
    public init(channel: String) { self.channel = channel }
}

/// The verified claims of a connection JWT.
public struct ConnectionClaims: Sendable, Equatable {
    /// `sub` (or the configured `user_id_claim`); "" = anonymous.
    public var user: String = ""
    /// `exp` in unix seconds, nil when absent.
    public var expiresAt: Int64?
    /// `expire_at`: nil when absent, 0 = never expire, >0 = expire the connection then instead of `exp`.
    public var expireAt: Int64?
    /// `info` (raw JSON text) or `b64info` (decoded bytes; `infoIsBinary` = true).
    public var info: [UInt8]?
    public var infoIsBinary = false
    /// `channels`: server-side subscriptions.
    public var channels: [String] = []
    /// `subs`: server-side subscriptions with options; wins over `channels` when present.
    public var subs: [TokenSubscription] = []
    /// `meta` (raw JSON), passed only to proxies.
    public var meta: [UInt8]?
    public init() {}
}

/// The verified claims of a subscription JWT.
public struct SubscriptionClaims: Sendable, Equatable {
    public var user: String = ""
    public var channel: String = ""
    /// "" when absent.
    public var client: String = ""
    public var expiresAt: Int64?
    public var expireAt: Int64?
    public var info: [UInt8]?
    public var infoIsBinary = false
    public var data: [UInt8]?
    public var dataIsBinary = false
    public var override = SubscriptionOverride()
    public init() {}
}

/// Why a token was refused. The session maps these to protocol codes:
/// connection tokens: `.expired` → error 109, everything else → disconnect 3500;
/// subscription tokens: `.expired` → 109, `.invalid` → error 103, `.claimsMismatch` → disconnect 3500;
/// `.unavailable` (the keys could not be fetched) → error 100, which clients retry.
public enum TokenError: Error, Sendable, Equatable {
    /// `exp` has passed, or `nbf` lies in the future.
    case expired
    /// Unparsable token, bad signature, unsupported or unconfigured algorithm (`none`, PS*, HS* with only a public key...).
    case invalid(String)
    /// `aud`/`iss` do not match the configured ones, or a connection token carries a `channel` claim.
    case claimsMismatch(String)
    /// The keys to check it with cannot be had right now (the JWKS endpoint is down): not the token's fault.
    case unavailable(String)
}
