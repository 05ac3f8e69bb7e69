/// Identifiers (investor or syndicate ids) numbered from 0 in order of first sight, found by the
/// key a ``KeyedIdentifier`` carries: computed where the transaction was decoded (on an event
/// loop), not on the broker's thread. `[String: …]` dictionaries in ``Rankings`` and ``TransactionMonitor``
/// hashed three strings per transaction on the broker (~25% of the broker's time under NDJSON
/// ingest, in `Hasher` and the dictionaries' probing). The keys are ``KeyedHash``: SipHash with
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

    /// An empty table.
    init() {}

    /// An empty table with slots for `count` identifiers, so that filling it never grows it (a
    /// snapshot's restore).
    init(minimumCapacity count: Int) {
        var slotCount = 16
        while slotCount < count * 2 + 2 { slotCount *= 2 }
        slots = [UInt64](repeating: 0, count: slotCount)
        identifiers.reserveCapacity(count)
    }

    /// Number of identifiers.
    var count: Int { identifiers.count }

    /// The ordinal of `identifier`, or nil if it was never inserted.
    func ordinal(of identifier: KeyedIdentifier) -> Int32? {
        switch probe(identifier) {
        case .found(let ordinal): ordinal
        case .empty: nil
        }
    }

    /// The ordinal of `identifier`, numbering it next if it is new.
    mutating func insert(_ identifier: KeyedIdentifier) -> Int32 {
        switch probe(identifier) {
        case .found(let ordinal):
            return ordinal
        case .empty(let slot):
            let ordinal = Int32(truncatingIfNeeded: identifiers.count)
            identifiers.append(identifier.value)
            slots[slot] = Self.tag(identifier.key) | UInt64(UInt32(bitPattern: ordinal) &+ 1)
            if identifiers.count * 2 > slots.count { grow() }
            return ordinal
        }
    }

    private enum Probe {
        case found(Int32)
        case empty(slot: Int)
    }

    private func probe(_ identifier: KeyedIdentifier) -> Probe {
        let tag = Self.tag(identifier.key)
        let mask = slots.count - 1
        var index = identifier.key & mask
        while true {
            let slot = slots[index]
            if slot == 0 { return .empty(slot: index) }
            if slot & 0xFFFF_FFFF_0000_0000 == tag {
                let ordinal = Int32(truncatingIfNeeded: slot & 0xFFFF_FFFF) &- 1
                if identifiers[Int(ordinal)].hasSameUTF8(as: identifier.value) { return .found(ordinal) }
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
            let key = KeyedIdentifier(identifier).key
            var index = key & mask
            while grown[index] != 0 { index = (index + 1) & mask }
            grown[index] = Self.tag(key) | UInt64(ordinal + 1)
        }
        slots = grown
    }
}
