/// Why a ``TransactionMonitor`` snapshot could not be restored; nothing is restored when it is thrown.
public enum MonitorSnapshotError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The bytes do not start with the snapshot magic `SYNM`: not a monitor snapshot.
    case notASnapshot
    /// A format version this build does not read.
    case unsupportedVersion(UInt8)
    /// The trailing checksum does not match the bytes: damaged in storage or transit.
    case checksumMismatch
    /// The snapshot ends before a field it announces (or before its checksum).
    case truncated
    /// The snapshot was taken under other rule parameters; state built under other rules is not
    /// valid under these, so the instance must replay the stream from its start instead.
    case configurationMismatch(snapshot: MonitorConfiguration, expected: MonitorConfiguration)
    /// A field holds a value no monitor can be in (a duplicate id, an ordinal out of range, a
    /// count that does not add up, a non-canonical varint, bytes after the last field...).
    case malformed(String)

    /// A one-line explanation for logs.
    public var description: String {
        switch self {
        case .notASnapshot: "not a monitor snapshot (bad magic)"
        case .unsupportedVersion(let version): "unsupported monitor snapshot version \(version)"
        case .checksumMismatch: "monitor snapshot checksum mismatch (damaged)"
        case .truncated: "monitor snapshot truncated"
        case .configurationMismatch(let snapshot, let expected):
            "monitor snapshot taken under other rules (\(snapshot)), this instance runs \(expected)"
        case .malformed(let reason): "malformed monitor snapshot: \(reason)"
        }
    }
}
