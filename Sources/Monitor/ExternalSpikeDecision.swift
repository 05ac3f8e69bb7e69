/// A spike rule decision made outside the ``TransactionMonitor`` (cluster mode with
/// `--spike-store redis`: the shared log evaluates the rule in Redis and the entry carries what it
/// decided), for ``TransactionMonitor/apply(_:spikeDecisions:before:alerts:)``.
public enum ExternalSpikeDecision: Sendable, Hashable {
    /// The transaction's evaluation found `count > S` while the syndicate was not spiking: raise
    /// a spike alert with `count`; the syndicate now spikes.
    case alert(count: Int)
    /// The transaction's evaluation found `count ≤ S` while the syndicate was spiking: it no
    /// longer is.
    case ended
}
