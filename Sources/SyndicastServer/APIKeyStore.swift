import Synchronization

/// The accepted API keys: those given with `--api-key` (every scope, fixed for the process) and
/// those of `--api-key-file` (read at start and again on SIGHUP).
///
/// A configured file makes keys required even while it holds none, so that emptying the file
/// locks writes rather than opening them to everyone. The file's keys sit behind a mutex taken
/// once per write request (reads need no key).
final class APIKeyStore: Sendable {
    private let flagKeys: [APIKey]
    /// `--api-key-file`, or nil.
    let filePath: String?
    private let fileKeys = Mutex<[APIKey]>([])
    private let observer = Mutex<(@Sendable (APIKeyReload) -> Void)?>(nil)

    init(flagKeys: [String], filePath: String?) {
        self.flagKeys = flagKeys.map { APIKey($0, scopes: .all) }
        self.filePath = filePath
    }

    /// Whether writes need a key at all.
    var requiresKey: Bool { !flagKeys.isEmpty || filePath != nil }

    /// Keys accepted right now (flag and file).
    var count: Int { flagKeys.count + fileKeys.withLock { $0.count } }

    /// Serves `keys` as the file's keys from now on.
    func install(_ keys: [APIKey]) {
        fileKeys.withLock { $0 = keys }
    }

    /// Calls `report` after each ``reload()``.
    func observeReloads(_ report: @escaping @Sendable (APIKeyReload) -> Void) {
        observer.withLock { $0 = report }
    }

    /// Reads the file again: serves its keys if it is valid, else keeps the current ones. Nil
    /// without a file.
    @discardableResult
    func reload() -> APIKeyReload? {
        guard let filePath else { return nil }
        let outcome: APIKeyReload
        do {
            let keys = try APIKeyFile.load(filePath)
            install(keys)
            outcome = .loaded(path: filePath, count: keys.count)
        } catch {
            outcome = .failed(error, kept: fileKeys.withLock { $0.count })
        }
        observer.withLock { $0 }?(outcome)
        return outcome
    }

    /// The scopes of the key `presented` is, or nil when it is none of them. Every key is
    /// compared whatever matched, each in time that depends on its length only, so the time of
    /// an answer does not tell how much of a key was right.
    func scopes(of presented: ArraySlice<UInt8>) -> APIKeyScopes? {
        var matched = false
        var scopes: APIKeyScopes = []
        func compare(_ keys: [APIKey]) {
            for key in keys {
                let equal = RequestPolicy.constantTimeEquals(key.bytes, presented)
                // A mask instead of a branch: all ones when equal, else zero.
                let mask = UInt8(0) &- (equal ? 1 : 0)
                scopes.formUnion(APIKeyScopes(rawValue: key.scopes.rawValue & mask))
                matched = matched || equal
            }
        }
        compare(flagKeys)
        fileKeys.withLock { compare($0) }
        return matched ? scopes : nil
    }
}

/// What a reload of `--api-key-file` did (SIGHUP); it names no key.
public enum APIKeyReload: Sendable, Equatable {
    /// The file was read; `count` keys are served from now on.
    case loaded(path: String, count: Int)
    /// The file is unusable; the `kept` keys read before are still served.
    case failed(APIKeyFileError, kept: Int)
}
