import Reactor
import Synchronization
import TLS

/// `--tls-cert` and `--tls-key` while serving: the context new connections get, its reload on
/// SIGHUP (a bad pair keeps the previous one), and the count of failed handshakes.
final class ServerTLS: Sendable {
    let certificateFile: String
    let keyFile: String
    let contexts: TLSContextSource
    let acceptor: TLSAcceptor
    /// Told each reload's outcome (the command logs it).
    private let reloadObserver = Mutex<(@Sendable (TLSReload) -> Void)?>(nil)

    /// Loads the pair; throws a ``StartupError`` naming the file and OpenSSL's reason.
    init(configuration: ServerConfiguration, metrics: ServerMetrics) throws {
        guard let certificateFile = configuration.tlsCertificateFile, let keyFile = configuration.tlsKeyFile else {
            throw StartupError("--tls-cert and --tls-key go together")
        }
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        do {
            contexts = TLSContextSource(try TLSContext(certificateFile: certificateFile, keyFile: keyFile))
        } catch {
            throw StartupError("--tls-cert/--tls-key: \(error)")
        }
        acceptor = TLSAcceptor(
            contexts: contexts, handshakeTimeoutMilliseconds: Int64(configuration.tlsHandshakeTimeoutSeconds) * 1_000
        ) { failure, _ in
            metrics.tlsHandshakeFailed(failure.reason)
        }
    }

    /// Builds a context from the files again; new connections use it, open ones keep theirs.
    @discardableResult
    func reload() -> TLSReload {
        let outcome: TLSReload
        do {
            try contexts.reload(certificateFile: certificateFile, keyFile: keyFile)
            outcome = .loaded(certificateFile: certificateFile)
        } catch {
            outcome = .failed(error.description)
        }
        reloadObserver.withLock { $0 }?(outcome)
        return outcome
    }

    func observeReloads(_ report: @escaping @Sendable (TLSReload) -> Void) {
        reloadObserver.withLock { $0 = report }
    }
}

/// The outcome of reloading the TLS certificate and key.
public enum TLSReload: Sendable, Equatable {
    /// New connections get the certificate read from this file.
    case loaded(certificateFile: String)
    /// The files could not be used (OpenSSL's reason); the previous pair stays.
    case failed(String)
}

extension ServerMetrics {
    /// Counts a failed TLS handshake (rare: the registry's counter is bumped at once, and the
    /// health log reports the count per 10 s, never a line per failure).
    func tlsHandshakeFailed(_ reason: TLSFailure.Reason) {
        guard let index = TLSFailure.Reason.allCases.firstIndex(of: reason) else { return }
        tlsFailures.withLock { $0[index] += 1 }
        families.tlsHandshakeFailures[index].increment()
    }
}

extension SyndicastServer {
    /// Reloads `--tls-cert` and `--tls-key` (SIGHUP does); nil without TLS.
    @discardableResult
    public func reloadTLS() -> TLSReload? {
        tls?.reload()
    }

    /// Calls `report` with the outcome of every later ``reloadTLS()``.
    public func reportTLSReloads(_ report: @escaping @Sendable (TLSReload) -> Void) {
        tls?.observeReloads(report)
    }
}
