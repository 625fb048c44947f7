import Foundation
import Testing

@testable import Broker

// MARK: - Helpers

private func parse(_ json: String, env: [String: String] = [:]) throws(ConfigError) -> BrokerConfig {
    try ConfigLoader.parse(json: Array(json.utf8), environment: env)
}

/// The error `parse` throws, or nil when it succeeds.
private func parseError(_ json: String, env: [String: String] = [:]) -> ConfigError? {
    do {
        _ = try parse(json, env: env)
        return nil
    } catch {
        return error
    }
}

private func loadError(path: String?, env: [String: String] = [:]) -> ConfigError? {
    do {
        _ = try ConfigLoader.load(path: path, environment: env)
        return nil
    } catch {
        return error
    }
}

/// A fresh file in a fresh temporary directory.
private func temporaryFile(named name: String, contents: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cfgtest-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let url = dir.appendingPathComponent(name)
    try Data(contents.utf8).write(to: url)
    return url.path
}

// MARK: - Fixtures and case tables

private let fullConfigJSON = """
    {
      "http_server": {"address": "127.0.0.1", "port": 9000, "internal_port": "9001", "internal_address": "10.0.0.1"},
      "log": {"level": "debug", "file": "/var/log/broker.log"},
      "client": {
        "token": {
          "hmac_secret_key": "s1", "hmac_previous_secret_key": "s0", "hmac_previous_secret_key_valid_until": 1700000000,
          "rsa_public_key": "rsa", "ecdsa_public_key": "ec", "jwks_public_endpoint": "https://example.com/jwks",
          "audience": "aud", "audience_regex": "^a.*$", "issuer": "iss", "issuer_regex": "^i.*$", "user_id_claim": "uid"
        },
        "subscription_token": {
          "enabled": true, "hmac_secret_key": "sub1", "hmac_previous_secret_key": "sub0",
          "hmac_previous_secret_key_valid_until": 1700000001, "rsa_public_key": "srsa", "ecdsa_public_key": "sec",
          "jwks_public_endpoint": "https://example.com/sjwks", "audience": "saud", "audience_regex": "^s",
          "issuer": "siss", "issuer_regex": "^si", "user_id_claim": "suid"
        },
        "allowed_origins": ["http://localhost:3000", "https://*.example.com"],
        "allow_anonymous_connect_without_token": true,
        "disallow_anonymous_connection_tokens": true,
        "insecure": true,
        "insecure_skip_token_signature_verify": true,
        "connect_include_server_time": true,
        "ping_interval": "20s",
        "pong_timeout": "5s",
        "expired_close_delay": "1m",
        "expired_sub_close_delay": "2m",
        "stale_close_delay": "15s",
        "channel_limit": 64,
        "queue_max_size": 2048,
        "presence_update_interval": "30s",
        "channel_position_check_delay": "45s",
        "connection_limit": 1000,
        "user_connection_limit": 5,
        "history_max_publication_limit": 100,
        "recovery_max_publication_limit": 200,
        "command_rate_limit": 50,
        "subscribe_to_user_personal_channel": {
          "enabled": true, "personal_channel_namespace": "personal", "single_connection": true
        }
      },
      "channel": {
        "without_namespace": {
          "presence": true, "join_leave": true, "force_push_join_leave": true,
          "history_size": 10, "history_ttl": "300s", "history_meta_ttl": "1h",
          "force_positioning": true, "allow_positioning": true, "force_recovery": true, "allow_recovery": true,
          "force_recovery_mode": "cache", "auto_cache_recover": true, "allowed_delta_types": ["fossil"],
          "delta_publish": true, "allow_tags_filter": true,
          "allow_subscribe_for_client": true, "allow_subscribe_for_anonymous": true,
          "allow_publish_for_subscriber": true, "allow_publish_for_client": true, "allow_publish_for_anonymous": true,
          "allow_history_for_subscriber": true, "allow_history_for_client": true, "allow_history_for_anonymous": true,
          "allow_presence_for_subscriber": true, "allow_presence_for_client": true, "allow_presence_for_anonymous": true,
          "allow_user_limited_channels": true, "channel_regex": "^[a-z]+$", "publication_data_format": "json"
        },
        "namespaces": [
          {"name": "personal", "presence": true},
          {"name": "chat", "history_size": 100, "history_ttl": "5m", "force_recovery": true,
           "allow_subscribe_for_client": true, "publication_data_format": "json_object"}
        ],
        "history_meta_ttl": "48h",
        "max_length": 128,
        "publication_data_format": "binary",
        "private_prefix": "!",
        "namespace_boundary": "/",
        "user_boundary": "@",
        "user_separator": ";"
      },
      "http_api": {"disabled": true, "handler_prefix": "/server/api", "key": "apikey", "insecure": true,
                   "error_mode": "transport", "external": true},
      "websocket": {"disabled": true, "handler_prefix": "/ws", "message_size_limit": 1024,
                    "write_timeout": "2s"},
      "uni_websocket": {"enabled": true, "handler_prefix": "/uws", "message_size_limit": 2048, "write_timeout": "3s",
                        "join_push_messages": true, "disable_disconnect_push": true},
      "uni_sse": {"enabled": true, "handler_prefix": "/sse", "max_request_body_size": 1000,
                  "connect_code_to_http_response": {"enabled": true}},
      "uni_http_stream": {"enabled": true, "handler_prefix": "/stream", "max_request_body_size": 2000},
      "engine": {
        "type": "redis",
        "redis": {"address": ["redis://a:6379", "redis://b:6379"], "prefix": "pfx", "connect_timeout": "3s",
                  "io_timeout": "5s", "db": 2, "user": "u", "password": "p", "tls": {"enabled": true, "server_ca_pem_file": "/ca.pem", "server_name": "redis.internal"},
                  "force_resp2": true, "presence_ttl": "90s"}
      },
      "health": {"enabled": true, "handler_prefix": "/healthz"},
      "prometheus": {"enabled": true, "handler_prefix": "/prom"},
      "admin": {"enabled": true, "password": "apw", "secret": "asec", "insecure": true,
                "handler_prefix": "/admin", "external": true},
      "shutdown": {"timeout": "10s"},
      "node": {"name": "node-1"}
    }
    """

private func expectedFullConfig() -> BrokerConfig {
    var c = BrokerConfig()
    c.httpServer.address = "127.0.0.1"
    c.httpServer.port = 9000
    c.httpServer.internalPort = 9001
    c.httpServer.internalAddress = "10.0.0.1"
    c.log.level = "debug"
    c.log.file = "/var/log/broker.log"

    var t = TokenConfig()
    t.hmacSecretKey = "s1"
    t.hmacPreviousSecretKey = "s0"
    t.hmacPreviousSecretKeyValidUntil = 1_700_000_000
    t.rsaPublicKey = "rsa"
    t.ecdsaPublicKey = "ec"
    t.jwksPublicEndpoint = "https://example.com/jwks"
    t.audience = "aud"
    t.audienceRegex = "^a.*$"
    t.issuer = "iss"
    t.issuerRegex = "^i.*$"
    t.userIDClaim = "uid"
    c.client.token = t

    var st = TokenConfig()
    st.hmacSecretKey = "sub1"
    st.hmacPreviousSecretKey = "sub0"
    st.hmacPreviousSecretKeyValidUntil = 1_700_000_001
    st.rsaPublicKey = "srsa"
    st.ecdsaPublicKey = "sec"
    st.jwksPublicEndpoint = "https://example.com/sjwks"
    st.audience = "saud"
    st.audienceRegex = "^s"
    st.issuer = "siss"
    st.issuerRegex = "^si"
    st.userIDClaim = "suid"
    c.client.subscriptionToken.enabled = true
    c.client.subscriptionToken.token = st

    c.client.allowedOrigins = ["http://localhost:3000", "https://*.example.com"]
    c.client.allowAnonymousConnectWithoutToken = true
    c.client.disallowAnonymousConnectionTokens = true
    c.client.insecure = true
    c.client.insecureSkipTokenSignatureVerify = true
    c.client.connectIncludeServerTime = true
    c.client.pingInterval = .seconds(20)
    c.client.pongTimeout = .seconds(5)
    c.client.expiredCloseDelay = .seconds(60)
    c.client.expiredSubCloseDelay = .seconds(120)
    c.client.staleCloseDelay = .seconds(15)
    c.client.channelLimit = 64
    c.client.queueMaxSize = 2048
    c.client.presenceUpdateInterval = .seconds(30)
    c.client.channelPositionCheckDelay = .seconds(45)
    c.client.connectionLimit = 1000
    c.client.userConnectionLimit = 5
    c.client.historyMaxPublicationLimit = 100
    c.client.recoveryMaxPublicationLimit = 200
    c.client.commandRateLimit = 50
    c.client.subscribeToUserPersonalChannel.enabled = true
    c.client.subscribeToUserPersonalChannel.personalChannelNamespace = "personal"
    c.client.subscribeToUserPersonalChannel.singleConnection = true

    var o = ChannelOptions()
    o.presence = true
    o.joinLeave = true
    o.forcePushJoinLeave = true
    o.historySize = 10
    o.historyTTL = .seconds(300)
    o.historyMetaTTL = .seconds(3600)
    o.forcePositioning = true
    o.allowPositioning = true
    o.forceRecovery = true
    o.allowRecovery = true
    o.forceRecoveryMode = "cache"
    o.autoCacheRecover = true
    o.allowedDeltaTypes = ["fossil"]
    o.deltaPublish = true
    o.allowTagsFilter = true
    o.allowSubscribeForClient = true
    o.allowSubscribeForAnonymous = true
    o.allowPublishForSubscriber = true
    o.allowPublishForClient = true
    o.allowPublishForAnonymous = true
    o.allowHistoryForSubscriber = true
    o.allowHistoryForClient = true
    o.allowHistoryForAnonymous = true
    o.allowPresenceForSubscriber = true
    o.allowPresenceForClient = true
    o.allowPresenceForAnonymous = true
    o.allowUserLimitedChannels = true
    o.channelRegex = "^[a-z]+$"
    o.publicationDataFormat = "json"
    c.channel.withoutNamespace = o

    var personal = ChannelOptions()
    personal.presence = true
    var chat = ChannelOptions()
    chat.historySize = 100
    chat.historyTTL = .seconds(300)
    chat.forceRecovery = true
    chat.allowSubscribeForClient = true
    chat.publicationDataFormat = "json_object"
    c.channel.namespaces = [NamespaceConfig(name: "personal", options: personal), NamespaceConfig(name: "chat", options: chat)]
    c.channel.historyMetaTTL = .seconds(48 * 3600)
    c.channel.maxLength = 128
    c.channel.publicationDataFormat = "binary"
    c.channel.privatePrefix = "!"
    c.channel.namespaceBoundary = "/"
    c.channel.userBoundary = "@"
    c.channel.userSeparator = ";"

    c.httpAPI.disabled = true
    c.httpAPI.handlerPrefix = "/server/api"
    c.httpAPI.key = "apikey"
    c.httpAPI.insecure = true
    c.httpAPI.errorMode = "transport"
    c.httpAPI.external = true

    c.websocket.disabled = true
    c.websocket.handlerPrefix = "/ws"
    c.websocket.messageSizeLimit = 1024
    c.websocket.writeTimeout = .seconds(2)

    c.uniWebSocket.enabled = true
    c.uniWebSocket.handlerPrefix = "/uws"
    c.uniWebSocket.messageSizeLimit = 2048
    c.uniWebSocket.writeTimeout = .seconds(3)
    c.uniWebSocket.joinPushMessages = true
    c.uniWebSocket.disableDisconnectPush = true
    c.uniSSE.enabled = true
    c.uniSSE.handlerPrefix = "/sse"
    c.uniSSE.maxRequestBodySize = 1000
    c.uniSSE.connectCodeToHTTPResponse.enabled = true
    c.uniHTTPStream.enabled = true
    c.uniHTTPStream.handlerPrefix = "/stream"
    c.uniHTTPStream.maxRequestBodySize = 2000

    c.engine.type = "redis"
    c.engine.redis.address = ["redis://a:6379", "redis://b:6379"]
    c.engine.redis.prefix = "pfx"
    c.engine.redis.connectTimeout = .seconds(3)
    c.engine.redis.ioTimeout = .seconds(5)
    c.engine.redis.db = 2
    c.engine.redis.user = "u"
    c.engine.redis.password = "p"
    c.engine.redis.tls.enabled = true
    c.engine.redis.tls.serverCAPEMFile = "/ca.pem"
    c.engine.redis.tls.serverName = "redis.internal"
    c.engine.redis.forceResp2 = true
    c.engine.redis.presenceTTL = .seconds(90)

    c.health = EndpointToggle(enabled: true, handlerPrefix: "/healthz")
    c.prometheus = EndpointToggle(enabled: true, handlerPrefix: "/prom")
    c.admin.enabled = true
    c.admin.password = "apw"
    c.admin.secret = "asec"
    c.admin.insecure = true
    c.admin.handlerPrefix = "/admin"
    c.admin.external = true
    c.shutdown.timeout = .seconds(10)
    c.node.name = "node-1"
    return c
}

private let goDurationCases: [(String, Duration)] = [
    ("25s", Duration.seconds(25)),
    ("1m30s", .seconds(90)),
    ("720h", .seconds(720 * 3600)),
    ("500ms", .milliseconds(500)),
    ("1h2m3.5s", .milliseconds(3_723_500)),
    ("0", .zero),
    ("0s", .zero),
    ("-0", .zero),
    ("+5s", .seconds(5)),
    ("-1.5h", .seconds(-5400)),
    (".5s", .milliseconds(500)),
    ("5.s", .seconds(5)),
    ("1.000000001s", .nanoseconds(1_000_000_001)),
    ("10ns", .nanoseconds(10)),
    ("3us", .microseconds(3)),
    ("3\u{00B5}s", .microseconds(3)),
    ("3\u{03BC}s", .microseconds(3)),
    ("2h45m", .seconds(2 * 3600 + 45 * 60)),
    ("1h1h", .seconds(7200)),
    ("9223372036854775807ns", .nanoseconds(Int64.max)),
    ("-9223372036854775808ns", .nanoseconds(Int64.min)),
]

private let invalidGoDurations: [String] = [
    "", "25", "s", "1x", ".", ".s", "-", "+", "1h-5m", "1.5", "h1", " 1s", "1s ", "1S", "1sec",
    "9223372036854775808ns", "2562048h", "1e3s",
]

private let formattedDurationCases: [(Duration, String)] = [
    (Duration.zero, "0s"),
    (.nanoseconds(1), "1ns"),
    (.nanoseconds(999), "999ns"),
    (.nanoseconds(1500), "1.5\u{00B5}s"),
    (.microseconds(100), "100\u{00B5}s"),
    (.milliseconds(1), "1ms"),
    (.milliseconds(500), "500ms"),
    (.microseconds(1500), "1.5ms"),
    (.seconds(1), "1s"),
    (.milliseconds(1500), "1.5s"),
    (.seconds(25), "25s"),
    (.seconds(60), "1m0s"),
    (.seconds(90), "1m30s"),
    (.seconds(3600), "1h0m0s"),
    (.milliseconds(3_723_500), "1h2m3.5s"),
    (.seconds(720 * 3600), "720h0m0s"),
    (.seconds(-5400), "-1h30m0s"),
    (.milliseconds(-1), "-1ms"),
    (.nanoseconds(Int64.max), "2562047h47m16.854775807s"),
]

private let goBoolCases: [(String, Bool)] = [
    ("1", true), ("t", true), ("T", true), ("TRUE", true), ("true", true), ("True", true),
    ("0", false), ("f", false), ("F", false), ("FALSE", false), ("false", false), ("False", false),
]

private let goIntegerCases: [(String, Int64)] = [
    ("42", Int64(42)), ("-7", -7), ("+7", 7), ("0", 0), ("0x1F", 31), ("0X1f", 31), ("0o17", 15), ("017", 15),
    ("0b101", 5), ("1_000", 1000), ("0x_1F", 31), ("9223372036854775807", Int64.max),
    ("-9223372036854775808", Int64.min),
]

private let invalidEnvValues: [(String, String)] = [
    ("CENTRIFUGO_HTTP_SERVER_PORT", "80a"),
    ("CENTRIFUGO_CLIENT_INSECURE", "yes"),
    ("CENTRIFUGO_CLIENT_PING_INTERVAL", "soon"),
    ("CENTRIFUGO_HTTP_SERVER_INTERNAL_PORT", "x"),
    ("CENTRIFUGO_CLIENT_TOKEN_HMAC_PREVIOUS_SECRET_KEY_VALID_UNTIL", "1.5"),
    ("CENTRIFUGO_CHANNEL_NAMESPACES_EXAMPLE_HISTORY_SIZE", "two"),
]

private let wrongTypeCases: [(json: String, key: String, message: String)] = [
    (#"{"client":{"channel_limit":"x"}}"#, "client.channel_limit", #"expected an integer, got string "x""#),
    (#"{"client":{"channel_limit":1.5}}"#, "client.channel_limit", "expected an integer, got number 1.5"),
    (#"{"http_server":{"port":true}}"#, "http_server.port", "expected an integer, got boolean true"),
    (#"{"client":{"insecure":"true"}}"#, "client.insecure", #"expected a boolean, got string "true""#),
    (#"{"log":{"level":1}}"#, "log.level", "expected a string, got number 1"),
    (#"{"client":{"allowed_origins":"*"}}"#, "client.allowed_origins", #"expected an array of strings, got string "*""#),
    (#"{"client":{"allowed_origins":["a",1]}}"#, "client.allowed_origins", "got number 1 at index 1"),
    (#"{"client":"x"}"#, "client", #"expected an object, got string "x""#),
    (#"{"client":{"token":[]}}"#, "client.token", "expected an object, got array"),
    (#"{"channel":{"namespaces":{}}}"#, "channel.namespaces", "expected an array of objects, got object"),
    (#"{"channel":{"namespaces":["chat"]}}"#, "channel.namespaces[0]", #"expected an object, got string "chat""#),
    (#"{"channel":{"namespaces":[{"name":"ns","presence":"yes"}]}}"#, "channel.namespaces[0].presence",
     #"expected a boolean, got string "yes""#),
    (#"{"channel":{"without_namespace":{"history_size":[1]}}}"#, "channel.without_namespace.history_size",
     "expected an integer, got array"),
    (#"{"engine":{"redis":{"address":5}}}"#, "engine.redis.address", "expected a string or an array of strings, got number 5"),
    (#"{"http_server":{"internal_port":"abc"}}"#, "http_server.internal_port", #"got string "abc""#),
    (#"{"client":{"token":{"hmac_previous_secret_key_valid_until":"soon"}}}"#,
     "client.token.hmac_previous_secret_key_valid_until", #"expected an integer, got string "soon""#),
]

private let invalidConfigCases: [(json: String, key: String)] = [
    (#"{"http_server":{"port":70000}}"#, "http_server.port"),
    (#"{"http_server":{"port":-1}}"#, "http_server.port"),
    (#"{"http_server":{"internal_port":"65536"}}"#, "http_server.internal_port"),
    (#"{"log":{"level":"verbose"}}"#, "log.level"),
    (#"{"engine":{"type":"nats"}}"#, "engine.type"),
    (#"{"channel":{"namespaces":[{"name":"a"}]}}"#, "channel.namespaces[0].name"),
    (#"{"channel":{"namespaces":[{"name":"bad name"}]}}"#, "channel.namespaces[0].name"),
    (#"{"channel":{"namespaces":[{"presence":true}]}}"#, "channel.namespaces[0].name"),
    (#"{"channel":{"namespaces":[{"name":"chat"},{"name":"chat"}]}}"#, "channel.namespaces[1].name"),
    (#"{"channel":{"namespaces":[{"name":"chat","history_size":10,"history_ttl":"800h"}]}}"#,
     "channel.namespaces[0].history_ttl"),
    (#"{"channel":{"namespaces":[{"name":"chat","history_size":10,"history_ttl":"2h","history_meta_ttl":"1h"}]}}"#,
     "channel.namespaces[0].history_ttl"),
    (#"{"channel":{"history_meta_ttl":"1h","without_namespace":{"history_size":10,"history_ttl":"2h"}}}"#,
     "channel.without_namespace.history_ttl"),
    (#"{"channel":{"without_namespace":{"history_size":-1}}}"#, "channel.without_namespace.history_size"),
    (#"{"channel":{"without_namespace":{"history_size":1,"history_ttl":"-5s"}}}"#, "channel.without_namespace.history_ttl"),
    (#"{"channel":{"without_namespace":{"history_size":10}}}"#, "channel.without_namespace.history_ttl"),
    (#"{"channel":{"without_namespace":{"history_ttl":"10s"}}}"#, "channel.without_namespace.history_size"),
    (#"{"channel":{"without_namespace":{"history_size":1,"history_ttl":"1.5s"}}}"#, "channel.without_namespace.history_ttl"),
    (#"{"channel":{"without_namespace":{"force_recovery":true}}}"#, "channel.without_namespace.force_recovery"),
    (#"{"channel":{"without_namespace":{"force_recovery_mode":"fast"}}}"#, "channel.without_namespace.force_recovery_mode"),
    (#"{"channel":{"without_namespace":{"auto_cache_recover":true}}}"#, "channel.without_namespace.auto_cache_recover"),
    (#"{"channel":{"without_namespace":{"allowed_delta_types":["fossil","xdelta"]}}}"#,
     "channel.without_namespace.allowed_delta_types"),
    (#"{"channel":{"without_namespace":{"publication_data_format":"xml"}}}"#,
     "channel.without_namespace.publication_data_format"),
    (#"{"channel":{"publication_data_format":"text"}}"#, "channel.publication_data_format"),
    (#"{"channel":{"namespaces":[{"name":"ns","channel_regex":"[a-"}]}}"#, "channel.namespaces[0].channel_regex"),
    (#"{"channel":{"max_length":-5}}"#, "channel.max_length"),
    (#"{"client":{"ping_interval":"10s","pong_timeout":"10s"}}"#, "client.pong_timeout"),
    (#"{"client":{"ping_interval":"5s"}}"#, "client.pong_timeout"),
    (#"{"client":{"channel_limit":-1}}"#, "client.channel_limit"),
    (#"{"client":{"connection_limit":-1}}"#, "client.connection_limit"),
    (#"{"client":{"user_connection_limit":-1}}"#, "client.user_connection_limit"),
    (#"{"client":{"history_max_publication_limit":-1}}"#, "client.history_max_publication_limit"),
    (#"{"client":{"recovery_max_publication_limit":-1}}"#, "client.recovery_max_publication_limit"),
    (#"{"client":{"command_rate_limit":-1}}"#, "client.command_rate_limit"),
    (#"{"client":{"queue_max_size":-1}}"#, "client.queue_max_size"),
    (#"{"client":{"stale_close_delay":"-1s"}}"#, "client.stale_close_delay"),
    (#"{"client":{"token":{"user_id_claim":"user-id"}}}"#, "client.token.user_id_claim"),
    (#"{"client":{"subscription_token":{"issuer_regex":"(("}}}"#, "client.subscription_token.issuer_regex"),
    (#"{"websocket":{"message_size_limit":-1}}"#, "websocket.message_size_limit"),
    (#"{"websocket":{"handler_prefix":"ws"}}"#, "websocket.handler_prefix"),
    (#"{"http_api":{"handler_prefix":"api"}}"#, "http_api.handler_prefix"),
    (#"{"uni_sse":{"handler_prefix":"sse"}}"#, "uni_sse.handler_prefix"),
    (#"{"uni_sse":{"max_request_body_size":-1}}"#, "uni_sse.max_request_body_size"),
    (#"{"uni_http_stream":{"max_request_body_size":-1}}"#, "uni_http_stream.max_request_body_size"),
    (#"{"uni_websocket":{"message_size_limit":-1}}"#, "uni_websocket.message_size_limit"),
    (#"{"uni_websocket":{"write_timeout":"-1s"}}"#, "uni_websocket.write_timeout"),
    (#"{"uni_sse":{"enabled":true,"handler_prefix":"/connection/websocket"}}"#, "uni_sse.handler_prefix"),
    (#"{"uni_sse":{"enabled":true,"handler_prefix":"/s"},"uni_http_stream":{"enabled":true,"handler_prefix":"/s"}}"#,
     "uni_http_stream.handler_prefix"),
    (#"{"health":{"handler_prefix":"health"}}"#, "health.handler_prefix"),
    (#"{"prometheus":{"handler_prefix":"metrics"}}"#, "prometheus.handler_prefix"),
    (#"{"admin":{"handler_prefix":"admin"}}"#, "admin.handler_prefix"),
    (#"{"http_api":{"error_mode":"json"}}"#, "http_api.error_mode"),
    (#"{"client":{"subscribe_to_user_personal_channel":{"enabled":true,"personal_channel_namespace":"nope"}}}"#,
     "client.subscribe_to_user_personal_channel.personal_channel_namespace"),
    (#"{"client":{"subscribe_to_user_personal_channel":{"enabled":true,"single_connection":true}}}"#,
     "client.subscribe_to_user_personal_channel.single_connection"),
    (#"{"client":{"subscribe_to_user_personal_channel":{"enabled":true,"personal_channel_namespace":"pp","single_connection":true}},"channel":{"namespaces":[{"name":"pp"}]}}"#,
     "client.subscribe_to_user_personal_channel.single_connection"),
    (#"{"engine":{"redis":{"db":-1}}}"#, "engine.redis.db"),
    (#"{"engine":{"type":"redis","redis":{"address":["redis://a:1",""]}}}"#, "engine.redis.address"),
    (#"{"shutdown":{"timeout":"-1s"}}"#, "shutdown.timeout"),
]

private let base64URLCases: [([UInt8], String)] = [
    ([UInt8](), ""), ([0x66], "Zg"), ([0x66, 0x6F], "Zm8"), ([0x66, 0x6F, 0x6F], "Zm9v"),
    ([0xFB, 0xFF], "-_8"), ([0xFF, 0xFF, 0xFE], "___-"),
]

@Suite struct ConfigLoaderTests {
    // MARK: - Defaults

    @Test func defaultsWithoutFileOrEnv() throws {
        let config = try ConfigLoader.load(path: nil, environment: [:])
        #expect(config == BrokerConfig())
        #expect(config.httpServer.port == 8000)
        #expect(config.client.pingInterval == .seconds(25))
        #expect(config.channel.historyMetaTTL == .seconds(720 * 3600))
        #expect(config.unknownKeys.isEmpty)
    }

    @Test func uniTransportsAreOffOnCentrifugosPaths() throws {
        let c = BrokerConfig()
        #expect(!c.uniWebSocket.enabled && !c.uniSSE.enabled && !c.uniHTTPStream.enabled)
        #expect(c.uniWebSocket.handlerPrefix == "/connection/uni_websocket")
        #expect(c.uniSSE.handlerPrefix == "/connection/uni_sse")
        #expect(c.uniHTTPStream.handlerPrefix == "/connection/uni_http_stream")
        #expect(c.uniSSE.maxRequestBodySize == 65536 && c.uniHTTPStream.maxRequestBodySize == 65536)
        #expect(c.uniWebSocket.messageSizeLimit == 65536 && c.uniWebSocket.writeTimeout == .seconds(1))
    }

    @Test func inertUniKeysAreKnownNotUnknown() throws {
        let c = try parse(#"{"uni_websocket":{"read_buffer_size":10,"disable_closing_handshake":false},"uni_grpc":{"enabled":false}}"#)
        #expect(c.unknownKeys.isEmpty)
        #expect(try parse(#"{"uni_sse":{"nope":1}}"#).unknownKeys == ["uni_sse.nope"])
    }

    @Test func connectCodeToUnidirectionalDisconnectFromFileAndEnv() throws {
        let json = #"{"client":{"connect_code_to_unidirectional_disconnect":{"enabled":true,"transforms":[{"code":109,"to":{"code":4501,"reason":"expired"}}]}}}"#
        let fromFile = try parse(json).client.connectCodeToUnidirectionalDisconnect
        #expect(fromFile.enabled)
        #expect(fromFile.transforms == [.init(code: 109, toCode: 4501, toReason: "expired")])
        let fromEnv = try ConfigLoader.load(path: nil, environment: [
            "CENTRIFUGO_CLIENT_CONNECT_CODE_TO_UNIDIRECTIONAL_DISCONNECT_ENABLED": "true",
            "CENTRIFUGO_CLIENT_CONNECT_CODE_TO_UNIDIRECTIONAL_DISCONNECT_TRANSFORMS": #"[{"code":103,"to":{"code":4000,"reason":"no"}}]"#,
        ]).client.connectCodeToUnidirectionalDisconnect
        #expect(fromEnv.enabled && fromEnv.transforms == [.init(code: 103, toCode: 4000, toReason: "no")])
    }

    @Test(arguments: [
        (#"[{"to":{"code":4000}}]"#, "client.connect_code_to_unidirectional_disconnect.transforms[0].code"),
        (#"[{"code":109}]"#, "client.connect_code_to_unidirectional_disconnect.transforms[0].to.code"),
        (#"[{"code":109,"to":{"code":4000,"reason":"é"}}]"#, "client.connect_code_to_unidirectional_disconnect.transforms[0].to.reason"),
        (#"[{"code":109,"to":4000}]"#, "client.connect_code_to_unidirectional_disconnect.transforms[0].to"),
        (#"{"code":109}"#, "client.connect_code_to_unidirectional_disconnect.transforms"),
    ])
    func badUnidirectionalDisconnectTransformsNameTheKey(transforms: String, key: String) {
        let error = parseError(#"{"client":{"connect_code_to_unidirectional_disconnect":{"transforms":"# + transforms + "}}}")
        #expect(error?.key == key)
    }

    @Test func connectCodeToHTTPResponseForBothStreams() throws {
        let c = try parse(#"""
            {"uni_sse":{"connect_code_to_http_response":{"enabled":true,"transforms":[{"code":3500,"to":{"status_code":401}}]}},
             "uni_http_stream":{"connect_code_to_http_response":{"transforms":[{"code":109,"to":{"status_code":403,"body":"x"}}]}}}
            """#)
        #expect(c.uniSSE.connectCodeToHTTPResponse.enabled)
        #expect(c.uniSSE.connectCodeToHTTPResponse.transforms == [.init(code: 3500, statusCode: 401, body: "")])
        #expect(!c.uniHTTPStream.connectCodeToHTTPResponse.enabled)
        #expect(c.uniHTTPStream.connectCodeToHTTPResponse.transforms == [.init(code: 109, statusCode: 403, body: "x")])
        #expect(c.uniSSE.connectCodeToHTTPResponse.response(code: 3500, message: "invalid token") == (401, "invalid token"))
        #expect(c.uniSSE.connectCodeToHTTPResponse.response(code: 3501, message: "bad request") == (500, "Internal Server Error"))
        let env = try ConfigLoader.load(path: nil, environment: [
            "CENTRIFUGO_UNI_SSE_CONNECT_CODE_TO_HTTP_RESPONSE_TRANSFORMS": #"[{"code":1,"to":{"status_code":400}}]"#,
        ])
        #expect(env.uniSSE.connectCodeToHTTPResponse.transforms == [.init(code: 1, statusCode: 400, body: "")])
        #expect(parseError(#"{"uni_sse":{"connect_code_to_http_response":{"transforms":[{"code":1}]}}}"#)?.key
            == "uni_sse.connect_code_to_http_response.transforms[0].to.status_code")
        #expect(parseError(#"{"uni_http_stream":{"connect_code_to_http_response":{"transforms":[{"to":{"status_code":400}}]}}}"#)?.key
            == "uni_http_stream.connect_code_to_http_response.transforms[0].code")
    }

    @Test func emptyObjectGivesDefaults() throws {
        #expect(try parse("{}") == BrokerConfig())
    }

    @Test func unrelatedEnvironmentIsIgnored() throws {
        let config = try ConfigLoader.load(path: nil, environment: ["PATH": "/bin", "HOME": "/root", "CENTRIFUGOX": "1"])
        #expect(config == BrokerConfig())
    }

    // MARK: - Every section mapped

    @Test func everySectionIsMapped() throws {
        let config = try parse(fullConfigJSON)
        let expected = expectedFullConfig()
        // Section by section first, so that a failure points at the section.
        #expect(config.httpServer == expected.httpServer)
        #expect(config.log == expected.log)
        #expect(config.client.token == expected.client.token)
        #expect(config.client.subscriptionToken == expected.client.subscriptionToken)
        #expect(config.client == expected.client)
        #expect(config.channel.withoutNamespace == expected.channel.withoutNamespace)
        #expect(config.channel.namespaces == expected.channel.namespaces)
        #expect(config.channel == expected.channel)
        #expect(config.httpAPI == expected.httpAPI)
        #expect(config.websocket == expected.websocket)
        #expect(config.uniWebSocket == expected.uniWebSocket)
        #expect(config.uniSSE == expected.uniSSE)
        #expect(config.uniHTTPStream == expected.uniHTTPStream)
        #expect(config.engine == expected.engine)
        #expect(config.health == expected.health)
        #expect(config.prometheus == expected.prometheus)
        #expect(config.admin == expected.admin)
        #expect(config.shutdown == expected.shutdown)
        #expect(config.node == expected.node)
        #expect(config.unknownKeys == [])
        #expect(config == expected)
    }

    @Test func loadsTheSameConfigFromAFile() throws {
        let path = try temporaryFile(named: "config.json", contents: fullConfigJSON)
        #expect(try ConfigLoader.load(path: path, environment: [:]) == expectedFullConfig())
    }

    @Test func redisAddressAcceptsASingleString() throws {
        let config = try parse(#"{"engine":{"type":"redis","redis":{"address":"redis://h:1"}}}"#)
        #expect(config.engine.redis.address == ["redis://h:1"])
    }

    @Test func internalPortAcceptsAnInteger() throws {
        #expect(try parse(#"{"http_server":{"internal_port":9100}}"#).httpServer.internalPort == 9100)
        #expect(try parse(#"{"http_server":{"internal_port":""}}"#).httpServer.internalPort == nil)
    }

    @Test func emptyNamespacePublicationDataFormatInheritsTheChannelDefault() throws {
        let config = try parse(#"{"channel":{"namespaces":[{"name":"ns","publication_data_format":""}]}}"#)
        #expect(config.channel.namespaces[0].options.publicationDataFormat == nil)
    }

    @Test func zeroInTheFileKeepsTheDefaultLikeCentrifugo() throws {
        let config = try parse(#"{"client":{"channel_limit":0,"ping_interval":"0s"},"http_server":{"port":0},"log":{"level":""}}"#)
        #expect(config.client.channelLimit == 128)
        #expect(config.client.pingInterval == .seconds(25))
        #expect(config.httpServer.port == 8000)
        #expect(config.log.level == "info")
        // From env a zero is a real value.
        let fromEnv = try parse("{}", env: ["CENTRIFUGO_CLIENT_CHANNEL_LIMIT": "0", "CENTRIFUGO_CLIENT_PONG_TIMEOUT": "0"])
        #expect(fromEnv.client.channelLimit == 0)
        #expect(fromEnv.client.pongTimeout == .zero)
    }

    @Test func nullCountsAsAbsent() throws {
        let config = try parse(#"{"client":{"channel_limit":null,"token":null},"engine":null}"#)
        #expect(config == BrokerConfig())
    }

    @Test func laterDuplicateKeyWins() throws {
        #expect(try parse(#"{"http_server":{"port":9000,"port":9001}}"#).httpServer.port == 9001)
    }

    // MARK: - Durations

    @Test(arguments: goDurationCases)
    func parsesGoDurations(text: String, expected: Duration) {
        #expect(parseGoDuration(text) == expected)
    }

    @Test(arguments: invalidGoDurations)
    func rejectsInvalidGoDurations(text: String) {
        #expect(parseGoDuration(text) == nil)
    }

    @Test(arguments: formattedDurationCases)
    func formatsGoDurations(duration: Duration, expected: String) {
        #expect(formatGoDuration(duration) == expected)
        #expect(parseGoDuration(expected) == duration)
    }

    @Test func configDurationsAcceptGoStringsAndIntegerSeconds() throws {
        let config = try parse(#"{"client":{"ping_interval":30,"pong_timeout":"10","expired_close_delay":"1m30s","stale_close_delay":"1500ms"}}"#)
        #expect(config.client.pingInterval == .seconds(30))
        #expect(config.client.pongTimeout == .seconds(10))
        #expect(config.client.expiredCloseDelay == .seconds(90))
        #expect(config.client.staleCloseDelay == .milliseconds(1500))
    }

    @Test func configDurationErrorsNameTheKey() {
        let bad = parseError(#"{"client":{"ping_interval":"abc"}}"#)
        #expect(bad?.key == "client.ping_interval")
        #expect(bad?.message.contains("\"abc\" is not a duration") == true)
        let fractional = parseError(#"{"client":{"ping_interval":1.5}}"#)
        #expect(fractional?.key == "client.ping_interval")
        #expect(fractional?.message.contains("got number 1.5") == true)
        let wrongKind = parseError(#"{"websocket":{"write_timeout":true}}"#)
        #expect(wrongKind?.key == "websocket.write_timeout")
        #expect(wrongKind?.message.contains("got boolean true") == true)
    }

    // MARK: - Go text parsing used for env values

    @Test(arguments: goBoolCases)
    func parsesGoBools(text: String, expected: Bool) {
        #expect(GoStrconv.parseBool(text) == expected)
    }

    @Test(arguments: ["yes", "no", "tRUE", "on", "", "2", " true"])
    func rejectsNonGoBools(text: String) {
        #expect(GoStrconv.parseBool(text) == nil)
    }

    @Test(arguments: goIntegerCases)
    func parsesGoIntegers(text: String, expected: Int64) {
        #expect(GoStrconv.parseInt(text) == expected)
    }

    @Test(arguments: ["", "x", "1.5", "08", "0x", "_1", "1_", "1__0", "9223372036854775808", " 1", "1e3", "--1"])
    func rejectsNonGoIntegers(text: String) {
        #expect(GoStrconv.parseInt(text) == nil)
    }

    // MARK: - Env overrides

    @Test func envSetsScalarsOfEverySection() throws {
        let env = [
            "CENTRIFUGO_HTTP_SERVER_PORT": "9000",
            "CENTRIFUGO_HTTP_SERVER_INTERNAL_PORT": "9001",
            "CENTRIFUGO_LOG_LEVEL": "debug",
            "CENTRIFUGO_CLIENT_TOKEN_HMAC_SECRET_KEY": "secret",
            "CENTRIFUGO_CLIENT_TOKEN_HMAC_PREVIOUS_SECRET_KEY_VALID_UNTIL": "1700000000",
            "CENTRIFUGO_CLIENT_SUBSCRIPTION_TOKEN_ENABLED": "true",
            "CENTRIFUGO_CLIENT_SUBSCRIPTION_TOKEN_HMAC_SECRET_KEY": "subsecret",
            "CENTRIFUGO_CLIENT_ALLOWED_ORIGINS": "http://a.example  http://b.example",
            "CENTRIFUGO_CLIENT_INSECURE": "1",
            "CENTRIFUGO_CLIENT_PING_INTERVAL": "10s",
            "CENTRIFUGO_CLIENT_PONG_TIMEOUT": "3s",
            "CENTRIFUGO_CLIENT_CHANNEL_LIMIT": "0x20",
            "CENTRIFUGO_CLIENT_SUBSCRIBE_TO_USER_PERSONAL_CHANNEL_ENABLED": "T",
            "CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_PRESENCE": "true",
            "CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_ALLOWED_DELTA_TYPES": "fossil",
            "CENTRIFUGO_CHANNEL_HISTORY_META_TTL": "24h",
            "CENTRIFUGO_HTTP_API_KEY": "apikey",
            "CENTRIFUGO_WEBSOCKET_MESSAGE_SIZE_LIMIT": "1024",
            "CENTRIFUGO_UNI_SSE_ENABLED": "true",
            "CENTRIFUGO_UNI_HTTP_STREAM_HANDLER_PREFIX": "/hs",
            "CENTRIFUGO_UNI_WEBSOCKET_JOIN_PUSH_MESSAGES": "true",
            "CENTRIFUGO_ENGINE_TYPE": "redis",
            "CENTRIFUGO_ENGINE_REDIS_ADDRESS": "redis://a:6379 redis://b:6379",
            "CENTRIFUGO_ENGINE_REDIS_TLS_ENABLED": "true",
            "CENTRIFUGO_HEALTH_ENABLED": "true",
            "CENTRIFUGO_PROMETHEUS_HANDLER_PREFIX": "/m",
            "CENTRIFUGO_ADMIN_PASSWORD": "pw",
            "CENTRIFUGO_SHUTDOWN_TIMEOUT": "5",
            "CENTRIFUGO_NODE_NAME": "n1",
        ]
        let c = try ConfigLoader.load(path: nil, environment: env)
        #expect(c.httpServer.port == 9000)
        #expect(c.httpServer.internalPort == 9001)
        #expect(c.log.level == "debug")
        #expect(c.client.token.hmacSecretKey == "secret")
        #expect(c.client.token.hmacPreviousSecretKeyValidUntil == 1_700_000_000)
        #expect(c.client.subscriptionToken.enabled)
        #expect(c.client.subscriptionToken.token.hmacSecretKey == "subsecret")
        #expect(c.client.allowedOrigins == ["http://a.example", "http://b.example"])
        #expect(c.client.insecure)
        #expect(c.client.pingInterval == .seconds(10))
        #expect(c.client.pongTimeout == .seconds(3))
        #expect(c.client.channelLimit == 32)
        #expect(c.client.subscribeToUserPersonalChannel.enabled)
        #expect(c.channel.withoutNamespace.presence)
        #expect(c.channel.withoutNamespace.allowedDeltaTypes == ["fossil"])
        #expect(c.channel.historyMetaTTL == .seconds(24 * 3600))
        #expect(c.httpAPI.key == "apikey")
        #expect(c.websocket.messageSizeLimit == 1024)
        #expect(c.uniSSE.enabled)
        #expect(c.uniHTTPStream.handlerPrefix == "/hs")
        #expect(c.uniWebSocket.joinPushMessages)
        #expect(c.engine.type == "redis")
        #expect(c.engine.redis.address == ["redis://a:6379", "redis://b:6379"])
        #expect(c.engine.redis.tls.enabled)
        #expect(c.health.enabled)
        #expect(c.prometheus.handlerPrefix == "/m")
        #expect(c.admin.password == "pw")
        #expect(c.shutdown.timeout == .seconds(5))
        #expect(c.node.name == "n1")
        #expect(c.unknownKeys.isEmpty)
    }

    /// The form centrifuge-python's test setup passes to Centrifugo v6.
    @Test func envNamespacesAsSpaceSeparatedNamesWithPerNamespaceOptions() throws {
        let env = [
            "CENTRIFUGO_CHANNEL_NAMESPACES": "smallhistory example",
            "CENTRIFUGO_CHANNEL_NAMESPACES_SMALLHISTORY_HISTORY_SIZE": "2",
            "CENTRIFUGO_CHANNEL_NAMESPACES_SMALLHISTORY_HISTORY_TTL": "300s",
            "CENTRIFUGO_CHANNEL_NAMESPACES_SMALLHISTORY_FORCE_RECOVERY": "true",
            "CENTRIFUGO_CHANNEL_NAMESPACES_EXAMPLE_PRESENCE": "true",
            "CENTRIFUGO_CHANNEL_NAMESPACES_EXAMPLE_ALLOW_PUBLISH_FOR_CLIENT": "true",
        ]
        let c = try ConfigLoader.load(path: nil, environment: env)
        #expect(c.channel.namespaces.map(\.name) == ["smallhistory", "example"])
        let small = c.channel.namespaces[0].options
        #expect(small.historySize == 2)
        #expect(small.historyTTL == .seconds(300))
        #expect(small.forceRecovery)
        #expect(!small.presence)
        let example = c.channel.namespaces[1].options
        #expect(example.presence)
        #expect(example.allowPublishForClient)
        #expect(example.historySize == 0)
        #expect(c.unknownKeys.isEmpty)
    }

    /// The whole environment of centrifuge-python's docker-compose setup for Centrifugo v6.
    @Test func centrifugePythonComposeEnvironment() throws {
        let env = [
            "CENTRIFUGO_CLIENT_TOKEN_HMAC_SECRET_KEY": "secret",
            "CENTRIFUGO_LOG_LEVEL": "trace",
            "CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_ALLOWED_DELTA_TYPES": "fossil",
            "CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_DELTA_PUBLISH": "true",
            "CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_PRESENCE": "true",
            "CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_JOIN_LEAVE": "true",
            "CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_FORCE_PUSH_JOIN_LEAVE": "true",
            "CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_HISTORY_SIZE": "100",
            "CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_HISTORY_TTL": "300s",
            "CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_FORCE_RECOVERY": "true",
            "CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_ALLOW_PUBLISH_FOR_SUBSCRIBER": "true",
            "CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_ALLOW_PRESENCE_FOR_SUBSCRIBER": "true",
            "CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_ALLOW_HISTORY_FOR_SUBSCRIBER": "true",
            "CENTRIFUGO_CLIENT_SUBSCRIBE_TO_USER_PERSONAL_CHANNEL_ENABLED": "true",
            "CENTRIFUGO_CHANNEL_NAMESPACES": "smallhistory example",
            "CENTRIFUGO_CHANNEL_NAMESPACES_EXAMPLE_PRESENCE": "true",
            "CENTRIFUGO_CHANNEL_NAMESPACES_EXAMPLE_JOIN_LEAVE": "true",
            "CENTRIFUGO_CHANNEL_NAMESPACES_EXAMPLE_FORCE_PUSH_JOIN_LEAVE": "true",
            "CENTRIFUGO_CHANNEL_NAMESPACES_EXAMPLE_HISTORY_SIZE": "300",
            "CENTRIFUGO_CHANNEL_NAMESPACES_EXAMPLE_HISTORY_TTL": "300s",
            "CENTRIFUGO_CHANNEL_NAMESPACES_EXAMPLE_ALLOW_PUBLISH_FOR_SUBSCRIBER": "true",
            "CENTRIFUGO_CHANNEL_NAMESPACES_EXAMPLE_ALLOW_PRESENCE_FOR_SUBSCRIBER": "true",
            "CENTRIFUGO_CHANNEL_NAMESPACES_EXAMPLE_ALLOW_HISTORY_FOR_SUBSCRIBER": "true",
            "CENTRIFUGO_CHANNEL_NAMESPACES_SMALLHISTORY_FORCE_RECOVERY": "true",
            "CENTRIFUGO_CHANNEL_NAMESPACES_SMALLHISTORY_HISTORY_SIZE": "2",
            "CENTRIFUGO_CHANNEL_NAMESPACES_SMALLHISTORY_HISTORY_TTL": "300s",
            "CENTRIFUGO_CHANNEL_NAMESPACES_SMALLHISTORY_ALLOW_PUBLISH_FOR_SUBSCRIBER": "true",
            "CENTRIFUGO_CHANNEL_NAMESPACES_SMALLHISTORY_ALLOW_HISTORY_FOR_SUBSCRIBER": "true",
        ]
        let c = try ConfigLoader.load(path: nil, environment: env)
        #expect(c.unknownKeys == [])
        #expect(c.client.token.hmacSecretKey == "secret")
        #expect(c.log.level == "trace")
        #expect(c.client.subscribeToUserPersonalChannel.enabled)

        var top = ChannelOptions()
        top.allowedDeltaTypes = ["fossil"]
        top.deltaPublish = true
        top.presence = true
        top.joinLeave = true
        top.forcePushJoinLeave = true
        top.historySize = 100
        top.historyTTL = .seconds(300)
        top.forceRecovery = true
        top.allowPublishForSubscriber = true
        top.allowPresenceForSubscriber = true
        top.allowHistoryForSubscriber = true
        #expect(c.channel.withoutNamespace == top)

        var example = ChannelOptions()
        example.presence = true
        example.joinLeave = true
        example.forcePushJoinLeave = true
        example.historySize = 300
        example.historyTTL = .seconds(300)
        example.allowPublishForSubscriber = true
        example.allowPresenceForSubscriber = true
        example.allowHistoryForSubscriber = true
        var small = ChannelOptions()
        small.forceRecovery = true
        small.historySize = 2
        small.historyTTL = .seconds(300)
        small.allowPublishForSubscriber = true
        small.allowHistoryForSubscriber = true
        #expect(c.channel.namespaces == [
            NamespaceConfig(name: "smallhistory", options: small), NamespaceConfig(name: "example", options: example),
        ])
    }

    @Test func envNamespaceNamesAreAppendedToTheFileList() throws {
        let c = try parse(#"{"channel":{"namespaces":[{"name":"fromfile","presence":true}]}}"#,
                          env: ["CENTRIFUGO_CHANNEL_NAMESPACES": "extra"])
        #expect(c.channel.namespaces.map(\.name) == ["fromfile", "extra"])
        #expect(c.channel.namespaces[0].options.presence)
    }

    @Test func perNamespaceEnvAppliesToFileNamespacesWithUpperCasedNames() throws {
        let json = #"{"channel":{"namespaces":[{"name":"myNs-v1.2"},{"name":"chat"}]}}"#
        let c = try parse(json, env: [
            "CENTRIFUGO_CHANNEL_NAMESPACES_MYNS_V1_2_PRESENCE": "true",
            "CENTRIFUGO_CHANNEL_NAMESPACES_CHAT_HISTORY_META_TTL": "2h",
            "CENTRIFUGO_CHANNEL_NAMESPACES_chat_PRESENCE": "true",  // not upper-cased: not a Centrifugo variable
        ])
        #expect(c.channel.namespaces[0].options.presence)
        #expect(c.channel.namespaces[1].options.historyMetaTTL == .seconds(7200))
        #expect(!c.channel.namespaces[1].options.presence)
        #expect(c.unknownKeys == ["CENTRIFUGO_CHANNEL_NAMESPACES_chat_PRESENCE"])
    }

    @Test func envNamespacesAsJSONReplaceTheFileList() throws {
        let env = [
            "CENTRIFUGO_CHANNEL_NAMESPACES":
                #"[{"name":"ns1","presence":true,"history_size":5,"history_ttl":"60s"},{"name":"ns2"}]"#,
            "CENTRIFUGO_CHANNEL_NAMESPACES_NS2_JOIN_LEAVE": "true",
        ]
        let c = try parse(#"{"channel":{"namespaces":[{"name":"old"}]}}"#, env: env)
        #expect(c.channel.namespaces.map(\.name) == ["ns1", "ns2"])
        #expect(c.channel.namespaces[0].options.presence)
        #expect(c.channel.namespaces[0].options.historySize == 5)
        #expect(c.channel.namespaces[0].options.historyTTL == .seconds(60))
        #expect(c.channel.namespaces[1].options.joinLeave)
    }

    @Test func invalidJSONNamespacesInEnvNameTheVariable() {
        let syntax = parseError("{}", env: ["CENTRIFUGO_CHANNEL_NAMESPACES": #"[{"name":}]"#])
        #expect(syntax?.key == "CENTRIFUGO_CHANNEL_NAMESPACES")
        let type = parseError("{}", env: ["CENTRIFUGO_CHANNEL_NAMESPACES": #"[{"name":"ns","history_size":"x"}]"#])
        #expect(type?.key == "CENTRIFUGO_CHANNEL_NAMESPACES")
        #expect(type?.message.contains("channel.namespaces[0].history_size") == true)
    }

    @Test func envOverridesFileWhichOverridesDefaults() throws {
        let json = #"{"http_server":{"port":9000},"client":{"channel_limit":10,"token":{"hmac_secret_key":"file"}}}"#
        let c = try parse(json, env: ["CENTRIFUGO_HTTP_SERVER_PORT": "9500", "CENTRIFUGO_CLIENT_TOKEN_HMAC_SECRET_KEY": "env"])
        #expect(c.httpServer.port == 9500)  // env > file
        #expect(c.client.token.hmacSecretKey == "env")
        #expect(c.client.channelLimit == 10)  // file > default
        #expect(c.client.queueMaxSize == 1_048_576)  // default
    }

    @Test func envCanTurnOffWhatTheFileTurnedOn() throws {
        let c = try parse(#"{"client":{"insecure":true},"channel":{"without_namespace":{"presence":true}}}"#,
                          env: ["CENTRIFUGO_CLIENT_INSECURE": "false", "CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_PRESENCE": "0"])
        #expect(!c.client.insecure)
        #expect(!c.channel.withoutNamespace.presence)
    }

    @Test func emptyEnvValueCountsAsUnset() throws {
        let c = try parse(#"{"http_server":{"port":9000}}"#,
                          env: ["CENTRIFUGO_HTTP_SERVER_PORT": "", "CENTRIFUGO_CLIENT_INSECURE": "", "CENTRIFUGO_CHANNEL_NAMESPACES": ""])
        #expect(c.httpServer.port == 9000)
        #expect(!c.client.insecure)
        #expect(c.channel.namespaces.isEmpty)
    }

    @Test(arguments: invalidEnvValues)
    func invalidEnvValueNamesTheVariable(name: String, value: String) {
        let error = parseError(#"{"channel":{"namespaces":[{"name":"example"}]}}"#, env: [name: value])
        #expect(error?.key == name)
        #expect(error?.message.contains(value) == true)
    }

    @Test func unmatchedEnvVariablesAreWarningsNotErrors() throws {
        let env = [
            "CENTRIFUGO_CLIENT_NO_SUCH_KEY": "1",
            "CENTRIFUGO_TOTALLY_UNKNOWN": "x",
            "CENTRIFUGO_CHANNEL_NAMESPACES_MISSING_PRESENCE": "true",
            // Legal Centrifugo keys the broker does not implement, inert or at their defaults: known.
            "CENTRIFUGO_CLIENT_CONCURRENCY": "4",
            "CENTRIFUGO_RPC_WITHOUT_NAMESPACE_PROXY_ENABLED": "false",
            "CENTRIFUGO_GRPC_API_ENABLED": "false",
            "CENTRIFUGO_GRPC_API_PORT": "10001",
            "CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_SUBSCRIPTION_TYPE": "stream",
            // Custom variables and what Kubernetes injects for a service named "centrifugo".
            "CENTRIFUGO_VAR_SECRET": "x",
            "CENTRIFUGO_PORT": "tcp://10.0.0.1:8000",
            "CENTRIFUGO_PORT_8000_TCP_ADDR": "10.0.0.1",
            "CENTRIFUGO_SERVICE_HOST": "10.0.0.1",
        ]
        let c = try ConfigLoader.load(path: nil, environment: env)
        #expect(c.unknownKeys == [
            "CENTRIFUGO_CHANNEL_NAMESPACES_MISSING_PRESENCE", "CENTRIFUGO_CLIENT_NO_SUCH_KEY", "CENTRIFUGO_TOTALLY_UNKNOWN",
        ])
    }

    // MARK: - Wrong types

    @Test(arguments: wrongTypeCases)
    func wrongJSONTypeNamesKeyFoundAndExpected(json: String, key: String, message: String) {
        let error = parseError(json)
        #expect(error?.key == key)
        #expect(error?.message.contains(message) == true, "message was: \(error?.message ?? "no error")")
    }

    @Test func wrongTypeErrorDescriptionReadsAsOneLine() {
        let error = parseError(#"{"client":{"channel_limit":"x"}}"#)
        #expect(error?.description == #"invalid config: client.channel_limit: expected an integer, got string "x""#)
    }

    @Test func topLevelMustBeAnObject() {
        #expect(parseError("[]")?.message.contains("got array") == true)
    }

    @Test func invalidJSONTextIsAFileLevelErrorWithAPosition() {
        let error = parseError("{\n  \"client\": ,\n}")
        #expect(error?.key == "")
        #expect(error?.message.contains("line 2, column 13") == true, "message was: \(error?.message ?? "no error")")
    }

    // MARK: - Validation

    @Test(arguments: invalidConfigCases)
    func validationRejectsWithTheRightKey(json: String, key: String) {
        let error = parseError(json)
        #expect(error != nil, "expected \(key) to be rejected")
        #expect(error?.key == key, "got \(error?.description ?? "no error")")
    }

    @Test func validationMessagesSayWhatIsAllowed() {
        #expect(parseError(#"{"log":{"level":"verbose"}}"#)?.message.contains(#""warn""#) == true)
        #expect(parseError(#"{"http_server":{"port":70000}}"#)?.message.contains("1...65535") == true)
        let ttl = parseError(#"{"channel":{"namespaces":[{"name":"chat","history_size":10,"history_ttl":"800h"}]}}"#)
        #expect(ttl?.message.contains("720h0m0s") == true)
        #expect(ttl?.message.contains("channel.history_meta_ttl") == true)
    }

    @Test func validationAcceptsBoundaryValues() throws {
        // pong_timeout 0 disables the pong check; history_ttl equal to the meta TTL is allowed.
        _ = try parse(#"{"channel":{"namespaces":[{"name":"ab","history_size":1,"history_ttl":"720h"}]}}"#,
                      env: ["CENTRIFUGO_CLIENT_PONG_TIMEOUT": "0"])
        _ = try parse(#"{"http_server":{"port":65535,"internal_port":1},"log":{"level":"none"}}"#)
        _ = try parse(#"{"channel":{"namespaces":[{"name":"a-b_c.d"}]}}"#)
        _ = try parse(#"{"channel":{"without_namespace":{"force_recovery_mode":"stream","publication_data_format":"json_object"}}}"#)
        _ = try parse(#"{"client":{"subscribe_to_user_personal_channel":{"enabled":true,"single_connection":true}},"channel":{"without_namespace":{"presence":true}}}"#)
        // Personal-channel rules only apply when the feature is on.
        _ = try parse(#"{"client":{"subscribe_to_user_personal_channel":{"personal_channel_namespace":"nope"}}}"#)
    }

    @Test func validateCanBeCalledOnAHandBuiltConfig() {
        var config = BrokerConfig()
        #expect(throws: Never.self) { try ConfigLoader.validate(config) }
        config.engine.type = "postgres"
        #expect(throws: ConfigError.self) { try ConfigLoader.validate(config) }
    }

    // MARK: - Unknown keys

    @Test func unknownKeysAreCollectedAsDottedPaths() throws {
        let json = """
            {
              "foo": 1,
              "client": {"bar": true, "token": {"baz": "x"}},
              "channel": {"without_namespace": {"presense": true}, "namespaces": [{"name": "ns", "qux": 1}]},
              "engine": {"redis": {"tls": {"nope": true}}}
            }
            """
        let c = try parse(json)
        #expect(c.unknownKeys == [
            "foo", "client.bar", "client.token.baz", "channel.without_namespace.presense", "channel.namespaces[0].qux",
            "engine.redis.tls.nope",
        ])
    }

    /// Unsupported keys left at Centrifugo's defaults, and inert ones, load without a warning
    /// (UnsupportedConfigTests covers the refusals).
    @Test func legalCentrifugoKeysAtTheirDefaultsOrInertAreAccepted() throws {
        let json = """
            {
              "rpc": {"without_namespace": {"proxy_enabled": false}}, "proxies": [],
              "grpc_api": {"enabled": false}, "sse": {"enabled": false}, "http_stream": {"enabled": false},
              "uni_websocket": {"enabled": true}, "uni_sse": {}, "uni_http_stream": {}, "uni_grpc": {}, "emulation": {},
              "swagger": {}, "debug": {}, "opentelemetry": {}, "graphite": {}, "usage_stats": {"disabled": true},
              "consumers": [], "broker": {}, "presence_manager": {}, "map_broker": {}, "controller": {}, "shared_poll": {},
              "pid_file": "",
              "http_server": {"tls": {"enabled": false}, "http3": {"enabled": false}},
              "client": {"proxy": {"connect": {"enabled": false}}, "concurrency": 2, "connection_rate_limit": 0,
                         "token": {"insecure_skip_jwks_endpoint_safety_check": true}},
              "channel": {"proxy": {"subscribe": {"timeout": "1s"}},
                          "without_namespace": {"subscription_type": "stream", "subscribe_proxy_name": "default"},
                          "namespaces": [{"name": "ns", "map": {"mode": "ephemeral"}, "shared_poll": {}}]},
              "websocket": {"compression_level": 1, "read_buffer_size": 1024},
              "engine": {"redis": {"cluster_address": [], "sentinel_address": [], "history_use_lists": false,
                                   "tls": {"cert_pem": "x", "insecure_skip_verify": true}}},
              "prometheus": {"instrument_http_handlers": false},
              "admin": {"web_path": ""},
              "node": {"info_metrics_aggregate_interval": "60s"}
            }
            """
        let c = try parse(json)
        #expect(c.unknownKeys == [])
        #expect(c.channel.namespaces.map(\.name) == ["ns"])
    }

    // MARK: - Files

    @Test func missingFileNamesThePathAndTheReason() {
        let error = loadError(path: "/nonexistent-dir/config.json")
        #expect(error?.key == "")
        #expect(error?.message.contains("/nonexistent-dir/config.json") == true)
        #expect(error?.message.contains("No such file or directory") == true)
    }

    @Test func unreadableFileReportsTheOSReason() throws {
        let file = try temporaryFile(named: "config.json", contents: "{}")
        let directory = (file as NSString).deletingLastPathComponent + "/dir.json"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let error = loadError(path: directory)
        #expect(error?.message.contains("Is a directory") == true)
    }

    @Test func invalidJSONFileReportsLineAndColumn() throws {
        let path = try temporaryFile(named: "config.json", contents: "{\n  \"client\": {\n    \"insecure\": tru\n  }\n}\n")
        let error = loadError(path: path)
        #expect(error?.message.contains(path) == true)
        #expect(error?.message.contains("line 3") == true)
    }

    @Test func fileValuesAndEnvCombineWhenLoading() throws {
        let path = try temporaryFile(named: "config.json", contents: #"{"http_server":{"port":9000},"log":{"level":"warn"}}"#)
        let c = try ConfigLoader.load(path: path, environment: ["CENTRIFUGO_LOG_LEVEL": "error"])
        #expect(c.httpServer.port == 9000)
        #expect(c.log.level == "error")
    }

    // MARK: - genconfig

    @Test func genConfigRoundTripsThroughTheLoader() throws {
        let text = GenConfig.generate()
        let config = try ConfigLoader.parse(json: Array(text.utf8), environment: [:])
        let urlSafe = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        #expect(config.client.token.hmacSecretKey.count == 86)
        #expect(config.admin.password.count == 22)
        #expect(config.admin.secret.count == 86)
        #expect(config.httpAPI.key.count == 86)
        for secret in [config.client.token.hmacSecretKey, config.admin.password, config.admin.secret, config.httpAPI.key] {
            #expect(secret.allSatisfy { urlSafe.contains($0) })
        }
        #expect(!config.admin.enabled)
        #expect(config.client.allowedOrigins == [])
        #expect(config.unknownKeys == [])
        #expect(text.contains("\"allowed_origins\": []"))
        #expect(text.contains("\"enabled\": false"))
        #expect(text.hasPrefix("{\n  \"client\": {\n"))
    }

    @Test func genConfigSecretsAreFreshEachTime() throws {
        let a = try ConfigLoader.parse(json: Array(GenConfig.generate().utf8), environment: [:])
        let b = try ConfigLoader.parse(json: Array(GenConfig.generate().utf8), environment: [:])
        #expect(a.client.token.hmacSecretKey != b.client.token.hmacSecretKey)
        #expect(a.httpAPI.key != b.httpAPI.key)
    }

    @Test(arguments: base64URLCases)
    func base64URLEncoding(bytes: [UInt8], expected: String) {
        #expect(GenConfig.base64URLEncoded(bytes) == expected)
    }
}
