import BrokerProtocol
import Testing

@testable import Broker

/// Centrifugo v6's proxy keys: all of them load into the config, and a proxy that cannot work stops the start.
@Suite struct ProxyConfigTests {
    static let fullConfig = #"""
        {
          "client": {
            "proxy": {
              "connect": {"enabled": true, "endpoint": "http://app:3000/connect", "timeout": "2s",
                          "http_headers": ["Cookie", "Authorization"], "emulated_headers": ["X-Token"],
                          "http": {"static_headers": {"X-Static": "1"},
                                   "status_to_code_transforms": [{"status_code": 404, "to_error": {"code": 4004, "message": "nope"}},
                                                                 {"status_code": 403, "to_disconnect": {"code": 4403, "reason": "bye"}}]}},
              "refresh": {"enabled": true, "endpoint": "https://app:3000/refresh", "include_connection_meta": true,
                          "http": {"tls": {"enabled": true, "insecure_skip_verify": true}}}
            }
          },
          "channel": {
            "proxy": {"subscribe": {"endpoint": "http://app:3000/subscribe", "binary_encoding": true},
                      "publish": {"endpoint": "http://app:3000/publish"},
                      "sub_refresh": {"endpoint": "http://app:3000/sub_refresh"}},
            "namespaces": [
              {"name": "chat", "subscribe_proxy_enabled": true, "publish_proxy_enabled": true, "publish_proxy_name": "other",
               "sub_refresh_proxy_enabled": true}
            ]
          },
          "rpc": {
            "proxy": {"endpoint": "http://app:3000/rpc"},
            "without_namespace": {"proxy_enabled": true},
            "namespace_boundary": ".",
            "namespaces": [{"name": "billing", "proxy_enabled": true, "proxy_name": "other"}],
            "ping": {"enabled": true, "method": "ping"}
          },
          "proxies": [{"name": "other", "endpoint": "http://other:4000/centrifugo", "timeout": "500ms",
                       "grpc": {"compression": false}}]
        }
        """#

    func parse(_ json: String, env: [String: String] = [:]) throws(ConfigError) -> BrokerConfig {
        try ConfigLoader.parse(json: Array(json.utf8), environment: env)
    }

    func error(_ json: String) -> ConfigError? {
        do {
            _ = try parse(json)
            return nil
        } catch {
            return error
        }
    }

    @Test("A grpc:// endpoint is a gRPC proxy, with its gRPC options")
    func grpcEndpoint() throws {
        let c = try parse(#"{"rpc":{"proxy":{"endpoint":"grpc://app:10001","grpc":{"compression":true,"credentials_key":"k","credentials_value":"v","static_metadata":{"a":"b"}}}}}"#)
        #expect(c.rpc.proxy.isGRPC)
        #expect(c.rpc.proxy.grpc.compression && c.rpc.proxy.grpc.credentialsKey == "k" && c.rpc.proxy.grpc.staticMetadata == ["a": "b"])
    }

    @Test("Every proxy key of a Centrifugo config lands in the config, with no unknown keys")
    func fullConfigLoads() throws {
        let c = try parse(Self.fullConfig)
        #expect(c.unknownKeys == [])
        #expect(c.client.proxy.connect.enabled && c.client.proxy.connect.proxy.endpoint == "http://app:3000/connect")
        #expect(c.client.proxy.connect.proxy.timeout == .seconds(2))
        #expect(c.client.proxy.connect.proxy.httpHeaders == ["Cookie", "Authorization"])
        #expect(c.client.proxy.connect.proxy.emulatedHeaders == ["X-Token"])
        #expect(c.client.proxy.connect.proxy.http.staticHeaders == ["X-Static": "1"])
        #expect(c.client.proxy.connect.proxy.http.statusToCodeTransforms == [
            ProxyStatusTransform(statusCode: 404, toError: ClientError(code: 4004, message: "nope")),
            ProxyStatusTransform(statusCode: 403, toDisconnect: Disconnect(code: 4403, reason: "bye")),
        ])
        #expect(c.client.proxy.refresh.proxy.includeConnectionMeta)
        #expect(c.client.proxy.refresh.proxy.http.tls.enabled && c.client.proxy.refresh.proxy.http.tls.insecureSkipVerify)
        #expect(c.channel.proxy.subscribe.binaryEncoding)
        let chat = c.channel.namespaces[0].options
        #expect(chat.subscribeProxyEnabled && chat.subscribeProxyName == "default")
        #expect(chat.publishProxyEnabled && chat.publishProxyName == "other")
        #expect(chat.subRefreshProxyEnabled)
        #expect(c.rpc.withoutNamespace.proxyEnabled && c.rpc.namespaceBoundary == ".")
        #expect(c.rpc.namespaces == [RPCNamespace(name: "billing", options: { var o = RPCOptions(); o.proxyEnabled = true; o.proxyName = "other"; return o }())])
        #expect(c.rpc.ping.enabled)
        #expect(c.proxies.map(\.name) == ["other"] && c.proxies[0].proxy.timeout == .milliseconds(500))
    }

    @Test("Env sets proxy keys as Centrifugo's CENTRIFUGO_* variables do")
    func environment() throws {
        let c = try parse("{}", env: [
            "CENTRIFUGO_CLIENT_PROXY_CONNECT_ENABLED": "true",
            "CENTRIFUGO_CLIENT_PROXY_CONNECT_ENDPOINT": "http://app/connect",
            "CENTRIFUGO_CLIENT_PROXY_CONNECT_HTTP_HEADERS": "Cookie Origin",
            "CENTRIFUGO_CLIENT_PROXY_CONNECT_HTTP_STATIC_HEADERS": #"{"X-Key":"v"}"#,
            "CENTRIFUGO_PROXIES": #"[{"name":"auth","endpoint":"http://auth/c"}]"#,
        ])
        #expect(c.client.proxy.connect.proxy.endpoint == "http://app/connect")
        #expect(c.client.proxy.connect.proxy.httpHeaders == ["Cookie", "Origin"])
        #expect(c.client.proxy.connect.proxy.http.staticHeaders == ["X-Key": "v"])
        #expect(c.proxies == [NamedProxy(name: "auth", proxy: { var p = ProxyConfig(); p.endpoint = "http://auth/c"; return p }())])
        #expect(c.unknownKeys == [])
    }

    @Test("A proxy that cannot work stops the start, naming the key", arguments: [
        (#"{"client":{"proxy":{"connect":{"enabled":true}}}}"#, "client.proxy.connect.endpoint", "must be set when"),
        (#"{"channel":{"proxy":{"publish":{"endpoint":"ftp://app"}}}}"#, "channel.proxy.publish.endpoint", "is not an http://"),
        (#"{"channel":{"proxy":{"publish":{"endpoint":"grpc://app:9000/path"}}}}"#, "channel.proxy.publish.endpoint",
         "must be grpc://host:port"),
        (#"{"channel":{"namespaces":[{"name":"c1","subscribe_proxy_enabled":true}]}}"#,
         "channel.namespaces[0].subscribe_proxy_name", "needs channel.proxy.subscribe.endpoint"),
        (#"{"channel":{"proxy":{"subscribe":{"endpoint":"http://a"}},"namespaces":[{"name":"c1","subscribe_proxy_enabled":true,"subscribe_proxy_name":"x1"}]}}"#,
         "channel.namespaces[0].subscribe_proxy_name", "no proxy named \"x1\""),
        (#"{"rpc":{"without_namespace":{"proxy_enabled":true}}}"#, "rpc.without_namespace.proxy_name", "needs rpc.proxy.endpoint"),
        (#"{"channel":{"proxy":{"subscribe_stream":{"endpoint":"http://app/stream"}}}}"#,
         "channel.proxy.subscribe_stream.endpoint", "gRPC only"),
        (#"{"channel":{"proxy":{"subscribe_stream":{"endpoint":"grpc://a:1"},"subscribe":{"endpoint":"http://a"}},"namespaces":[{"name":"c1","subscribe_stream_proxy_enabled":true,"subscribe_proxy_enabled":true}]}}"#,
         "channel.namespaces[0].subscribe_stream_proxy_enabled", "cannot be combined"),
        (#"{"proxies":[{"name":"h1","endpoint":"http://a"}],"channel":{"namespaces":[{"name":"c1","subscribe_stream_proxy_enabled":true,"subscribe_stream_proxy_name":"h1"}]}}"#,
         "channel.namespaces[0].subscribe_stream_proxy_name", "gRPC only"),
        (#"{"proxies":[{"name":"default","endpoint":"http://a"}]}"#, "proxies[0].name", "\"default\" names"),
        (#"{"proxies":[{"name":"a1","endpoint":"http://a"},{"name":"a1","endpoint":"http://b"}]}"#, "proxies[1].name", "duplicate"),
        (#"{"channel":{"proxy":{"subscribe":{"endpoint":"http://a","timeout":"0s","http":{"status_to_code_transforms":[{"status_code":404}]}}}}}"#,
         "channel.proxy.subscribe.http.status_to_code_transforms", "to_error.code or to_disconnect.code"),
    ])
    func refused(json: String, key: String, message: String) {
        let e = error(json)
        #expect(e?.key == key)
        #expect(e?.message.contains(message) == true, "\(String(describing: e))")
    }
}
