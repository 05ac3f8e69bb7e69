import Glibc

/// An exclusive `flock` on `syndicast.lock` in a data directory, held while a journal is open.
///
/// It keeps a second server from interleaving its own history with the first's: a second open of
/// the same directory, by another process or the same one, fails at once. SQLite's own locks
/// cannot do this without `locking_mode = EXCLUSIVE`, which would also keep `syndicast backup`
/// (a reader in another process) out of the write-ahead log's shared memory. The kernel drops the
/// lock when the descriptor is closed or the process dies, so a crash never leaves it stale.
final class DataDirectoryLock {
    /// The lock file's name inside the data directory.
    static let fileName = "syndicast.lock"

    /// How often, and how far apart, a taken lock is tried again before the open fails.
    static let retryCount = 50
    static let retryMicroseconds: UInt32 = 5_000

    /// The lock file's path.
    let path: String
    /// The open lock file; -1 once released.
    private var descriptor: Int32

    /// Takes the lock on `directory` (which must exist), or throws when another holder has it.
    ///
    /// `databasePath` names the journal in the error message, the file the operator knows.
    init(directory: String, databasePath: String) throws(JournalError) {
        path = directory.hasSuffix("/") ? directory + Self.fileName : directory + "/" + Self.fileName
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw JournalError("cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        var attempts = 0
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            // A process forked by another thread holds the lock too until it execs or closes its
            // copy of the descriptor (the lock belongs to the open file, which a fork shares), so a
            // holder is only reported once the lock stays taken for a quarter of a second.
            if code == EWOULDBLOCK && attempts < Self.retryCount {
                attempts += 1
                usleep(Self.retryMicroseconds)
                continue
            }
            Glibc.close(descriptor)
            if code == EWOULDBLOCK {
                throw JournalError(
                    "\(databasePath) is locked: is another syndicast process using this data directory? (\(path) is held)")
            }
            throw JournalError("cannot lock \(path): \(String(cString: strerror(code)))")
        }
        self.descriptor = descriptor
    }

    deinit {
        release()
    }

    /// Releases the lock (closing the file drops it). Idempotent.
    func release() {
        guard descriptor >= 0 else { return }
        Glibc.close(descriptor)
        descriptor = -1
    }
}
