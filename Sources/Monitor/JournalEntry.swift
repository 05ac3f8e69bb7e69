/// One accepted request, as the journal stores it: the source of truth that replay turns back
/// into state, in order.
///
/// A `POST /api/transactions` batch is one entry (a batch is atomic, DESIGN.md §3); a
/// `POST /api/publish` is one message entry. Defined in the domain layer because both the
/// broker (which makes entries) and the journal (which stores them) import it, and neither
/// imports the other (DESIGN.md §2).
public enum JournalEntry: Sendable, Equatable {
    /// The accepted (non-duplicate) transactions of one POST, in request order, applied together.
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
