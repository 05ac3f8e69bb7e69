import Logging
import SyndicastServer
import Testing

@testable import syndicast

/// Failed TLS handshakes reach the log as one line per reason and interval, never per failure.
@Suite("TLS handshake failures in the health log")
struct TLSHealthRecordTests {
    @Test func growthPerReasonIsOneRecordEach() throws {
        let start = ServerHealth(refusedConnections: 0, rejectedIngestRequests: 0, slowConsumersClosed: 0)
        var later = start
        let reasons = ServerHealth.tlsHandshakeFailureReasons
        let version = try #require(reasons.firstIndex(of: "protocol_version"))
        let timeout = try #require(reasons.firstIndex(of: "timeout"))
        later.tlsHandshakeFailures[version] = 40
        later.tlsHandshakeFailures[timeout] = 2
        let records = LogHealthReporter.records(previous: start, current: later, intervalSeconds: 10)
        #expect(records.map { $0.metadata["class"]?.description } == ["tls_handshake_protocol_version", "tls_handshake_timeout"])
        #expect(records.map { $0.metadata["count"]?.description } == ["40", "2"])
        #expect(LogHealthReporter.records(previous: later, current: later, intervalSeconds: 10).isEmpty)
    }
}
