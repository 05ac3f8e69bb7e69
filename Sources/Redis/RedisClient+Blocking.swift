import Basics

extension RedisClient {
    /// Sends `command` and blocks until its reply or failure: for start-up and for threads that
    /// are not event loops (a journal-like writer thread). On the client's own loop thread it
    /// returns `.misuse` at once (waiting there would block the reply forever).
    public func sendAndWait(_ command: [[UInt8]], timeout: Int64? = nil) -> Result<RESPValue, RedisError> {
        guard !isOnLoopThread else { return .failure(.misuse("sendAndWait called on the client's own loop thread")) }
        let box = ConditionLock<Result<RESPValue, RedisError>?>(nil)
        send(command, timeout: timeout) { result in
            box.withLock { $0 = result }
            box.signal()
        }
        // Every request completes: by its reply, its timeout, a disconnect or `close()`.
        return box.withLock(when: { $0 != nil }) { $0 ?? .failure(.closed) }
    }

    /// Sends `commands` in one write and blocks until all replies (or a failure) are in.
    public func sendAndWait(batch commands: [[[UInt8]]], timeout: Int64? = nil) -> Result<[RESPValue], RedisError> {
        guard !isOnLoopThread else { return .failure(.misuse("sendAndWait called on the client's own loop thread")) }
        let box = ConditionLock<Result<[RESPValue], RedisError>?>(nil)
        send(batch: commands, timeout: timeout) { result in
            box.withLock { $0 = result }
            box.signal()
        }
        return box.withLock(when: { $0 != nil }) { $0 ?? .failure(.closed) }
    }

    /// `evaluate`, blocking until the script's reply.
    public func evaluateAndWait(
        _ script: RedisScript, keys: [[UInt8]], arguments: [[UInt8]], timeout: Int64? = nil
    ) -> Result<RESPValue, RedisError> {
        guard !isOnLoopThread else { return .failure(.misuse("evaluateAndWait called on the client's own loop thread")) }
        let box = ConditionLock<Result<RESPValue, RedisError>?>(nil)
        evaluate(script, keys: keys, arguments: arguments, timeout: timeout) { result in
            box.withLock { $0 = result }
            box.signal()
        }
        return box.withLock(when: { $0 != nil }) { $0 ?? .failure(.closed) }
    }
}
