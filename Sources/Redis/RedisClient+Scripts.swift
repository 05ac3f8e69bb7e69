extension RedisClient {
    /// Runs `script` with `EVALSHA`; on `NOSCRIPT` (the script cache is empty after a Redis
    /// restart or `SCRIPT FLUSH`) sends `SCRIPT LOAD` and `EVALSHA` again, in one write.
    ///
    /// The reply is the script's (an error reply, such as a Lua error, is a value). If the load
    /// itself is refused (a syntax error), its error reply is returned.
    public func evaluate(
        _ script: RedisScript, keys: [[UInt8]], arguments: [[UInt8]], timeout: Int64? = nil,
        completion: @escaping @Sendable (Result<RESPValue, RedisError>) -> Void
    ) {
        let command: [[UInt8]] = [Array("EVALSHA".utf8), script.sha1, Array(String(keys.count).utf8)] + keys + arguments
        send(command, timeout: timeout) { [self] result in
            guard case .success(let reply) = result, reply.errorCode == "NOSCRIPT" else {
                completion(result)
                return
            }
            let load: [[UInt8]] = [Array("SCRIPT".utf8), Array("LOAD".utf8), script.source]
            send(batch: [load, command], timeout: timeout) { result in
                completion(
                    result.map { replies in
                        if let loaded = replies.first, loaded.isError { return loaded }
                        return replies.last ?? .bulkString(nil)
                    })
            }
        }
    }
}
