#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SwiftProtobuf
import Testing

@testable import BrokerProtocol

/// The Protobuf codec: `Command.decodeProtobufFrame` and `ProtobufProtocolEncoder`,
/// checked through the generated `client.proto` types.
struct ProtobufCodecTests {
    // MARK: - Helpers (nested, so they cannot clash with other files of this target)

    /// SplitMix64, seeded: randomized tests fail reproducibly.
    struct Rng: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func bytesOf(_ s: String) -> [UInt8] { Array(s.utf8) }

    static func payloadOf(_ s: String) -> Payload { Payload(bytes: Array(s.utf8)) }

    /// Splits one length-delimited message, requiring the prefix to cover exactly the rest.
    static func undelimit(_ bytes: [UInt8]) throws -> [UInt8] {
        var position = 0
        let length = try Command.readLengthPrefix(bytes, at: &position)
        #expect(Int(length) == bytes.count - position, "length prefix must cover exactly one message")
        return Array(bytes[position...])
    }

    static func decodeReply(_ bytes: [UInt8]) throws -> PBReply {
        try PBReply(serializedBytes: undelimit(bytes))
    }

    static func frame(_ commands: PBCommand...) throws -> [UInt8] {
        var out: [UInt8] = []
        for c in commands {
            let body: [UInt8] = try c.serializedBytes()
            out += ProtobufProtocolEncoder.delimited(body)
        }
        return out
    }

    static func decodeOne(_ c: PBCommand) throws -> Command {
        let commands = try Command.decodeProtobufFrame(frame(c))
        try #require(commands.count == 1)
        return commands[0]
    }

    // MARK: - Exact bytes

    @Test func pingIsTheSingleZeroByte() throws {
        #expect(ProtobufProtocolEncoder.ping == [0x00])
        let empty: [UInt8] = try PBReply().serializedBytes()
        #expect(ProtobufProtocolEncoder.delimited(empty) == [0x00])
    }

    @Test func publishReplyBytes() {
        // Reply{id:1 (field 1 varint), publish:{} (field 8, length 0)}, prefixed by its length 4.
        #expect(ProtobufProtocolEncoder.encode(Reply(id: 1, body: .publish)) == [0x04, 0x08, 0x01, 0x42, 0x00])
    }

    @Test func unsubscribeReplyBytes() {
        #expect(ProtobufProtocolEncoder.encode(Reply(id: 2, body: .unsubscribe)) == [0x04, 0x08, 0x02, 0x3A, 0x00])
    }

    @Test func emptyRPCAndPresenceResultsAreStillWritten() {
        #expect(ProtobufProtocolEncoder.encode(Reply(id: 5, body: .rpc(nil))) == [0x04, 0x08, 0x05, 0x6A, 0x00])
        #expect(ProtobufProtocolEncoder.encode(Reply(id: 5, body: .rpc(Payload(bytes: [])))) == [0x04, 0x08, 0x05, 0x6A, 0x00])
        #expect(ProtobufProtocolEncoder.encode(Reply(id: 6, body: .presence([:]))) == [0x04, 0x08, 0x06, 0x4A, 0x00])
        #expect(ProtobufProtocolEncoder.encode(Reply(id: 7, body: .refresh(RefreshResult()))) == [0x04, 0x08, 0x07, 0x72, 0x00])
        #expect(ProtobufProtocolEncoder.encode(Reply(id: 8, body: .subRefresh(RefreshResult()))) == [0x04, 0x08, 0x08, 0x7A, 0x00])
        #expect(ProtobufProtocolEncoder.encode(Reply(id: 9, body: .subscribe(SubscribeResult()))) == [0x04, 0x08, 0x09, 0x32, 0x00])
    }

    @Test func errorReplyBytes() {
        let encoded = ProtobufProtocolEncoder.encode(Reply(id: 3, body: .error(.internalError)))
        let message = Self.bytesOf("internal server error")
        let error: [UInt8] = [0x08, 100, 0x12, UInt8(message.count)] + message + [0x18, 0x01]
        let reply: [UInt8] = [0x08, 0x03, 0x12, UInt8(error.count)] + error
        #expect(encoded == [UInt8(reply.count)] + reply)
        // `temporary` is left out when false.
        let permanent = ProtobufProtocolEncoder.encode(Reply(id: 3, body: .error(ClientError(code: 109, message: "x"))))
        #expect(permanent == [0x09, 0x08, 0x03, 0x12, 0x05, 0x08, 109, 0x12, 0x01, UInt8(ascii: "x")])
    }

    @Test func joinPushBytes() {
        let push = Push(channel: "c", body: .join(ClientInfo(user: "u", client: "k")))
        // Reply{push(4):{channel(2):"c", join(5):{info(1):{user(1):"u", client(2):"k"}}}}
        let info: [UInt8] = [0x0A, 0x01, UInt8(ascii: "u"), 0x12, 0x01, UInt8(ascii: "k")]
        let join: [UInt8] = [0x0A, UInt8(info.count)] + info
        let pushBytes: [UInt8] = [0x12, 0x01, UInt8(ascii: "c"), 0x2A, UInt8(join.count)] + join
        let reply: [UInt8] = [0x22, UInt8(pushBytes.count)] + pushBytes
        #expect(ProtobufProtocolEncoder.encode(push) == [UInt8(reply.count)] + reply)
    }

    @Test(arguments: [
        (0, [0x00]), (1, [0x01]), (127, [0x7F]), (128, [0x80, 0x01]), (300, [0xAC, 0x02]), (16384, [0x80, 0x80, 0x01]),
    ] as [(Int, [UInt8])])
    func delimitedPrefixesTheVarintLength(length: Int, prefix: [UInt8]) throws {
        let body = [UInt8](repeating: 0xAB, count: length)
        let out = ProtobufProtocolEncoder.delimited(body)
        #expect(Array(out.prefix(prefix.count)) == prefix)
        #expect(Array(out.dropFirst(prefix.count)) == body)
        var position = 0
        #expect(try Command.readLengthPrefix(out, at: &position) == UInt64(length))
        #expect(position == prefix.count)
    }

    @Test func mapsAreWrittenInKeyOrder() throws {
        var presence: [String: ClientInfo] = [:]
        for i in (0..<20).reversed() { presence["c\(i)"] = ClientInfo(user: "u\(i)", client: "c\(i)") }
        let first = ProtobufProtocolEncoder.encode(Reply(id: 1, body: .presence(presence)))
        for _ in 0..<5 {
            #expect(ProtobufProtocolEncoder.encode(Reply(id: 1, body: .presence(presence))) == first)
        }
        // Map entries (key = field 1) appear sorted by key: "c0", "c1", "c10", …, "c19", "c2", ….
        let reply = try Self.decodeReply(first)
        #expect(reply.presence.presence.count == 20)
        let offsets = try presence.keys.sorted().map { key in
            try #require(Self.firstIndex(of: [0x0A, UInt8(key.utf8.count)] + Self.bytesOf(key) + [0x12], in: first))
        }
        #expect(offsets == offsets.sorted())
    }

    static func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        for i in 0...(haystack.count - needle.count) where Array(haystack[i..<(i + needle.count)]) == needle {
            return i
        }
        return nil
    }

    // MARK: - Replies through the generated types

    @Test func errorReplyRoundTrip() throws {
        let r = try Self.decodeReply(ProtobufProtocolEncoder.encode(Reply(id: 77, body: .error(.tooManyRequests))))
        #expect(r.id == 77)
        #expect(r.hasError)
        #expect(r.error.code == 111)
        #expect(r.error.message == "too many requests")
        #expect(r.error.temporary)
        #expect(!r.hasPush && !r.hasConnect && !r.hasPublish)
    }

    @Test func connectReplyRoundTrip() throws {
        var sub = SubscribeResult()
        sub.recoverable = true
        sub.positioned = true
        sub.epoch = "ep"
        sub.offset = 9
        sub.publications = [Publication(data: Self.payloadOf("{\"a\":1}"), offset: 9)]
        sub.recovered = true
        sub.wasRecovering = true
        var other = SubscribeResult()
        other.expires = true
        other.ttl = 30
        var c = ConnectResult()
        c.client = "client-1"
        c.version = "6.0.0"
        c.expires = true
        c.ttl = 3600
        c.data = Self.payloadOf("{\"hello\":true}")
        c.subs = [(channel: "news", result: sub), (channel: "$user:1", result: other)]
        c.ping = 25
        c.pong = true
        c.session = "s"
        c.node = "n"
        c.time = 1_700_000_000_000
        let r = try Self.decodeReply(ProtobufProtocolEncoder.encode(Reply(id: 1, body: .connect(c))))
        #expect(r.id == 1)
        try #require(r.hasConnect)
        let m = r.connect
        #expect(m.client == "client-1")
        #expect(m.version == "6.0.0")
        #expect(m.expires)
        #expect(m.ttl == 3600)
        #expect([UInt8](m.data) == Self.bytesOf("{\"hello\":true}"))
        #expect(m.ping == 25)
        #expect(m.pong)
        #expect(m.session == "s")
        #expect(m.node == "n")
        #expect(m.time == 1_700_000_000_000)
        #expect(Set(m.subs.keys) == ["news", "$user:1"])
        let news = try #require(m.subs["news"])
        #expect(news.recoverable && news.positioned && news.recovered && news.wasRecovering)
        #expect(news.epoch == "ep")
        #expect(news.offset == 9)
        #expect(news.publications.count == 1)
        #expect([UInt8](news.publications[0].data) == Self.bytesOf("{\"a\":1}"))
        #expect(news.publications[0].offset == 9)
        let user = try #require(m.subs["$user:1"])
        #expect(user.expires && user.ttl == 30 && !user.recoverable)
    }

    @Test func minimalConnectReplyLeavesDefaultsOut() throws {
        var c = ConnectResult()
        c.client = "abc"
        let encoded = ProtobufProtocolEncoder.encode(Reply(id: 1, body: .connect(c)))
        // Reply{id:1, connect(5):{client(1):"abc"}}
        #expect(encoded == [0x09, 0x08, 0x01, 0x2A, 0x05, 0x0A, 0x03] + Self.bytesOf("abc"))
    }

    @Test func subscribeReplyRoundTrip() throws {
        var s = SubscribeResult()
        s.expires = true
        s.ttl = 60
        s.recoverable = true
        s.epoch = "xyz"
        s.publications = [
            Publication(
                data: Self.payloadOf("1"), info: ClientInfo(user: "u", client: "c", connInfo: Self.payloadOf("{}"), chanInfo: nil),
                offset: 4, tags: ["k": "v", "a": "b"], time: 123),
            Publication(data: Payload(bytes: [0xFF, 0x00, 0x80], isBinary: true), offset: 5),
        ]
        s.recovered = true
        s.offset = 3
        s.positioned = true
        s.data = Self.payloadOf("{\"x\":1}")
        s.wasRecovering = true
        s.delta = true
        let r = try Self.decodeReply(ProtobufProtocolEncoder.encode(Reply(id: 4, body: .subscribe(s))))
        try #require(r.hasSubscribe)
        let m = r.subscribe
        #expect(m.expires && m.ttl == 60 && m.recoverable && m.epoch == "xyz")
        #expect(m.recovered && m.offset == 3 && m.positioned && m.wasRecovering && m.delta)
        #expect([UInt8](m.data) == Self.bytesOf("{\"x\":1}"))
        #expect(m.publications.count == 2)
        let p0 = m.publications[0]
        #expect([UInt8](p0.data) == Self.bytesOf("1"))
        #expect(p0.hasInfo)
        #expect(p0.info.user == "u" && p0.info.client == "c")
        #expect([UInt8](p0.info.connInfo) == Self.bytesOf("{}"))
        #expect(p0.info.chanInfo.isEmpty)
        #expect(p0.offset == 4)
        #expect(p0.tags == ["k": "v", "a": "b"])
        #expect(p0.time == 123)
        let p1 = m.publications[1]
        #expect([UInt8](p1.data) == [0xFF, 0x00, 0x80])
        #expect(!p1.hasInfo)
        #expect(p1.offset == 5 && p1.tags.isEmpty && p1.time == 0)
        #expect(m.id == 0 && m.type == 0 && m.state.isEmpty)
    }

    @Test func presenceAndStatsRoundTrip() throws {
        let presence = [
            "c1": ClientInfo(user: "1", client: "c1", connInfo: Self.payloadOf("{\"n\":1}")),
            "c2": ClientInfo(user: "", client: "c2", chanInfo: Self.payloadOf("[2]")),
        ]
        let r = try Self.decodeReply(ProtobufProtocolEncoder.encode(Reply(id: 10, body: .presence(presence))))
        try #require(r.hasPresence)
        #expect(r.presence.presence.count == 2)
        #expect(r.presence.presence["c1"]?.user == "1")
        #expect(r.presence.presence["c1"]?.client == "c1")
        #expect(r.presence.presence["c1"].map { [UInt8]($0.connInfo) } == Self.bytesOf("{\"n\":1}"))
        #expect(r.presence.presence["c2"].map { [UInt8]($0.chanInfo) } == Self.bytesOf("[2]"))

        let stats = try Self.decodeReply(
            ProtobufProtocolEncoder.encode(Reply(id: 11, body: .presenceStats(PresenceStats(numClients: 3, numUsers: 2)))))
        try #require(stats.hasPresenceStats)
        #expect(stats.presenceStats.numClients == 3 && stats.presenceStats.numUsers == 2)
        // Zero counts still produce the (empty) result message.
        let zero = ProtobufProtocolEncoder.encode(Reply(id: 12, body: .presenceStats(PresenceStats(numClients: 0, numUsers: 0))))
        #expect(zero == [0x04, 0x08, 0x0C, 0x52, 0x00])
    }

    @Test func historyReplyRoundTrip() throws {
        let h = HistoryResult(
            publications: [Publication(data: Self.payloadOf("\"a\""), offset: 1), Publication(data: Self.payloadOf("\"b\""), offset: 2)],
            epoch: "E", offset: 2)
        let r = try Self.decodeReply(ProtobufProtocolEncoder.encode(Reply(id: 13, body: .history(h))))
        try #require(r.hasHistory)
        #expect(r.history.epoch == "E" && r.history.offset == 2)
        #expect(r.history.publications.map(\.offset) == [1, 2])
        #expect(r.history.publications.map { [UInt8]($0.data) } == [Self.bytesOf("\"a\""), Self.bytesOf("\"b\"")])
        // An empty history still yields a history result.
        let empty = try Self.decodeReply(ProtobufProtocolEncoder.encode(Reply(id: 14, body: .history(HistoryResult(publications: [], epoch: "", offset: 0)))))
        #expect(empty.hasHistory && empty.history.publications.isEmpty)
    }

    @Test func rpcAndRefreshRoundTrip() throws {
        let rpc = try Self.decodeReply(ProtobufProtocolEncoder.encode(Reply(id: 15, body: .rpc(Payload(bytes: [1, 2, 3], isBinary: true)))))
        #expect(rpc.hasRpc && [UInt8](rpc.rpc.data) == [1, 2, 3])
        let refresh = try Self.decodeReply(ProtobufProtocolEncoder.encode(Reply(id: 16, body: .refresh(RefreshResult(expires: true, ttl: 90)))))
        #expect(refresh.hasRefresh && refresh.refresh.expires && refresh.refresh.ttl == 90)
        #expect(refresh.refresh.client.isEmpty && refresh.refresh.version.isEmpty)
        let sub = try Self.decodeReply(ProtobufProtocolEncoder.encode(Reply(id: 17, body: .subRefresh(RefreshResult(expires: true, ttl: 5)))))
        #expect(sub.hasSubRefresh && sub.subRefresh.expires && sub.subRefresh.ttl == 5 && !sub.hasRefresh)
    }

    @Test func largeIdsSurvive() throws {
        let r = try Self.decodeReply(ProtobufProtocolEncoder.encode(Reply(id: .max, body: .publish)))
        #expect(r.id == .max && r.hasPublish)
    }

    // MARK: - Pushes

    @Test func publicationPushRoundTrip() throws {
        let pub = Publication(
            data: Self.payloadOf("{\"text\":\"hi\"}"), info: ClientInfo(user: "42", client: "c1", connInfo: nil, chanInfo: Self.payloadOf("{\"r\":1}")),
            offset: 17, tags: ["t": "1"], time: 1_700_000_000_123)
        let r = try Self.decodeReply(ProtobufProtocolEncoder.encode(Push(channel: "chat:index", body: .publication(pub))))
        #expect(r.id == 0 && !r.hasError)
        try #require(r.hasPush)
        #expect(r.push.channel == "chat:index")
        #expect(r.push.id == 0)
        try #require(r.push.hasPub)
        let p = r.push.pub
        #expect([UInt8](p.data) == Self.bytesOf("{\"text\":\"hi\"}"))
        #expect(p.info.user == "42" && p.info.client == "c1" && p.info.connInfo.isEmpty)
        #expect([UInt8](p.info.chanInfo) == Self.bytesOf("{\"r\":1}"))
        #expect(p.offset == 17 && p.tags == ["t": "1"] && p.time == 1_700_000_000_123)
        #expect(!p.delta && p.channel.isEmpty)
    }

    @Test func publicationWithoutAnythingStillHasPub() throws {
        let encoded = ProtobufProtocolEncoder.encode(Push(channel: "c", body: .publication(Publication(data: Payload(bytes: [])))))
        // Reply{push:{channel:"c", pub:{}}}
        #expect(encoded == [0x07, 0x22, 0x05, 0x12, 0x01, UInt8(ascii: "c"), 0x22, 0x00])
        // A negative time is left out, as in JSON.
        let negative = try Self.decodeReply(
            ProtobufProtocolEncoder.encode(Push(channel: "c", body: .publication(Publication(data: Self.payloadOf("1"), time: -5)))))
        #expect(negative.push.pub.time == 0)
    }

    @Test func joinLeavePushes() throws {
        let info = ClientInfo(user: "u", client: "c", connInfo: Self.payloadOf("{\"a\":1}"), chanInfo: Self.payloadOf("{\"b\":2}"))
        let join = try Self.decodeReply(ProtobufProtocolEncoder.encode(Push(channel: "ch", body: .join(info))))
        #expect(join.push.channel == "ch" && join.push.hasJoin && !join.push.hasLeave)
        #expect(join.push.join.info.user == "u" && join.push.join.info.client == "c")
        #expect([UInt8](join.push.join.info.connInfo) == Self.bytesOf("{\"a\":1}"))
        #expect([UInt8](join.push.join.info.chanInfo) == Self.bytesOf("{\"b\":2}"))
        let leave = try Self.decodeReply(ProtobufProtocolEncoder.encode(Push(channel: "ch", body: .leave(ClientInfo(user: "", client: "x")))))
        #expect(leave.push.hasLeave && !leave.push.hasJoin)
        #expect(leave.push.leave.hasInfo && leave.push.leave.info.client == "x")
    }

    @Test func unsubscribeAndDisconnectPushes() throws {
        let u = try Self.decodeReply(ProtobufProtocolEncoder.encode(Push(channel: "ch", body: .unsubscribe(.insufficientState))))
        #expect(u.push.hasUnsubscribe)
        #expect(u.push.unsubscribe.code == 2500 && u.push.unsubscribe.reason == "insufficient state")
        let d = try Self.decodeReply(ProtobufProtocolEncoder.encode(Push(channel: "", body: .disconnect(.shutdown))))
        #expect(d.push.hasDisconnect && d.push.channel.isEmpty)
        #expect(d.push.disconnect.code == 3001 && d.push.disconnect.reason == "shutdown" && !d.push.disconnect.reconnect)
    }

    @Test func subscribeMessageAndRefreshPushes() throws {
        var s = SubscribeResult()
        s.recoverable = true
        s.epoch = "e"
        s.offset = 8
        s.positioned = true
        s.data = Self.payloadOf("{\"d\":1}")
        s.expires = true
        s.ttl = 10
        let sub = try Self.decodeReply(ProtobufProtocolEncoder.encode(Push(channel: "srv", body: .subscribe(s))))
        #expect(sub.push.channel == "srv" && sub.push.hasSubscribe)
        let m = sub.push.subscribe
        #expect(m.recoverable && m.epoch == "e" && m.offset == 8 && m.positioned)
        #expect([UInt8](m.data) == Self.bytesOf("{\"d\":1}"))

        let msg = try Self.decodeReply(ProtobufProtocolEncoder.encode(Push(channel: "", body: .message(Payload(bytes: [0, 1, 2], isBinary: true)))))
        #expect(msg.push.hasMessage && [UInt8](msg.push.message.data) == [0, 1, 2])

        let refresh = try Self.decodeReply(ProtobufProtocolEncoder.encode(Push(channel: "", body: .refresh(RefreshResult(expires: true, ttl: 7)))))
        #expect(refresh.push.hasRefresh && refresh.push.refresh.expires && refresh.push.refresh.ttl == 7)
    }

    @Test func encodedMessagesConcatenateIntoOneFrame() throws {
        var frame: [UInt8] = []
        frame += ProtobufProtocolEncoder.encode(Reply(id: 1, body: .publish))
        frame += ProtobufProtocolEncoder.ping
        frame += ProtobufProtocolEncoder.encode(Push(channel: "c", body: .message(Self.payloadOf("1"))))
        // Walk the frame the way a client does.
        var position = 0
        var replies: [PBReply] = []
        while position < frame.count {
            let length = Int(try Command.readLengthPrefix(frame, at: &position))
            replies.append(try PBReply(serializedBytes: Array(frame[position..<(position + length)])))
            position += length
        }
        #expect(replies.count == 3)
        #expect(replies[0].id == 1 && replies[0].hasPublish)
        #expect(replies[1] == PBReply())
        #expect(replies[2].push.hasMessage)
    }

    // MARK: - Commands

    @Test func lonePongByte() throws {
        let commands = try Command.decodeProtobufFrame([0x00])
        #expect(commands == [Command(id: 0, request: .empty)])
        #expect(commands[0].isPong)
    }

    @Test func emptyFrameThrows() {
        #expect(throws: CommandDecodingError.self) { try Command.decodeProtobufFrame([]) }
    }

    @Test func connectCommand() throws {
        var c = PBCommand()
        c.id = 1
        c.connect.token = "jwt"
        c.connect.data = Data("{\"x\":1}".utf8)
        c.connect.name = "py"
        c.connect.version = "0.7.0"
        c.connect.headers = ["Authorization": "Bearer t"]
        c.connect.flag = 1
        var sub = PBSubscribeRequest()
        sub.recover = true
        sub.epoch = "ep"
        sub.offset = 12
        sub.delta = "fossil"
        c.connect.subs = ["news": sub, "empty": PBSubscribeRequest()]
        let command = try Self.decodeOne(c)
        var expected = ConnectRequest()
        expected.token = "jwt"
        expected.data = Self.payloadOf("{\"x\":1}")
        expected.name = "py"
        expected.version = "0.7.0"
        expected.headers = ["Authorization": "Bearer t"]
        var s = SubscribeRequest()
        s.channel = "news"
        s.recover = true
        s.epoch = "ep"
        s.offset = 12
        s.delta = "fossil"
        var e = SubscribeRequest()
        e.channel = "empty"
        expected.subs = ["news": s, "empty": e]
        #expect(command == Command(id: 1, request: .connect(expected)))
    }

    @Test func emptyConnectIsStillConnect() throws {
        var c = PBCommand()
        c.id = 1
        c.connect = PBConnectRequest()
        // Command{id:1, connect:{}}: field 4, length 0.
        #expect(try Self.frame(c) == [0x04, 0x08, 0x01, 0x22, 0x00])
        #expect(try Command.decodeProtobufFrame([0x04, 0x08, 0x01, 0x22, 0x00]) == [Command(id: 1, request: .connect(ConnectRequest()))])
    }

    @Test func subscribeCommandWithEveryField() throws {
        var c = PBCommand()
        c.id = 2
        c.subscribe.channel = "chat"
        c.subscribe.token = "sub-jwt"
        c.subscribe.recover = true
        c.subscribe.epoch = "e1"
        c.subscribe.offset = .max
        c.subscribe.data = Data([0xDE, 0xAD])
        c.subscribe.positioned = true
        c.subscribe.recoverable = true
        c.subscribe.joinLeave = true
        c.subscribe.delta = "fossil"
        c.subscribe.flag = 2
        // Fields the broker ignores are tolerated.
        c.subscribe.tf.op = "and"
        c.subscribe.tf.nodes = [PBFilterNodeForTests.leaf]
        c.subscribe.type = 1
        c.subscribe.phase = 2
        c.subscribe.cursor = "cur"
        c.subscribe.limit = 10
        c.subscribe.asc = true
        var expected = SubscribeRequest()
        expected.channel = "chat"
        expected.token = "sub-jwt"
        expected.recover = true
        expected.epoch = "e1"
        expected.offset = .max
        expected.data = Payload(bytes: [0xDE, 0xAD])
        expected.positioned = true
        expected.recoverable = true
        expected.joinLeave = true
        expected.delta = "fossil"
        expected.flag = 2
        let command = try Self.decodeOne(c)
        #expect(command == Command(id: 2, request: .subscribe(expected)))
        if case .subscribe(let s) = command.request { #expect(s.rejectUnrecovered) }
    }

    enum PBFilterNodeForTests {
        static var leaf: Centrifugal_Centrifuge_Protocol_FilterNode {
            var n = Centrifugal_Centrifuge_Protocol_FilterNode()
            n.key = "k"
            n.cmp = "eq"
            n.val = "v"
            return n
        }
    }

    @Test func channelCommands() throws {
        var u = PBCommand()
        u.id = 3
        u.unsubscribe.channel = "a"
        #expect(try Self.decodeOne(u) == Command(id: 3, request: .unsubscribe(ChannelRequest(channel: "a"))))
        var p = PBCommand()
        p.id = 4
        p.presence.channel = "b"
        #expect(try Self.decodeOne(p) == Command(id: 4, request: .presence(ChannelRequest(channel: "b"))))
        var s = PBCommand()
        s.id = 5
        s.presenceStats.channel = "c"
        #expect(try Self.decodeOne(s) == Command(id: 5, request: .presenceStats(ChannelRequest(channel: "c"))))
    }

    @Test func publishCommand() throws {
        var c = PBCommand()
        c.id = 6
        c.publish.channel = "chat"
        c.publish.data = Data([0x00, 0xFF, 0x7B])
        c.publish.type = 1
        c.publish.key = "ignored"
        var expected = PublishRequest()
        expected.channel = "chat"
        // Protobuf clients publish opaque bytes: marked binary so JSON subscribers only get valid JSON.
        expected.data = Payload(bytes: [0x00, 0xFF, 0x7B], isBinary: true)
        #expect(try Self.decodeOne(c) == Command(id: 6, request: .publish(expected)))
        // Without data: an empty payload, as in JSON.
        var bare = PBCommand()
        bare.id = 7
        bare.publish.channel = "x"
        var expectedBare = PublishRequest()
        expectedBare.channel = "x"
        expectedBare.data = Payload(bytes: [], isBinary: true)
        #expect(try Self.decodeOne(bare) == Command(id: 7, request: .publish(expectedBare)))
    }

    @Test func historyCommand() throws {
        var c = PBCommand()
        c.id = 8
        c.history.channel = "h"
        c.history.limit = -1
        c.history.reverse = true
        c.history.since.offset = 5
        c.history.since.epoch = "ep"
        var expected = HistoryRequest()
        expected.channel = "h"
        expected.limit = -1
        expected.reverse = true
        expected.since = StreamPosition(offset: 5, epoch: "ep")
        #expect(try Self.decodeOne(c) == Command(id: 8, request: .history(expected)))
        // An empty `since` message is still a position (offset 0, epoch "").
        var zero = PBCommand()
        zero.id = 9
        zero.history.channel = "h"
        zero.history.since = PBStreamPosition()
        var expectedZero = HistoryRequest()
        expectedZero.channel = "h"
        expectedZero.since = StreamPosition(offset: 0, epoch: "")
        #expect(try Self.decodeOne(zero) == Command(id: 9, request: .history(expectedZero)))
        var none = PBCommand()
        none.id = 10
        none.history.channel = "h"
        var expectedNone = HistoryRequest()
        expectedNone.channel = "h"
        #expect(try Self.decodeOne(none) == Command(id: 10, request: .history(expectedNone)))
    }

    @Test func rpcSendRefreshCommands() throws {
        var rpc = PBCommand()
        rpc.id = 11
        rpc.rpc.method = "sum"
        rpc.rpc.data = Data("[1,2]".utf8)
        var expectedRPC = RPCRequest()
        expectedRPC.method = "sum"
        expectedRPC.data = Self.payloadOf("[1,2]")
        #expect(try Self.decodeOne(rpc) == Command(id: 11, request: .rpc(expectedRPC)))

        var send = PBCommand()
        send.send.data = Data("\"hey\"".utf8)
        var expectedSend = SendRequest()
        expectedSend.data = Self.payloadOf("\"hey\"")
        let decodedSend = try Self.decodeOne(send)
        #expect(decodedSend == Command(id: 0, request: .send(expectedSend)))
        #expect(!decodedSend.isPong)

        var emptySend = PBCommand()
        emptySend.send = PBSendRequest()
        #expect(try Self.decodeOne(emptySend) == Command(id: 0, request: .send(SendRequest())))

        var refresh = PBCommand()
        refresh.id = 12
        refresh.refresh.token = "new"
        var expectedRefresh = RefreshRequest()
        expectedRefresh.token = "new"
        #expect(try Self.decodeOne(refresh) == Command(id: 12, request: .refresh(expectedRefresh)))

        var subRefresh = PBCommand()
        subRefresh.id = 13
        subRefresh.subRefresh.channel = "c"
        subRefresh.subRefresh.token = "t"
        subRefresh.subRefresh.untrack = ["ignored"]
        var expectedSub = SubRefreshRequest()
        expectedSub.channel = "c"
        expectedSub.token = "t"
        #expect(try Self.decodeOne(subRefresh) == Command(id: 13, request: .subRefresh(expectedSub)))
    }

    @Test func legacyPingAndEmpty() throws {
        var ping = PBCommand()
        ping.id = 14
        ping.ping = PBPingRequest()
        #expect(try Self.decodeOne(ping) == Command(id: 14, request: .legacyPing))
        var empty = PBCommand()
        empty.id = 15
        #expect(try Self.decodeOne(empty) == Command(id: 15, request: .empty))
        #expect(try Command.decodeProtobufFrame([0x02, 0x08, 0x0F]) == [Command(id: 15, request: .empty)])
    }

    @Test func severalCommandsInOneFrame() throws {
        var connect = PBCommand()
        connect.id = 1
        connect.connect.token = "t"
        var sub = PBCommand()
        sub.id = 2
        sub.subscribe.channel = "a"
        var pub = PBCommand()
        pub.id = 3
        pub.publish.channel = "a"
        pub.publish.data = Data("1".utf8)
        let frame = try Self.frame(connect, PBCommand(), sub, pub, PBCommand())
        let commands = try Command.decodeProtobufFrame(frame)
        #expect(commands.count == 5)
        #expect(commands.map(\.id) == [1, 0, 2, 3, 0])
        #expect(commands.map { Self.kind($0.request) } == ["connect", "empty", "subscribe", "publish", "empty"])
        #expect(commands[1].isPong && commands[4].isPong && !commands[0].isPong)
    }

    @Test func unknownFieldsAreTolerated() throws {
        // Command{id:1, field 99 varint 7, field 100 bytes "zz", connect:{token:"t", field 50 fixed32}}
        let connect: [UInt8] = [0x0A, 0x01, UInt8(ascii: "t"), 0x95, 0x03, 1, 2, 3, 4]
        let body: [UInt8] = [0x08, 0x01, 0x98, 0x06, 0x07, 0xA2, 0x06, 0x02, 0x7A, 0x7A, 0x22, UInt8(connect.count)] + connect
        let commands = try Command.decodeProtobufFrame([UInt8(body.count)] + body)
        var expected = ConnectRequest()
        expected.token = "t"
        #expect(commands == [Command(id: 1, request: .connect(expected))])
    }

    // MARK: - Precedence

    static let order = ["connect", "subscribe", "unsubscribe", "publish", "presence", "presence_stats", "history", "rpc", "send", "refresh", "sub_refresh", "ping"]

    static func set(_ name: String, on c: inout PBCommand) {
        switch name {
        case "connect": c.connect.token = "t"
        case "subscribe": c.subscribe.channel = "s"
        case "unsubscribe": c.unsubscribe.channel = "u"
        case "publish": c.publish.channel = "p"
        case "presence": c.presence.channel = "pr"
        case "presence_stats": c.presenceStats.channel = "ps"
        case "history": c.history.channel = "h"
        case "rpc": c.rpc.method = "m"
        case "send": c.send.data = Data("1".utf8)
        case "refresh": c.refresh.token = "r"
        case "sub_refresh": c.subRefresh.channel = "sr"
        case "ping": c.ping = PBPingRequest()
        default: Issue.record("unknown request \(name)")
        }
    }

    static func kind(_ r: Command.Request) -> String {
        switch r {
        case .connect: "connect"
        case .subscribe: "subscribe"
        case .unsubscribe: "unsubscribe"
        case .publish: "publish"
        case .presence: "presence"
        case .presenceStats: "presence_stats"
        case .history: "history"
        case .rpc: "rpc"
        case .send: "send"
        case .refresh: "refresh"
        case .subRefresh: "sub_refresh"
        case .legacyPing: "ping"
        case .empty: "empty"
        }
    }

    @Test func firstSetFieldWinsForEveryPair() throws {
        for (i, first) in Self.order.enumerated() {
            for second in Self.order[(i + 1)...] {
                var c = PBCommand()
                c.id = 9
                Self.set(second, on: &c)
                Self.set(first, on: &c)
                let command = try Self.decodeOne(c)
                #expect(Self.kind(command.request) == first, "\(first) + \(second)")
                #expect(command.id == 9)
            }
        }
    }

    @Test func precedenceIgnoresWireOrder() throws {
        // sub_refresh (15) written before subscribe (5): subscribe still wins.
        let body: [UInt8] = [0x08, 0x01, 0x7A, 0x02, 0x0A, 0x00, 0x2A, 0x03, 0x0A, 0x01, UInt8(ascii: "x")]
        let commands = try Command.decodeProtobufFrame([UInt8(body.count)] + body)
        var expected = SubscribeRequest()
        expected.channel = "x"
        #expect(commands == [Command(id: 1, request: .subscribe(expected))])
    }

    // MARK: - Malformed input

    @Test func everyTruncationThrows() throws {
        var connect = PBCommand()
        connect.id = 1
        connect.connect.token = String(repeating: "t", count: 200)  // forces a 2-byte length prefix
        var pub = PBCommand()
        pub.id = 2
        pub.publish.channel = "chan"
        pub.publish.data = Data("{\"k\":\"v\"}".utf8)
        let frame = try Self.frame(connect, pub)
        let firstLength = try Self.frame(connect).count
        for cut in 1..<frame.count where cut != firstLength {
            #expect(throws: CommandDecodingError.self, "cut at \(cut)") {
                try Command.decodeProtobufFrame(Array(frame.prefix(cut)))
            }
        }
        // The message boundary itself is a valid, shorter frame.
        #expect(try Command.decodeProtobufFrame(Array(frame.prefix(firstLength))).count == 1)
        #expect(try Command.decodeProtobufFrame(frame).count == 2)
    }

    @Test(arguments: [
        [0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x08, 0x01],  // 4 GiB declared, 2 bytes present
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x00],  // 2^63-1 declared
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x00],  // UInt64.max declared
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02],  // overflows 64 bits
        [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00],  // 11-byte varint
        [0x80],  // unterminated prefix
        [0x05, 0x08, 0x01],  // 5 declared, 2 present
        [0x00, 0x03],  // pong, then a truncated message
    ] as [[UInt8]])
    func badLengthPrefixesThrow(frame: [UInt8]) {
        #expect(throws: CommandDecodingError.self) { try Command.decodeProtobufFrame(frame) }
    }

    @Test(arguments: [
        [0x01, 0x0F],  // wire type 7
        [0x01, 0x00],  // field number 0
        [0x02, 0x08, 0x80],  // truncated varint inside the message
        [0x03, 0x22, 0x05, 0x0A],  // nested length past the message end
        [0x06, 0x22, 0x04, 0x0A, 0x02, 0xC3, 0x28],  // invalid UTF-8 in a string field
        [0x02, 0x93, 0x03],  // unknown field 50 opens a group that never ends
    ] as [[UInt8]])
    func malformedMessagesThrow(frame: [UInt8]) {
        #expect(throws: CommandDecodingError.self) { try Command.decodeProtobufFrame(frame) }
    }

    @Test func nonMinimalLengthPrefixIsAccepted() throws {
        // 0x82 0x00 is a (redundant) two-byte encoding of 2.
        #expect(try Command.decodeProtobufFrame([0x82, 0x00, 0x08, 0x07]) == [Command(id: 7, request: .empty)])
    }

    @Test func deepNestingThrowsInsteadOfOverflowing() {
        // subscribe.tf with FilterNode.nodes nested 200 deep: over swift-protobuf's depth limit.
        var node: [UInt8] = []
        for _ in 0..<200 {
            node = [0x32] + Self.varint(node.count) + node
        }
        let sub: [UInt8] = [0x6A] + Self.varint(node.count) + node
        let body: [UInt8] = [0x08, 0x01, 0x2A] + Self.varint(sub.count) + sub
        #expect(throws: CommandDecodingError.self) { try Command.decodeProtobufFrame(Self.varint(body.count) + body) }
    }

    static func varint(_ n: Int) -> [UInt8] {
        var out: [UInt8] = []
        ProtobufProtocolEncoder.appendVarint(UInt64(n), to: &out)
        return out
    }

    @Test func randomBytesNeverCrash() {
        var rng = Rng(state: 0x5EED_CAFE)
        var decoded = 0
        for _ in 0..<10_000 {
            let count = Int.random(in: 0...48, using: &rng)
            var bytes = [UInt8](repeating: 0, count: count)
            for i in 0..<count { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
            if let commands = try? Command.decodeProtobufFrame(bytes) {
                decoded += 1
                #expect(!commands.isEmpty)
            }
        }
        // Some short random inputs happen to be valid (e.g. a lone 0x00); most are not.
        #expect(decoded < 10_000)
    }

    @Test func mutatedValidFramesNeverCrash() throws {
        var connect = PBCommand()
        connect.id = 1
        connect.connect.token = "token"
        connect.connect.headers = ["a": "b"]
        connect.connect.subs = ["ch": PBSubscribeRequest()]
        var sub = PBCommand()
        sub.id = 2
        sub.subscribe.channel = "chat"
        sub.subscribe.tf.nodes = [PBFilterNodeForTests.leaf, PBFilterNodeForTests.leaf]
        var history = PBCommand()
        history.id = 3
        history.history.since.epoch = "e"
        let base = try Self.frame(connect, sub, PBCommand(), history)
        var rng = Rng(state: 42)
        for _ in 0..<10_000 {
            var bytes = base
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                case 1: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0...bytes.count, using: &rng))
                default: if bytes.count > 1 { bytes.remove(at: Int.random(in: 0..<bytes.count, using: &rng)) }
                }
            }
            _ = try? Command.decodeProtobufFrame(bytes)
        }
    }

    @Test func singleMessageDecoder() throws {
        var c = PBCommand()
        c.id = 3
        c.presence.channel = "p"
        let body: [UInt8] = try c.serializedBytes()
        #expect(try Command.decodeProtobuf(body) == Command(id: 3, request: .presence(ChannelRequest(channel: "p"))))
        #expect(try Command.decodeProtobuf(body[...]) == Command(id: 3, request: .presence(ChannelRequest(channel: "p"))))
        #expect(try Command.decodeProtobuf([UInt8]()) == Command(id: 0, request: .empty))
        #expect(throws: CommandDecodingError.self) { try Command.decodeProtobuf([0x0F]) }
    }

    // MARK: - Encoder → decoder symmetry (a command frame built by our own varint helper)

    @Test func delimitedFramesDecode() throws {
        var c = PBCommand()
        c.id = 300
        c.rpc.method = String(repeating: "m", count: 1000)
        let body: [UInt8] = try c.serializedBytes()
        let frame = ProtobufProtocolEncoder.delimited(body) + [0x00] + ProtobufProtocolEncoder.delimited(body)
        let commands = try Command.decodeProtobufFrame(frame)
        #expect(commands.count == 3)
        #expect(commands[0].id == 300 && commands[2] == commands[0])
        if case .rpc(let r) = commands[0].request { #expect(r.method.count == 1000 && r.data == nil) } else { Issue.record("not rpc") }
    }
}
