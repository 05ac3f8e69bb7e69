import Glibc

/// Where log lines go: a file descriptor, or a closure (tests).
struct LogOutput: Sendable {
    /// Takes one whole line.
    let sink: @Sendable ([UInt8]) -> Void

    /// Standard error, one `write(2)` per line (retried on a short write or EINTR).
    static let standardError = LogOutput { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                Glibc.write(STDERR_FILENO, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
            }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }

    func write(_ bytes: [UInt8]) { sink(bytes) }
}
