import Testing

@testable import Broker
@testable import BrokerProtocol

@Suite("Cluster control")
struct ClusterTests {
    @Test func controlMessagesRoundTrip() throws {
        let info = NodeInfo(
            uid: "n1", name: "node-1", version: "v", numClients: 3, numUsers: 2, numChannels: 5, numSubs: 7, uptime: 9)
        let params = JSONObject([("user", .string("alice")), ("channel", .string("chat:x"))])
        let messages: [ControlMessage] = [
            .node(info), .leaving, .action(method: "disconnect", params: params),
            .survey(id: "s1", op: "channels", params: JSONObject()),
            .surveyReply(id: "s1", to: "n2", data: .object(JSONObject([("chat:x", .number("2"))]))),
        ]
        for m in messages {
            let decoded = try #require(ControlMessage.decode(m.encode(from: "n1")))
            #expect(decoded.from == "n1")
            #expect(decoded.message == m)
        }
    }

    @Test func unknownOrBrokenControlMessagesAreIgnored() {
        #expect(ControlMessage.decode(Array("{".utf8)) == nil)
        #expect(ControlMessage.decode(Array(#"{"from":"a","t":"future-kind"}"#.utf8)) == nil)
        #expect(ControlMessage.decode(Array(#"{"t":"leaving"}"#.utf8)) == nil)
        #expect(ControlMessage.decode(Array(#"{"from":"a","t":"node","node":{"uid":""}}"#.utf8)) == nil)
    }

    @Test func registryExpiresSilentNodesAndReportsNewOnes() {
        let r = NodeRegistry(maxAgeMillis: 1_000)
        let info = NodeInfo(uid: "b", name: "b", version: "", numClients: 0, numUsers: 0, numChannels: 0, numSubs: 0, uptime: 0)
        #expect(r.heard(info, at: 0))
        #expect(!r.heard(info, at: 500))
        #expect(r.alive(now: 1_400).map(\.uid) == ["b"])
        #expect(r.alive(now: 1_600).isEmpty)
        #expect(r.heard(info, at: 3_000))  // back after expiring: new again
        r.forget("b")
        #expect(r.alive(now: 3_000).isEmpty)
    }

    @Test func surveyReturnsWhenEveryNodeAnswered() async {
        let c = SurveyCollector()
        let clock = ContinuousClock()
        let start = clock.now
        // A long timeout: returning before it means the collector stopped when both had answered.
        let replies = await c.collect(id: "s", from: ["a", "b"], timeout: .seconds(60)) {
            // Answers may arrive before the collector waits: both orders must work.
            c.reply(id: "s", from: "a", data: .number("1"))
            Task { c.reply(id: "s", from: "b", data: .number("2")) }
            return true
        }
        #expect(replies == ["a": .number("1"), "b": .number("2")])
        #expect(clock.now - start < .seconds(60))
        c.reply(id: "s", from: "a", data: .null)  // late duplicate: ignored
    }

    @Test func surveyGivesUpOnSilentNodes() async {
        let c = SurveyCollector()
        let replies = await c.collect(id: "s", from: ["a", "silent"], timeout: .milliseconds(200)) {
            c.reply(id: "s", from: "a", data: .bool(true))
            c.reply(id: "s", from: "stranger", data: .bool(true))
            return true
        }
        #expect(replies == ["a": .bool(true)])
        #expect(await c.collect(id: "t", from: [], timeout: .seconds(10)) { true }.isEmpty)
        #expect(await c.collect(id: "u", from: ["a"], timeout: .seconds(10)) { false }.isEmpty)
    }
}
