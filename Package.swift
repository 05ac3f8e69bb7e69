// swift-tools-version: 6.1
import PackageDescription

/// Syndicast: a realtime notification server for investment transactions.
/// One target per layer; imports only point down (see DESIGN.md §2).
let package = Package(
    name: "Syndicast",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "syndicast", targets: ["syndicast"]),
        .library(name: "Reactor", targets: ["Reactor"]),
        .library(name: "HTTP1", targets: ["HTTP1"]),
        .library(name: "WebSocket", targets: ["WebSocket"]),
        .library(name: "Monitor", targets: ["Monitor"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        // 1.16.2: the first release with `LogHandler.log(event:)` (the older entry point is deprecated).
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
    ],
    targets: [
        // C shims and system libraries.
        .target(name: "CLinux"),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),

        // Layers.
        .target(name: "Basics"),
        .target(name: "TLS", dependencies: ["COpenSSL"]),
        .target(name: "Reactor", dependencies: ["Basics", "CLinux", "TLS"]),
        .target(name: "HTTP1", dependencies: ["Basics"]),
        .target(name: "WebSocket", dependencies: ["Basics", "COpenSSL", "CZlib"]),
        .target(name: "Monitor", dependencies: ["Basics"]),
        .target(name: "Journal", dependencies: ["Basics", "CSQLite", "Monitor"]),
        .target(name: "Broker", dependencies: ["Basics", "CLinux", "Monitor"]),
        .target(name: "Redis", dependencies: ["Basics", "CLinux", "COpenSSL", "Reactor"]),
        // Cluster mode on Redis: the shared log (ingest.lua embedded, the one copy of the script).
        .target(
            name: "Cluster", dependencies: ["Basics", "Monitor", "Journal", "Broker", "Redis"],
            resources: [.embedInCode("ingest.lua")]),
        .target(
            name: "SyndicastServer",
            dependencies: [
                "COpenSSL",
                "Basics", "CLinux", "Reactor", "HTTP1", "WebSocket", "Monitor", "Journal", "Broker", "TLS", "Redis", "Cluster",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "syndicast",
            dependencies: [
                "Basics", "SyndicastServer", "Broker", "Journal", "Monitor", "Redis", "Cluster",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Micro-benchmarks of the hot paths (loadtest/micro; run with swift run -c release).
        .executableTarget(
            name: "syndicast-microbench",
            dependencies: ["Basics", "HTTP1", "WebSocket", "Monitor", "Journal", "Broker", "Redis", "Cluster"],
            path: "loadtest/micro"
        ),

        // Tests mirror the targets.
        // Shared by the unit test targets: the seeded random generator their randomised cases use.
        .target(name: "SeededRandom", path: "Tests/SeededRandom"),
        // Shared by RedisTests and ClusterTests: a private redis-server on a free loopback port.
        .target(name: "RedisTestSupport", path: "Tests/RedisTestSupport"),
        .testTarget(name: "BasicsTests", dependencies: ["Basics", "SeededRandom"]),
        .testTarget(name: "ReactorTests", dependencies: ["Reactor", "Basics"]),
        .testTarget(name: "TLSTests", dependencies: ["TLS", "COpenSSL"]),
        .testTarget(name: "HTTP1Tests", dependencies: ["Basics", "HTTP1", "SeededRandom"]),
        .testTarget(name: "WebSocketTests", dependencies: ["Basics", "WebSocket", "SeededRandom"]),
        .testTarget(
            name: "MonitorTests",
            dependencies: ["Basics", "Monitor", "SeededRandom", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(name: "JournalTests", dependencies: ["Journal", "CSQLite", "SeededRandom"]),
        .target(name: "SharedLogConformance", dependencies: ["Basics", "Broker", "Monitor"], path: "Tests/SharedLogConformance"),
        .testTarget(name: "BrokerTests", dependencies: ["Broker", "Basics", "Journal", "SeededRandom", "SharedLogConformance"]),
        .testTarget(name: "RedisTests", dependencies: ["Redis", "Reactor", "Basics", "SeededRandom", "RedisTestSupport"]),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster", "Redis", "Broker", "Monitor", "Journal", "Basics", "SharedLogConformance", "RedisTestSupport"]),
        .testTarget(
            name: "SyndicastServerTests",
            dependencies: ["Basics", "SyndicastServer", .product(name: "Prometheus", package: "swift-prometheus")]
        ),
        .testTarget(
            name: "SyndicastCommandTests",
            dependencies: ["syndicast", "SyndicastServer", .product(name: "Logging", package: "swift-log")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
