import Glibc

extension WriteAheadLogCheck {
    /// The whole file at `path`, or `nil` if it does not exist.
    static func readFile(_ path: String) throws(JournalError) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            if errno == ENOENT { return nil }
            throw JournalError("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw JournalError("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: buffer[0..<count])
        }
    }

    /// Throws when the log next to `databasePath` holds damage SQLite would skip over silently.
    static func verify(databasePath: String) throws(JournalError) {
        let logPath = databasePath + "-wal"
        guard case .damaged(let frame, let committedAfter) = try check(path: logPath) else { return }
        let place = frame < 0 ? "its header" : "frame \(frame + 1)"
        throw JournalError(
            "the write-ahead log \(logPath) is damaged at \(place), and \(committedAfter) committed "
                + "group(s) written after it would be dropped by SQLite's recovery; restore the data "
                + "directory from a backup, or move the -wal file aside to start from the state before the damage")
    }
}
