import HTTP1
import Monitor

/// Every error the API answers with, by the check that finds it.
extension APIError {
    // MARK: Admission (decided from the head, before a body is read)

    static let hostNotAllowed = APIError(
        status: 421, code: "host_not_allowed", message: "this server does not answer for that Host")

    static func notImplemented(method: String) -> APIError {
        APIError(status: 501, code: "not_implemented", message: "method \(method) is not implemented")
    }

    /// 405 with the methods the path allows (RFC 9110 §15.5.6: "MUST generate an Allow header").
    static func methodNotAllowed(method: String, path: String, allowed: [String]) -> APIError {
        APIError(status: 405, code: "method_not_allowed", message: "\(method) is not allowed on \(path)")
            .adding("Allow", allowed.joined(separator: ", "))
    }

    static let originNotAllowed = APIError(
        status: 403, code: "origin_not_allowed", message: "requests from this Origin are not allowed")

    /// 401 with the scheme to use (RFC 9110 §11.6.1: "MUST send a WWW-Authenticate header").
    static let unauthorized = APIError(
        status: 401, code: "unauthorized", message: "a valid Authorization: Bearer key is required"
    ).adding("WWW-Authenticate", "Bearer")

    /// 403 for an accepted key that lacks the route's scope (RFC 6750 §3.1: "insufficient_scope",
    /// with the scope needed in the `scope` attribute); never names the key.
    static func insufficientScope(_ needed: APIKeyScopes) -> APIError {
        APIError(
            status: 403, code: "insufficient_scope",
            message: "this API key may not do this: it needs the \(needed.names) or admin scope"
        ).adding("WWW-Authenticate", #"Bearer error="insufficient_scope", scope="\#(needed.names)""#)
    }

    static let shuttingDown = APIError(
        status: 503, code: "shutting_down", message: "the server is stopping; retry on another instance")

    /// 415 naming the media type sent and those accepted.
    static func unsupportedMediaType(_ mediaType: String, accepted: String) -> APIError {
        APIError(
            status: 415, code: "unsupported_media_type",
            message: "Content-Type \(mediaType.isEmpty ? "(none)" : mediaType) is not accepted; use \(accepted)")
    }

    // MARK: Framing

    /// A request the parser could not frame; the connection closes after it.
    static func malformed(_ error: HTTPParseError) -> APIError {
        let code =
            switch error.status {
            case 413: "too_large"
            case 431: "header_too_large"
            case 501: "not_implemented"
            case 505: "version_not_supported"
            default: "bad_request"
            }
        return APIError(status: error.status, code: code, message: error.message)
    }

    static let requestTimeout = APIError(status: 408, code: "request_timeout", message: "request not completed in time")

    // MARK: Resources and parameters

    static func notFound(_ message: String) -> APIError {
        APIError(status: 404, code: "not_found", message: message)
    }

    static func internalError(_ message: String) -> APIError {
        APIError(status: 500, code: "internal", message: message)
    }

    static let invalidLimit = APIError(status: 400, code: "invalid_limit", message: "limit must be an integer from 1 to 1000")

    static func invalidTopicName(_ name: String) -> APIError {
        APIError(status: 400, code: "invalid_topic", message: "not a topic name: \(name)")
    }

    static func tooManyTopics(_ maximum: Int) -> APIError {
        APIError(status: 400, code: "too_many_topics", message: "at most \(maximum) topics")
    }

    static let invalidSince = APIError(status: 400, code: "invalid_since", message: "since must be a sequence number")

    // MARK: WebSocket handshake

    static let upgradeRequired = APIError(
        status: 426, code: "upgrade_required", message: "this endpoint speaks WebSocket only"
    ).adding("Upgrade", "websocket")

    static func badHandshake(status: Int, message: String, headers: [(name: String, value: String)]) -> APIError {
        APIError(
            status: status, code: "bad_handshake", message: message, headers: headers.map { Field(name: $0.name, value: $0.value) })
    }

    // MARK: Stream tokens (`--stream-token-secret`, on `/ws` and `/events`)

    /// 401 for a stream request without a token. RFC 6750 §3.1: "If the request lacks any
    /// authentication information …, the resource server SHOULD NOT include an error code".
    static let streamTokenRequired = APIError(
        status: 401, code: "token_required", message: "this stream requires a token: ?token=… or Authorization: Bearer …"
    ).adding("WWW-Authenticate", "Bearer")

    /// 401 for a stream token that is malformed, forged, expired or not yet valid (RFC 6750 §3.1
    /// `invalid_token`).
    static func invalidStreamToken(_ message: String) -> APIError {
        APIError(status: 401, code: "invalid_token", message: message).adding("WWW-Authenticate", #"Bearer error="invalid_token""#)
    }

    /// 403 for a requested topic outside the token's `topics` claim (RFC 6750 §3.1
    /// `insufficient_scope`).
    static func topicNotGranted(_ topic: String) -> APIError {
        APIError(status: 403, code: "topic_not_allowed", message: "the stream token does not allow topic \(topic)")
            .adding("WWW-Authenticate", #"Bearer error="insufficient_scope""#)
    }

    // MARK: Ingest and publish

    /// The decoder refused the body: 413 past a decoder limit, else 400.
    static func transactions(_ error: TransactionValidationError) -> APIError {
        APIError(
            status: error.code == .payloadTooLarge ? 413 : 400, code: error.code.rawValue, message: error.message,
            details: error.details)
    }

    static let emptyBatch = APIError(status: 400, code: "invalid_fields", message: "the body holds no transaction")

    /// 429: more transactions wait for the broker than ingest admits.
    static let overloaded = APIError(
        status: 429, code: "overloaded", message: "ingest is saturated; retry shortly"
    ).adding("Retry-After", "1")

    /// 409: the broker found a transaction id reused with different content.
    static func idConflict(_ details: [TransactionValidationError.Detail]) -> APIError {
        APIError(
            status: 409, code: "conflict", message: "a transaction id was reused with different content; nothing was accepted",
            details: details)
    }

    /// 400: the broker found that a total would overflow.
    static func totalsOverflow(_ details: [TransactionValidationError.Detail]) -> APIError {
        APIError(status: 400, code: "invalid_fields", message: "a total would overflow; nothing was accepted", details: details)
    }

    /// 503: the broker stopped ingest (the journal failed) or the server is stopping.
    static func unavailable(_ reason: String) -> APIError {
        APIError(status: 503, code: "unavailable", message: reason).adding("Retry-After", "5")
    }

    static let invalidPublishJSON = APIError(
        status: 400, code: "invalid_json", message: "expected {\"topic\":\"…\",\"data\":…}")

    static let invalidPublishTopic = APIError(
        status: 400, code: "invalid_topic",
        message: "topic must be 1–64 characters of A-Z a-z 0-9 . _ - and not alerts, rankings, transactions or stats")

    static let missingPublishData = APIError(status: 400, code: "invalid_fields", message: "missing field \"data\"")

    static let unserialisablePublishData = APIError(status: 400, code: "invalid_json", message: "data is not serialisable JSON")

    static func publishDataTooLarge(_ maximum: Int) -> APIError {
        APIError(status: 413, code: "payload_too_large", message: "data is larger than \(maximum) bytes")
    }

    // MARK: Readiness

    static let starting = APIError(status: 503, code: "starting", message: "the journal is being replayed")
    /// Cluster mode's `starting`: the shared log is read up to where it ended at start.
    static let catchingUp = APIError(status: 503, code: "starting", message: "catching up with the shared log in Redis")

    static func journalFailed(_ reason: String) -> APIError {
        APIError(status: 503, code: "journal_failed", message: reason)
    }
}
