import Basics

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

    /// The error document `{"error":{"code":…,"message":…,"details":[…]}}` (DESIGN.md §3);
    /// `details` is omitted when empty.
    public static func jsonError(
        status: Int, code: String, message: String, details: [HTTPErrorDetail] = [], headers: HTTPHeaders = .init()
    ) -> HTTPResponse {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64 + code.utf8.count + message.utf8.count)
        bytes.append(contentsOf: #"{"error":{"code":"#.utf8)
        JSONEscaping.appendQuoted(code, to: &bytes)
        bytes.append(contentsOf: #","message":"#.utf8)
        JSONEscaping.appendQuoted(message, to: &bytes)
        if !details.isEmpty {
            bytes.append(contentsOf: #","details":["#.utf8)
            for (position, detail) in details.enumerated() {
                if position > 0 { bytes.append(ASCII.comma) }
                detail.appendJSON(to: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        }
        bytes.append(contentsOf: "}}".utf8)
        return json(status, bytes: bytes, headers: headers)
    }

    /// A plain-text response, `Content-Type: text/plain; charset=utf-8`.
    public static func text(_ status: Int, _ body: String, headers: HTTPHeaders = .init()) -> HTTPResponse {
        var allHeaders = headers
        if !allHeaders.contains("Content-Type") { allHeaders.add("Content-Type", "text/plain; charset=utf-8") }
        return HTTPResponse(status: status, headers: allHeaders, body: Array(body.utf8))
    }

    /// The response for a parse error: a JSON error with the parse error's status and message,
    /// `Connection: close` implied by serializing with `keepAlive: false`.
    public static func parseError(_ error: HTTPParseError) -> HTTPResponse {
        let code: String
        switch error.status {
        case 413: code = "too_large"
        case 431: code = "header_too_large"
        case 501: code = "not_implemented"
        case 505: code = "version_not_supported"
        default: code = "bad_request"
        }
        return jsonError(status: error.status, code: code, message: error.message)
    }
}

/// One entry of an error document's `details`: `{"index":0,"field":"amount","reason":"…"}`.
public struct HTTPErrorDetail: Sendable, Equatable {
    /// The position of the offending item in a batch, if any.
    public var index: Int?
    /// The offending field, if any.
    public var field: String?
    /// What is wrong.
    public var reason: String

    /// Creates a detail.
    public init(index: Int? = nil, field: String? = nil, reason: String) {
        self.index = index
        self.field = field
        self.reason = reason
    }

    func appendJSON(to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "{"))
        if let index {
            bytes.append(contentsOf: #""index":"#.utf8)
            bytes.append(contentsOf: String(index).utf8)
            bytes.append(ASCII.comma)
        }
        if let field {
            bytes.append(contentsOf: #""field":"#.utf8)
            JSONEscaping.appendQuoted(field, to: &bytes)
            bytes.append(ASCII.comma)
        }
        bytes.append(contentsOf: #""reason":"#.utf8)
        JSONEscaping.appendQuoted(reason, to: &bytes)
        bytes.append(UInt8(ascii: "}"))
    }
}
