import BrokerProtocol
import Foundation

extension ServerAPI {
    func resolve(_ channel: String) throws(APIError) -> ResolvedChannel {
        if channel.isEmpty { throw .badRequest }
        do {
            return try node.rules.resolve(channel)
        } catch {
            throw APIError.from(error)
        }
    }

    func publish(_ r: APIRequestReader) async throws -> [UInt8] {
        let channel = try r.required("channel")
        let result = try await publish(channel: channel, r)
        return ServerAPI.encodePublishResult(result)
    }

    /// `publish` on an engine that never waits, without suspending.
    func publishImmediately(_ request: JSONValue, on engine: any ImmediatePublishing) throws(APIError) -> [UInt8] {
        let r = try APIRequestReader(request)
        do {
            let channel = try r.required("channel")
            let (publication, options) = try publication(channel: channel, r)
            let result = try engine.publishImmediately(channel: channel, publication: publication, options: options)
            return ServerAPI.encodePublishResult(result)
        } catch {
            throw APIError.from(error)
        }
    }

    private func publish(channel: String, _ r: APIRequestReader) async throws -> PublishResult {
        let (publication, options) = try publication(channel: channel, r)
        return try await node.engine.publish(channel: channel, publication: publication, options: options)
    }

    /// The publication a `publish` request asks for, checked against the channel's options.
    private func publication(channel: String, _ r: APIRequestReader) throws -> (Publication, PublishOptions) {
        let resolved = try resolve(channel)
        guard let data = try r.payload("data") else { throw APIError.badRequest }
        do {
            try node.clientRules.checkData(data, resolved)
        } catch {
            throw APIError.badRequest
        }
        let decided = node.clientRules.publication(
            resolved, data: data, info: nil, tags: try r.stringMap("tags"), skipHistory: try r.bool("skip_history"),
            idempotencyKey: try r.string("idempotency_key"))
        node.metrics.publicationsPublished.increment()
        return decided
    }

    static func encodePublishResult(_ result: PublishResult) -> [UInt8] {
        guard let p = result.position else { return Array("{}".utf8) }
        var w = JSONWriter()
        w.raw("{\"offset\":")
        w.int(p.offset)
        w.raw(",\"epoch\":")
        w.string(p.epoch)
        w.raw(UInt8(ascii: "}"))
        return w.bytes
    }

    /// Publishes to each channel; the replies in the channels' order. An engine that can (Redis) publishes them
    /// all at once (``BroadcastPublishing``: one script per fan-out stream instead of one round trip per channel).
    func broadcast(_ r: APIRequestReader) async throws -> [UInt8] {
        let channels = try r.stringArray("channels")
        if channels.isEmpty { throw APIError.badRequest }
        var replies = [[UInt8]](repeating: [], count: channels.count)
        if let engine = node.engine as? any BroadcastPublishing {
            var items: [BroadcastItem] = []
            var positions: [Int] = []
            items.reserveCapacity(channels.count)
            positions.reserveCapacity(channels.count)
            for (i, channel) in channels.enumerated() {
                do {
                    let (publication, options) = try publication(channel: channel, r)
                    items.append(BroadcastItem(channel: channel, publication: publication, options: options))
                    positions.append(i)
                } catch {
                    replies[i] = Self.broadcastReply(.failure(error))
                }
            }
            for (n, result) in await engine.publish(broadcast: items).enumerated() {
                replies[positions[n]] = Self.broadcastReply(result.mapError { $0 })
            }
        } else {
            for (i, channel) in channels.enumerated() {
                do {
                    replies[i] = Self.broadcastReply(.success(try await publish(channel: channel, r)))
                } catch {
                    replies[i] = Self.broadcastReply(.failure(error))
                }
            }
        }
        var w = JSONWriter()
        w.raw("{\"responses\":[")
        for (i, reply) in replies.enumerated() {
            if i > 0 { w.raw(UInt8(ascii: ",")) }
            w.raw(reply)
        }
        w.raw("]}")
        return w.bytes
    }

    /// One channel's entry of a broadcast reply: `{"result":…}` or `{"error":…}`.
    private static func broadcastReply(_ result: Result<PublishResult, any Error>) -> [UInt8] {
        var w = JSONWriter()
        switch result {
        case .success(let published):
            w.raw("{\"result\":")
            w.raw(ServerAPI.encodePublishResult(published))
            w.raw(UInt8(ascii: "}"))
        case .failure(let error):
            ServerAPI.writeErrorReply(APIError.from(error), into: &w)
        }
        return w.bytes
    }

    /// Sessions matching `user` and, when given, `client`.
    private func forSessions(_ r: APIRequestReader, _ body: @escaping @Sendable (ClientSession) -> Void) async throws -> Int {
        let user = try r.string("user")
        let client = try r.string("client")
        guard r.object["user"] != nil else { throw APIError.badRequest }
        return await node.forEachSession(ofUser: user) { session in
            if client.isEmpty || session.clientID == client { body(session) }
        }
    }

    /// A connection action (`subscribe`, `unsubscribe`, `disconnect`, `refresh`): applied to this node's
    /// connections, then sent to every other node for theirs (the request was validated here first).
    func act(_ method: String, _ r: APIRequestReader) async throws -> [UInt8] {
        try await applyHere(method: method, r)
        await node.sendControl(.action(method: method, params: r.object))
        return Array("{}".utf8)
    }

    /// Applies a connection action to the matching connections of this node.
    func applyHere(method: String, _ r: APIRequestReader) async throws {
        switch method {
        case "subscribe":
            let channel = try r.required("channel")
            _ = try resolve(channel)
            let info = try r.payload("info")
            let data = try r.payload("data")
            let expireAt = try r.int("expire_at")
            let since = try r.position("recover_since")
            _ = try await forSessions(r) { s in
                s.serverSubscribe(channel: channel, info: info, data: data, expireAt: expireAt, recoverSince: since, override: nil)
            }
        case "unsubscribe":
            let channel = try r.required("channel")
            _ = try resolve(channel)
            _ = try await forSessions(r) { s in s.serverUnsubscribe(channel: channel) }
        case "disconnect":
            var d = Disconnect.forceNoReconnect
            if let v = r.object["disconnect"], !v.isNull {
                let dr = try APIRequestReader(v)
                if let code = try dr.int("code") {
                    guard code > 0 && code < 65536 else { throw APIError.badRequest }
                    d = Disconnect(code: UInt16(code), reason: try dr.string("reason"))
                }
            }
            let whitelist = Set(try r.stringArray("whitelist"))
            let disconnect = d
            _ = try await forSessions(r) { s in
                if !whitelist.contains(s.clientID) { s.close(disconnect) }
            }
        case "refresh":
            let expired = try r.bool("expired")
            let expireAt = try r.int("expire_at")
            let info = try r.payload("info")
            _ = try await forSessions(r) { s in s.serverRefresh(expired: expired, expireAt: expireAt, info: info) }
        default:
            throw APIError.notFound
        }
    }

    func presence(_ r: APIRequestReader) async throws -> [UInt8] {
        let channel = try r.required("channel")
        let resolved = try resolve(channel)
        guard resolved.options.presence else { throw APIError.notAvailable }
        let p = try await node.presenceEngine.presence(channel: channel)
        var w = JSONWriter()
        w.raw("{\"presence\":{")
        for (i, (client, info)) in p.sorted(by: { $0.key < $1.key }).enumerated() {
            if i > 0 { w.raw(UInt8(ascii: ",")) }
            w.string(client)
            w.raw(UInt8(ascii: ":"))
            try ServerAPI.writeAPIClientInfo(info, into: &w)
        }
        w.raw("}}")
        return w.bytes
    }

    /// Server API JSON always carries data as JSON; binary payloads are base64 in `b64*` fields.
    static func writeAPIClientInfo(_ info: ClientInfo, into w: inout JSONWriter) throws {
        w.raw("{\"user\":")
        w.string(info.user)
        w.raw(",\"client\":")
        w.string(info.client)
        writeAPIPayload(info.connInfo, key: "conn_info", into: &w)
        writeAPIPayload(info.chanInfo, key: "chan_info", into: &w)
        w.raw(UInt8(ascii: "}"))
    }

    static func writeAPIPayload(_ p: Payload?, key: String, into w: inout JSONWriter) {
        guard let p, !p.isEmpty else { return }
        w.raw(UInt8(ascii: ","))
        if p.isBinary && !isJSON(p.bytes) {
            w.string("b64" + key)
            w.raw(UInt8(ascii: ":"))
            w.string(Data(p.bytes).base64EncodedString())
        } else {
            w.string(key)
            w.raw(UInt8(ascii: ":"))
            w.raw(p.bytes)
        }
    }

    /// Binary payloads that are valid JSON are shown as JSON, like Centrifugo's raw JSON fields.
    static func isJSON(_ bytes: [UInt8]) -> Bool {
        (try? JSONParser.parse(bytes)) != nil
    }

    func presenceStats(_ r: APIRequestReader) async throws -> [UInt8] {
        let channel = try r.required("channel")
        let resolved = try resolve(channel)
        guard resolved.options.presence else { throw APIError.notAvailable }
        let s = try await node.presenceEngine.presenceStats(channel: channel)
        return Array("{\"num_clients\":\(s.numClients),\"num_users\":\(s.numUsers)}".utf8)
    }

    func history(_ r: APIRequestReader) async throws -> [UInt8] {
        let channel = try r.required("channel")
        let resolved = try resolve(channel)
        guard resolved.options.historyEnabled else { throw APIError.notAvailable }
        let limit = Int(try r.int("limit") ?? 0)
        let query = HistoryQuery(
            since: try r.position("since"), limit: limit, reverse: try r.bool("reverse"), metaTTL: node.clientRules.metaTTL(resolved.options))
        let h = try await node.engine.history(channel: channel, query: query)
        var w = JSONWriter()
        w.raw("{\"publications\":[")
        for (i, p) in h.publications.enumerated() {
            if i > 0 { w.raw(UInt8(ascii: ",")) }
            w.raw(UInt8(ascii: "{"))
            var first = true
            if !p.data.isEmpty {
                first = false
                if p.data.isBinary && !ServerAPI.isJSON(p.data.bytes) {
                    w.raw("\"b64data\":")
                    w.string(Data(p.data.bytes).base64EncodedString())
                } else {
                    w.raw("\"data\":")
                    w.raw(p.data.bytes)
                }
            }
            if let info = p.info {
                w.member("info", first: &first)
                try ServerAPI.writeAPIClientInfo(info, into: &w)
            }
            if p.offset > 0 {
                w.member("offset", first: &first)
                w.int(p.offset)
            }
            if !p.tags.isEmpty {
                w.member("tags", first: &first)
                w.value(.object(JSONObject(p.tags.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) })))
            }
            w.raw(UInt8(ascii: "}"))
        }
        w.raw("],\"epoch\":")
        w.string(h.epoch)
        w.raw(",\"offset\":")
        w.int(h.offset)
        w.raw(UInt8(ascii: "}"))
        return w.bytes
    }

    func historyRemove(_ r: APIRequestReader) async throws -> [UInt8] {
        let channel = try r.required("channel")
        let resolved = try resolve(channel)
        guard resolved.options.historyEnabled else { throw APIError.notAvailable }
        try await node.engine.removeHistory(channel: channel)
        return Array("{}".utf8)
    }

    func channels(_ r: APIRequestReader) async throws -> [UInt8] {
        let pattern = try r.string("pattern")
        let counts = await node.clusterChannelCounts()
        var w = JSONWriter()
        w.raw("{\"channels\":{")
        var first = true
        for (channel, n) in counts.sorted(by: { $0.key < $1.key }) {
            if !pattern.isEmpty && !OriginCheck.glob(pattern, matches: channel) { continue }
            if !first { w.raw(UInt8(ascii: ",")) }
            first = false
            w.string(channel)
            w.raw(":{\"num_clients\":")
            w.int(n)
            w.raw(UInt8(ascii: "}"))
        }
        w.raw("}}")
        return w.bytes
    }

    /// Every live node (this one first), as heard through their heartbeats.
    func info() async -> [UInt8] {
        let nodes = await node.clusterInfo()
        return JSONValue.object(JSONObject([("nodes", .array(nodes.map(\.json)))])).serialized
    }

    /// Centrifugo PRO's `connections`: the connections of `user` (every user when the key is absent) on
    /// every node, with their transport and channels.
    func connections(_ r: APIRequestReader) async throws -> [UInt8] {
        let user: String? = r.object["user"] == nil || r.object["user"]!.isNull ? nil : try r.string("user")
        let all = await node.clusterConnections(user: user)
        return JSONValue.object(JSONObject([("connections", .object(JSONObject(all)))])).serialized
    }

    /// Runs each command; the replies in the commands' order. With `parallel` the commands run side by side (at
    /// most ``BoundedConcurrency/limit`` at a time), as in Centrifugo: their effects may then happen in any order.
    func batch(_ r: APIRequestReader) async throws -> [UInt8] {
        guard let commands = r.object["commands"]?.arrayValue else { throw APIError.badRequest }
        let replies: [[UInt8]]
        if try r.bool("parallel") {
            replies = await BoundedConcurrency.map(count: commands.count) { i in await self.batchReply(commands[i]) }
        } else {
            var sequential: [[UInt8]] = []
            sequential.reserveCapacity(commands.count)
            for command in commands { sequential.append(await batchReply(command)) }
            replies = sequential
        }
        var w = JSONWriter()
        w.raw("{\"replies\":[")
        for (i, reply) in replies.enumerated() {
            if i > 0 { w.raw(UInt8(ascii: ",")) }
            w.raw(reply)
        }
        w.raw("]}")
        return w.bytes
    }

    /// One command's reply in a batch: `{"<method>":…}` or `{"error":…}`.
    private func batchReply(_ command: JSONValue) async -> [UInt8] {
        var w = JSONWriter()
        guard let o = command.objectValue, let member = o.members.first(where: { !$0.value.isNull }),
            ServerAPI.methods.contains(member.key), member.key != "batch"
        else {
            ServerAPI.writeErrorReply(.badRequest, into: &w)
            return w.bytes
        }
        do {
            let result = try await call(method: member.key, request: member.value)
            w.raw(UInt8(ascii: "{"))
            w.string(member.key)
            w.raw(UInt8(ascii: ":"))
            w.raw(result)
            w.raw(UInt8(ascii: "}"))
        } catch {
            ServerAPI.writeErrorReply(error, into: &w)
        }
        return w.bytes
    }
}
