import Glibc

/// Where and how to reach Redis: `redis://[[username]:password@]host[:port][/db]`.
///
/// The userinfo is percent-decoded (a password may hold `@`, `:` or `/` written as `%40`, `%3A`,
/// `%2F`). The host is an IPv4 literal, a bracketed IPv6 literal or a name resolved with
/// `getaddrinfo` on every connect (so a failover that moves a name to another address is
/// followed). Defaults: port 6379, database 0. Anything else is refused with a message saying what.
public struct RedisURL: Sendable, Equatable, CustomStringConvertible {
    /// Host name or address literal (without brackets).
    public var host: String
    /// TCP port, 1–65535.
    public var port: Int
    /// Database index for `SELECT` (0 is Redis's default and needs no `SELECT`).
    public var database: Int
    /// ACL user name for `AUTH username password`; nil for `AUTH password` alone.
    public var username: String?
    /// Password for `AUTH`; nil for no `AUTH`.
    public var password: String?

    /// A URL from its parts.
    public init(host: String, port: Int = 6379, database: Int = 0, username: String? = nil, password: String? = nil) {
        self.host = host
        self.port = port
        self.database = database
        self.username = username
        self.password = password
    }

    /// Parses `text`; throws a `RedisURLError` naming what is wrong.
    public init(parsing text: String) throws(RedisURLError) {
        let lowered = text.lowercased()
        if lowered.hasPrefix("rediss://") {
            throw RedisURLError("TLS to Redis is not supported (rediss://); use redis:// on a trusted network")
        }
        if lowered.hasPrefix("unix://") || lowered.hasPrefix("redis+unix://") {
            throw RedisURLError("Unix socket URLs are not supported; use redis://host:port")
        }
        guard lowered.hasPrefix("redis://") else { throw RedisURLError("a Redis URL starts with redis:// (got \"\(text)\")") }
        var rest = Substring(text.dropFirst("redis://".count))
        if rest.contains("?") || rest.contains("#") { throw RedisURLError("query and fragment are not supported in a Redis URL") }
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            guard let colon = userinfo.firstIndex(of: ":") else {
                throw RedisURLError("the userinfo of a Redis URL is [username]:password (a password alone is :password)")
            }
            let decodedUser = try Self.percentDecode(userinfo[..<colon])
            let decodedPassword = try Self.percentDecode(userinfo[userinfo.index(after: colon)...])
            guard !decodedPassword.isEmpty else { throw RedisURLError("the password in the Redis URL is empty") }
            username = decodedUser.isEmpty ? nil : decodedUser
            password = decodedPassword
        }
        var authority = rest
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            let path = rest[rest.index(after: slash)...]
            if !path.isEmpty {
                guard path.allSatisfy({ $0.isASCII && $0.isNumber }), path.count <= 9, let number = Int(path) else {
                    throw RedisURLError("the database in a Redis URL is a number, as in redis://host:6379/0 (got \"/\(path)\")")
                }
                database = number
            }
        }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw RedisURLError("unclosed [ in the Redis URL's host") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw RedisURLError("unexpected text after the Redis URL's host") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.firstIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw RedisURLError("the Redis URL has no host") }
        guard host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_" || $0 == ":") }) else {
            throw RedisURLError("invalid host \"\(host)\" in the Redis URL")
        }
        var port = 6379
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(portText),
                (1...65_535).contains(number)
            else { throw RedisURLError("the port in the Redis URL is 1–65535 (got \"\(portText)\")") }
            port = number
        }
        self.init(host: String(host), port: port, database: database, username: username, password: password)
    }

    /// The URL with the password replaced by `***` (for logs).
    public var description: String {
        var text = "redis://"
        if password != nil { text += (username ?? "") + ":***@" }
        text += host.contains(":") ? "[\(host)]" : host
        return text + ":\(port)/\(database)"
    }

    /// Decodes `%XX` escapes; the result must be UTF-8.
    static func percentDecode(_ text: Substring) throws(RedisURLError) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.popFirst().flatMap(hexValue), let low = iterator.popFirst().flatMap(hexValue) else {
                throw RedisURLError("invalid percent-encoding in the Redis URL's userinfo")
            }
            bytes.append(high << 4 | low)
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw RedisURLError("the Redis URL's userinfo is not UTF-8 once percent-decoded")
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// A Redis URL that cannot be used, with a message for the operator.
public struct RedisURLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong.
    public let message: String

    init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
