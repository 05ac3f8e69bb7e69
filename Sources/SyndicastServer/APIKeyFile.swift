import Glibc

/// Reads `--api-key-file`: one key a line, `KEY scope[,scope…]`, where a scope is `ingest`,
/// `publish` or `admin`.
///
/// Blank lines and lines whose first non-blank character is `#` are skipped; a `#` field after
/// the scopes starts a comment. Fields are separated by spaces or tabs; `\r\n` line ends are
/// accepted. A key must pass ``RequestPolicy/validateKeys(_:)`` (printable ASCII, no spaces) and
/// appear once. An error names the file and the line and never quotes anything the line holds:
/// a line with its fields swapped would otherwise print the key as a "scope".
enum APIKeyFile {
    /// Largest file read: a key a line, far more keys than a server is given.
    static let maximumBytes = 1 << 20

    /// The keys in `text`, read from the file `path` (named in errors).
    static func parse(_ text: String, path: String) throws(APIKeyFileError) -> [APIKey] {
        var keys: [APIKey] = []
        var lineOfKey: [[UInt8]: Int] = [:]
        var number = 0
        // "\r\n" is one Character in Swift, so it is a separator of its own.
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            number += 1
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let first = fields.first, !first.hasPrefix("#") else { continue }
            func failure(_ reason: String) -> APIKeyFileError { APIKeyFileError(path: path, line: number, reason: reason) }
            let commentStart = fields.indices.dropFirst(2).first { fields[$0].hasPrefix("#") } ?? fields.endIndex
            guard commentStart == 2 else {
                throw failure(
                    fields.count < 2
                        ? "expected KEY SCOPE[,SCOPE…], found one field (a key without scopes, or scopes without a key)"
                        : "expected KEY SCOPE[,SCOPE…], found \(commentStart) fields")
            }
            let key = String(first)
            if RequestPolicy.validateKeys([key]) != nil {
                throw failure("the key is not printable ASCII without spaces (it travels in an Authorization header)")
            }
            var scopes: APIKeyScopes = []
            let names = fields[1].split(separator: ",", omittingEmptySubsequences: false)
            for (index, name) in names.enumerated() {
                guard let scope = APIKeyScopes(name: name) else {
                    throw failure("scope \(index + 1) of \(names.count) is not ingest, publish or admin")
                }
                scopes.insert(scope)
            }
            let bytes = Array(key.utf8)
            if let earlier = lineOfKey[bytes] { throw failure("the key repeats the key on line \(earlier)") }
            lineOfKey[bytes] = number
            keys.append(APIKey(key, scopes: scopes))
        }
        return keys
    }

    /// The keys in the file at `path`.
    static func load(_ path: String) throws(APIKeyFileError) -> [APIKey] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw APIKeyFileError(path: path, line: nil, reason: systemError(errno)) }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw APIKeyFileError(path: path, line: nil, reason: systemError(errno))
            }
            if count == 0 { break }
            bytes += chunk[0..<count]
            if bytes.count > maximumBytes {
                throw APIKeyFileError(path: path, line: nil, reason: "larger than \(maximumBytes) bytes")
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw APIKeyFileError(path: path, line: nil, reason: "not UTF-8 text")
        }
        return try parse(text, path: path)
    }

    private static func systemError(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}

/// Why a key file cannot be used: its path, the line (1-based) when a line is at fault, and the
/// reason, never the key.
public struct APIKeyFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let line: Int?
    public let reason: String

    public var description: String {
        line.map { "\(path):\($0): \(reason)" } ?? "\(path): \(reason)"
    }
}
