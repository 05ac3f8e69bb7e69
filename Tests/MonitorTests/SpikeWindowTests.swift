import Monitor
import PropertyBased
import Testing

/// DESIGN.md §4's spike rule, literally: keep every timestamp (sorted, so that long streams stay
/// cheap); evaluate only in-order ones by counting the timestamps in (t − W, t].
struct SpikeReference {
    let window: Int64
    let threshold: Int
    var timestamps: [Int64] = []
    var newest: Int64?
    var spiking = false

    /// The first index whose timestamp is above `timestamp`.
    func upperBound(_ timestamp: Int64) -> Int {
        var low = 0
        var high = timestamps.count
        while low < high {
            let middle = (low + high) / 2
            if timestamps[middle] <= timestamp { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Transactions in (end − W, end].
    func count(endingAt end: Int64) -> Int {
        upperBound(end) - upperBound(end - window)
    }

    /// Returns the count when an alert is raised.
    mutating func record(_ timestamp: Int64) -> Int? {
        timestamps.insert(timestamp, at: upperBound(timestamp))
        if let newest, timestamp < newest { return nil }
        newest = timestamp
        let count = count(endingAt: timestamp)
        if count > threshold {
            defer { spiking = true }
            return spiking ? nil : count
        }
        spiking = false
        return nil
    }

    var count: Int {
        guard let newest else { return 0 }
        return count(endingAt: newest)
    }

    /// Distinct timestamps in (newest − W, newest]: what the window must hold.
    var distinctCount: Int {
        guard let newest else { return 0 }
        return Set(timestamps[upperBound(newest - window)..<upperBound(newest)]).count
    }
}

@Suite("SpikeWindow (seed task 2, DESIGN.md §4)")
struct SpikeWindowTests {
    @Test("in order: alert once when count exceeds S, stop spiking when a later count is ≤ S")
    func inOrder() {
        var window = SpikeWindow(windowMilliseconds: 1000, threshold: 2)
        #expect(window.record(0) == .evaluated(count: 1))
        #expect(window.record(100) == .evaluated(count: 2))
        #expect(window.record(200) == .alert(count: 3))
        #expect(window.record(300) == .evaluated(count: 4))
        #expect(window.isSpiking)
        // (1100 − 1000, 1100] holds 200, 300, 1100: still above S, no second alert.
        #expect(window.record(1100) == .evaluated(count: 3))
        // (1250 − 1000, 1250] holds 300, 1100, 1250.
        #expect(window.record(1250) == .evaluated(count: 3))
        // (1200, 2200] holds 1250 and 2200: 2 ≤ S, so the spike is over.
        #expect(window.record(2200) == .evaluated(count: 2))
        #expect(!window.isSpiking)
        #expect(window.record(2201) == .alert(count: 3))
    }

    @Test("window is (t − W, t]: a timestamp exactly W older has left")
    func boundary() {
        var window = SpikeWindow(windowMilliseconds: 1000, threshold: 1)
        _ = window.record(0)
        #expect(window.record(1000) == .evaluated(count: 1))
        #expect(window.record(1999) == .alert(count: 2))
    }

    @Test("equal timestamps share one entry and all count")
    func equalTimestamps() {
        var window = SpikeWindow(windowMilliseconds: 1000, threshold: 3)
        for _ in 0..<3 { _ = window.record(500) }
        #expect(window.record(500) == .alert(count: 4))
        #expect(window.entryCount == 1)
    }

    @Test("out of order: joins the window without evaluation; older than newest − W is ignored")
    func outOfOrder() {
        var window = SpikeWindow(windowMilliseconds: 1000, threshold: 2)
        _ = window.record(5000)
        _ = window.record(5001)
        #expect(window.record(4500) == .joinedLate)  // count is now 3 > S, but no evaluation
        #expect(!window.isSpiking)
        #expect(window.count == 3)
        #expect(window.record(4000) == .ignored)  // exactly newest − W
        #expect(window.record(100) == .ignored)
        #expect(window.count == 3)
        #expect(window.record(5002) == .alert(count: 4))  // the late one is counted later
        #expect(window.record(4999) == .joinedLate)  // late input does not clear a spike either
        #expect(window.isSpiking)
        #expect(window.record(6600) == .evaluated(count: 1))
        #expect(!window.isSpiking)
    }

    @Test("memory is bounded by the window, not by history")
    func bounded() {
        var window = SpikeWindow(windowMilliseconds: 100, threshold: 1000)
        for timestamp in stride(from: Int64(0), to: 1_000_000, by: 1) { _ = window.record(timestamp) }
        #expect(window.count == 100)
        #expect(window.entryCount == 100)
    }

    @Test("extreme timestamps and windows do not overflow")
    func extremes() {
        var window = SpikeWindow(windowMilliseconds: Int64.max, threshold: 1)
        #expect(window.record(Int64.min) == .evaluated(count: 1))
        #expect(window.record(Int64.min + 1) == .alert(count: 2))  // t − W is below Int64.min: all inside
        #expect(window.record(Int64.max) == .evaluated(count: 1))  // (0, Int64.max]
        #expect(window.record(0) == .ignored)
        #expect(window.record(1) == .joinedLate)
        #expect(!window.isSpiking)
    }

    @Test("random streams with ties and out-of-order input match the literal reference")
    func propertyAgainstReference() async {
        let input = zip(Gen.int(in: -12...8), Gen.int(in: 1...12), Gen.int(in: 0...4)).array(of: 1...150)
        await propertyCheck(count: 300, input: input) { steps in
            let (_, windowLength, threshold) = steps[0]
            var window = SpikeWindow(windowMilliseconds: Int64(windowLength), threshold: threshold)
            var reference = SpikeReference(window: Int64(windowLength), threshold: threshold)
            var clock: Int64 = 1000
            for (delta, _, _) in steps {
                clock += Int64(delta)
                let outcome = window.record(clock)
                let expected = reference.record(clock)
                if let expected {
                    #expect(outcome == .alert(count: expected))
                } else if case .alert = outcome {
                    Issue.record("unexpected alert at \(clock)")
                }
                #expect(window.isSpiking == reference.spiking)
                #expect(window.count == reference.count)
                #expect(window.entryCount <= windowLength)
            }
        }
    }
}
