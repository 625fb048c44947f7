// swift-tools-version:6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "scrumble-realtime",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "broker", targets: ["BrokerCommand"]),
        .executable(name: "facade", targets: ["FacadeCommand"]),
        .executable(name: "broker-bench", targets: ["BrokerBench"]),
        .library(name: "Broker", targets: ["Broker"]),
        .library(name: "BrokerProtocol", targets: ["BrokerProtocol"]),
        .library(name: "Facade", targets: ["Facade"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", exact: "2.37.6"),
        .package(url: "https://github.com/swift-server/async-http-client.git", exact: "1.37.0"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", exact: "4.5.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", exact: "5.8.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", exact: "2.4.1"),
        .package(url: "https://github.com/apple/swift-collections.git", exact: "1.6.0"),
        .package(url: "https://github.com/apple/swift-protobuf.git", exact: "1.39.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", exact: "2.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", exact: "1.33.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", exact: "2.13.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", exact: "0.2.0"),
        .package(url: "https://github.com/apple/swift-atomics.git", exact: "1.3.0"),
        .package(url: "https://github.com/jpsim/Yams.git", exact: "6.2.2"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", exact: "0.6.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", exact: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", exact: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", exact: "2.4.1"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", exact: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", exact: "1.35.2"),
    ],
    targets: [
        // Wire types and codecs of Centrifugo's client protocol and server API. Pure: no I/O, no clocks.
        .target(
            name: "BrokerProtocol",
            dependencies: [
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Sources/Protocol",
            exclude: ["Proto/client.proto"],
            swiftSettings: strict
        ),
        // The rule both executables apply at start to the secrets that guard a listener. Pure.
        .target(
            name: "SecretPolicy",
            path: "Sources/SecretPolicy",
            swiftSettings: strict
        ),
        // hiredis (Debian libhiredis-dev): RESP command formatting and reply parsing for the Redis engine.
        .systemLibrary(
            name: "CHiredis",
            path: "Sources/CHiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        // The broker: config, node, hub, sessions, engines, auth, transports, server API.
        .target(
            name: "Broker",
            dependencies: [
                "BrokerProtocol",
                "BrokerProxyGRPC",
                "BrokerAPIGRPC",
                "CHiredis",
                "SecretPolicy",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCertificateReloading", package: "swift-nio-extras"),
            ],
            path: "Sources/Broker",
            swiftSettings: strict
        ),
        // Typed gRPC client for Centrifugo's proxy service (grpc:// proxy endpoints), over code
        // generated once from Proto/proxy.proto (see its header).
        .target(
            name: "BrokerProxyGRPC",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Sources/ProxyGRPC",
            exclude: ["Proto"],
            swiftSettings: strict
        ),
        // Centrifugo's `CentrifugoApi` gRPC service (the server API over gRPC): messages and service
        // stubs generated once from Proto/api.proto (see its header). The service itself is in Broker.
        .target(
            name: "BrokerAPIGRPC",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Sources/APIGRPC",
            exclude: ["Proto"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ProxyGRPCTests",
            dependencies: [
                "BrokerProxyGRPC",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/ProxyGRPCTests",
            swiftSettings: strict
        ),
        // Thin executable: parses the command line and calls into Broker.
        .executableTarget(
            name: "BrokerCommand",
            dependencies: [
                "Broker",
                "BrokerProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/BrokerCommand",
            swiftSettings: strict
        ),
        // libFuzzer target for the decoders of untrusted input (scripts/fuzz.sh); a corpus replayer otherwise.
        .executableTarget(
            name: "ProtocolFuzz",
            dependencies: ["BrokerProtocol"],
            path: "Sources/ProtocolFuzz",
            swiftSettings: strict
        ),
        .testTarget(
            name: "ProtocolTests",
            dependencies: ["BrokerProtocol"],
            path: "Tests/ProtocolTests",
            swiftSettings: strict
        ),
        .testTarget(
            name: "BrokerTests",
            dependencies: [
                "Broker",
                "BrokerAPIGRPC",
                "BrokerProtocol",
                "CHiredis",
                "SecretPolicy",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            path: "Tests/BrokerTests",
            swiftSettings: strict
        ),
        // The Scrumble REST API (workspaces, check-ins, feed, comments, reactions, to-dos) on PostgreSQL,
        // publishing through the broker's server API from a transactional outbox.
        .target(
            name: "Facade",
            dependencies: [
                "SecretPolicy",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Facade",
            resources: [
                .copy("Migrations"),
                .copy("OpenAPI/openapi.json"),
            ],
            swiftSettings: strict
        ),
        // Thin executable: `facade serve` / `facade migrate`.
        .executableTarget(
            name: "FacadeCommand",
            dependencies: [
                "Facade",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Sources/FacadeCommand",
            swiftSettings: strict
        ),
        .testTarget(
            name: "FacadeTests",
            dependencies: [
                "Facade",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/FacadeTests",
            swiftSettings: strict
        ),
        // Load generator: WebSocket subscribers and HTTP-API publishers on raw SwiftNIO handlers, for any
        // Centrifugo-compatible server and for nchan (scripts/bench.sh compares them in one run).
        .executableTarget(
            name: "BrokerBench",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Atomics", package: "swift-atomics"),
            ],
            path: "Sources/BrokerBench",
            swiftSettings: strict
        ),
    ]
)
