/// What a verified stream token grants a connection to `/ws` or `/events`: who it is for, until
/// when, and (when the token names them) which topics it may subscribe to.
///
/// A class, so that a stream connection holds one reference (8 bytes, nil without
/// `--stream-token-secret`) rather than the claims inline: every idle connection carries it.
final class StreamGrant: Sendable, Equatable, CustomStringConvertible {
    /// The `sub` claim.
    let subject: String
    /// The `exp` claim: seconds since the Unix epoch (a NumericDate, RFC 7519 §2).
    let expires: Double
    /// The `topics` claim; nil when the token does not limit topics.
    let topics: Set<String>?

    init(subject: String, expires: Double, topics: Set<String>?) {
        self.subject = subject
        self.expires = expires
        self.topics = topics
    }

    /// Whether the token lets its connection subscribe to `topic`.
    func allows(_ topic: String) -> Bool {
        topics?.contains(topic) ?? true
    }

    /// The first of `requested` (in sorted order, so the answer is stable) the token does not allow.
    func firstRefused(_ requested: some Sequence<String>) -> String? {
        guard let topics else { return nil }
        return requested.filter { !topics.contains($0) }.sorted().first
    }

    /// Milliseconds from `now` (seconds since the Unix epoch) until the token expires, at least 0.
    func millisecondsLeft(now: Double) -> Int64 {
        let left = ((expires - now) * 1_000).rounded(.up)
        guard left.isFinite, left > 0 else { return 0 }
        return left >= Double(Int64.max / 2) ? Int64.max / 2 : Int64(left)
    }

    static func == (left: StreamGrant, right: StreamGrant) -> Bool {
        left.subject == right.subject && left.expires == right.expires && left.topics == right.topics
    }

    var description: String { "StreamGrant(sub: \(subject), exp: \(expires), topics: \(topics.map { $0.sorted() } ?? []))" }
}
