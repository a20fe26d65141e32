// swift-tools-version: 6.1
// Hummingbird 2 "hello" server used only as a comparison point by Benchmarks/http-server.sh.
// Separate package so the gateway itself never depends on Hummingbird/SwiftNIO.
import PackageDescription

let package = Package(
    name: "hummingbird-hello",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "hummingbird-hello",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
