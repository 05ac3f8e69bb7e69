import Broker
import Redis

extension ClusterSnapshotStore {
    /// Bytes per command that uploads or reads a part: small enough that Redis serves every other
    /// client between two of them (one 1 MiB `APPEND` or `GETRANGE` is well under a millisecond;
    /// with `appendfsync always` each is its own small write and fsync), large enough that a
    /// 30 MB part takes 30 commands.
    static let chunkBytes = 1 << 20
    /// Commands sent in one write while uploading or reading a part; Redis still runs them one
    /// event-loop turn at a time (it reads a large argument exactly to its end), with other
    /// clients' commands in between.
    static let chunksPerBatch = 4

    /// Uploads `bytes` into `key` (`SET key chunk PX lifetime`, then `APPEND key chunk` per
    /// 1 MiB), checking each reply: `APPEND` answers the key's new length, so a key that
    /// expired or changed meanwhile is noticed. The expiry (the lease's lifetime) removes what a
    /// crashed writer leaves behind.
    func stage(_ bytes: [UInt8], key: String) -> Result<Void, SharedLogError> {
        let name = Array(key.utf8)
        var offset = 0
        var first = true
        repeat {
            var commands: [[[UInt8]]] = []
            var ends: [Int] = []
            while commands.count < Self.chunksPerBatch && (first || offset < bytes.count) {
                let end = min(offset + Self.chunkBytes, bytes.count)
                let chunk = Array(bytes[offset..<end])
                if first {
                    commands.append([Array("SET".utf8), name, chunk, Array("PX".utf8), Array(String(leaseMilliseconds).utf8)])
                    first = false
                } else {
                    commands.append([Array("APPEND".utf8), name, chunk])
                }
                ends.append(end)
                offset = end
            }
            switch client.sendAndWait(batch: commands, timeout: Self.transferTimeout) {
            case .failure(let error):
                return .failure(SharedLogError("staging \(key): \(error)"))
            case .success(let replies):
                guard replies.count == ends.count else { return .failure(SharedLogError("staging \(key): \(replies.count) replies")) }
                for (reply, end) in zip(replies, ends) {
                    // `SET` answers OK (only the first chunk's reply may), `APPEND` the new length.
                    let acknowledged = reply.integer == Int64(end) || (end <= Self.chunkBytes && reply == .simpleString(Array("OK".utf8)))
                    guard acknowledged else {
                        return .failure(SharedLogError("staging \(key): unexpected reply \(reply) at byte \(end)"))
                    }
                }
            }
        } while offset < bytes.count
        return .success(())
    }

    /// Deletes this instance's staging keys (best effort: they expire anyway).
    func deleteStaging() {
        let command = [Array("DEL".utf8)] + ["monitor", "broker"].map { Array(keys.staging($0, instance: instance).utf8) }
        _ = client.sendAndWait(command, timeout: 1_000)
    }

    /// Reads `length` bytes of the part key `key` (`GETRANGE` per 1 MiB); nil when Redis did not
    /// answer, or the key holds another length (it was deleted meanwhile because a newer snapshot
    /// replaced it, or it was damaged).
    func readPart(key: String, length: Int) -> [UInt8]? {
        let name = Array(key.utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        var offset = 0
        // One more byte than recorded: a longer key is noticed too.
        let total = length + 1
        while offset < total {
            var commands: [[[UInt8]]] = []
            while commands.count < Self.chunksPerBatch && offset < total {
                let end = min(offset + Self.chunkBytes, total)
                commands.append([Array("GETRANGE".utf8), name, Array(String(offset).utf8), Array(String(end - 1).utf8)])
                offset = end
            }
            guard case .success(let replies) = client.sendAndWait(batch: commands, timeout: Self.transferTimeout) else { return nil }
            for reply in replies {
                guard case .bulkString(let chunk?) = reply else { return nil }
                bytes.append(contentsOf: chunk)
            }
            if bytes.count < offset { break }
        }
        return bytes.count == length ? bytes : nil
    }
}
