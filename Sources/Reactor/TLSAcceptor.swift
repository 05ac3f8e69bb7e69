import TLS

/// What a listener needs to serve TLS: the current context (replaceable on SIGHUP), the
/// handshake deadline, and where handshake failures are reported.
public final class TLSAcceptor: Sendable {
    /// The context each new connection starts with.
    public let contexts: TLSContextSource
    /// Milliseconds a client has to finish the handshake (`--tls-handshake-timeout`).
    public let handshakeTimeoutMilliseconds: Int64
    /// Called on the loop's thread for each failed handshake, with the peer's address.
    let reportFailure: @Sendable (TLSFailure, String) -> Void

    public init(
        contexts: TLSContextSource, handshakeTimeoutMilliseconds: Int64,
        reportFailure: @escaping @Sendable (TLSFailure, String) -> Void
    ) {
        self.contexts = contexts
        self.handshakeTimeoutMilliseconds = max(handshakeTimeoutMilliseconds, 1)
        self.reportFailure = reportFailure
    }
}

/// A connection's TLS side: the engine and the acceptor that started it.
final class TLSConnection {
    let engine: TLSEngine
    let acceptor: TLSAcceptor

    init(engine: TLSEngine, acceptor: TLSAcceptor) {
        self.engine = engine
        self.acceptor = acceptor
    }
}
