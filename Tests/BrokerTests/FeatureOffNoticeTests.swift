import Testing

@testable import Broker

@Suite("Feature-off 404s")
struct FeatureOffNoticeTests {
    private func notice(
        _ path: String, _ config: BrokerConfig = BrokerConfig(), servesInternal: Bool = true, servesClients: Bool = true,
        consoleHere: Bool = false
    ) -> FeatureOffNotice? {
        FeatureOffNotice.find(
            path: path, config: config, servesInternal: servesInternal, servesClients: servesClients, consoleHere: consoleHere)
    }

    @Test func offFeaturesNameTheSettingAndItsVariable() {
        #expect(
            notice("/metrics")?.message
                == "metrics are off: set prometheus.enabled: true in the config (or CENTRIFUGO_PROMETHEUS_ENABLED=true)")
        #expect(notice("/health")?.message == "health is off: set health.enabled: true in the config (or CENTRIFUGO_HEALTH_ENABLED=true)")
        #expect(
            notice("/connection/uni_sse")?.message
                == "uni_sse is off: set uni_sse.enabled: true in the config (or CENTRIFUGO_UNI_SSE_ENABLED=true)")
        #expect(notice("/connection/uni_http_stream")?.message.contains("CENTRIFUGO_UNI_HTTP_STREAM_ENABLED=true") == true)
        #expect(notice("/connection/uni_websocket")?.message.contains("set uni_websocket.enabled: true") == true)
        #expect(notice("/")?.message.hasPrefix("the admin console is off: set admin.enabled: true") == true)
        #expect(notice("/admin/api")?.format == .adminError)
        #expect(notice("/")?.format == .text)
        var config = BrokerConfig()
        config.httpAPI.disabled = true
        #expect(notice("/api/publish", config) == FeatureOffNotice(
            message: "the server API is off: set http_api.disabled: false in the config (or CENTRIFUGO_HTTP_API_DISABLED=false)",
            format: .apiError))
    }

    @Test func featuresOnTheOtherPortNameThatPort() {
        var config = BrokerConfig()
        config.httpServer.internalPort = 9000
        config.health.enabled = true
        config.admin.enabled = true
        let client = { (path: String) in self.notice(path, config, servesInternal: false) }
        #expect(client("/health")?.message == "health is served on http_server.internal_port 9000")
        #expect(client("/metrics")?.message.hasSuffix("; it is then served on http_server.internal_port 9000") == true)
        #expect(client("/api/publish")?.message.hasPrefix("the server API is served on http_server.internal_port 9000") == true)
        #expect(client("/")?.message.hasPrefix("the admin console is served on http_server.internal_port 9000") == true)
        config.uniSSE.enabled = true
        #expect(
            notice("/connection/uni_sse", config, servesClients: false)?.message
                == "uni_sse is served on the client port, http_server.port 8000")
    }

    @Test func servedAndUnknownPathsGetNoNotice() {
        var config = BrokerConfig()
        config.prometheus.enabled = true
        #expect(notice("/metrics", config) == nil)
        #expect(notice("/api/publish") == nil)
        #expect(notice("/", consoleHere: true) == nil)
        #expect(notice("/nothing") == nil)
        #expect(notice("/apix") == nil)
    }
}
