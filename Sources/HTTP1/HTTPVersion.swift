/// An HTTP protocol version, `HTTP-version = HTTP-name "/" DIGIT "." DIGIT` (RFC 9112 §2.3).
public struct HTTPVersion: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The major version digit.
    public var major: Int
    /// The minor version digit.
    public var minor: Int

    /// Creates a version from its two digits.
    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// HTTP/1.0.
    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    /// HTTP/1.1.
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)

    /// Whether this is HTTP/1.1 or a later 1.x, which RFC 9110 §2.5 says to treat as 1.1.
    public var isAtLeastHTTP1_1: Bool { major > 1 || (major == 1 && minor >= 1) }

    /// `HTTP/major.minor`.
    public var description: String { "HTTP/\(major).\(minor)" }
}
