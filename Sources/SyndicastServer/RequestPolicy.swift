import HTTP1

/// Who may talk to the server, decided from a request head: the `Host` it names, the `Origin` a
/// browser attaches, and the API key (DESIGN.md §6 "Secure by default for browsers").
///
/// - `Host` must name this server: the bound address, `localhost` and the
///   loopback literals when bound to loopback, any IP literal when bound to a wildcard address, or
///   a configured name (`--allowed-host`, and the hosts of `--allowed-origin`). A DNS-rebinding
///   page reaches the server under its own domain name and is refused here.
/// - `Origin`, when present, must be the server's own (`http://` or `https://` plus the request's accepted
///   `Host`) or a configured `--allowed-origin`. Clients that send no `Origin` (curl, wscat,
///   programs) pass; a browser always sends one on cross-origin requests and WebSocket handshakes.
/// - API keys (``APIKeyStore``) are compared in constant time, so the time of a refusal does not
///   leak how much of a key was right; each has scopes (``APIKeyScopes``), and a write needs its
///   route's (``Route/requiredScope``).
struct RequestPolicy: Sendable {
    /// Lower-cased host names accepted in `Host` (its port is not compared: a proxy in front may
    /// listen on another one, and a rebinding page is told apart by its name).
    private let hosts: Set<String>
    /// Whether any IP literal is accepted as `Host` (bound to a wildcard address).
    private let acceptsAnyAddress: Bool
    /// Lower-cased origins allowed besides the server's own.
    private let origins: Set<String>
    /// Accepted bearer keys and their scopes; none configured means no authentication.
    let keys: APIKeyStore

    /// `apiKeys` (`--api-key`) have every scope; the keys of `apiKeyFile` are installed by
    /// ``APIKeyStore/install(_:)`` or ``APIKeyStore/reload()``.
    init(host: String, allowedHosts: [String], allowedOrigins: [String], apiKeys: [String], apiKeyFile: String? = nil) {
        var names = Set(allowedHosts.map { $0.lowercased() })
        for origin in allowedOrigins {
            // scheme "://" authority: the authority is a name clients use for this server.
            if let range = origin.range(of: "://") { names.insert(String(origin[range.upperBound...]).lowercased()) }
        }
        let bound = host.lowercased()
        acceptsAnyAddress = bound == "0.0.0.0" || bound == "::" || bound == "[::]"
        if Self.isLoopback(bound) {
            names.formUnion(["localhost", "127.0.0.1", "[::1]"])
        }
        names.insert(bound.contains(":") && !bound.hasPrefix("[") ? "[\(bound)]" : bound)
        self.hosts = Set(names.map { Self.splitPort($0).name })
        self.origins = Set(allowedOrigins.map { $0.lowercased() })
        self.keys = APIKeyStore(flagKeys: apiKeys, filePath: apiKeyFile)
    }

    /// Whether keys are required at all.
    var requiresKey: Bool { keys.requiresKey }

    /// Whether `host` (lower-cased) is a loopback address or `localhost`.
    static func isLoopback(_ host: String) -> Bool {
        host.hasPrefix("127.") || host == "::1" || host == "[::1]" || host == "localhost"
    }

    /// Whether `Host` names this server. A request without `Host` passes only when it is HTTP/1.0
    /// (the parser already answers an HTTP/1.1 request without one with 400).
    func acceptsHost(_ head: HTTPRequestHead) -> Bool {
        guard let value = head.headers["Host"] else { return true }
        let name = Self.splitPort(value.lowercased()).name
        return hosts.contains(name) || (acceptsAnyAddress && Self.isAddressLiteral(name))
    }

    /// Whether the request's `Origin` (if any) is the server's own or allowed.
    func acceptsOrigin(_ head: HTTPRequestHead) -> Bool {
        guard let value = head.headers["Origin"] else { return true }
        let origin = value.lowercased()
        if origins.contains(origin) { return true }
        guard let host = head.headers["Host"] else { return false }
        return origin == "http://" + host.lowercased() || origin == "https://" + host.lowercased()
    }

    /// Whether the request carries an accepted key, whatever its scopes (always true when no
    /// keys are configured).
    func isAuthorized(_ head: HTTPRequestHead) -> Bool {
        authorization(head, needs: []) == .allowed
    }

    /// Whether the request's key may do what `needed` names: allowed (or no keys configured),
    /// no accepted key (401), or an accepted key without the scope (403).
    func authorization(_ head: HTTPRequestHead, needs needed: APIKeyScopes) -> KeyAuthorization {
        guard requiresKey else { return .allowed }
        guard let presented = Self.bearerCredentials(head), let granted = keys.scopes(of: presented) else {
            return .unauthorized
        }
        return granted.permits(needed) ? .allowed : .insufficientScope
    }

    /// The bytes after `Bearer` in `Authorization`, trimmed of blanks, or nil.
    static func bearerCredentials(_ head: HTTPRequestHead) -> ArraySlice<UInt8>? {
        guard let value = head.headers["Authorization"] else { return nil }
        let bytes = Array(value.utf8)
        // RFC 9110 §11.1: the scheme is case-insensitive; one or more spaces follow it.
        guard bytes.count > 7, String(decoding: bytes[0..<6], as: UTF8.self).lowercased() == "bearer", bytes[6] == 0x20
        else { return nil }
        var start = 7
        var end = bytes.count
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        return bytes[start..<end]
    }

    /// Compares a key with presented bytes in time that depends on the key's length only.
    static func constantTimeEquals(_ key: [UInt8], _ presented: ArraySlice<UInt8>) -> Bool {
        var difference: UInt8 = key.count == presented.count ? 0 : 1
        var index = presented.startIndex
        for byte in key {
            let other = index < presented.endIndex ? presented[index] : 0
            difference |= byte ^ other
            if index < presented.endIndex { index += 1 }
        }
        return difference == 0
    }

    /// Checks configured keys: none may be empty or all white space.
    static func validateKeys(_ keys: [String]) -> String? {
        for key in keys where key.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }) {
            return "an API key must not be empty or white space"
        }
        for key in keys where key.utf8.contains(where: { $0 < 0x21 || $0 > 0x7E }) {
            return "an API key must be printable ASCII without spaces (it travels in an Authorization header)"
        }
        return nil
    }

    /// `name[:port]` split at the port colon (IPv6 literals are bracketed).
    static func splitPort(_ host: String) -> (name: String, port: Int?) {
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return (host, nil) }
            let name = String(host[...close])
            let rest = host[host.index(after: close)...]
            if rest.hasPrefix(":"), let port = Int(rest.dropFirst()) { return (name, port) }
            return (name, nil)
        }
        if let colon = host.lastIndex(of: ":"), let port = Int(host[host.index(after: colon)...]) {
            return (String(host[..<colon]), port)
        }
        return (host, nil)
    }

    /// Whether `name` is an IPv4 dotted quad or a bracketed IPv6 literal.
    static func isAddressLiteral(_ name: String) -> Bool {
        if name.hasPrefix("[") && name.hasSuffix("]") {
            return name.dropFirst().dropLast().allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
        }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in part.count <= 3 && (UInt8(part) != nil) }
    }
}

/// What ``RequestPolicy/authorization(_:needs:)`` concluded.
enum KeyAuthorization: Equatable {
    case allowed
    /// No key, or not an accepted one: 401.
    case unauthorized
    /// An accepted key without the route's scope: 403.
    case insufficientScope
}
