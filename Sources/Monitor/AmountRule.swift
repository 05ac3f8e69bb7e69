/// The amount rule (seed task 2): alert when a transaction's amount is strictly greater than a threshold.
///
/// DESIGN.md §4: "Alert when `amount > threshold` (strictly greater)." An amount equal to the
/// threshold raises nothing.
public struct AmountRule: Sendable, Hashable {
    /// The largest amount that does not raise an alert.
    public var threshold: Money

    /// Creates the rule.
    public init(threshold: Money) {
        self.threshold = threshold
    }

    /// Whether `amount` raises an alert.
    @inline(__always)
    public func isTriggered(by amount: Money) -> Bool {
        amount > threshold
    }
}
