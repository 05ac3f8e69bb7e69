import CLinux
import Glibc

/// Runs `body` on a new detached thread named `name` (at most 15 bytes are kept): the broker's
/// executor and the journal pipeline each own one such thread, outside Swift's cooperative pool.
/// (The event loops have the same helper in `Reactor`, which this layer does not import.)
func startDedicatedThread(name: String, _ body: @escaping @Sendable () -> Void) {
    final class Box: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let short = String(name.prefix(15))
    let box = Unmanaged.passRetained(
        Box {
            clinux_set_thread_name(short)
            body()
        }
    ).toOpaque()
    var thread = pthread_t()
    if pthread_create(
        &thread, nil,
        { argument in
            guard let argument else { return nil }
            Unmanaged<Box>.fromOpaque(argument).takeRetainedValue().body()
            return nil
        }, box) == 0
    {
        pthread_detach(thread)
    }
}
