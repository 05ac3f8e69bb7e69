/// A loopback TCP address the load test may target (DESIGN.md §6 and the workplace rule: load
/// tests send traffic only to 127.0.0.0/8).
public struct Endpoint: Sendable, Equatable, CustomStringConvertible {
    /// Dotted IPv4 address inside 127.0.0.0/8.
    public var host: String
    /// TCP port.
    public var port: Int

    /// Creates an endpoint; throws unless `host` is a loopback IPv4 address (or `localhost`).
    public init(host: String, port: Int) throws(LoadTestError) {
        let name = host == "localhost" ? "127.0.0.1" : host
        guard Self.isLoopback(name) else {
            throw LoadTestError("refusing non-loopback target \(host): only 127.0.0.0/8 may be load-tested")
        }
        guard (1...65_535).contains(port) else { throw LoadTestError("bad port \(port)") }
        self.host = name
        self.port = port
    }

    /// `host:port`, also the `Host` header value.
    public var description: String { "\(host):\(port)" }

    /// Whether `host` is a dotted-quad address in 127.0.0.0/8.
    public static func isLoopback(_ host: String) -> Bool {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        let numbers = parts.compactMap { part in part.count <= 3 ? UInt8(part) : nil }
        return numbers.count == 4 && numbers[0] == 127
    }

    /// Parses `http://`, `ws://` or a bare `host:port` URL into an endpoint and a request target
    /// (the path and query; `/` when none).
    public static func parse(url: String) throws(LoadTestError) -> (endpoint: Endpoint, target: String) {
        var rest = Substring(url)
        for scheme in ["http://", "ws://"] where rest.hasPrefix(scheme) {
            rest = rest.dropFirst(scheme.count)
        }
        if rest.hasPrefix("https://") || rest.hasPrefix("wss://") {
            throw LoadTestError("TLS targets are not supported: \(url)")
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        let target = slash == rest.endIndex ? "/" : String(rest[slash...])
        guard let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...]) else {
            throw LoadTestError("URL needs an explicit port: \(url)")
        }
        return (try Endpoint(host: String(authority[..<colon]), port: port), target)
    }
}

/// A load-test failure with a message for the terminal.
public struct LoadTestError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
