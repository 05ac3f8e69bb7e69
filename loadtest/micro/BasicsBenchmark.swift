import Basics
import Foundation
import HTTP1
import Monitor
import WebSocket

/// `syndicast-microbench RUNS basics`: the shared low-level code on its hot paths: JSON writing
/// (event encode: a transaction's JSON, a string with escapes, an error body) and UTF-8 validation
/// (WebSocket text frames, ASCII and multi-byte; transaction ids with non-ASCII characters).
func basicsBenchmark(runs: Int, sample: [Transaction], receivedAt: Int64) {
    func measure(items: Int, _ body: () -> Void) -> Double {
        var rates: [Double] = []
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            rates.append(Double(items) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
        }
        return rates.sorted()[rates.count / 2]
    }
    func line(_ name: String, _ rate: Double) {
        print(name.padding(toLength: 62, withPad: " ", startingAt: 0) + String(format: "%12.0f /s", rate))
    }
    var total = 0
    print("== basics (JSON writing, UTF-8 validation)")

    let encodeRate = measure(items: sample.count * 4) {
        for _ in 0..<4 {
            for transaction in sample { total &+= transaction.jsonBytes.count }
        }
    }
    line("Transaction JSON encode (events)", encodeRate)

    var escaped = Array(repeating: "", count: 1_000)
    for index in 0..<escaped.count {
        escaped[index] = "investor \"\(index)\"\tcafé\\line\n— ‘quoted’ \u{2028}"
    }
    let entries = escaped.enumerated().map { index, name in
        RankingEntry(rank: index + 1, investorId: name, syndicateCount: 3, totalInvested: .zero)
    }
    let escapeRate = measure(items: 400_000) {
        for _ in 0..<400 {
            for entry in entries { total &+= entry.jsonBytes.count }
        }
    }
    line("RankingEntry JSON encode, escaped strings (entries)", escapeRate)

    let errorRate = measure(items: 400_000) {
        for index in 0..<400_000 {
            // The shape APIError writes: {"error":{"code":…,"message":…}}.
            var writer = JSONWriter(capacity: 64)
            writer.appendRaw(#"{"error":{"code":"invalid_json","message":"#)
            writer.appendString(escaped[index % 1_000])
            writer.appendRaw("}}")
            total &+= writer.bytes.count
        }
    }
    line("error body (JSONWriter), escaped message (bodies)", errorRate)

    for (name, text) in [
        ("ASCII", String(repeating: "x", count: 4_096)),
        ("multi-byte", String(repeating: "é€😀abc ", count: 256)),
    ] {
        let payload = Array(text.utf8)
        let frame = payload.withUnsafeBytes { WebSocketFrameEncoder.encode(.text, payload: $0, mask: 0x37fa_213d) }
        let frameBuffer = Array(repeating: frame, count: 100).flatMap { $0 }
        let megabytes = Double(payload.count * 100 * 200) / 1e6
        let rate = measure(items: Int(megabytes)) {
            var connection = WebSocketConnection(role: .server, options: WebSocketOptions(), deflate: nil)
            frameBuffer.withUnsafeBytes { buffer in
                for _ in 0..<200 { _ = connection.receive(buffer) { _ in total &+= 1 } }
            }
        }
        line("WebSocketConnection.receive, \(payload.count)-byte \(name) text (MB)", rate)
    }

    var ndjson: [UInt8] = []
    for index in 0..<50_000 {
        ndjson += Array(
            #"{"id":"tx-é-\#(index)","investorId":"investör-\#(index % 997)","syndicateId":"syndicate-€-\#(index % 53)","amount":"\#(index % 5000 + 1).25","timestamp":1764237600000}"#
                .utf8)
        ndjson.append(0x0A)
    }
    let decoder = TransactionDecoder()
    let decodeRate = measure(items: 50_000) {
        ndjson.withUnsafeBytes { buffer in
            if case .success(let decoded) = decoder.decode(buffer, format: .ndjson, receivedAt: receivedAt) {
                total &+= decoded.count
            }
        }
    }
    line("TransactionDecoder, NDJSON, non-ASCII ids (objects)", decodeRate)
    if total == 42 { print("") }
}
