/// A client command: `id` plus exactly one request.
///
/// When several request fields are set, the first in Centrifugo's order wins
/// (connect, subscribe, unsubscribe, publish, presence, presence_stats, history, rpc, send, refresh, sub_refresh).
public struct Command: Sendable, Equatable {
    public var id: UInt32
    public var request: Request

    public init(id: UInt32, request: Request) {
        self.id = id
        self.request = request
    }

    public enum Request: Sendable, Equatable {
        case connect(ConnectRequest)
        case subscribe(SubscribeRequest)
        case unsubscribe(ChannelRequest)
        case publish(PublishRequest)
        case presence(ChannelRequest)
        case presenceStats(ChannelRequest)
        case history(HistoryRequest)
        case rpc(RPCRequest)
        case send(SendRequest)
        case refresh(RefreshRequest)
        case subRefresh(SubRefreshRequest)
        /// The legacy `ping` field (not served: answered with 3501).
        case legacyPing
        /// No request field at all: with `id` 0 this is a pong.
        case empty
    }

    /// Any command with `id` 0 and no `send` is a pong (Centrifugo's rule).
    public var isPong: Bool {
        if id != 0 { return false }
        if case .send = request { return false }
        return true
    }
}

public struct ConnectRequest: Sendable, Equatable {
    public var token: String = ""
    public var data: Payload?
    /// Positions of the client's server-side subscriptions, to recover them.
    public var subs: [String: SubscribeRequest] = [:]
    public var name: String = ""
    public var version: String = ""
    public var headers: [String: String] = [:]
    public init() {}
}

public struct SubscribeRequest: Sendable, Equatable {
    public var channel: String = ""
    public var token: String = ""
    public var recover = false
    public var epoch: String = ""
    public var offset: UInt64 = 0
    public var data: Payload?
    public var positioned = false
    public var recoverable = false
    public var joinLeave = false
    public var delta: String = ""
    public var flag: Int64 = 0
    public init() {}

    /// Flag bit 2: a failed recovery is an error (112) instead of `recovered: false`.
    public var rejectUnrecovered: Bool { flag & 2 != 0 }
}

public struct ChannelRequest: Sendable, Equatable {
    public var channel: String
    public init(channel: String) { self.channel = channel }
}

public struct PublishRequest: Sendable, Equatable {
    public var channel: String = ""
    public var data: Payload = Payload(bytes: [])
    public init() {}
}

public struct HistoryRequest: Sendable, Equatable {
    public var channel: String = ""
    public var limit: Int64 = 0
    public var since: StreamPosition?
    public var reverse = false
    public init() {}
}

public struct RPCRequest: Sendable, Equatable {
    public var method: String = ""
    public var data: Payload?
    public init() {}
}

public struct SendRequest: Sendable, Equatable {
    public var data: Payload?
    public init() {}
}

public struct RefreshRequest: Sendable, Equatable {
    public var token: String = ""
    public init() {}
}

public struct SubRefreshRequest: Sendable, Equatable {
    public var channel: String = ""
    public var token: String = ""
    public init() {}
}
