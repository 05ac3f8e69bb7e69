/// What an API key may do: `ingest` (`POST /api/transactions`), `publish` (`POST /api/publish`)
/// and `admin` (every write and every admin endpoint, so it implies the other two).
///
/// Reads (queries, streams, health, metrics) need no scope: keys guard writes only.
public struct APIKeyScopes: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8

    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let ingest = APIKeyScopes(rawValue: 1 << 0)
    public static let publish = APIKeyScopes(rawValue: 1 << 1)
    public static let admin = APIKeyScopes(rawValue: 1 << 2)
    /// What a key given with `--api-key` has.
    public static let all: APIKeyScopes = [.ingest, .publish, .admin]

    /// The scope a key file names (`ingest`, `publish`, `admin`), or nil.
    public init?(name: some StringProtocol) {
        switch name {
        case "ingest": self = .ingest
        case "publish": self = .publish
        case "admin": self = .admin
        default: return nil
        }
    }

    /// Whether a key with these scopes may do what `needed` names: `admin` permits everything.
    func permits(_ needed: APIKeyScopes) -> Bool {
        contains(.admin) || isSuperset(of: needed)
    }

    /// The scope names, as `WWW-Authenticate`'s `scope` attribute lists them (RFC 6750 §3).
    var names: String {
        var names: [String] = []
        if contains(.ingest) { names.append("ingest") }
        if contains(.publish) { names.append("publish") }
        if contains(.admin) { names.append("admin") }
        return names.joined(separator: " ")
    }
}

/// One accepted bearer key and its scopes. Its bytes are never logged, printed or put in an
/// error: ``description`` hides them.
struct APIKey: Sendable, CustomStringConvertible {
    /// The key as it travels in `Authorization: Bearer KEY`.
    let bytes: [UInt8]
    let scopes: APIKeyScopes

    init(_ key: String, scopes: APIKeyScopes) {
        self.bytes = Array(key.utf8)
        self.scopes = scopes
    }

    var description: String { "APIKey(\(bytes.count) bytes, scopes: \(scopes.names))" }
}
