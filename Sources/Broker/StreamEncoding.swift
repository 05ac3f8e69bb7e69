import Monitor

/// The stream's JSON messages (DESIGN.md §3), written once per event with `JSONWriter`.
public enum StreamEncoding {
    static func transaction(_ transaction: Transaction, seq: UInt64) -> [UInt8] {
        var writer = JSONWriter(capacity: 192)
        writer.appendRaw("{\"type\":\"transaction\",\"seq\":")
        writer.appendInteger(Int64(truncatingIfNeeded: seq))
        writer.appendRaw(",\"transaction\":")
        writer.append(transaction)
        writer.appendRaw("}")
        return writer.bytes
    }

    static func alert(_ alert: Alert, seq: UInt64) -> [UInt8] {
        var writer = JSONWriter(capacity: 320)
        writer.appendRaw("{\"type\":\"alert\",\"seq\":")
        writer.appendInteger(Int64(truncatingIfNeeded: seq))
        writer.appendRaw(",\"alert\":")
        writer.append(alert)
        writer.appendRaw("}")
        return writer.bytes
    }

    static func rankings(_ top: [RankingEntry], seq: UInt64) -> [UInt8] {
        var writer = JSONWriter(capacity: 512)
        writer.appendRaw("{\"type\":\"rankings\",\"seq\":")
        writer.appendInteger(Int64(truncatingIfNeeded: seq))
        writer.appendRaw(",\"top\":")
        writer.appendArray(top)
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

    /// `{"error":{"code":…,"message":…,"details":[…]}}` (DESIGN.md §3).
    public static func error(code: String, message: String, details: [TransactionValidationError.Detail] = []) -> [UInt8] {
        var writer = JSONWriter(capacity: 128)
        writer.appendRaw("{\"error\":{\"code\":")
        writer.appendString(code)
        writer.appendRaw(",\"message\":")
        writer.appendString(message)
        writer.appendRaw(",\"details\":")
        writer.appendArray(details)
        writer.appendRaw("}}")
        return writer.bytes
    }
}
