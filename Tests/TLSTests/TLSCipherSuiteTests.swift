import COpenSSL
import Testing

@testable import TLS

/// The server's TLS 1.3 suite order: AES-128-GCM unless the client offers only others.
@Suite struct TLSCipherSuiteTests {
    let certificate: TestCertificate
    let context: TLSContext

    init() throws {
        certificate = try TestCertificate()
        context = try TLSContext(certificateFile: certificate.certificate, keyFile: certificate.key)
    }

    /// OpenSSL's client lists AES-256-GCM first; the server's preference wins.
    @Test func serverPrefersAES128() throws {
        let engine = try #require(TLSEngine(context: context))
        let client = try TestClient()
        client.handshake(with: engine)
        #expect(engine.isHandshakeComplete)
        #expect(SSL_version(engine.ssl) == TLS1_3_VERSION)
        #expect(cipherName(engine.ssl) == "TLS_AES_128_GCM_SHA256")
    }

    /// A client offering only AES-256-GCM (or only ChaCha20) still completes the handshake.
    @Test(arguments: ["TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"])
    func otherSuitesStillNegotiate(suite: String) throws {
        let engine = try #require(TLSEngine(context: context))
        let client = try TestClient()
        #expect(SSL_set_ciphersuites(client.ssl, suite) == 1)
        client.handshake(with: engine)
        #expect(engine.isHandshakeComplete)
        #expect(cipherName(engine.ssl) == suite)
    }

    private func cipherName(_ ssl: OpaquePointer) -> String? {
        guard let cipher = SSL_get_current_cipher(ssl), let name = SSL_CIPHER_get_name(cipher) else { return nil }
        return String(cString: name)
    }
}
