import COpenSSL

/// A server `SSL_CTX`: certificate chain and key, TLS 1.2 minimum, ALPN `http/1.1`, a session
/// cache with a fixed session id context plus tickets, and `SSL_MODE_RELEASE_BUFFERS`.
///
/// Immutable once built. `SSL_CTX` is reference counted and every `SSL` holds a reference, so
/// a replaced context (SIGHUP) lives on until its last connection closes.
public final class TLSContext: @unchecked Sendable {
    /// The `SSL_CTX*`.
    let pointer: OpaquePointer
    /// The PEM files it was built from (for logs).
    public let certificateFile: String
    public let keyFile: String

    /// Builds a context from PEM files; throws with OpenSSL's reason when a file is missing,
    /// unreadable, not PEM, or the key does not match the certificate.
    public init(certificateFile: String, keyFile: String) throws(TLSError) {
        guard let context = SSL_CTX_new(TLS_server_method()) else { throw TLSError.drain("SSL_CTX_new") }
        self.pointer = context
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        guard SSL_CTX_use_certificate_chain_file(context, certificateFile) == 1 else {
            throw TLSError.drain("certificate \(certificateFile)")
        }
        guard SSL_CTX_use_PrivateKey_file(context, keyFile, SSL_FILETYPE_PEM) == 1 else {
            throw TLSError.drain("private key \(keyFile)")
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            throw TLSError.drain("private key \(keyFile) does not match certificate \(certificateFile)")
        }
        // TLS 1.2 and 1.3 only; the idle buffers (about 34 KiB per connection) are freed
        // whenever no record is in flight.
        _ = SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_2_VERSION), nil)
        _ = SSL_CTX_ctrl(context, SSL_CTRL_MODE, Int(SSL_MODE_RELEASE_BUFFERS), nil)
        let noRenegotiation: UInt64 = 1 << 30
        let serverPreference: UInt64 = 1 << 22
        _ = SSL_CTX_set_options(context, noRenegotiation | serverPreference)
        // TLS 1.3 suites in server order, AES-128-GCM first: its SHA-256 transcript hashes,
        // which OpenSSL 3.0 keeps for the connection's life, are 208 B smaller than AES-256's
        // SHA-384 ones (13,482 against 13,690 B live per idle `SSL`, loadtest/tls_ssl_allocations.c),
        // and it runs 10 AES rounds instead of 14.
        guard SSL_CTX_set_ciphersuites(context, Self.tls13Suites) == 1 else { throw TLSError.drain("TLS 1.3 cipher suites") }
        // Resumption: the server-side session cache (TLS 1.2 session ids) needs a session id
        // context; tickets (TLS 1.2 and 1.3) are on by default.
        let sessionContext = Array("syndicast".utf8)
        _ = SSL_CTX_set_session_id_context(context, sessionContext, UInt32(sessionContext.count))
        SSL_CTX_set_alpn_select_cb(context, selectHTTP11, nil)
    }

    deinit {
        SSL_CTX_free(pointer)
    }
}

/// ALPN: picks `http/1.1` when the client offers it; otherwise the handshake continues
/// without ALPN (`SSL_TLSEXT_ERR_NOACK`), as a client offering only `h2` still speaks HTTP/1.1.
private func selectHTTP11(
    _ ssl: OpaquePointer?, _ out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, _ outLength: UnsafeMutablePointer<UInt8>?,
    _ offered: UnsafePointer<UInt8>?, _ offeredLength: UInt32, _ argument: UnsafeMutableRawPointer?
) -> Int32 {
    guard let offered, let out, let outLength else { return SSL_TLSEXT_ERR_NOACK }
    let list = UnsafeBufferPointer(start: offered, count: Int(offeredLength))
    if let range = TLSContext.findHTTP11(in: list) {
        out.pointee = offered + range.lowerBound
        outLength.pointee = UInt8(range.count)
        return SSL_TLSEXT_ERR_OK
    }
    return SSL_TLSEXT_ERR_NOACK
}

extension TLSContext {
    /// The TLS 1.3 cipher suites, in the server's order of preference (OpenSSL's defaults reordered).
    static let tls13Suites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

    /// The ALPN protocol the server speaks.
    static let http11 = Array("http/1.1".utf8)

    /// The range of `http/1.1` in an ALPN protocol list (length-prefixed names), or nil when it
    /// is not offered or the list is malformed.
    static func findHTTP11(in list: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        var index = 0
        while index < list.count {
            let length = Int(list[index])
            let start = index + 1
            guard length > 0, start + length <= list.count else { return nil }
            if length == http11.count && http11.indices.allSatisfy({ list[start + $0] == http11[$0] }) {
                return start..<(start + length)
            }
            index = start + length
        }
        return nil
    }
}
