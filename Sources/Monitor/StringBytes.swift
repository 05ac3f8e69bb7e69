extension String {
    /// Lends the string's UTF-8 bytes: in place for native strings (every string decoded here),
    /// else from a contiguous copy. Unlike `withUTF8`, it needs no `var` copy of the string (a
    /// retain and release per call, on the hashing and journal-encoding hot paths).
    /// (`@inlinable`: callers in other modules, the journal's encoder, get it specialised.)
    @inlinable
    public func withUTF8Bytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        if let result = utf8.withContiguousStorageIfAvailable(body) { return result }
        var copy = self
        return copy.withUTF8(body)
    }
}
