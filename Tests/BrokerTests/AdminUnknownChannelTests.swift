import Testing

@testable import Broker
@testable import BrokerProtocol

@Suite("Admin API: unknown channel detail")
struct AdminUnknownChannelTests {
    private var config: ChannelConfig {
        var c = ChannelConfig()
        c.namespaces = ["workspace", "chat", "personal"].map { NamespaceConfig(name: $0) }
        return c
    }

    @Test func namesTheMissingNamespaceAndTheOnesThatExist() throws {
        #expect(
            UnknownChannelDetail.message(channel: "foo:bar", config: config)
                == #"unknown channel "foo:bar": namespace "foo" does not exist. Namespaces: chat, personal, workspace (channels without ":" use channel.without_namespace)"#)
        #expect(UnknownChannelDetail.message(channel: "$foo:bar", config: config).contains(#"namespace "foo" does not exist"#))
        #expect(UnknownChannelDetail.message(channel: "x:y", config: ChannelConfig()).contains("Namespaces: none are configured"))
        #expect(UnknownChannelDetail.message(channel: "", config: config) == "unknown channel: the channel name is empty")
        let reply = try JSONParser.parse(UnknownChannelDetail.reply(channel: "foo:bar", config: config))
        let error = try #require(reply.objectValue?["error"]?.objectValue)
        #expect(error["code"]?.int64Value == 102)
        #expect(error["namespaces"]?.arrayValue?.compactMap(\.stringValue) == ["chat", "personal", "workspace"])
    }

    @Test func recognisesOnlyError102() {
        #expect(AdminConsole.isUnknownChannel(Array(#"{"error":{"code":102,"message":"unknown channel"}}"#.utf8)))
        #expect(!AdminConsole.isUnknownChannel(Array(#"{"error":{"code":107,"message":"bad request"}}"#.utf8)))
        #expect(!AdminConsole.isUnknownChannel(Array(#"{"result":{"code":102}}"#.utf8)))
    }
}
