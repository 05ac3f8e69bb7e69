import Synchronization
import Testing

@testable import TLS

/// When the heap trim runs: after a burst of handshakes is over, or at the latest
/// `longestDelay` after the previous trim, never for fewer than `handshakesPerTrim`.
@Suite struct TLSHeapTrimTests {
    /// A trimmer that counts its trims instead of calling `malloc_trim`.
    final class Probe: Sendable {
        final class Counter: Sendable {
            let value = Atomic<Int>(0)
        }
        let counter = Counter()
        let trimmer: TLSHeapTrim
        var trims: Int { counter.value.load(ordering: .relaxed) }

        init() {
            let counter = self.counter
            trimmer = TLSHeapTrim(trim: { counter.value.add(1, ordering: .relaxed) })
        }

        func handshakes(_ count: Int) {
            for _ in 0..<count { trimmer.handshakeCompleted() }
        }
    }

    @Test func noTrimBelowThreshold() {
        let probe = Probe()
        probe.handshakes(TLSHeapTrim.handshakesPerTrim - 1)
        for step in Int64(0)..<10 { #expect(!probe.trimmer.trimIfDue(now: 1_000 + step * 250)) }
        #expect(probe.trims == 0)
    }

    @Test func trimsOnceTheBurstIsOver() {
        let probe = Probe()
        probe.handshakes(TLSHeapTrim.handshakesPerTrim)
        #expect(!probe.trimmer.trimIfDue(now: 1_000))  // first look: the burst may go on
        probe.handshakes(10)
        #expect(!probe.trimmer.trimIfDue(now: 1_250))  // still arriving
        #expect(!probe.trimmer.trimIfDue(now: 1_400))  // another loop, within the quiet period
        #expect(probe.trimmer.trimIfDue(now: 1_500))  // a whole period without a handshake
        #expect(probe.trims == 1)
        #expect(!probe.trimmer.trimIfDue(now: 1_750))  // counter restarted
        #expect(probe.trims == 1)
    }

    @Test func steadyStreamTrimsAfterTheLongestDelay() {
        let probe = Probe()
        var now: Int64 = 1_000
        var trimmedAt: [Int64] = []
        while now < 1_000 + 2 * TLSHeapTrim.longestDelay + 1_000 {
            probe.handshakes(TLSHeapTrim.handshakesPerTrim)
            if probe.trimmer.trimIfDue(now: now) { trimmedAt.append(now) }
            now += 250
        }
        #expect(trimmedAt == [1_000 + TLSHeapTrim.longestDelay, 1_000 + 2 * TLSHeapTrim.longestDelay])
    }

    @Test func mallocTrimIsFound() {
        #expect(TLSHeapTrim.isMallocTrimAvailable)
    }

    /// The engine counts completed handshakes into the shared trimmer.
    @Test func handshakeCountsIntoTheSharedTrimmer() throws {
        let certificate = try TestCertificate()
        let context = try TLSContext(certificateFile: certificate.certificate, keyFile: certificate.key)
        let before = TLSHeapTrim.shared.completedHandshakes
        let engine = try #require(TLSEngine(context: context))
        try TestClient().handshake(with: engine)
        #expect(engine.isHandshakeComplete)
        #expect(TLSHeapTrim.shared.completedHandshakes > before)
    }
}
