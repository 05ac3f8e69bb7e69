/// A response to serialize with ``HTTPResponseWriter``.
public struct HTTPResponse: Sendable {
    /// The status code.
    public var status: Int
    /// Header fields; `Date`, `Server`, `Content-Length` and `Connection: close` are added by
    /// the writer unless present.
    public var headers: HTTPHeaders
    /// The content.
    public var body: [UInt8]

    /// Creates a response.
    public init(status: Int, headers: HTTPHeaders = .init(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response: `body` is already-encoded JSON text; `Content-Type: application/json`.
    public static func json(_ status: Int, _ body: String, headers: HTTPHeaders = .init()) -> HTTPResponse {
        json(status, bytes: Array(body.utf8), headers: headers)
    }

    /// A JSON response from already-encoded bytes.
    public static func json(_ status: Int, bytes: [UInt8], headers: HTTPHeaders = .init()) -> HTTPResponse {
        // The common case shares one header list instead of allocating a new one per response.
        if headers.isEmpty { return HTTPResponse(status: status, headers: jsonHeaders, body: bytes) }
        var allHeaders = headers
        if !allHeaders.contains("Content-Type") { allHeaders.add("Content-Type", "application/json") }
        return HTTPResponse(status: status, headers: allHeaders, body: bytes)
    }

    private static let jsonHeaders: HTTPHeaders = ["Content-Type": "application/json"]

    /// A plain-text response, `Content-Type: text/plain; charset=utf-8`.
    public static func text(_ status: Int, _ body: String, headers: HTTPHeaders = .init()) -> HTTPResponse {
        var allHeaders = headers
        if !allHeaders.contains("Content-Type") { allHeaders.add("Content-Type", "text/plain; charset=utf-8") }
        return HTTPResponse(status: status, headers: allHeaders, body: Array(body.utf8))
    }
}
