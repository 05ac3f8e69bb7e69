import COpenSSL
import Foundation
import Testing

@testable import TLS

/// A TLS client `SSL*` on memory BIOs, driven against a ``TLSEngine`` in memory (no sockets).
final class TestClient {
    let context: OpaquePointer
    let ssl: OpaquePointer
    let toServer: OpaquePointer
    let fromServer: OpaquePointer

    /// `alpn`: protocols offered; `maximumVersion`: e.g. `TLS1_1_VERSION` to offer only TLS 1.1.
    init(alpn: [String] = ["http/1.1"], maximumVersion: Int32? = nil) throws {
        context = try #require(SSL_CTX_new(TLS_client_method()))
        if let maximumVersion {
            // Let the client offer what OpenSSL's defaults refuse, to see the server refuse it.
            SSL_CTX_set_security_level(context, 0)
            _ = SSL_CTX_set_cipher_list(context, "DEFAULT@SECLEVEL=0")
            _ = SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, 0, nil)
            _ = SSL_CTX_ctrl(context, SSL_CTRL_SET_MAX_PROTO_VERSION, Int(maximumVersion), nil)
        }
        if !alpn.isEmpty {
            var wire: [UInt8] = []
            for name in alpn { wire += [UInt8(name.utf8.count)] + Array(name.utf8) }
            _ = SSL_CTX_set_alpn_protos(context, wire, UInt32(wire.count))
        }
        ssl = try #require(SSL_new(context))
        toServer = try #require(BIO_new(BIO_s_mem()))
        fromServer = try #require(BIO_new(BIO_s_mem()))
        SSL_set_bio(ssl, fromServer, toServer)
        SSL_set_connect_state(ssl)
    }

    deinit {
        SSL_free(ssl)
        SSL_CTX_free(context)
    }

    /// Ciphertext the client wrote and the server has not been given yet.
    func takeOutgoing() -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = BIO_read(toServer, &buffer, Int32(buffer.count))
            if count <= 0 { break }
            bytes += buffer[0..<Int(count)]
        }
        return bytes
    }

    /// Hands the server's ciphertext to the client.
    func give(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        _ = BIO_write(fromServer, bytes, Int32(bytes.count))
    }

    /// Drives both sides until neither makes progress; returns the server's last handshake step.
    @discardableResult
    func handshake(with engine: TLSEngine) -> TLSEngine.Step {
        var last = TLSEngine.Step.wantsInput
        for _ in 0..<10 {
            _ = SSL_do_handshake(ssl)
            let outgoing = takeOutgoing()
            outgoing.withUnsafeBytes { bytes in
                engine.setInput(bytes)
                last = engine.handshake()
                engine.clearInput()
            }
            give(Self.drain(engine))
            if case .failed = last { return last }
            if SSL_is_init_finished(ssl) == 1 && engine.isHandshakeComplete { break }
        }
        return last
    }

    /// Everything the engine has to send, marked sent.
    static func drain(_ engine: TLSEngine) -> [UInt8] {
        var bytes: [UInt8] = []
        engine.sendOutput { chunk in
            bytes += chunk
            return chunk.count
        }
        return bytes
    }

    /// Plaintext the client can decrypt from what it was given.
    func readPlaintext() -> [UInt8] {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = SSL_read(ssl, &buffer, Int32(buffer.count))
            if count <= 0 { break }
            result += buffer[0..<Int(count)]
        }
        return result
    }

    /// Encrypts `text` as the client.
    func write(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        _ = SSL_write(ssl, bytes, Int32(bytes.count))
        return takeOutgoing()
    }
}

/// A throw-away self-signed certificate and key made with the openssl CLI (test only).
struct TestCertificate {
    let directory: URL
    var certificate: String { directory.appendingPathComponent("cert.pem").path }
    var key: String { directory.appendingPathComponent("key.pem").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
            "-subj", "/CN=localhost", "-keyout", directory.appendingPathComponent("key.pem").path,
            "-out", directory.appendingPathComponent("cert.pem").path,
        ]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TLSError("openssl req failed") }
    }
}

/// The TLS record headers in `bytes`: (content type, length) each.
func records(in bytes: [UInt8]) -> [(type: UInt8, length: Int)] {
    var result: [(UInt8, Int)] = []
    var index = 0
    while index + 5 <= bytes.count {
        let length = Int(bytes[index + 3]) << 8 | Int(bytes[index + 4])
        result.append((bytes[index], length))
        index += 5 + length
    }
    return result
}
