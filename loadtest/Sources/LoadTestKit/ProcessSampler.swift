import Foundation

/// Reads a process's resident memory and CPU time from `/proc/PID/status` and `/proc/PID/stat`.
public final class ProcessSampler {
    /// The process watched.
    public let pid: Int32
    private var lastTicks: UInt64?
    private var lastTime = MonotonicClock.seconds()
    private static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// Watches `pid`.
    public init(pid: Int32) {
        self.pid = pid
        lastTicks = Self.cpuTicks(pid)
    }

    /// One reading: RSS in bytes and CPU% (of one core) since the previous reading.
    public struct Reading: Sendable, Codable {
        public var rssBytes: Int
        public var cpuPercent: Double
    }

    /// Reads now; nil when the process is gone.
    public func read() -> Reading? {
        guard let rss = Self.residentBytes(pid), let ticks = Self.cpuTicks(pid) else { return nil }
        let now = MonotonicClock.seconds()
        var cpu = 0.0
        if let lastTicks, now > lastTime, ticks >= lastTicks {
            cpu = Double(ticks - lastTicks) / Self.ticksPerSecond / (now - lastTime) * 100
        }
        lastTicks = ticks
        lastTime = now
        return Reading(rssBytes: rss, cpuPercent: cpu)
    }

    /// `VmRSS` from `/proc/PID/status`, in bytes.
    public static func residentBytes(_ pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2, let kilobytes = Int(fields[1]) { return kilobytes * 1024 }
        }
        return nil
    }

    /// `utime + stime` (fields 14 and 15 of `/proc/PID/stat`), in clock ticks.
    public static func cpuTicks(_ pid: Int32) -> UInt64? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
        return parseCPUTicks(stat: text)
    }

    /// Parses the CPU ticks out of a `/proc/PID/stat` line; the command name in parentheses may
    /// contain spaces, so fields are counted from the last `)`.
    public static func parseCPUTicks(stat: String) -> UInt64? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        // After ")": field 3 (state) is index 0, so utime (14) is index 11 and stime (15) index 12.
        guard fields.count > 12, let user = UInt64(fields[11]), let system = UInt64(fields[12]) else { return nil }
        return user + system
    }

    /// The pid of the process listening on 127.0.0.1:`port` (or any address), found through
    /// `/proc/net/tcp` and the socket inodes in `/proc/*/fd`.
    public static func pidListening(on port: Int) -> Int32? {
        guard let table = try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8) else { return nil }
        let portHex = String(format: ":%04X", port)
        var inodes: Set<String> = []
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // local_address is field 1, st field 3 (0A = LISTEN), inode field 9.
            guard fields.count > 9, fields[1].hasSuffix(portHex), fields[3] == "0A" else { continue }
            inodes.insert("socket:[\(fields[9])]")
        }
        guard !inodes.isEmpty, let processes = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else {
            return nil
        }
        for entry in processes {
            guard let pid = Int32(entry), pid != getpid() else { continue }
            guard let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(entry)/fd") else { continue }
            for fd in fds {
                if let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/fd/\(fd)"),
                    inodes.contains(link)
                {
                    return pid
                }
            }
        }
        return nil
    }
}
