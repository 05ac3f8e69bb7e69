import HTTP1
import Testing

@testable import SyndicastServer

/// `--tls-cert`/`--tls-key` in the configuration: the start-up warning and refused starts.
@Suite("TLS configuration: exposure warning and bad files")
struct TLSConfigurationTests {
    @Test func warningSaysWhetherTLSIsOff() throws {
        var configuration = ServerConfiguration()
        configuration.host = "0.0.0.0"
        let plain = try #require(configuration.exposureWarning(port: 8443))
        #expect(plain.contains("without TLS"))
        configuration.tlsCertificateFile = "cert.pem"
        configuration.tlsKeyFile = "key.pem"
        let encrypted = try #require(configuration.exposureWarning(port: 8443))
        #expect(encrypted.contains("TLS is on") && !encrypted.contains("without TLS"))
    }

    @Test func badOrHalfPairsRefuseTheStart() {
        var configuration = ServerConfiguration()
        configuration.dataDirectory = nil
        configuration.port = 0
        configuration.tlsCertificateFile = "/nonexistent/cert.pem"
        configuration.tlsKeyFile = "/nonexistent/key.pem"
        #expect {
            _ = try SyndicastServer(configuration: configuration)
        } throws: { error in
            "\(error)".contains("--tls-cert/--tls-key") && "\(error)".contains("/nonexistent/cert.pem")
        }
        configuration.tlsKeyFile = nil
        #expect {
            _ = try SyndicastServer(configuration: configuration)
        } throws: { error in
            "\(error)".contains("go together")
        }
    }

    /// The dashboard served over https:// sends `Origin: https://host:port`: its own origin.
    @Test func httpsOriginIsTheServersOwn() {
        let policy = RequestPolicy(host: "127.0.0.1", allowedHosts: [], allowedOrigins: [], apiKeys: [])
        func head(_ origin: String) -> HTTPRequestHead {
            HTTPRequestHead(
                method: "POST", target: "/api/transactions", headers: HTTPHeaders([("Host", "localhost:8443"), ("Origin", origin)]))
        }
        #expect(policy.acceptsOrigin(head("https://localhost:8443")))
        #expect(policy.acceptsOrigin(head("http://localhost:8443")))
        #expect(!policy.acceptsOrigin(head("https://localhost:9999")))
        #expect(!policy.acceptsOrigin(head("https://evil.example")))
    }
}
