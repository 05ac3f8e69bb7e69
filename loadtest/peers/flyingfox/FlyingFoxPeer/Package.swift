// swift-tools-version: 6.0
// Peer server for Syndicast's side-by-side benchmarks: FlyingFox WebSocket broadcast.
// A standalone package: it is never linked into the Syndicast server.
import PackageDescription

let package = Package(
    name: "FlyingFoxPeer",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.20.0"),
    ],
    targets: [
        .executableTarget(
            name: "FlyingFoxPeer",
            dependencies: [.product(name: "FlyingFox", package: "FlyingFox")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
