import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Hands the heap that finished TLS handshakes freed back to the kernel, once a burst of
/// handshakes is over.
///
/// A handshake allocates and frees tens of KB; glibc keeps the freed pages, scattered among
/// the live `SSL` objects, so they stay in RSS. `malloc_trim(0)` releases them: 0.8 KB per idle
/// `wss://` connection at 5,000 (4 MB of 106 MB), and after those connections close the RSS falls
/// from 106 to 63 MB (loadtest/c/wsfanout --idle-seconds, gdb calling `malloc_trim`). It walks
/// the whole heap and blocks the calling loop: 21 ms and 145 `madvise` calls with 10,000 idle
/// connections (traced with strace), so it runs at most once per ``handshakesPerTrim``
/// handshakes: when a sweep sees no new handshake for a whole sweep period (the burst is over),
/// or ``longestDelay`` after the previous trim under a steady stream.
public final class TLSHeapTrim: Sendable {
    /// The process's trimmer: every ``TLSEngine`` counts into it, every event loop's sweep asks it.
    public static let shared = TLSHeapTrim()

    /// Handshakes completed before a trim is considered (at most 21 µs of trim each, amortised).
    public static let handshakesPerTrim = 1_000
    /// Longest time between trims while handshakes keep arriving, in milliseconds.
    public static let longestDelay: Int64 = 30_000
    /// The shortest span over which a burst is judged over, in milliseconds (the loops' sweep period).
    public static let quietPeriod: Int64 = 250

    private struct State {
        var handshakesAtLastCheck = 0
        var lastCheck: Int64?
        var lastTrim: Int64?
    }

    private let handshakes = Atomic<Int>(0)
    private let state = Mutex(State())
    private let trim: @Sendable () -> Void

    /// `trim` releases the heap; glibc's `malloc_trim(0)` unless a test observes it.
    init(trim: @escaping @Sendable () -> Void = TLSHeapTrim.mallocTrim) {
        self.trim = trim
    }

    /// glibc's `malloc_trim(0)`, looked up once (Swift's Glibc module does not import `malloc.h`).
    static func mallocTrim() {
        _ = mallocTrimFunction?(0)
    }

    /// Whether glibc's `malloc_trim` was found.
    static var isMallocTrimAvailable: Bool { mallocTrimFunction != nil }

    private typealias MallocTrim = @convention(c) (Int) -> Int32
    private static let mallocTrimFunction: MallocTrim? = {
        #if canImport(Glibc)
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
            return unsafeBitCast(symbol, to: MallocTrim.self)
        #else
            return nil
        #endif
    }()

    /// Counts one completed handshake (any loop).
    func handshakeCompleted() {
        handshakes.add(1, ordering: .relaxed)
    }

    /// Handshakes counted since the last trim.
    var completedHandshakes: Int { handshakes.load(ordering: .relaxed) }

    /// Called by every event loop's periodic sweep with its monotonic clock in milliseconds;
    /// trims when due and says whether it did. Without TLS traffic it is one atomic load.
    @discardableResult
    public func trimIfDue(now: Int64) -> Bool {
        let count = handshakes.load(ordering: .relaxed)
        guard count >= Self.handshakesPerTrim else { return false }
        let due = state.withLock { state -> Bool in
            // Several loops call this; a burst is judged over a whole quiet period.
            if let lastCheck = state.lastCheck, now - lastCheck < Self.quietPeriod { return false }
            let quiet = state.lastCheck != nil && count == state.handshakesAtLastCheck
            let lastTrim = state.lastTrim ?? now
            state.lastCheck = now
            state.handshakesAtLastCheck = count
            state.lastTrim = lastTrim
            guard quiet || now - lastTrim >= Self.longestDelay else { return false }
            state.lastTrim = now
            state.handshakesAtLastCheck = 0
            return true
        }
        guard due else { return false }
        handshakes.subtract(count, ordering: .relaxed)
        trim()
        return true
    }
}
