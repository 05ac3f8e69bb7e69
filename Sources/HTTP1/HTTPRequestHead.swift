/// The request line and header section of a request (RFC 9112 §3, §5).
public struct HTTPRequestHead: Sendable {
    /// The method token, case-sensitive (RFC 9110 §9.1), e.g. `GET`.
    public var method: String
    /// The raw request-target as received (RFC 9112 §3.2).
    public var target: String
    /// The target's path, raw (not percent-decoded); see ``decodedPath``.
    ///
    /// For origin-form this is the target up to `?`; for absolute-form the path after the
    /// authority (`/` when empty); for asterisk-form `*`; for authority-form the whole target.
    public var path: String
    /// The raw query after the first `?`, or nil when there is none.
    public var query: String?
    /// The protocol version from the request line.
    public var version: HTTPVersion
    /// The header fields in order.
    public var headers: HTTPHeaders
    /// Whether the connection stays open after this request (RFC 9112 §9.3).
    ///
    /// "If the received protocol is HTTP/1.1 (or later), the connection will persist after the
    /// current response" unless the "close" connection option is present; an HTTP/1.0 connection
    /// persists only when the "keep-alive" connection option is present.
    public var keepAlive: Bool
    /// Whether the client asks to switch protocols: `Upgrade` is present and `Connection` lists
    /// `upgrade` (RFC 9110 §7.8). Always false for HTTP/1.0, whose Upgrade a server "MUST ignore".
    public var isUpgradeRequest: Bool

    /// Creates a head and derives `path`, `query`, `keepAlive` and `isUpgradeRequest`.
    public init(method: String, target: String, version: HTTPVersion = .http1_1, headers: HTTPHeaders = .init()) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        (path, query) = Self.split(target: target)
        let close = headers.containsToken("close", in: "Connection")
        if version.isAtLeastHTTP1_1 {
            keepAlive = !close
            isUpgradeRequest = headers.contains("Upgrade") && headers.containsToken("upgrade", in: "Connection")
        } else {
            keepAlive = !close && headers.containsToken("keep-alive", in: "Connection")
            isUpgradeRequest = false
        }
    }

    /// Memberwise initializer used by the parser, which already knows every derived value.
    init(
        method: String, target: String, path: String, query: String?, version: HTTPVersion,
        headers: HTTPHeaders, keepAlive: Bool, isUpgradeRequest: Bool
    ) {
        self.method = method
        self.target = target
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.keepAlive = keepAlive
        self.isUpgradeRequest = isUpgradeRequest
    }

    /// The path with `%XX` escapes decoded, or nil for a malformed escape or invalid UTF-8.
    ///
    /// `+` is left alone (it means space only in form-encoded queries).
    public var decodedPath: String? {
        PercentDecoding.decode(path, plusAsSpace: false)
    }

    /// The query as form-decoded `(name, value)` pairs: `&`-separated, split at the first `=`,
    /// `+` as space and `%XX` decoded (WHATWG `application/x-www-form-urlencoded`).
    ///
    /// Empty elements are skipped; an element whose escapes do not decode is kept raw.
    public func queryItems() -> [(name: String, value: String)] {
        guard let query, !query.isEmpty else { return [] }
        var items: [(name: String, value: String)] = []
        for element in query.split(separator: "&", omittingEmptySubsequences: true) {
            let name: Substring
            let value: Substring
            if let equals = element.firstIndex(of: "=") {
                name = element[..<equals]
                value = element[element.index(after: equals)...]
            } else {
                name = element
                value = ""
            }
            items.append(
                (
                    name: PercentDecoding.decode(String(name), plusAsSpace: true) ?? String(name),
                    value: PercentDecoding.decode(String(value), plusAsSpace: true) ?? String(value)
                ))
        }
        return items
    }

    /// The first query item called `name`, decoded.
    public func queryItem(_ name: String) -> String? {
        queryItems().first { $0.name == name }?.value
    }

    /// Splits a request-target into path and query according to its form (RFC 9112 §3.2).
    static func split(target: String) -> (path: String, query: String?) {
        var remainder = Substring(target)
        if !remainder.hasPrefix("/"), let schemeEnd = remainder.firstRange(of: "://") {
            // absolute-form: skip scheme and authority.
            let afterScheme = remainder[schemeEnd.upperBound...]
            if let pathStart = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }) {
                remainder = afterScheme[pathStart...]
            } else {
                return ("/", nil)
            }
        }
        guard let questionMark = remainder.firstIndex(of: "?") else {
            return (remainder.isEmpty ? "/" : String(remainder), nil)
        }
        let path = remainder[..<questionMark]
        return (path.isEmpty ? "/" : String(path), String(remainder[remainder.index(after: questionMark)...]))
    }
}

/// A complete request: head and (de-chunked) body.
public struct HTTPRequest: Sendable {
    /// The request line and headers.
    public var head: HTTPRequestHead
    /// The message body, with any chunked transfer coding removed.
    public var body: [UInt8]

    /// Creates a request.
    public init(head: HTTPRequestHead, body: [UInt8] = []) {
        self.head = head
        self.body = body
    }
}
