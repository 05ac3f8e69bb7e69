import Histogram

/// Percentiles of one latency histogram, in microseconds, for tables, JSON and plots.
public struct LatencySummary: Codable, Sendable, Equatable {
    /// Values recorded.
    public var count: UInt64
    public var p50: UInt64
    public var p90: UInt64
    public var p99: UInt64
    public var p999: UInt64
    public var max: UInt64
    public var mean: Double

    /// The summary of an empty histogram: all zero.
    public static let empty = LatencySummary(count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0)

    /// Creates a summary from explicit values.
    public init(count: UInt64, p50: UInt64, p90: UInt64, p99: UInt64, p999: UInt64, max: UInt64, mean: Double) {
        self.count = count
        self.p50 = p50
        self.p90 = p90
        self.p99 = p99
        self.p999 = p999
        self.max = max
        self.mean = mean
    }

    /// Reads the percentiles of `histogram` (values in microseconds).
    public init(_ histogram: Histogram<UInt64>) {
        guard histogram.totalCount > 0 else {
            self = .empty
            return
        }
        self.init(
            count: histogram.totalCount,
            p50: histogram.valueAtPercentile(50),
            p90: histogram.valueAtPercentile(90),
            p99: histogram.valueAtPercentile(99),
            p999: histogram.valueAtPercentile(99.9),
            max: histogram.max,
            mean: histogram.mean)
    }

    /// A histogram for latencies in microseconds: 1 µs to 10 minutes, 3 significant digits.
    public static func makeHistogram() -> Histogram<UInt64> {
        Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
    }

    /// `p50/p90/p99/p99.9/max` as text, in µs or ms as fits.
    public var compactText: String {
        guard count > 0 else { return "-" }
        return [p50, p90, p99, p999, max].map(Self.format).joined(separator: "/")
    }

    /// A duration in microseconds as short text: `870µs`, `12.3ms`, `4.1s`.
    public static func format(_ microseconds: UInt64) -> String {
        if microseconds < 1_000 { return "\(microseconds)µs" }
        if microseconds < 1_000_000 { return decimal(Double(microseconds) / 1_000, digits: 1) + "ms" }
        return decimal(Double(microseconds) / 1_000_000, digits: 2) + "s"
    }

    /// Formats with a fixed number of fraction digits, without Foundation.
    public static func decimal(_ value: Double, digits: Int) -> String {
        guard value.isFinite else { return "-" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (value * scale).rounded()
        guard abs(scaled) < 9e18 else { return "\(value)" }
        let integer = Int64(scaled)
        let sign = integer < 0 ? "-" : ""
        let magnitude = integer.magnitude
        let whole = magnitude / UInt64(scale)
        guard digits > 0 else { return "\(sign)\(whole)" }
        let fraction = String(magnitude % UInt64(scale))
        return "\(sign)\(whole)." + String(repeating: "0", count: digits - fraction.count) + fraction
    }
}
