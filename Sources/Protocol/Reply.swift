/// A reply to a command with `id` > 0: a result under the request's name, or an error.
public struct Reply: Sendable, Equatable {
    public var id: UInt32
    public var body: Body

    public enum Body: Sendable, Equatable {
        case error(ClientError)
        case connect(ConnectResult)
        case subscribe(SubscribeResult)
        case unsubscribe
        case publish
        case presence([String: ClientInfo])
        case presenceStats(PresenceStats)
        case history(HistoryResult)
        case rpc(Payload?)
        case refresh(RefreshResult)
        case subRefresh(RefreshResult)
    }

    public init(id: UInt32, body: Body) {
        self.id = id
        self.body = body
    }
}

public struct ConnectResult: Sendable, Equatable {
    public var client: String = ""
    public var version: String = ""
    public var expires = false
    public var ttl: UInt32 = 0
    public var data: Payload?
    /// Server-side subscriptions, in the order they were made.
    public var subs: [(channel: String, result: SubscribeResult)] = []
    /// Server ping interval in seconds.
    public var ping: UInt32 = 0
    public var pong = false
    public var session: String = ""
    public var node: String = ""
    /// Server time in unix milliseconds (`client.connect_include_server_time`).
    public var time: Int64 = 0
    public init() {}

    public static func == (lhs: ConnectResult, rhs: ConnectResult) -> Bool {
        lhs.client == rhs.client && lhs.version == rhs.version && lhs.expires == rhs.expires && lhs.ttl == rhs.ttl
            && lhs.data == rhs.data && lhs.subs.map(\.channel) == rhs.subs.map(\.channel)
            && lhs.subs.map(\.result) == rhs.subs.map(\.result) && lhs.ping == rhs.ping && lhs.pong == rhs.pong
            && lhs.session == rhs.session && lhs.node == rhs.node && lhs.time == rhs.time
    }
}

public struct SubscribeResult: Sendable, Equatable {
    public var expires = false
    public var ttl: UInt32 = 0
    public var recoverable = false
    public var epoch: String = ""
    public var publications: [Publication] = []
    public var recovered = false
    public var offset: UInt64 = 0
    public var positioned = false
    public var data: Payload?
    public var wasRecovering = false
    public var delta = false
    public init() {}
}

public struct PresenceStats: Sendable, Equatable {
    public var numClients: UInt32
    public var numUsers: UInt32
    public init(numClients: UInt32, numUsers: UInt32) {
        self.numClients = numClients
        self.numUsers = numUsers
    }
}

public struct HistoryResult: Sendable, Equatable {
    public var publications: [Publication]
    public var epoch: String
    public var offset: UInt64
    public init(publications: [Publication], epoch: String, offset: UInt64) {
        self.publications = publications
        self.epoch = epoch
        self.offset = offset
    }
}

public struct RefreshResult: Sendable, Equatable {
    public var expires = false
    public var ttl: UInt32 = 0
    public init(expires: Bool = false, ttl: UInt32 = 0) {
        self.expires = expires
        self.ttl = ttl
    }
}

/// A message the server sends without being asked (no `id`).
public struct Push: Sendable, Equatable {
    public var channel: String
    public var body: Body

    public enum Body: Sendable, Equatable {
        case publication(Publication)
        case join(ClientInfo)
        case leave(ClientInfo)
        case unsubscribe(Unsubscribe)
        case subscribe(SubscribeResult)
        case message(Payload)
        case disconnect(Disconnect)
        case refresh(RefreshResult)
        /// The connect result, pushed over unidirectional transports (there is no reply to carry it).
        case connect(ConnectResult)
    }

    public init(channel: String, body: Body) {
        self.channel = channel
        self.body = body
    }
}
