import Testing
@testable import BrokerProtocol

struct CommandDecodingTests {
    // MARK: The doc's examples (§2.3)

    @Test("The doc's connect command decodes token and name")
    func connectExample() throws {
        let c = try command(
            #"{"id":1,"connect":{"token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiIsImV4cCI6MTc1MDAwMDAwMH0.sig","name":"js"}}"#)
        #expect(c.id == 1)
        #expect(!c.isPong)
        guard case .connect(let r) = c.request else {
            Issue.record("expected connect, got \(c.request)")
            return
        }
        #expect(r.token == "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiIsImV4cCI6MTc1MDAwMDAwMH0.sig")
        #expect(r.name == "js")
        #expect(r.version == "")
        #expect(r.data == nil)
        #expect(r.subs.isEmpty)
        #expect(r.headers.isEmpty)
    }

    @Test("Connect decodes version, data and headers")
    func connectFields() throws {
        let c = try command(#"{"id":1,"connect":{"version":"0.1","data":{"x":[1,2]},"headers":{"Auth":"b","x-y":""}}}"#)
        guard case .connect(let r) = c.request else {
            Issue.record("expected connect")
            return
        }
        #expect(r.version == "0.1")
        #expect(r.data == json(#"{"x":[1,2]}"#))
        #expect(r.headers == ["Auth": "b", "x-y": ""])
    }

    @Test("The doc's recovering subscribe decodes recover, epoch and offset")
    func subscribeRecoveryExample() throws {
        let c = try command(#"{"id":2,"subscribe":{"channel":"chat:index","recover":true,"epoch":"ZlFdTbPq","offset":10}}"#)
        var expected = SubscribeRequest()
        expected.channel = "chat:index"
        expected.recover = true
        expected.epoch = "ZlFdTbPq"
        expected.offset = 10
        #expect(c == Command(id: 2, request: .subscribe(expected)))
    }

    @Test("A subscribe with only a channel leaves every other field at its default")
    func subscribePlain() throws {
        let c = try command(#"{"id":3,"subscribe":{"channel":"chat:lobby"}}"#)
        var expected = SubscribeRequest()
        expected.channel = "chat:lobby"
        #expect(c == Command(id: 3, request: .subscribe(expected)))
        #expect(expected.rejectUnrecovered == false)
    }

    @Test("Subscribe decodes every optional field")
    func subscribeAllFields() throws {
        let c = try command(
            #"{"id":4,"subscribe":{"channel":"c","token":"t","recover":true,"epoch":"e","offset":18446744073709551615,"data":{"a":1},"positioned":true,"recoverable":true,"join_leave":true,"delta":"fossil","flag":6,"tf":1}}"#
        )
        guard case .subscribe(let r) = c.request else {
            Issue.record("expected subscribe")
            return
        }
        #expect(r.channel == "c")
        #expect(r.token == "t")
        #expect(r.recover)
        #expect(r.epoch == "e")
        #expect(r.offset == UInt64.max)
        #expect(r.data == json(#"{"a":1}"#))
        #expect(r.positioned)
        #expect(r.recoverable)
        #expect(r.joinLeave)
        #expect(r.delta == "fossil")
        #expect(r.flag == 6)
    }

    @Test("Subscribe flag bit 2 means reject unrecovered", arguments: [(0, false), (1, false), (2, true), (3, true), (4, false), (6, true)])
    func rejectUnrecovered(_ flag: Int, _ expected: Bool) throws {
        let c = try command(#"{"id":2,"subscribe":{"channel":"c","flag":\#(flag)}}"#)
        guard case .subscribe(let r) = c.request else {
            Issue.record("expected subscribe")
            return
        }
        #expect(r.flag == Int64(flag))
        #expect(r.rejectUnrecovered == expected)
    }

    @Test("The doc's history command decodes limit and since")
    func historyExample() throws {
        let c = try command(#"{"id":4,"history":{"channel":"chat:index","limit":2,"since":{"offset":10,"epoch":"ZlFdTbPq"}}}"#)
        var expected = HistoryRequest()
        expected.channel = "chat:index"
        expected.limit = 2
        expected.since = StreamPosition(offset: 10, epoch: "ZlFdTbPq")
        #expect(c == Command(id: 4, request: .history(expected)))
    }

    @Test("History without since has no position; an empty since is offset 0 and no epoch; limit may be negative")
    func historySinceVariants() throws {
        guard case .history(let a) = try command(#"{"id":4,"history":{"channel":"c"}}"#).request else {
            Issue.record("expected history")
            return
        }
        #expect(a.since == nil)
        #expect(a.limit == 0)
        #expect(a.reverse == false)
        guard case .history(let b) = try command(#"{"id":4,"history":{"channel":"c","since":{},"reverse":true,"limit":-1}}"#).request
        else {
            Issue.record("expected history")
            return
        }
        #expect(b.since == StreamPosition(offset: 0, epoch: ""))
        #expect(b.reverse)
        #expect(b.limit == -1)
        guard case .history(let n) = try command(#"{"id":4,"history":{"channel":"c","since":null}}"#).request else {
            Issue.record("expected history")
            return
        }
        #expect(n.since == nil)
    }

    @Test("The doc's publish command keeps its data as raw JSON")
    func publishExample() throws {
        let c = try command(#"{"id":5,"publish":{"channel":"chat:index","data":{"text":"hi"}}}"#)
        var expected = PublishRequest()
        expected.channel = "chat:index"
        expected.data = json(#"{"text":"hi"}"#)
        #expect(c == Command(id: 5, request: .publish(expected)))
    }

    @Test("A publish without data has empty data")
    func publishWithoutData() throws {
        guard case .publish(let r) = try command(#"{"id":5,"publish":{"channel":"c"}}"#).request else {
            Issue.record("expected publish")
            return
        }
        #expect(r.data.isEmpty)
        #expect(r.data.isBinary == false)
    }

    @Test("Presence, presence_stats and unsubscribe decode their channel")
    func channelRequests() throws {
        #expect(try command(#"{"id":6,"presence":{"channel":"chat:index"}}"#) == Command(id: 6, request: .presence(ChannelRequest(channel: "chat:index"))))
        #expect(try command(#"{"id":7,"presence_stats":{"channel":"p"}}"#) == Command(id: 7, request: .presenceStats(ChannelRequest(channel: "p"))))
        #expect(try command(#"{"id":8,"unsubscribe":{"channel":"u"}}"#) == Command(id: 8, request: .unsubscribe(ChannelRequest(channel: "u"))))
        #expect(try command(#"{"id":8,"unsubscribe":{}}"#) == Command(id: 8, request: .unsubscribe(ChannelRequest(channel: ""))))
    }

    @Test("The doc's rpc command decodes method and data")
    func rpcExample() throws {
        let c = try command(#"{"id":8,"rpc":{"method":"getUser","data":{"id":1}}}"#)
        var expected = RPCRequest()
        expected.method = "getUser"
        expected.data = json(#"{"id":1}"#)
        #expect(c == Command(id: 8, request: .rpc(expected)))
    }

    @Test("The doc's refresh and a sub_refresh decode their tokens")
    func refreshExamples() throws {
        var refresh = RefreshRequest()
        refresh.token = "<JWT>"
        #expect(try command(#"{"id":9,"refresh":{"token":"<JWT>"}}"#) == Command(id: 9, request: .refresh(refresh)))
        var sub = SubRefreshRequest()
        sub.channel = "c"
        sub.token = "t"
        #expect(try command(#"{"id":10,"sub_refresh":{"channel":"c","token":"t"}}"#) == Command(id: 10, request: .subRefresh(sub)))
    }

    @Test("The doc's send command has id 0 and is not a pong")
    func sendExample() throws {
        let c = try command(#"{"send":{"data":{"any":"json"}}}"#)
        var expected = SendRequest()
        expected.data = json(#"{"any":"json"}"#)
        #expect(c == Command(id: 0, request: .send(expected)))
        #expect(!c.isPong)
        #expect(try !command(#"{"id":0,"send":{}}"#).isPong)
    }

    // MARK: id and pong

    @Test("A missing or null id is 0, and an id-0 command without send is a pong")
    func pong() throws {
        for doc in ["{}", #"{"id":0}"#, #"{"id":null}"#, #"{"send":null}"#] {
            let c = try command(doc)
            #expect(c.id == 0, "\(doc)")
            #expect(c.request == .empty, "\(doc)")
            #expect(c.isPong, "\(doc)")
        }
        // "Any command with id 0 and no send counts as a pong, whatever else it contains."
        for doc in [#"{"connect":{}}"#, #"{"id":0,"subscribe":{"channel":"c"}}"#, #"{"ping":{}}"#] {
            #expect(try command(doc).isPong, "\(doc)")
        }
    }

    @Test("A command with a positive id is never a pong")
    func notPong() throws {
        #expect(try !command(#"{"id":1}"#).isPong)
        #expect(try command(#"{"id":1}"#).request == .empty)
        #expect(try !command(#"{"id":1,"connect":{}}"#).isPong)
    }

    @Test("The largest uint32 id is accepted")
    func maxID() throws {
        #expect(try command(#"{"id":4294967295,"publish":{}}"#).id == UInt32.max)
    }

    @Test("The legacy ping field decodes as legacyPing, after every real request")
    func legacyPing() throws {
        #expect(try command(#"{"id":1,"ping":{}}"#).request == .legacyPing)
        #expect(try requestName(command(#"{"id":1,"ping":{},"sub_refresh":{}}"#).request) == "sub_refresh")
        #expect(try command(#"{"id":1,"ping":null}"#).request == .empty)
    }

    // MARK: Precedence

    static let precedence = [
        "connect", "subscribe", "unsubscribe", "publish", "presence", "presence_stats", "history", "rpc", "send", "refresh",
        "sub_refresh",
    ]

    @Test("When several request fields are set, the first in Centrifugo's order wins, whatever the key order", arguments: 0..<11)
    func precedenceOrder(_ winner: Int) throws {
        let fields = Self.precedence[winner...]
        // Keys in reverse order, so document order cannot be what decides.
        let body = fields.reversed().map { "\"\($0)\":{}" }.joined(separator: ",")
        let c = try command("{\"id\":1,\(body),\"ping\":{}}")
        #expect(requestName(c.request) == Self.precedence[winner])
    }

    @Test("A null request field counts as unset for precedence")
    func nullRequestIsUnset() throws {
        #expect(try requestName(command(#"{"id":1,"connect":null,"subscribe":{"channel":"c"}}"#).request) == "subscribe")
        #expect(try command(#"{"id":1,"connect":null}"#).request == .empty)
    }

    @Test("Connect wins over subscribe even when subscribe comes first in the text")
    func connectBeatsSubscribe() throws {
        let c = try command(#"{"subscribe":{"channel":"s"},"id":1,"connect":{"token":"t"}}"#)
        guard case .connect(let r) = c.request else {
            Issue.record("expected connect, got \(c.request)")
            return
        }
        #expect(r.token == "t")
    }

    @Test("Unknown top-level and request fields are ignored")
    func unknownFieldsIgnored() throws {
        let c = try command(#"{"id":1,"future":[1,{"x":null}],"publish":{"channel":"c","data":1,"key":"k","type":2}}"#)
        #expect(requestName(c.request) == "publish")
    }

    @Test("With a duplicated field the last occurrence wins")
    func duplicateFields() throws {
        let c = try command(#"{"id":1,"id":2,"subscribe":{"channel":"a","channel":"b"}}"#)
        #expect(c.id == 2)
        guard case .subscribe(let r) = c.request else {
            Issue.record("expected subscribe")
            return
        }
        #expect(r.channel == "b")
    }

    @Test("Null request members read as their defaults")
    func nullMembers() throws {
        let c = try command(#"{"id":2,"subscribe":{"channel":null,"recover":null,"offset":null,"flag":null,"epoch":null}}"#)
        #expect(c.request == .subscribe(SubscribeRequest()))
    }

    // MARK: Raw data

    @Test("Raw data keeps its key order, number literals and string contents")
    func rawDataPreserved() throws {
        let data = #"{"z":1,"a":[1.0,-0,1e400,12345678901234567890123],"m":{"k":"\u00e9\n\"","e":{}},"b":null}"#
        let c = try command(#"{"id":5,"publish":{"channel":"c","data":\#(data)}}"#)
        guard case .publish(let r) = c.request else {
            Issue.record("expected publish")
            return
        }
        #expect(try parsed(r.data.bytes) == parsed(data))
        #expect(try parsed(r.data.bytes).objectValue?.keys == ["z", "a", "m", "b"])
        #expect(text(r.data.bytes) == #"{"z":1,"a":[1.0,-0,1e400,12345678901234567890123],"m":{"k":"é\n\"","e":{}},"b":null}"#)
        #expect(r.data.isBinary == false)
    }

    @Test("Whitespace inside raw data is dropped, so the data never contains a newline")
    func rawDataCompacted() throws {
        let c = try command("{\"id\":5,\"publish\":{\"channel\":\"c\",\"data\":{ \"a\" :\t[ 1 , 2 ] }}}")
        guard case .publish(let r) = c.request else {
            Issue.record("expected publish")
            return
        }
        #expect(text(r.data.bytes) == #"{"a":[1,2]}"#)
    }

    @Test("Data of any JSON kind is accepted", arguments: [#""str""#, "42", "-1.5e3", "[1,\"a\"]", "true", "false", "{}", "[]"])
    func dataKinds(_ data: String) throws {
        guard case .rpc(let r) = try command(#"{"id":8,"rpc":{"data":\#(data)}}"#).request else {
            Issue.record("expected rpc")
            return
        }
        #expect(r.data == json(data))
    }

    // MARK: connect.subs

    @Test("connect.subs becomes SubscribeRequests whose channel is the map key")
    func connectSubs() throws {
        let c = try command(
            #"{"id":1,"connect":{"token":"t","subs":{"news":{"recover":true,"epoch":"ZlFdTbPq","offset":17},"chat:x":{},"with:channel":{"channel":"other","delta":"fossil"}}}}"#
        )
        guard case .connect(let r) = c.request else {
            Issue.record("expected connect")
            return
        }
        #expect(Set(r.subs.keys) == ["news", "chat:x", "with:channel"])
        var news = SubscribeRequest()
        news.channel = "news"
        news.recover = true
        news.epoch = "ZlFdTbPq"
        news.offset = 17
        #expect(r.subs["news"] == news)
        var chat = SubscribeRequest()
        chat.channel = "chat:x"
        #expect(r.subs["chat:x"] == chat)
        #expect(r.subs["with:channel"]?.channel == "with:channel")
        #expect(r.subs["with:channel"]?.delta == "fossil")
    }

    @Test("connect.subs that is null or empty gives no subscriptions")
    func connectSubsEmpty() throws {
        for doc in [#"{"id":1,"connect":{"subs":null}}"#, #"{"id":1,"connect":{"subs":{}}}"#] {
            guard case .connect(let r) = try command(doc).request else {
                Issue.record("expected connect")
                return
            }
            #expect(r.subs.isEmpty)
        }
    }

    // MARK: Type errors

    static let typeErrors: [String] = [
        #"{"id":1,"subscribe":{"channel":1}}"#,
        #"{"id":1,"subscribe":{"channel":["a"]}}"#,
        #"{"id":1,"subscribe":{"channel":"c","offset":-1}}"#,
        #"{"id":1,"subscribe":{"channel":"c","offset":1.5}}"#,
        #"{"id":1,"subscribe":{"channel":"c","offset":"1"}}"#,
        #"{"id":1,"subscribe":{"channel":"c","offset":18446744073709551616}}"#,
        #"{"id":1,"subscribe":{"channel":"c","recover":"true"}}"#,
        #"{"id":1,"subscribe":{"channel":"c","recover":1}}"#,
        #"{"id":1,"subscribe":{"channel":"c","flag":"2"}}"#,
        #"{"id":1,"subscribe":{"channel":"c","flag":0.5}}"#,
        #"{"id":1,"subscribe":{"channel":"c","epoch":5}}"#,
        #"{"id":1,"subscribe":"chat"}"#,
        #"{"id":1,"subscribe":[]}"#,
        #"{"id":4294967296,"publish":{}}"#,
        #"{"id":-1,"publish":{}}"#,
        #"{"id":1.5,"publish":{}}"#,
        #"{"id":"1","publish":{}}"#,
        #"{"id":true}"#,
        #"{"id":1,"connect":[]}"#,
        #"{"id":1,"connect":{"token":1}}"#,
        #"{"id":1,"connect":{"name":false}}"#,
        #"{"id":1,"connect":{"headers":[]}}"#,
        #"{"id":1,"connect":{"headers":{"a":1}}}"#,
        #"{"id":1,"connect":{"subs":[]}}"#,
        #"{"id":1,"connect":{"subs":{"c":1}}}"#,
        #"{"id":1,"connect":{"subs":{"c":{"offset":-5}}}}"#,
        #"{"id":1,"history":{"channel":"c","limit":"2"}}"#,
        #"{"id":1,"history":{"channel":"c","limit":1e400}}"#,
        #"{"id":1,"history":{"channel":"c","since":1}}"#,
        #"{"id":1,"history":{"channel":"c","since":{"offset":-1}}}"#,
        #"{"id":1,"history":{"channel":"c","since":{"epoch":1}}}"#,
        #"{"id":1,"history":{"channel":"c","reverse":"yes"}}"#,
        #"{"id":1,"publish":{"channel":{}}}"#,
        #"{"id":1,"presence":{"channel":1}}"#,
        #"{"id":1,"presence_stats":"c"}"#,
        #"{"id":1,"unsubscribe":{"channel":true}}"#,
        #"{"id":1,"rpc":{"method":1}}"#,
        #"{"id":1,"rpc":"m"}"#,
        #"{"send":[]}"#,
        #"{"id":1,"refresh":{"token":1}}"#,
        #"{"id":1,"sub_refresh":{"channel":"c","token":[]}}"#,
        #"{"id":1,"sub_refresh":1}"#,
    ]

    @Test("A field of the wrong type or out of range is rejected", arguments: typeErrors)
    func typeError(_ doc: String) {
        #expect(throws: CommandDecodingError.self) { try command(doc) }
    }

    @Test("A command that is not a JSON object is rejected", arguments: ["[]", "1", "null", "\"connect\"", "true", #"[{"id":1}]"#])
    func notAnObject(_ doc: String) {
        let error = #expect(throws: CommandDecodingError.self) { try command(doc) }
        #expect(error?.message == "command is not an object")
    }

    @Test("Malformed JSON is rejected with a message that says so")
    func malformed() {
        let error = #expect(throws: CommandDecodingError.self) { try command(#"{"id":1,"#) }
        #expect(error?.message.hasPrefix("malformed JSON") == true)
        #expect(error?.description == error?.message)
    }

    // MARK: Frames

    @Test("A frame holds several commands separated by single newlines")
    func frameSplitting() throws {
        let frame = utf8(#"{"id":1,"connect":{}}"# + "\n" + #"{"id":2,"subscribe":{"channel":"a"}}"# + "\n" + "{}")
        let commands = try Command.decodeJSONFrame(frame)
        #expect(commands.map(\.id) == [1, 2, 0])
        #expect(commands.map { requestName($0.request) } == ["connect", "subscribe", "<empty>"])
    }

    @Test("A trailing newline, blank lines and CRLF endings are tolerated")
    func frameTolerance() throws {
        let one = #"{"id":1,"publish":{"channel":"a"}}"#
        let two = #"{"id":2,"publish":{"channel":"b"}}"#
        for frame in [
            one + "\n" + two + "\n",
            one + "\n\n" + two,
            "\n" + one + "\n" + two + "\n\n",
            one + "\r\n" + two + "\r\n",
            one + "\n \t\r\n" + two,
            "  " + one + "  \n\t" + two,
        ] {
            let commands = try Command.decodeJSONFrame(utf8(frame))
            #expect(commands.map(\.id) == [1, 2], "\(frame.debugDescription)")
        }
    }

    @Test("A single command without newline is a frame of one")
    func frameOfOne() throws {
        #expect(try Command.decodeJSONFrame(utf8(#"{"id":7,"presence":{"channel":"p"}}"#)) == [Command(id: 7, request: .presence(ChannelRequest(channel: "p")))])
    }

    @Test("An empty or whitespace-only frame is rejected", arguments: ["", "\n", "\n\n", " ", " \r\n\t"])
    func emptyFrame(_ frame: String) {
        #expect(throws: CommandDecodingError.self) { try Command.decodeJSONFrame(utf8(frame)) }
    }

    @Test("One bad command rejects the whole frame")
    func badLineRejectsFrame() {
        #expect(throws: CommandDecodingError.self) {
            try Command.decodeJSONFrame(utf8(#"{"id":1,"connect":{}}"# + "\n" + #"{"id":2,"#))
        }
        #expect(throws: CommandDecodingError.self) {
            try Command.decodeJSONFrame(utf8(#"{"id":1,"connect":{}}"# + "\n" + "[]"))
        }
        // Two objects on one line are not two commands.
        #expect(throws: CommandDecodingError.self) {
            try Command.decodeJSONFrame(utf8(#"{"id":1}{"id":2}"#))
        }
    }

    @Test("Decoding accepts any byte collection, such as a slice of a larger buffer")
    func decodeSlice() throws {
        let buffer = utf8(#"xx{"id":3,"subscribe":{"channel":"c"}}yy"#)
        let c = try Command.decodeJSON(buffer[2..<(buffer.count - 2)])
        #expect(c.id == 3)
    }
}
