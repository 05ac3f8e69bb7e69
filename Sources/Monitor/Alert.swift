/// An alert raised by a rule for one transaction.
///
/// DESIGN.md §3: "Every alert carries `id`, `rule`, `syndicateId`, `investorId`, `transactionId`
/// (the transaction that raised it), `threshold` and `at` (that transaction's event time), plus
/// the rule's own fields."
public struct Alert: Sendable, Hashable {
    /// Which rule raised the alert; the raw value is the JSON `rule`.
    public enum Rule: String, Sendable, Hashable {
        /// ``AmountRule``.
        case amountThreshold = "amount_threshold"
        /// ``SpikeWindow``.
        case syndicateSpike = "syndicate_spike"
    }

    /// The rule's own fields.
    public enum Details: Sendable, Hashable {
        /// The amount and the threshold it exceeded.
        case amountThreshold(amount: Money, threshold: Money)
        /// The count in the window, the window length and the threshold the count exceeded.
        case syndicateSpike(count: Int, windowSeconds: Int64, threshold: Int)
    }

    /// Deterministic identifier `a-<n>`, n counting alerts from 1 in journal order.
    public var id: String
    /// The syndicate of the transaction.
    public var syndicateId: String
    /// The investor of the transaction.
    public var investorId: String
    /// The `id` of the transaction that raised the alert (`nil` if it had none).
    public var transactionId: String?
    /// Rule-specific fields.
    public var details: Details
    /// The transaction's event time, epoch milliseconds.
    public var at: Int64

    /// Creates an alert.
    public init(
        id: String, syndicateId: String, investorId: String, transactionId: String?, details: Details, at: Int64
    ) {
        self.id = id
        self.syndicateId = syndicateId
        self.investorId = investorId
        self.transactionId = transactionId
        self.details = details
        self.at = at
    }

    /// Which rule raised it.
    public var rule: Rule {
        switch details {
        case .amountThreshold: return .amountThreshold
        case .syndicateSpike: return .syndicateSpike
        }
    }
}
