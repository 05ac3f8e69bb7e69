/// The counter and send time a load-test message carries, and the code that writes and finds them.
///
/// Subscribers read only these bytes from each message, without decoding the JSON: an alert's
/// `transactionId` is `lt-<counter>-<monotonic ns>`, a broadcast message starts with
/// `{"counter":<counter>,"sentAt":<monotonic ns>`.
public struct MessageStamp: Equatable, Sendable {
    /// The publisher's sequence number, from 0.
    public var counter: Int
    /// CLOCK_MONOTONIC nanoseconds when the publisher sent it (the clock is machine-wide).
    public var sentAt: UInt64

    /// Creates a stamp.
    public init(counter: Int, sentAt: UInt64) {
        self.counter = counter
        self.sentAt = sentAt
    }

    // MARK: Transactions and alerts

    /// The transaction id carrying this stamp: `lt-<counter>-<ns>`.
    public var transactionId: String { "lt-\(counter)-\(sentAt)" }

    static let alertPrefix = Array(#"{"type":"alert""#.utf8)
    static let amountRule = Array(#""rule":"amount_threshold""#.utf8)
    static let transactionIdMarker = Array(#""transactionId":"lt-"#.utf8)

    /// Finds the stamp in an `alert` event raised by the amount rule for one of our transactions;
    /// nil for any other message (hello, snapshot, rankings, spike alerts, foreign transactions).
    public static func parseAlert(_ message: UnsafeRawBufferPointer) -> MessageStamp? {
        guard ByteSearch.hasPrefix(message, alertPrefix),
            ByteSearch.find(amountRule, in: message, from: alertPrefix.count) != nil,
            let marker = ByteSearch.find(transactionIdMarker, in: message, from: alertPrefix.count)
        else { return nil }
        var index = marker + transactionIdMarker.count
        guard let counter = ByteSearch.decimal(message, at: &index), index < message.count,
            message[index] == UInt8(ascii: "-")
        else { return nil }
        index += 1
        guard let sentAt = ByteSearch.decimal(message, at: &index), index < message.count,
            message[index] == UInt8(ascii: "\"")
        else { return nil }
        return MessageStamp(counter: Int(clamping: counter), sentAt: sentAt)
    }

    /// Parses an alert from an array; see `parseAlert(_:)`.
    public static func parseAlert(_ message: [UInt8]) -> MessageStamp? {
        message.withUnsafeBytes { parseAlert($0) }
    }

    // MARK: Broadcast messages

    static let broadcastPrefix = Array(#"{"counter":"#.utf8)
    static let sentAtMarker = Array(#","sentAt":"#.utf8)

    /// A broadcast message of exactly `size` bytes (at least the stamp's own length):
    /// `{"counter":N,"sentAt":T,"pad":"xxx…"}`.
    public func broadcastMessage(size: Int = 128) -> [UInt8] {
        let head = #"{"counter":\#(counter),"sentAt":\#(sentAt),"pad":""#
        let tail = #""}"#
        let padding = max(size - head.utf8.count - tail.utf8.count, 0)
        var bytes = Array(head.utf8)
        bytes.reserveCapacity(head.utf8.count + padding + tail.utf8.count)
        bytes.append(contentsOf: repeatElement(UInt8(ascii: "x"), count: padding))
        bytes.append(contentsOf: tail.utf8)
        return bytes
    }

    /// Finds the stamp at the start of a broadcast message; nil for anything else.
    public static func parseBroadcast(_ message: UnsafeRawBufferPointer) -> MessageStamp? {
        guard ByteSearch.hasPrefix(message, broadcastPrefix) else { return nil }
        var index = broadcastPrefix.count
        guard let counter = ByteSearch.decimal(message, at: &index),
            ByteSearch.matches(sentAtMarker, in: message, at: index)
        else { return nil }
        index += sentAtMarker.count
        guard let sentAt = ByteSearch.decimal(message, at: &index) else { return nil }
        return MessageStamp(counter: Int(clamping: counter), sentAt: sentAt)
    }

    /// Parses a broadcast message from an array; see `parseBroadcast(_:)`.
    public static func parseBroadcast(_ message: [UInt8]) -> MessageStamp? {
        message.withUnsafeBytes { parseBroadcast($0) }
    }
}
