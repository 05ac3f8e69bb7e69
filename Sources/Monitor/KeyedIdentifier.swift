/// An investor or syndicate id with the hash ``IdentifierTable`` finds it by.
///
/// The key is always computed here, from the id's own UTF-8 bytes with the process's
/// ``KeyedHash``: no caller can pair an id with a key that is not its own, which is what every
/// table lookup relies on (a wrong key finds nothing, or a different identifier's ordinal).
/// Hashing where the transaction is decoded (on an event loop) keeps string hashing off the
/// broker's thread: `[String: …]` dictionaries hashing three strings per transaction there were
/// ~25% of the broker's time under NDJSON ingest (perf).
///
/// Identity is the UTF-8 bytes (docs/DOMAIN-RULES.md): NFC `"é"` and NFD `"e\u{301}"` have
/// different keys, so they are different identifiers here and in the table.
@usableFromInline
struct KeyedIdentifier: Sendable, Hashable {
    /// The identifier.
    @usableFromInline let value: String
    /// ``KeyedHash/process`` of `value`'s UTF-8 bytes, as an `Int`.
    @usableFromInline let key: Int

    /// `identifier` with its key.
    init(_ identifier: String) {
        value = identifier
        key = identifier.withUTF8Bytes { Self.key(ofUTF8: UnsafeRawBufferPointer($0), hash: .process) }
    }

    /// The identifier whose UTF-8 bytes these are, hashed from the same bytes (the decoder's path:
    /// the request's bytes are hashed without going through the `String`). The bytes must be
    /// valid UTF-8, as ``JSONScanner`` checks them: the `String` would repair invalid ones, and
    /// its bytes would no longer be the hashed ones (checked in debug builds).
    init(utf8 bytes: UnsafeRawBufferPointer, hasher: Hasher) {
        value = String(decoding: bytes, as: UTF8.self)
        key = Self.key(ofUTF8: bytes, hash: hasher.hash)
        assert(value.utf8.elementsEqual(bytes), "KeyedIdentifier: the bytes are not valid UTF-8")
    }

    /// Tests only: `identifier` with a chosen key, to force equal tags and home slots in a table
    /// (which recomputes keys when it grows, so a forged key holds only until then).
    init(forTesting identifier: String, key: Int) {
        value = identifier
        self.key = key
    }

    @inline(__always)
    private static func key(ofUTF8 bytes: UnsafeRawBufferPointer, hash: KeyedHash) -> Int {
        Int(bitPattern: UInt(hash.hash(bytes).0))
    }

    /// The process's hash, read once for a whole body: the lazily initialised global's
    /// `swift_once` check was ~1% of the decoding loop when read per identifier. Its only
    /// initializer takes ``KeyedHash/process``, so every key comes from the same hash.
    struct Hasher: Sendable {
        fileprivate let hash: KeyedHash

        init() { hash = .process }
    }
}
