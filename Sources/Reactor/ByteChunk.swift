/// Immutable bytes shared by many outbound queues.
///
/// An event is encoded once into a `ByteChunk` and every subscriber's queue holds a reference
/// to the same memory (DESIGN.md §5). The storage is allocated once and never moves, so its
/// address can go straight into an `iovec` for `writev`.
public final class ByteChunk: @unchecked Sendable {
    /// Start of the bytes; valid for the lifetime of the chunk.
    public let base: UnsafeRawPointer
    /// Number of bytes.
    public let count: Int

    private init(adopting base: UnsafeMutableRawPointer, count: Int) {
        self.base = UnsafeRawPointer(base)
        self.count = count
    }

    deinit {
        UnsafeMutableRawPointer(mutating: base).deallocate()
    }

    /// Copies `bytes` into a new chunk.
    public convenience init(_ bytes: UnsafeRawBufferPointer) {
        let storage = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        if let source = bytes.baseAddress, bytes.count > 0 {
            storage.copyMemory(from: source, byteCount: bytes.count)
        }
        self.init(adopting: storage, count: bytes.count)
    }

    /// A chunk of `count` bytes written in place by `initialize`, which must write all of them
    /// (no copy: the load generator builds its ~100 KiB requests this way).
    public convenience init(count: Int, initializingWith initialize: (UnsafeMutableRawBufferPointer) -> Void) {
        let storage = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 16)
        initialize(UnsafeMutableRawBufferPointer(start: storage, count: count))
        self.init(adopting: storage, count: count)
    }

    /// Copies an array into a new chunk.
    public convenience init(_ bytes: [UInt8]) {
        self.init(concatenating: [bytes])
    }

    /// Copies a string's UTF-8 into a new chunk.
    public convenience init(_ string: String) {
        self.init(Array(string.utf8))
    }

    /// Concatenates several byte arrays into one chunk (one allocation, one iovec).
    public convenience init(concatenating parts: [[UInt8]]) {
        var total = 0
        for part in parts { total += part.count }
        let storage = UnsafeMutableRawPointer.allocate(byteCount: max(total, 1), alignment: 16)
        var offset = 0
        for part in parts {
            part.withUnsafeBytes { bytes in
                if let source = bytes.baseAddress, bytes.count > 0 {
                    (storage + offset).copyMemory(from: source, byteCount: bytes.count)
                }
            }
            offset += part.count
        }
        self.init(adopting: storage, count: total)
    }

    /// The bytes as a buffer.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// A copy of the bytes as an array.
    public var array: [UInt8] { Array(bytes) }
}
