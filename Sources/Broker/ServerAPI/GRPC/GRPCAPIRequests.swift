import BrokerAPIGRPC
import BrokerProtocol
import Foundation

/// A gRPC request as the JSON object the server API's methods read (``ServerAPI/call(method:request:)``), so both
/// transports run one implementation of each method.
///
/// A field at its proto3 default is left out, as a backend's JSON over HTTP leaves it out. A `bytes` payload that
/// is JSON goes in as that JSON; any other bytes go in as `b64<field>`, which the methods read as binary, as they
/// read `b64data` over HTTP. Every field of Centrifugo's request is carried, also those the methods do not read
/// yet, so the two transports stay alike as the methods grow.
enum GRPCAPIRequests {
    typealias Command = Centrifugal_Centrifugo_Api_Command

    /// The method and request of one batch command: its first set field, as HTTP's batch takes the first
    /// non-null member. Nil: no command this broker serves is set (the batch answers it 107).
    static func command(_ c: Command) -> (method: String, request: JSONValue)? {
        if c.hasPublish { return ("publish", publish(c.publish)) }
        if c.hasBroadcast { return ("broadcast", broadcast(c.broadcast)) }
        if c.hasSubscribe { return ("subscribe", subscribe(c.subscribe)) }
        if c.hasUnsubscribe { return ("unsubscribe", unsubscribe(c.unsubscribe)) }
        if c.hasDisconnect { return ("disconnect", disconnect(c.disconnect)) }
        if c.hasPresence { return ("presence", channelOnly(c.presence.channel)) }
        if c.hasPresenceStats { return ("presence_stats", channelOnly(c.presenceStats.channel)) }
        if c.hasHistory { return ("history", history(c.history)) }
        if c.hasHistoryRemove { return ("history_remove", channelOnly(c.historyRemove.channel)) }
        if c.hasInfo { return ("info", .object(JSONObject())) }
        if c.hasRpc { return ("rpc", rpc(c.rpc)) }
        if c.hasRefresh { return ("refresh", refresh(c.refresh)) }
        if c.hasChannels { return ("channels", channels(c.channels)) }
        if c.hasConnections { return ("connections", connections(c.connections)) }
        return nil
    }

    static func batch(_ r: Centrifugal_Centrifugo_Api_BatchRequest) -> JSONValue {
        var o = Fields()
        let commands = r.commands.map { c -> JSONValue in
            guard let (method, request) = command(c) else { return .object(JSONObject()) }
            return .object(JSONObject([(method, request)]))
        }
        o.add("commands", .array(commands))
        o.add("parallel", r.parallel)
        return o.value
    }

    static func publish(_ r: Centrifugal_Centrifugo_Api_PublishRequest) -> JSONValue {
        var o = Fields()
        o.add("channel", r.channel)
        o.payload("data", r.data, b64: r.b64Data)
        publicationOptions(&o, skipHistory: r.skipHistory, tags: r.tags, idempotencyKey: r.idempotencyKey, delta: r.delta,
                           version: r.version, versionEpoch: r.versionEpoch)
        return o.value
    }

    static func broadcast(_ r: Centrifugal_Centrifugo_Api_BroadcastRequest) -> JSONValue {
        var o = Fields()
        o.add("channels", .array(r.channels.map(JSONValue.string)))
        o.payload("data", r.data, b64: r.b64Data)
        publicationOptions(&o, skipHistory: r.skipHistory, tags: r.tags, idempotencyKey: r.idempotencyKey, delta: r.delta,
                           version: r.version, versionEpoch: r.versionEpoch)
        return o.value
    }

    private static func publicationOptions(
        _ o: inout Fields, skipHistory: Bool, tags: [String: String], idempotencyKey: String, delta: Bool, version: UInt64,
        versionEpoch: String
    ) {
        o.add("skip_history", skipHistory)
        if !tags.isEmpty {
            o.add("tags", .object(JSONObject(tags.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) })))
        }
        o.add("idempotency_key", idempotencyKey)
        o.add("delta", delta)
        o.add("version", version)
        o.add("version_epoch", versionEpoch)
    }

    static func subscribe(_ r: Centrifugal_Centrifugo_Api_SubscribeRequest) -> JSONValue {
        var o = Fields()
        o.add("channel", r.channel)
        o.user(r.user)
        o.add("expire_at", r.expireAt)
        o.payload("info", r.info, b64: r.b64Info)
        o.add("client", r.client)
        o.payload("data", r.data, b64: r.b64Data)
        if r.hasRecoverSince { o.add("recover_since", position(r.recoverSince)) }
        if r.hasOverride {
            let v = r.override
            var override = Fields()
            for (key, has, value) in [
                ("presence", v.hasPresence, v.presence.value), ("join_leave", v.hasJoinLeave, v.joinLeave.value),
                ("force_recovery", v.hasForceRecovery, v.forceRecovery.value),
                ("force_positioning", v.hasForcePositioning, v.forcePositioning.value),
                ("force_push_join_leave", v.hasForcePushJoinLeave, v.forcePushJoinLeave.value),
            ] where has {
                override.add(key, .object(JSONObject([("value", .bool(value))])))
            }
            o.add("override", override.value)
        }
        targeting(&o, session: r.session, hasFilter: r.hasLabelFilter, filter: r.labelFilter, allUsers: r.allUsers)
        return o.value
    }

    static func unsubscribe(_ r: Centrifugal_Centrifugo_Api_UnsubscribeRequest) -> JSONValue {
        var o = Fields()
        o.add("channel", r.channel)
        o.user(r.user)
        o.add("client", r.client)
        targeting(&o, session: r.session, hasFilter: r.hasLabelFilter, filter: r.labelFilter, allUsers: r.allUsers)
        return o.value
    }

    static func disconnect(_ r: Centrifugal_Centrifugo_Api_DisconnectRequest) -> JSONValue {
        var o = Fields()
        o.user(r.user)
        if r.hasDisconnect {
            var d = Fields()
            d.add("code", r.disconnect.code)
            d.add("reason", r.disconnect.reason)
            o.add("disconnect", d.value)
        }
        o.add("client", r.client)
        if !r.whitelist.isEmpty { o.add("whitelist", .array(r.whitelist.map(JSONValue.string))) }
        targeting(&o, session: r.session, hasFilter: r.hasLabelFilter, filter: r.labelFilter, allUsers: r.allUsers)
        return o.value
    }

    static func refresh(_ r: Centrifugal_Centrifugo_Api_RefreshRequest) -> JSONValue {
        var o = Fields()
        o.user(r.user)
        o.add("client", r.client)
        o.add("expired", r.expired)
        o.add("expire_at", r.expireAt)
        o.payload("info", r.info, b64: "")
        targeting(&o, session: r.session, hasFilter: r.hasLabelFilter, filter: r.labelFilter, allUsers: r.allUsers)
        return o.value
    }

    static func channelOnly(_ channel: String) -> JSONValue {
        var o = Fields()
        o.add("channel", channel)
        return o.value
    }

    static func history(_ r: Centrifugal_Centrifugo_Api_HistoryRequest) -> JSONValue {
        var o = Fields()
        o.add("channel", r.channel)
        o.add("limit", r.limit)
        if r.hasSince { o.add("since", position(r.since)) }
        o.add("reverse", r.reverse)
        return o.value
    }

    static func rpc(_ r: Centrifugal_Centrifugo_Api_RPCRequest) -> JSONValue {
        var o = Fields()
        o.add("method", r.method)
        o.payload("params", r.params, b64: "")
        return o.value
    }

    static func channels(_ r: Centrifugal_Centrifugo_Api_ChannelsRequest) -> JSONValue {
        var o = Fields()
        o.add("pattern", r.pattern)
        return o.value
    }

    static func connections(_ r: Centrifugal_Centrifugo_Api_ConnectionsRequest) -> JSONValue {
        var o = Fields()
        // Absent, not "": the method lists every user's connections when `user` is missing.
        if !r.user.isEmpty { o.add("user", .string(r.user)) }
        o.add("expression", r.expression)
        if r.hasLabelFilter { o.add("label_filter", filter(r.labelFilter)) }
        return o.value
    }

    private static func position(_ p: Centrifugal_Centrifugo_Api_StreamPosition) -> JSONValue {
        var o = Fields()
        o.add("offset", p.offset)
        o.add("epoch", p.epoch)
        return o.value
    }

    private static func targeting(
        _ o: inout Fields, session: String, hasFilter: Bool, filter f: Centrifugal_Centrifugo_Api_FilterNode, allUsers: Bool
    ) {
        o.add("session", session)
        if hasFilter { o.add("label_filter", filter(f)) }
        o.add("all_users", allUsers)
    }

    private static func filter(_ f: Centrifugal_Centrifugo_Api_FilterNode) -> JSONValue {
        var o = Fields()
        o.add("op", f.op)
        o.add("key", f.key)
        o.add("cmp", f.cmp)
        o.add("val", f.val)
        if !f.vals.isEmpty { o.add("vals", .array(f.vals.map(JSONValue.string))) }
        if !f.nodes.isEmpty { o.add("nodes", .array(f.nodes.map(filter))) }
        return o.value
    }

    /// A JSON object under construction, leaving out proto3 defaults.
    struct Fields {
        private var members: [(String, JSONValue)] = []

        var value: JSONValue { .object(JSONObject(members)) }

        mutating func add(_ key: String, _ v: JSONValue) { members.append((key, v)) }
        mutating func add(_ key: String, _ v: String) { if !v.isEmpty { members.append((key, .string(v))) } }
        mutating func add(_ key: String, _ v: Bool) { if v { members.append((key, .bool(true))) } }
        mutating func add<I: BinaryInteger>(_ key: String, _ v: I) { if v != 0 { members.append((key, .number(String(v)))) } }

        /// `user` is always present: the connection actions need the key even for the anonymous user "".
        mutating func user(_ user: String) { members.append(("user", .string(user))) }

        /// `b64` when set (it wins over the bytes, as over HTTP); else the bytes as JSON when they are JSON, or
        /// base64 under `b64<key>`.
        mutating func payload(_ key: String, _ bytes: Data, b64: String) {
            if !b64.isEmpty {
                members.append(("b64" + key, .string(b64)))
            } else if !bytes.isEmpty {
                if let json = try? JSONParser.parse(Array(bytes)) {
                    members.append((key, json))
                } else {
                    members.append(("b64" + key, .string(bytes.base64EncodedString())))
                }
            }
        }
    }
}
