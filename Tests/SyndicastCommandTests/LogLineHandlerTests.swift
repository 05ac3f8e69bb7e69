import Foundation
import Logging
import Synchronization
import SyndicastServer
import Testing

@testable import syndicast

@Suite("Log lines: text and JSON, one line per record")
struct LogLineHandlerTests {
    /// Collects what the handler writes.
    final class Capture: Sendable {
        let lines = Mutex<[[UInt8]]>([])
        var output: LogOutput { LogOutput { bytes in self.lines.withLock { $0.append(bytes) } } }
        var text: [String] { lines.withLock { $0.map { String(decoding: $0, as: UTF8.self) } } }
    }

    @Test("JSON lines carry ts, level, label, message and metadata, escaped, one object per line")
    func jsonShape() throws {
        let capture = Capture()
        var logger = Logger(label: "syndicast") { label in
            LogLineHandler(label: label, format: .json, level: .info, output: capture.output)
        }
        logger[metadataKey: "loop"] = "2"
        logger.info("listening on \"http://127.0.0.1:8080/\"\nnext", metadata: ["address": "127.0.0.1:8080", "list": ["a", "b"]])
        logger.debug("not written at info")
        let lines = capture.text
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        #expect(line.hasSuffix("}\n") && line.dropLast().contains("\n") == false)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["ts", "level", "label", "message", "metadata"])
        #expect(object["level"] as? String == "info")
        #expect(object["label"] as? String == "syndicast")
        #expect(object["message"] as? String == "listening on \"http://127.0.0.1:8080/\"\nnext")
        let metadata = try #require(object["metadata"] as? [String: Any])
        #expect(metadata["address"] as? String == "127.0.0.1:8080")
        #expect(metadata["loop"] as? String == "2")
        #expect(metadata["list"] as? [String] == ["a", "b"])
        let timestamp = try #require(object["ts"] as? String)
        #expect(timestamp.count == 24 && timestamp.hasSuffix("Z"))
    }

    @Test("text lines: time, level, label, message, then key=value (quoted when needed)")
    func textShape() {
        let line = LogLineHandler.line(
            format: .text, milliseconds: 1_795_773_600_123, level: .warning, label: "syndicast", message: "two\nlines",
            metadata: ["class": "ingest_rejected", "note": "has space"])
        #expect(
            String(decoding: line, as: UTF8.self)
                == "2026-11-27T10:00:00.123Z warning syndicast: two lines class=ingest_rejected note=\"has space\"\n")
    }

    @Test("the level filter drops less severe records")
    func levelFilter() {
        let capture = Capture()
        let logger = Logger(label: "x") { LogLineHandler(label: $0, format: .text, level: .error, output: capture.output) }
        logger.warning("dropped")
        logger.error("kept")
        logger.critical("kept too")
        #expect(capture.text.count == 2 && capture.text[0].contains("error x: kept"))
    }

    @Test("refusals are counted per interval and class; a journal failure is logged once")
    func healthRecords() {
        let start = ServerHealth(refusedConnections: 0, rejectedIngestRequests: 5, slowConsumersClosed: 1)
        var later = start
        #expect(LogHealthReporter.records(previous: start, current: later, intervalSeconds: 10).isEmpty)
        later.rejectedIngestRequests = 105
        later.refusedConnections = 3
        let records = LogHealthReporter.records(previous: start, current: later, intervalSeconds: 10)
        #expect(records.map(\.level) == [.warning, .warning])
        #expect(records.map { $0.metadata["class"]?.description } == ["connection_limit", "ingest_rejected"])
        #expect(records[1].metadata["count"]?.description == "100" && records[1].metadata["total"]?.description == "105")
        var failed = later
        failed.journalFailure = "disk I/O error"
        let failure = LogHealthReporter.records(previous: later, current: failed, intervalSeconds: 10)
        #expect(failure.count == 1 && failure[0].level == .critical)
        #expect(LogHealthReporter.records(previous: failed, current: failed, intervalSeconds: 10).isEmpty)
    }
}
