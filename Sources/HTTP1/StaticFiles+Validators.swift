/// Entity tags, conditional requests and media types for ``StaticFiles``.
extension StaticFiles {
    /// A strong entity tag `"size-mtimeNanos"` in hexadecimal (RFC 9110 §8.8.3).
    static func entityTag(size: Int, modificationSeconds: Int, modificationNanoseconds: Int) -> String {
        let nanoseconds = modificationSeconds &* 1_000_000_000 &+ modificationNanoseconds
        return "\"\(String(size, radix: 16))-\(String(UInt64(truncatingIfNeeded: nanoseconds), radix: 16))\""
    }

    /// Whether an `If-None-Match` value (`"*" / #entity-tag`, RFC 9110 §13.1.2) matches `etag`
    /// under weak comparison: "two entity-tags are equivalent if their opaque-tags match
    /// character-by-character, regardless of either or both being tagged as "weak"" (§8.8.3.2).
    static func entityTagList(_ value: String, matches etag: String) -> Bool {
        let bytes = Array(value.utf8)
        let opaque = Array(etag.utf8.drop { $0 == UInt8(ascii: "W") || $0 == ASCII.slash })
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == ASCII.comma || ASCII.isWhitespace(byte) {
                index += 1
                continue
            }
            if byte == UInt8(ascii: "*") { return true }
            if byte == UInt8(ascii: "W"), index + 1 < bytes.count, bytes[index + 1] == ASCII.slash { index += 2 }
            // entity-tag = [ weak ] opaque-tag; opaque-tag = DQUOTE *etagc DQUOTE (may hold commas)
            guard index < bytes.count, bytes[index] == ASCII.doubleQuote else { return false }
            var end = index + 1
            while end < bytes.count, bytes[end] != ASCII.doubleQuote { end += 1 }
            guard end < bytes.count else { return false }
            if bytes[index...end].elementsEqual(opaque) { return true }
            index = end + 1
        }
        return false
    }

    /// The media type for a file name's extension; text types carry `charset=utf-8`.
    static func contentType(forPath path: String) -> String {
        let name = path.split(separator: "/").last ?? ""
        guard let dot = name.lastIndex(of: ".") else { return "application/octet-stream" }
        switch name[name.index(after: dot)...].lowercased() {
        case "html", "htm": return "text/html; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "js", "mjs": return "text/javascript; charset=utf-8"
        case "json", "map": return "application/json"
        case "webmanifest": return "application/manifest+json"
        case "txt": return "text/plain; charset=utf-8"
        case "csv": return "text/csv; charset=utf-8"
        case "xml": return "application/xml"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "jpg", "jpeg": return "image/jpeg"
        case "gif": return "image/gif"
        case "webp": return "image/webp"
        case "avif": return "image/avif"
        case "ico": return "image/x-icon"
        case "woff": return "font/woff"
        case "woff2": return "font/woff2"
        case "ttf": return "font/ttf"
        case "otf": return "font/otf"
        case "wasm": return "application/wasm"
        case "pdf": return "application/pdf"
        default: return "application/octet-stream"
        }
    }
}
