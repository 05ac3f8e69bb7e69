import COpenSSL

/// A TLS context could not be built (bad certificate or key file), with OpenSSL's reasons.
public struct TLSError: Error, CustomStringConvertible, Sendable {
    /// What was being done and OpenSSL's error strings.
    public let description: String

    public init(_ description: String) {
        self.description = description
    }

    /// An error for `what`, taking (and clearing) this thread's OpenSSL error queue.
    static func drain(_ what: String) -> TLSError {
        let reasons = openSSLErrors()
        return TLSError(reasons.isEmpty ? what : "\(what): \(reasons.joined(separator: "; "))")
    }
}

/// Takes every entry of this thread's OpenSSL error queue as text (the queue is left empty).
func openSSLErrors() -> [String] {
    var reasons: [String] = []
    while true {
        let code = ERR_get_error()
        if code == 0 { break }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        reasons.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    return reasons
}
