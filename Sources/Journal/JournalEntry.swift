import Monitor

/// One accepted request, as the journal stores it.
///
/// A `POST /api/transactions` batch is one entry (a batch is atomic, DESIGN.md §3); a
/// `POST /api/publish` is one message entry.
public enum JournalEntry: Sendable, Equatable {
    /// A batch of validated transactions, in request order.
    case transactions([Transaction])
    /// A published message: its topic and the raw JSON bytes of its `data` member.
    case message(topic: String, data: [UInt8])

    /// The number of transactions this entry holds (0 for a message).
    public var transactionCount: Int {
        switch self {
        case .transactions(let transactions): transactions.count
        case .message: 0
        }
    }
}
