import Basics
import Monitor

/// The stream's JSON messages (DESIGN.md §3), written once per event with `JSONWriter`.
public enum StreamEncoding {
    static func transaction(_ transaction: Transaction, seq: UInt64) -> [UInt8] {
        sequenced("{\"type\":\"transaction\",\"seq\":", seq, ",\"transaction\":", capacity: 192) { $0.append(transaction) }
    }

    static func alert(_ alert: Alert, seq: UInt64) -> [UInt8] {
        sequenced("{\"type\":\"alert\",\"seq\":", seq, ",\"alert\":", capacity: 320) { $0.append(alert) }
    }

    static func rankings(_ top: [RankingEntry], seq: UInt64) -> [UInt8] {
        sequenced("{\"type\":\"rankings\",\"seq\":", seq, ",\"top\":", capacity: 512) { $0.appendArray(top) }
    }

    /// `{"type":…,"seq":N,"<field>":<value>}`: the envelope of every sequenced event.
    private static func sequenced(
        _ prefix: StaticString, _ seq: UInt64, _ field: StaticString, capacity: Int, value: (inout JSONWriter) -> Void
    ) -> [UInt8] {
        var writer = JSONWriter(capacity: capacity)
        writer.appendRaw(prefix)
        writer.appendInteger(Int64(truncatingIfNeeded: seq))
        writer.appendRaw(field)
        value(&writer)
        writer.appendRaw("}")
        return writer.bytes
    }

    static func message(topic: String, data: [UInt8], seq: UInt64) -> [UInt8] {
        var writer = JSONWriter(capacity: 64 + data.count)
        writer.appendRaw("{\"type\":\"message\",\"topic\":")
        writer.appendString(topic)
        writer.appendRaw(",\"seq\":")
        writer.appendInteger(Int64(truncatingIfNeeded: seq))
        writer.appendRaw(",\"data\":")
        writer.bytes.append(contentsOf: data)
        writer.appendRaw("}")
        return writer.bytes
    }

    static func hello(epoch: String, seq: UInt64, topics: Set<String>) -> [UInt8] {
        var writer = JSONWriter(capacity: 128)
        writer.appendRaw("{\"type\":\"hello\",\"epoch\":")
        writer.appendString(epoch)
        writer.appendRaw(",\"seq\":")
        writer.appendInteger(Int64(truncatingIfNeeded: seq))
        writer.appendRaw(",\"topics\":[")
        for (position, topic) in topics.sorted().enumerated() {
            if position > 0 { writer.appendRaw(",") }
            writer.appendString(topic)
        }
        writer.appendRaw("]}")
        return writer.bytes
    }

    static func snapshot(seq: UInt64, top: [RankingEntry], alerts: [Alert], recovered: Bool?) -> [UInt8] {
        var writer = JSONWriter(capacity: 1024)
        writer.appendRaw("{\"type\":\"snapshot\",\"seq\":")
        writer.appendInteger(Int64(truncatingIfNeeded: seq))
        if let recovered {
            writer.appendRaw(",\"recovered\":")
            writer.appendBool(recovered)
        }
        writer.appendRaw(",\"rankings\":")
        writer.appendArray(top)
        writer.appendRaw(",\"alerts\":")
        writer.appendArray(alerts)
        writer.appendRaw("}")
        return writer.bytes
    }

    static func stats(_ statistics: StreamStatistics, connections: Int) -> [UInt8] {
        var writer = JSONWriter(capacity: 192)
        writer.appendRaw("{\"type\":\"stats\",\"txPerSecond\":")
        writer.appendInteger(statistics.transactionsPerSecond)
        writer.appendRaw(",\"transactions\":")
        writer.appendInteger(statistics.transactions)
        writer.appendRaw(",\"connections\":")
        writer.appendInteger(connections)
        writer.appendRaw("}")
        return writer.bytes
    }
}
