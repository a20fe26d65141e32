// swift-tools-version: 6.1
import PackageDescription

// The HTTP core runs on epoll and eventfd: the gateway builds and runs on Linux only.
#if !os(Linux)
#error("krea-gateway runs on Linux only: its HTTP core uses epoll")
#endif

/// Every target: Swift 6 language mode (strict concurrency) and `any` spelled out for existentials.
let strictSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "krea-gateway",
    products: [
        .executable(name: "krea-gateway", targets: ["krea-gateway"]),
        .library(name: "HTTPServer", targets: ["HTTPServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/vapor/sqlite-nio", from: "1.13.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // Our own HTTP/1.1 server: POSIX sockets and epoll (one thread per event loop), no
        // package dependency. CEpoll exposes the epoll/eventfd headers Glibc does not.
        .target(name: "CEpoll"),
        // A min-heap of deadlines: the HTTP loops' timers and the gateway's poll and wait schedules.
        .target(name: "Deadlines", swiftSettings: strictSettings),
        // The system zlib (zlib1g-dev): gzip responses and inflated request bodies.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // The system OpenSSL 3 (libssl-dev): TLS on the HTTP core's sockets.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .target(name: "HTTPServer", dependencies: ["CEpoll", "Deadlines", "CZlib", "COpenSSL"], swiftSettings: strictSettings),
        // Vocabulary (Money, ids, requests, jobs, errors), configuration loading, billing.
        .target(
            name: "GatewayCore",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: strictSettings
        ),
        // Provider adapters: one folder per provider (Krea/, Evolink/), over AsyncHTTPClient.
        .target(
            name: "Providers",
            dependencies: [
                "GatewayCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strictSettings
        ),
        // Caller webhooks: Standard Webhooks signing, URL policy, delivery.
        .target(
            name: "Webhooks",
            dependencies: [
                "GatewayCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        // The durable record: a store protocol, SQLite (WAL, group commit) and in-memory.
        .target(
            name: "Storage",
            dependencies: ["GatewayCore", .product(name: "SQLiteNIO", package: "sqlite-nio")],
            swiftSettings: strictSettings
        ),
        // Fake Krea and Evolink servers that speak PROVIDERS.md, for tests, the demo and benchmarks.
        .target(name: "ProviderSimulators", dependencies: ["HTTPServer", "GatewayCore"], swiftSettings: strictSettings),
        // The composition root: routes, auth, job tracking, front doors.
        .target(
            name: "GatewayApp",
            dependencies: [
                "HTTPServer", "GatewayCore", "Providers", "Webhooks", "Storage", "Deadlines",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            // Served at /openapi.json from inside the binary (nothing to deploy beside it).
            resources: [.embedInCode("Resources/openapi.json")],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "krea-gateway",
            dependencies: [
                "GatewayApp", "GatewayCore", "HTTPServer", "ProviderSimulators", "Providers",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Fuzz targets (Tests/Fuzz/run builds them with libFuzzer); a normal build makes corpus replayers.
        .target(name: "FuzzSupport", path: "Tests/Fuzz/Support", swiftSettings: strictSettings),
        .executableTarget(name: "FuzzHTTPParser", dependencies: ["HTTPServer", "FuzzSupport"], path: "Tests/Fuzz/HTTPParser", swiftSettings: strictSettings),
        .executableTarget(name: "FuzzInflater", dependencies: ["HTTPServer", "FuzzSupport"], path: "Tests/Fuzz/Inflater", swiftSettings: strictSettings),
        .executableTarget(name: "FuzzConfigLoader", dependencies: ["GatewayCore", "FuzzSupport"], path: "Tests/Fuzz/ConfigLoader", swiftSettings: strictSettings),
        .executableTarget(
            name: "FuzzGenerationRequest", dependencies: ["GatewayCore", "FuzzSupport"], path: "Tests/Fuzz/GenerationRequest",
            swiftSettings: strictSettings),
        // What several test targets share: a clock that moves only when a test says so.
        .target(name: "GatewayTestSupport", dependencies: ["GatewayCore"], path: "Tests/Support", swiftSettings: strictSettings),
        .testTarget(name: "DeadlinesTests", dependencies: ["Deadlines"], swiftSettings: strictSettings),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "CZlib"], swiftSettings: strictSettings),
        .testTarget(name: "GatewayCoreTests", dependencies: ["GatewayCore", "GatewayTestSupport"], swiftSettings: strictSettings),
        .testTarget(name: "ProvidersTests", dependencies: ["Providers", "GatewayCore", "HTTPServer"], resources: [.copy("Fixtures")], swiftSettings: strictSettings),
        .testTarget(
            name: "WebhooksTests",
            dependencies: ["Webhooks", "GatewayCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "GatewayCore"], swiftSettings: strictSettings),
        .testTarget(name: "ProviderSimulatorsTests", dependencies: ["ProviderSimulators", "HTTPServer"], swiftSettings: strictSettings),
        .testTarget(
            name: "GatewayAppTests",
            dependencies: [
                "GatewayApp", "GatewayCore", "HTTPServer", "Providers", "ProviderSimulators", "Storage", "Webhooks", "GatewayTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)
