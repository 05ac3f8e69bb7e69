import Synchronization

/// Set once when graceful shutdown begins; read by sessions to refuse new work (503).
final class ShutdownFlag: Sendable {
    private let value = Atomic<Bool>(false)

    var isSet: Bool { value.load(ordering: .relaxed) }

    func set() { value.store(true, ordering: .relaxed) }
}
