/// Identifiers (investor or syndicate ids) numbered from 0 in order of first sight, found by a
/// hash the caller already has: ``Transaction/investorKey`` and ``Transaction/syndicateKey``,
/// computed where the transaction was decoded (on an event loop), not on the broker's thread.
///
/// Not `[String: …]` dictionaries in ``Rankings`` and ``Monitor``: those hash three strings per
/// transaction on the broker (measured: ~25% of the broker's time under NDJSON ingest, in
/// `Hasher` and the dictionaries' probing; `loadtest/run.sh ingest --batch 1000`). The keys are ``KeyedHash``: SipHash with
/// the process's random key, so colliding ids cannot be computed from outside.
///
/// Open addressing with linear probing, at most half full. A slot holds the ordinal plus one in
/// its low 32 bits (0: empty) and the key's high 32 bits as a tag, so a probe compares strings
/// only when the tags agree.
///
/// Identity is the UTF-8 bytes, as for the keys (docs/DOMAIN-RULES.md): NFC `"é"` and NFD
/// `"e\u{301}"` are two identifiers with two ordinals even when their tags agree, although
/// `String` `==` (canonical equivalence) calls them equal.
struct IdentifierTable: Sendable {
    /// The identifiers by ordinal.
    private(set) var identifiers: [String] = []
    private var slots = [UInt64](repeating: 0, count: 16)

    /// Number of identifiers.
    var count: Int { identifiers.count }

    /// The hash an identifier is found by (what `Transaction` stores as its keys).
    static func key(_ identifier: String) -> Int { Int(bitPattern: UInt(KeyedHash.process.hash(identifier))) }

    /// ``key(_:)`` of the identifier whose UTF-8 bytes these are (the decoder hashes the request's
    /// bytes, without going through the `String`).
    /// `hash` is `KeyedHash.process`, passed in so that a loop over many identifiers reads the
    /// lazily initialised global once (its `swift_once` check is ~1% of the decoding loop).
    static func key(bytes: UnsafeRawBufferPointer, hash: KeyedHash) -> Int {
        Int(bitPattern: UInt(hash.hash(bytes).0))
    }

    /// The ordinal of `identifier`, or nil if it was never inserted. `key` must be ``key(_:)`` of
    /// `identifier` (the table recomputes keys when it grows).
    func ordinal(of identifier: String, key: Int) -> Int32? {
        switch probe(identifier, key: key) {
        case .found(let ordinal): ordinal
        case .empty: nil
        }
    }

    /// The ordinal of `identifier`, numbering it next if it is new.
    mutating func insert(_ identifier: String, key: Int) -> Int32 {
        switch probe(identifier, key: key) {
        case .found(let ordinal):
            return ordinal
        case .empty(let slot):
            let ordinal = Int32(truncatingIfNeeded: identifiers.count)
            identifiers.append(identifier)
            slots[slot] = Self.tag(key) | UInt64(UInt32(bitPattern: ordinal) &+ 1)
            if identifiers.count * 2 > slots.count { grow() }
            return ordinal
        }
    }

    private enum Probe {
        case found(Int32)
        case empty(slot: Int)
    }

    private func probe(_ identifier: String, key: Int) -> Probe {
        let tag = Self.tag(key)
        let mask = slots.count - 1
        var index = key & mask
        while true {
            let slot = slots[index]
            if slot == 0 { return .empty(slot: index) }
            if slot & 0xFFFF_FFFF_0000_0000 == tag {
                let ordinal = Int32(truncatingIfNeeded: slot & 0xFFFF_FFFF) &- 1
                if identifiers[Int(ordinal)].hasSameUTF8(as: identifier) { return .found(ordinal) }
            }
            index = (index + 1) & mask
        }
    }

    private static func tag(_ key: Int) -> UInt64 { UInt64(UInt(bitPattern: key)) & 0xFFFF_FFFF_0000_0000 }

    /// Doubles the slots and re-inserts every identifier (keys are recomputed: growth is rare).
    private mutating func grow() {
        var grown = [UInt64](repeating: 0, count: slots.count * 2)
        let mask = grown.count - 1
        for (ordinal, identifier) in identifiers.enumerated() {
            let key = Self.key(identifier)
            var index = key & mask
            while grown[index] != 0 { index = (index + 1) & mask }
            grown[index] = Self.tag(key) | UInt64(ordinal + 1)
        }
        slots = grown
    }
}
