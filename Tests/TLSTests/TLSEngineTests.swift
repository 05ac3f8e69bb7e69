import COpenSSL
import Testing

@testable import TLS

/// The sans-I/O engine against an OpenSSL client in memory.
@Suite struct TLSEngineTests {
    let certificate: TestCertificate
    let context: TLSContext

    init() throws {
        certificate = try TestCertificate()
        context = try TLSContext(certificateFile: certificate.certificate, keyFile: certificate.key)
    }

    @Test func handshakeSelectsHTTP11() throws {
        let engine = try #require(TLSEngine(context: context))
        let client = try TestClient(alpn: ["h2", "http/1.1"])
        guard case .done = client.handshake(with: engine) else {
            Issue.record("handshake did not finish")
            return
        }
        #expect(engine.isHandshakeComplete)
        #expect(SSL_is_init_finished(client.ssl) == 1)
        #expect(engine.negotiatedProtocol == "http/1.1")
    }

    @Test func clientWithoutHTTP11ContinuesWithoutALPN() throws {
        let engine = try #require(TLSEngine(context: context))
        let client = try TestClient(alpn: ["h2"])
        client.handshake(with: engine)
        #expect(engine.isHandshakeComplete)
        #expect(engine.negotiatedProtocol == nil)
    }

    @Test func plaintextBothWays() throws {
        let engine = try #require(TLSEngine(context: context))
        let client = try TestClient()
        client.handshake(with: engine)
        let ciphertext = client.write("GET /healthz HTTP/1.1\r\n\r\n")
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var received: [UInt8] = []
        ciphertext.withUnsafeBytes { bytes in
            engine.setInput(bytes)
            buffer.withUnsafeMutableBytes { out in
                while case .done(let count) = engine.read(into: out), count > 0 { received += out[0..<count] }
            }
            engine.clearInput()
        }
        #expect(String(decoding: received, as: UTF8.self) == "GET /healthz HTTP/1.1\r\n\r\n")
        Array("HTTP/1.1 200 OK\r\n\r\n".utf8).withUnsafeBytes { engine.seal($0, more: false) }
        engine.finishRecords()
        client.give(TestClient.drain(engine))
        #expect(String(decoding: client.readPlaintext(), as: UTF8.self) == "HTTP/1.1 200 OK\r\n\r\n")
    }

    /// Ten small frames sealed in one flush leave as one application-data record.
    @Test func smallWritesCoalesceIntoOneRecord() throws {
        let engine = try #require(TLSEngine(context: context))
        let client = try TestClient()
        client.handshake(with: engine)
        _ = TestClient.drain(engine)
        _ = client.readPlaintext()  // takes the TLS 1.3 session tickets
        var expected: [UInt8] = []
        for index in 0..<10 {
            let frame = Array("event \(index);".utf8)
            expected += frame
            frame.withUnsafeBytes { engine.seal($0, more: index < 9) }
        }
        engine.finishRecords()
        let ciphertext = TestClient.drain(engine)
        let found = records(in: ciphertext)
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.type == 23)
        client.give(ciphertext)
        #expect(client.readPlaintext() == expected)
        #expect(engine.pendingOutputCount == 0)
    }

    /// More than 16 KiB queued: full records of 16 KiB, then the rest.
    @Test func largeWritesSplitAtRecordLimit() throws {
        let engine = try #require(TLSEngine(context: context))
        let client = try TestClient()
        client.handshake(with: engine)
        _ = TestClient.drain(engine)
        _ = client.readPlaintext()
        let payload = [UInt8](repeating: 65, count: 40_000)
        payload.withUnsafeBytes {
            engine.seal(UnsafeRawBufferPointer(rebasing: $0[0..<100]), more: true)
            engine.seal(UnsafeRawBufferPointer(rebasing: $0[100...]), more: false)
        }
        engine.finishRecords()
        let ciphertext = TestClient.drain(engine)
        #expect(records(in: ciphertext).count == 3)
        client.give(ciphertext)
        #expect(client.readPlaintext() == payload)
    }

    @Test func tls11IsRefused() throws {
        let engine = try #require(TLSEngine(context: context))
        let client = try TestClient(maximumVersion: 0x0302)
        let step = client.handshake(with: engine)
        guard case .failed(let failure) = step else {
            Issue.record("TLS 1.1 was accepted: \(step)")
            return
        }
        #expect(failure.reason == .protocolVersion, "\(failure.detail)")
        #expect(!engine.isHandshakeComplete)
    }

    @Test func plainHTTPIsAnErrorNotACrash() throws {
        let engine = try #require(TLSEngine(context: context))
        let step = Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8).withUnsafeBytes { bytes in
            engine.setInput(bytes)
            defer { engine.clearInput() }
            return engine.handshake()
        }
        guard case .failed(let failure) = step else {
            Issue.record("plain HTTP was not refused: \(step)")
            return
        }
        #expect(failure.reason == .notTLS, "\(failure.detail)")
    }

    @Test func garbageIsAnErrorNotACrash() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let engine = try #require(TLSEngine(context: context))
            var garbage = (0..<512).map { _ in UInt8.random(in: 0...255, using: &generator) }
            garbage[0] = 22  // a handshake record type, so the record layer reads on
            let step = garbage.withUnsafeBytes { bytes in
                engine.setInput(bytes)
                defer { engine.clearInput() }
                return engine.handshake()
            }
            if case .done = step { Issue.record("garbage completed a handshake") }
            #expect(!engine.isHandshakeComplete)
        }
    }

    @Test func badFilesThrow() throws {
        #expect(throws: TLSError.self) { try TLSContext(certificateFile: "/nonexistent.pem", keyFile: certificate.key) }
        #expect(throws: TLSError.self) { try TLSContext(certificateFile: certificate.certificate, keyFile: certificate.certificate) }
        let other = try TestCertificate()
        #expect(throws: TLSError.self) { try TLSContext(certificateFile: certificate.certificate, keyFile: other.key) }
    }

    @Test func alpnListParsing() {
        func find(_ bytes: [UInt8]) -> Range<Int>? { bytes.withUnsafeBufferPointer { TLSContext.findHTTP11(in: $0) } }
        let h2 = [UInt8(2)] + Array("h2".utf8)
        let http11 = [UInt8(8)] + Array("http/1.1".utf8)
        #expect(find(h2 + http11) == 4..<12)
        #expect(find(h2) == nil)
        #expect(find([9] + Array("http/1.1".utf8)) == nil, "length past the end")
        #expect(find([0] + http11) == nil, "empty name")
        #expect(find([]) == nil)
    }
}
