/// One event of the stream, encoded once as JSON and shared by every subscriber.
public struct BrokerEvent: Sendable {
    /// Global sequence number; 0 for ephemeral events (`stats`), which are never replayed.
    public let seq: UInt64
    /// The topic subscribers choose it by: `alerts`, `rankings`, `transactions`, `stats`, or a
    /// custom topic named by `/api/publish`.
    public let topic: String
    /// The complete JSON text of the message (what a WebSocket text frame or an SSE `data:` holds).
    public let json: [UInt8]

    public init(seq: UInt64, topic: String, json: [UInt8]) {
        self.seq = seq
        self.topic = topic
        self.json = json
    }
}

/// Well-known topic names.
public enum Topic {
    public static let alerts = "alerts"
    public static let rankings = "rankings"
    public static let transactions = "transactions"
    public static let stats = "stats"
    /// Topics a bare connection gets.
    public static let defaults: Set<String> = [alerts, rankings]
    /// Topics `/api/publish` may not use.
    public static let reserved: Set<String> = [alerts, rankings, transactions, stats]

    /// Whether `name` may be used as a custom topic: 1–64 bytes of `A-Z a-z 0-9 . _ -`.
    public static func isValidCustom(_ name: String) -> Bool {
        let bytes = name.utf8
        guard (1...64).contains(bytes.count), !reserved.contains(name) else { return false }
        return bytes.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }
}

/// Receives each group's events; the server wires one sink per event loop.
public protocol BrokerSink: Sendable {
    /// Called on the broker's thread, once per commit group (or stats tick), in sequence order.
    func deliver(_ events: [BrokerEvent])
}
