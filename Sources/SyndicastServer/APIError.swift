import Basics
import HTTP1
import Monitor

/// An error the HTTP API answers with: a status, a machine-readable code, a sentence for people,
/// field-level details, and the header fields the status calls for (`Allow`, `WWW-Authenticate`,
/// `Retry-After`, `Upgrade`).
///
/// ``response`` is the one place an error becomes bytes (DESIGN.md §3):
/// `{"error":{"code":…,"message":…,"details":[{"index":0,"line":1,"field":"amount","reason":…}]}}`,
/// `details` omitted when empty and `line` only for NDJSON bodies. Every endpoint, the admission
/// checks and the broker's refusals go through it; the cases are in `APIError+Catalog.swift`.
struct APIError: Error, Sendable, Equatable {
    /// The HTTP status code.
    var status: Int
    /// The machine-readable class (`"invalid_fields"`, `"conflict"`, …).
    var code: String
    /// One sentence for people.
    var message: String
    /// Field-level problems, in request order.
    var details: [TransactionValidationError.Detail]
    /// Header fields sent with the error, in order.
    var headers: [Field]

    /// One header field of an error response.
    struct Field: Sendable, Equatable {
        var name: String
        var value: String
    }

    init(status: Int, code: String, message: String, details: [TransactionValidationError.Detail] = [], headers: [Field] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers
    }

    /// The error with one more header field.
    func adding(_ name: String, _ value: String) -> APIError {
        var copy = self
        copy.headers.append(Field(name: name, value: value))
        return copy
    }

    /// The error document's bytes.
    var body: [UInt8] {
        var writer = JSONWriter(capacity: 64 + code.utf8.count + message.utf8.count + details.count * 64)
        writer.appendRaw("{\"error\":{\"code\":")
        writer.appendString(code)
        writer.appendRaw(",\"message\":")
        writer.appendString(message)
        if !details.isEmpty {
            writer.appendRaw(",\"details\":")
            writer.appendArray(details)
        }
        writer.appendRaw("}}")
        return writer.bytes
    }

    /// The HTTP response: the status, `Content-Type: application/json`, the header fields and
    /// ``body``.
    var response: HTTPResponse {
        guard !headers.isEmpty else { return .json(status, bytes: body) }
        return .json(status, bytes: body, headers: HTTPHeaders(headers.map { ($0.name, $0.value) }))
    }
}
