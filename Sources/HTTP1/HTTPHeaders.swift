/// An ordered list of header fields; names compare case-insensitively (RFC 9110 §5.1).
///
/// Field order and duplicates are kept as received. Lookups scan linearly, which beats hashing for
/// the dozen fields a request carries.
public struct HTTPHeaders: Sendable, Sequence, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    /// The fields in order.
    public private(set) var pairs: [(name: String, value: String)]

    /// Creates headers from `(name, value)` pairs, keeping their order.
    public init(_ pairs: [(String, String)] = []) {
        self.pairs = pairs.map { (name: $0.0, value: $0.1) }
    }

    /// Creates headers from a literal such as `["Content-Type": "text/plain"]`.
    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    init(reservingCapacity capacity: Int) {
        pairs = []
        pairs.reserveCapacity(capacity)
    }

    /// The number of fields (counting repeated names separately).
    public var count: Int { pairs.count }

    /// Whether there are no fields.
    public var isEmpty: Bool { pairs.isEmpty }

    /// Whether two strings are equal ignoring ASCII case (field names, tokens, media types).
    public static func equalsIgnoringASCIICase(_ left: String, _ right: String) -> Bool {
        ASCII.equalsIgnoringCase(left, right)
    }

    /// The first value of the field `name`, or nil.
    public subscript(name: String) -> String? {
        for pair in pairs where ASCII.equalsIgnoringCase(pair.name, name) {
            return pair.value
        }
        return nil
    }

    /// Every value of the field `name`, in order.
    public func values(_ name: String) -> [String] {
        pairs.compactMap { ASCII.equalsIgnoringCase($0.name, name) ? $0.value : nil }
    }

    /// Whether any field `name` exists.
    public func contains(_ name: String) -> Bool {
        pairs.contains { ASCII.equalsIgnoringCase($0.name, name) }
    }

    /// Whether the comma-separated token list in the fields `name` contains `token`, ignoring case.
    ///
    /// RFC 9110 §5.6.1: "A recipient MUST parse and ignore a reasonable number of empty list
    /// elements"; elements are trimmed of OWS. Used for `Connection: keep-alive, Upgrade`.
    public func containsToken(_ token: String, in name: String) -> Bool {
        for pair in pairs where ASCII.equalsIgnoringCase(pair.name, name) {
            if Self.list(pair.value, containsToken: token) { return true }
        }
        return false
    }

    /// Appends a field.
    public mutating func add(_ name: String, _ value: String) {
        pairs.append((name: name, value: value))
    }

    /// Replaces every field `name` with one field holding `value`, at the first one's position.
    public mutating func replaceOrAdd(_ name: String, _ value: String) {
        if let index = pairs.firstIndex(where: { ASCII.equalsIgnoringCase($0.name, name) }) {
            pairs[index].value = value
            var next = index + 1
            while next < pairs.count {
                if ASCII.equalsIgnoringCase(pairs[next].name, name) { pairs.remove(at: next) } else { next += 1 }
            }
        } else {
            add(name, value)
        }
    }

    /// Removes every field `name`.
    public mutating func remove(_ name: String) {
        pairs.removeAll { ASCII.equalsIgnoringCase($0.name, name) }
    }

    /// Iterates the fields in order.
    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        pairs.makeIterator()
    }

    /// `Name: value` lines.
    public var description: String {
        pairs.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
    }

    /// Whether a comma-separated list contains `token` (case-insensitive, OWS trimmed).
    static func list(_ value: String, containsToken token: String) -> Bool {
        var value = value
        var token = token
        return value.withUTF8 { valueBytes in
            token.withUTF8 { tokenBytes in
                let raw = UnsafeRawBufferPointer(valueBytes)
                var start = 0
                while start <= raw.count {
                    var end = start
                    while end < raw.count, raw[end] != ASCII.comma { end += 1 }
                    let element = ASCII.trimWhitespace(raw, start..<end)
                    if element.count == tokenBytes.count {
                        var equal = true
                        for offset in 0..<element.count
                        where ASCII.lowercased(raw[element.lowerBound + offset]) != ASCII.lowercased(tokenBytes[offset]) {
                            equal = false
                            break
                        }
                        if equal { return true }
                    }
                    start = end + 1
                }
                return false
            }
        }
    }
}
