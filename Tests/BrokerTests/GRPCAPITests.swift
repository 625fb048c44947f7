import BrokerAPIGRPC
import BrokerProtocol
import Foundation
import Testing

@testable import Broker

/// `grpc_api`'s config and the mapping of gRPC messages to the server API's one implementation (the calls
/// themselves run against a real broker in Tests/Interop/test_grpc_api.py).
struct GRPCAPITests {
    private func parse(_ json: String, env: [String: String] = [:]) throws(ConfigError) -> BrokerConfig {
        try ConfigLoader.parse(json: Array(json.utf8), environment: env)
    }

    @Test func everyKeyOfGrpcAPIIsRead() throws {
        let c = try parse(#"""
            {"grpc_api": {"enabled": true, "address": "127.0.0.1", "port": 10001, "key": "k", "error_mode": "transport",
                          "max_receive_message_size": 1024, "reflection": true,
                          "tls": {"enabled": true, "cert_pem": "c", "key_pem": "k"}}}
            """#)
        #expect(c.grpcAPI.enabled && c.grpcAPI.address == "127.0.0.1" && c.grpcAPI.port == 10001)
        #expect(c.grpcAPI.key == "k" && c.grpcAPI.errorMode == "transport" && c.grpcAPI.maxReceiveMessageSize == 1024)
        #expect(c.grpcAPI.tls.enabled && c.grpcAPI.tls.certPEM == "c" && c.grpcAPI.reflection)
        #expect(c.grpcAPIListener == ListenAddress(host: "127.0.0.1", port: 10001))
        let env = try parse("{}", env: ["CENTRIFUGO_GRPC_API_ENABLED": "true", "CENTRIFUGO_GRPC_API_KEY": "from-env"])
        #expect(env.grpcAPI.enabled && env.grpcAPI.key == "from-env" && env.grpcAPI.port == 10000)
        #expect(try parse("{}").grpcAPIListener == nil)
    }

    @Test func badValuesNameTheirKey() {
        for (json, key) in [
            (#"{"grpc_api": {"enabled": true, "error_mode": "custom"}}"#, "grpc_api.error_mode"),
            (#"{"grpc_api": {"enabled": true, "port": 70000}}"#, "grpc_api.port"),
            (#"{"grpc_api": {"enabled": true, "max_receive_message_size": -1}}"#, "grpc_api.max_receive_message_size"),
        ] {
            #expect(throws: ConfigError.self) { try parse(json) }
            do {
                _ = try parse(json)
            } catch {
                #expect(error.key == key, "\(json)")
            }
        }
    }

    @Test func anOpenAPIIsAllowedOnLoopbackOnly() throws {
        var c = BrokerConfig()
        c.httpServer.address = "127.0.0.1"
        c.httpAPI.key = String(repeating: "9f", count: 20)
        c.grpcAPI.enabled = true
        c.grpcAPI.address = "127.0.0.1"
        #expect(try ExposedSecrets.check(c).contains { $0.hasPrefix("grpc_api.key is empty") })
        c.grpcAPI.address = ""
        #expect(throws: UnsafeSecretsError.self) { try ExposedSecrets.check(c) }
        c.grpcAPI.key = String(repeating: "ab", count: 20)
        #expect(try ExposedSecrets.check(c).isEmpty)
    }

    @Test func jsonBytesGoInAsJSONOtherBytesAsBase64() {
        var r = Centrifugal_Centrifugo_Api_PublishRequest()
        r.channel = "chat:x"
        r.data = Data(#"{"a":1}"#.utf8)
        r.tags = ["z": "1", "b": "2"]
        #expect(GRPCAPIRequests.publish(r).serializedString == #"{"channel":"chat:x","data":{"a":1},"tags":{"b":"2","z":"1"}}"#)
        r.data = Data([0, 255])
        #expect(GRPCAPIRequests.publish(r)["b64data"]?.stringValue == "AP8=")
        r.b64Data = "AQI="
        let both = GRPCAPIRequests.publish(r)
        #expect(both["b64data"]?.stringValue == "AQI=" && both["data"] == nil)
    }

    @Test func aBatchTakesEachCommandsFirstSetField() {
        var batch = Centrifugal_Centrifugo_Api_BatchRequest()
        var publish = Centrifugal_Centrifugo_Api_Command()
        publish.publish.channel = "c"
        var empty = Centrifugal_Centrifugo_Api_Command()
        empty.unknownFields = .init()
        var info = Centrifugal_Centrifugo_Api_Command()
        info.info = .init()
        batch.commands = [publish, empty, info]
        #expect(GRPCAPIRequests.batch(batch).serializedString == #"{"commands":[{"publish":{"channel":"c"}},{},{"info":{}}]}"#)
    }

    @Test func resultsAndErrorsBecomeTheirMessages() throws {
        let reply = GRPCAPIResults.reply(try JSONParser.parse(Array(#"{"history":{"publications":[{"data":{"x":1},"offset":3},{"b64data":"AP8="}],"epoch":"e","offset":4}}"#.utf8)))
        #expect(reply.history.publications.map(\.data) == [Data(#"{"x":1}"#.utf8), Data([0, 255])])
        #expect(reply.history.epoch == "e" && reply.history.offset == 4)
        let error = GRPCAPIResults.reply(try JSONParser.parse(Array(#"{"error":{"code":102,"message":"unknown channel"}}"#.utf8)))
        #expect(error.hasError && error.error.code == 102)
        let status = GRPCAPIService.status(.unrecoverablePosition)
        #expect(status.code == .outOfRange && status.message == "unrecoverable position")
    }

    @Test func reflectionKnowsApiProtosSymbols() {
        let reflection = GRPCReflectionService()
        for symbol in [
            "centrifugal.centrifugo.api.CentrifugoApi", "centrifugal.centrifugo.api.CentrifugoApi.Publish",
            "centrifugal.centrifugo.api.PublishRequest", "centrifugal.centrifugo.api.ConnectionInfo",
        ] {
            #expect(reflection.symbols.contains(symbol), "\(symbol)")
        }
        var query = Grpc_Reflection_V1_ServerReflectionRequest()
        query.fileContainingSymbol = "centrifugal.centrifugo.api.UpdateUserStatusRequest"  // PRO: not served
        #expect(reflection.answer(query).errorResponse.errorCode == 5)
        query.fileByFilename = "api.proto"
        #expect(reflection.answer(query).fileDescriptorResponse.fileDescriptorProto == [APIDescriptor.fileDescriptorProto])
    }
}
