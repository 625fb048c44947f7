import Testing

@testable import Broker

/// `engine.redis.sentinel_*` and `wait_replicas` read and checked (failovers run against real sentinels in
/// Tests/Interop/test_redis_sentinel.py).
struct RedisSentinelConfigTests {
    private func parse(_ json: String) throws(ConfigError) -> BrokerConfig {
        try ConfigLoader.parse(json: Array(json.utf8), environment: [:])
    }

    @Test func sentinelKeysAreRead() throws {
        let c = try parse(#"""
            {"engine": {"type": "redis", "redis": {
              "sentinel_address": ["127.0.0.1:26379,127.0.0.1:26380", "10.0.0.1:26379"], "sentinel_master_name": "m",
              "sentinel_user": "u", "sentinel_password": "p", "sentinel_client_name": "n",
              "sentinel_tls": {"enabled": true, "insecure_skip_verify": true}, "wait_replicas": 1, "wait_timeout": "250ms"}}}
            """#)
        let r = c.engine.redis
        #expect(r.sentinelAddress == ["127.0.0.1:26379,127.0.0.1:26380", "10.0.0.1:26379"])
        #expect(r.sentinelMasterName == "m" && r.sentinelUser == "u" && r.sentinelPassword == "p" && r.sentinelClientName == "n")
        #expect(r.sentinelTLS.enabled && r.sentinelTLS.insecureSkipVerify)
        #expect(r.waitReplicas == 1 && r.waitTimeout == .milliseconds(250))
        let single = try parse(#"{"engine": {"type": "redis", "redis": {"sentinel_address": "127.0.0.1:26379", "sentinel_master_name": "m"}}}"#)
        #expect(single.engine.redis.sentinelAddress == ["127.0.0.1:26379"])
    }

    @Test func badSentinelSettingsNameTheirKey() {
        for (json, key) in [
            (#"{"engine": {"type": "redis", "redis": {"sentinel_address": ["127.0.0.1:26379"]}}}"#, "engine.redis.sentinel_master_name"),
            (#"{"engine": {"type": "redis", "redis": {"sentinel_address": ["nohost"], "sentinel_master_name": "m"}}}"#,
             "engine.redis.sentinel_address"),
            (#"{"engine": {"type": "redis", "redis": {"wait_replicas": -1}}}"#, "engine.redis.wait_replicas"),
        ] {
            do {
                _ = try parse(json)
                Issue.record("loaded: \(json)")
            } catch {
                #expect(error.key == key, "\(json): \(error)")
            }
        }
    }

    @Test func sentinelAddressesParse() throws {
        #expect(try RedisSentinel.parseAddresses(" a:1, b:2 ").map(\.description) == ["a:1", "b:2"])
        #expect(throws: EngineError.self) { try RedisSentinel.parseAddresses("a:0") }
        #expect(throws: EngineError.self) { try RedisSentinel.parseAddresses(":1") }
    }

    @Test func unreachableSentinelsStopTheStartNamingThem() async {
        var config = RedisConfig()
        config.sentinelAddress = ["127.0.0.1:1,127.0.0.1:2"]
        config.sentinelMasterName = "m"
        do {
            _ = try await RedisEngine.make(config: config)
            Issue.record("made an engine without sentinels")
        } catch {
            #expect(error.description.contains("127.0.0.1:1") && error.description.contains("127.0.0.1:2"), "\(error)")
            #expect(error.description.contains("\"m\""), "\(error)")
        }
    }
}
