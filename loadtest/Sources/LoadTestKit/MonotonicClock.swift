import Glibc

/// CLOCK_MONOTONIC, shared by every process on the machine, so a publisher's send time and a
/// subscriber's receive time (even in another process) can be subtracted.
public enum MonotonicClock {
    /// Nanoseconds since an arbitrary fixed point.
    @inline(__always)
    public static func nanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
    }

    /// Seconds as a Double, for elapsed-time arithmetic.
    public static func seconds() -> Double {
        Double(nanoseconds()) / 1e9
    }
}
