// swift-tools-version: 6.1
import PackageDescription

/// Syndicast's load generator: fan-out, broadcast, ingest, connection and mixed scenarios against
/// our server and peer servers, built on Syndicast's own Reactor (see README.md).
let package = Package(
    name: "syndicast-loadtest",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "syndicast-loadtest", targets: ["syndicast-loadtest"])
    ],
    dependencies: [
        .package(name: "Syndicast", path: ".."),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(
            name: "LoadTestKit",
            dependencies: [
                .product(name: "Reactor", package: "Syndicast"),
                .product(name: "HTTP1", package: "Syndicast"),
                .product(name: "WebSocket", package: "Syndicast"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .executableTarget(
            name: "syndicast-loadtest",
            dependencies: [
                "LoadTestKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "LoadTestKitTests", dependencies: ["LoadTestKit"]),
    ],
    swiftLanguageModes: [.v6]
)
