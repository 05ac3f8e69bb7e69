import Synchronization

/// The context new connections use, replaceable while serving (SIGHUP): connections already
/// open keep the context they started with.
public final class TLSContextSource: Sendable {
    private let context: Mutex<TLSContext>

    public init(_ context: TLSContext) {
        self.context = Mutex(context)
    }

    /// The context for a connection accepted now.
    public var current: TLSContext { context.withLock { $0 } }

    /// Builds a context from the same kind of files and, if that works, serves it to new
    /// connections; on failure the current one stays and the error is thrown.
    public func reload(certificateFile: String, keyFile: String) throws(TLSError) {
        let fresh = try TLSContext(certificateFile: certificateFile, keyFile: keyFile)
        context.withLock { $0 = fresh }
    }
}
