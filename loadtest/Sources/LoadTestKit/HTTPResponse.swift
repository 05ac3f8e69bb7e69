/// One parsed HTTP response.
public struct HTTPResponse: Equatable, Sendable {
    /// The status code.
    public var status: Int
    /// The reason phrase.
    public var reason: String
    /// 1 for HTTP/1.1, 0 for HTTP/1.0.
    public var versionMinor: Int
    /// Header fields in order.
    public var headers: [(name: String, value: String)]
    /// The body (de-chunked).
    public var body: [UInt8]

    /// The first value of a header field, matched case-insensitively.
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name.lowercased() == lowered }?.value
    }

    /// Whether the connection stays open after this response (RFC 9112 §9.3).
    public var keepsAlive: Bool {
        let connection = header("Connection")?.lowercased() ?? ""
        if versionMinor == 0 { return connection.contains("keep-alive") }
        return !connection.contains("close")
    }

    public static func == (left: HTTPResponse, right: HTTPResponse) -> Bool {
        left.status == right.status && left.reason == right.reason && left.versionMinor == right.versionMinor
            && left.body == right.body && left.headers.map(\.name) == right.headers.map(\.name)
            && left.headers.map(\.value) == right.headers.map(\.value)
    }
}
