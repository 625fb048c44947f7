/// A position in a channel's history stream: offsets restart at 1 under a new epoch.
public struct StreamPosition: Sendable, Equatable, Hashable {
    public var offset: UInt64
    public var epoch: String

    public init(offset: UInt64, epoch: String) {
        self.offset = offset
        self.epoch = epoch
    }
}

/// Opaque payload bytes: raw JSON text for JSON clients, or arbitrary bytes when `isBinary`
/// (from `b64data`), which only Protobuf clients can receive.
public struct Payload: Sendable, Equatable, Hashable {
    public var bytes: [UInt8]
    public var isBinary: Bool

    public init(bytes: [UInt8], isBinary: Bool = false) {
        self.bytes = bytes
        self.isBinary = isBinary
    }

    public init(json: JSONValue) {
        self.bytes = json.serialized
        self.isBinary = false
    }

    public var isEmpty: Bool { bytes.isEmpty }
}

/// Who a connection is: written into presence, join/leave and client publications.
public struct ClientInfo: Sendable, Equatable, Hashable {
    public var user: String
    public var client: String
    /// From the connection token's `info`.
    public var connInfo: Payload?
    /// From the subscription token's `info`.
    public var chanInfo: Payload?

    public init(user: String, client: String, connInfo: Payload? = nil, chanInfo: Payload? = nil) {
        self.user = user
        self.client = client
        self.connInfo = connInfo
        self.chanInfo = chanInfo
    }
}

/// A message in a channel.
public struct Publication: Sendable, Equatable, Hashable {
    public var data: Payload
    /// The publisher, for client-side publications.
    public var info: ClientInfo?
    /// 0 when the channel keeps no history.
    public var offset: UInt64
    public var tags: [String: String]
    /// Unix milliseconds; 0 = not set.
    public var time: Int64
    /// `data` is a fossil delta against the previous publication's data (only ever set on the copy sent to a
    /// subscriber that negotiated delta compression; engines and history hold full data).
    public var delta: Bool

    public init(
        data: Payload, info: ClientInfo? = nil, offset: UInt64 = 0, tags: [String: String] = [:], time: Int64 = 0,
        delta: Bool = false
    ) {
        self.data = data
        self.info = info
        self.offset = offset
        self.tags = tags
        self.time = time
        self.delta = delta
    }
}
