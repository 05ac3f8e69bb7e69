/// Percent-decoding of URI components (RFC 3986 §2.1) and form data.
public enum PercentDecoding {
    /// Decodes `%XX` escapes (and `+` as space when `plusAsSpace`), or returns nil when an escape
    /// is malformed or the decoded bytes are not valid UTF-8.
    public static func decode(_ string: String, plusAsSpace: Bool) -> String? {
        let utf8 = string.utf8
        guard utf8.contains(ASCII.percent) || (plusAsSpace && utf8.contains(ASCII.plus)) else {
            return string
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var iterator = utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case ASCII.percent:
                guard let high = iterator.next().flatMap(ASCII.hexValue),
                    let low = iterator.next().flatMap(ASCII.hexValue)
                else { return nil }
                bytes.append(high &<< 4 | low)
            case ASCII.plus where plusAsSpace:
                bytes.append(ASCII.space)
            default:
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
