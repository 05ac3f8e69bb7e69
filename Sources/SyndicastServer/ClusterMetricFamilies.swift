import Broker
import CoreMetrics
import Prometheus
import Synchronization

/// Cluster mode's `/metrics` families (`--redis`), registered in the server's registry like
/// ``MetricFamilies`` and filled at scrape time from the broker's ``ClusterStatistics``.
final class ClusterMetricFamilies: Sendable {
    let appends: CoreMetrics.Counter
    let appendFailures: CoreMetrics.Counter
    let entriesApplied: CoreMetrics.Counter
    let undecodableEntries: CoreMetrics.Counter
    let redisConnected: Meter
    /// The statistics at the last scrape (the counters take the difference).
    private let published = Mutex(ClusterStatistics())

    init(registry: PrometheusCollectorRegistry) {
        let factory = PrometheusMetricsFactory(registry: registry)
        func counter(_ name: String, _ help: String) -> CoreMetrics.Counter {
            let described = MetricNameDescriptor(namespace: "syndicast", metricName: name, unitName: "total", helpText: help)
            return CoreMetrics.Counter(
                label: described.name, dimensions: [], handler: registry.makeCounter(descriptor: described, labels: []),
                factory: factory)
        }
        appends = counter("cluster_appends", "ingest script calls completed (one per commit group), failed ones included")
        appendFailures = counter("cluster_append_failures", "ingest script calls that failed (their requests got 503)")
        entriesApplied = counter("cluster_entries_applied", "stream entries applied, this instance's and others'")
        undecodableEntries = counter("cluster_undecodable_entries", "stream entries skipped as undecodable (on every instance alike)")
        let connected = MetricNameDescriptor(
            namespace: "syndicast", metricName: "redis_connected", unitName: "",
            helpText: "1 while the append and stream connections to Redis are up")
        redisConnected = Meter(
            label: connected.name, dimensions: [], handler: registry.makeGauge(descriptor: connected, labels: []), factory: factory)
    }

    /// Moves the families to `statistics` and the connection state (call from one thread at a
    /// time: the broker's, at scrape time).
    func publish(_ statistics: ClusterStatistics, connected: Bool) {
        published.withLock { last in
            func advance(_ counter: CoreMetrics.Counter, _ now: Int, _ before: Int) {
                if now > before { counter.increment(by: Int64(now - before)) }
            }
            advance(appends, statistics.appends, last.appends)
            advance(appendFailures, statistics.appendFailures, last.appendFailures)
            advance(entriesApplied, statistics.appliedEntries, last.appliedEntries)
            advance(undecodableEntries, statistics.undecodableEntries, last.undecodableEntries)
            last = statistics
        }
        redisConnected.set(connected ? 1 : 0)
    }
}
