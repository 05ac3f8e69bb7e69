import COpenSSL

/// Why a TLS connection failed: a coarse reason for the metric label plus OpenSSL's text.
public struct TLSFailure: Error, Sendable {
    /// The `reason` label of `syndicast_tls_handshake_failures_total`.
    public enum Reason: String, CaseIterable, Sendable {
        /// The client offered only protocol versions below TLS 1.2 (or none we speak).
        case protocolVersion = "protocol_version"
        /// No cipher suite in common.
        case noSharedCipher = "no_shared_cipher"
        /// Plain HTTP (or other non-TLS bytes) sent to the TLS port.
        case notTLS = "not_tls"
        /// The handshake did not finish within `--tls-handshake-timeout`.
        case timeout
        /// The peer closed the connection during the handshake.
        case eof
        /// Anything else (bad record, alert from the client, certificate refused by the client).
        case other
    }

    public let reason: Reason
    /// OpenSSL's error strings, for the log.
    public let detail: String

    public init(reason: Reason, detail: String) {
        self.reason = reason
        self.detail = detail
    }

    /// The failure the thread's OpenSSL error queue describes (the queue is left empty).
    static func fromErrorQueue() -> TLSFailure {
        let code = ERR_peek_error()
        let detail = openSSLErrors().joined(separator: "; ")
        let reason: Reason
        switch Int32(ERR_GET_REASON(code)) {
        case SSL_R_UNSUPPORTED_PROTOCOL, SSL_R_VERSION_TOO_LOW, SSL_R_NO_PROTOCOLS_AVAILABLE: reason = .protocolVersion
        case SSL_R_NO_SHARED_CIPHER: reason = .noSharedCipher
        case SSL_R_HTTP_REQUEST, SSL_R_WRONG_VERSION_NUMBER, SSL_R_PACKET_LENGTH_TOO_LONG, SSL_R_RECORD_LENGTH_MISMATCH:
            reason = .notTLS
        case SSL_R_UNEXPECTED_EOF_WHILE_READING: reason = .eof
        default: reason = code == 0 ? .eof : .other
        }
        return TLSFailure(reason: reason, detail: detail.isEmpty ? reason.rawValue : detail)
    }
}
