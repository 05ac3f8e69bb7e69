import Broker
import Redis

extension ClusterSnapshotStore {
    /// Bytes per command that uploads or reads a part: small enough that Redis serves every other
    /// client between two of them (one 1 MiB `RPUSH` or `LRANGE` is well under a millisecond;
    /// with `appendfsync always` each is its own small write and fsync), large enough that a
    /// 30 MB part takes 30 commands.
    static let chunkBytes = 1 << 20
    /// Commands sent in one write while uploading or reading a part; Redis still runs them one
    /// event-loop turn at a time (it reads a large argument exactly to its end), with other
    /// clients' commands in between.
    static let chunksPerBatch = 4

    /// The number of list elements a part of `length` bytes is uploaded as (an empty part is one
    /// empty element, so its key exists).
    static func chunkCount(_ length: Int) -> Int {
        max((length + chunkBytes - 1) / chunkBytes, 1)
    }

    /// Uploads `bytes` into the list `key`, one element per 1 MiB: `DEL`, `RPUSH` and `PEXPIRE`
    /// (the lease's lifetime, so what a crashed writer leaves behind goes), then `RPUSH` per
    /// chunk. A list, not a string: `APPEND` to a string of tens of megabytes reallocates and
    /// copies it (the longest `APPEND` of a 24 MB part held Redis 8.8 ms, snapstore microbench),
    /// where `RPUSH` adds a node. Each `RPUSH` answers the list's length, so a key that expired
    /// or changed meanwhile is noticed.
    func stage(_ bytes: [UInt8], key: String) -> Result<Void, SharedLogError> {
        let name = Array(key.utf8)
        let count = Self.chunkCount(bytes.count)
        var index = 0
        while index < count {
            var commands: [[[UInt8]]] = []
            // nil: any integer (`DEL` may find a list a failed round of this instance left).
            var expected: [RESPValue?] = []
            if index == 0 {
                commands.append([Array("DEL".utf8), name])
                expected.append(nil)
            }
            while commands.count < Self.chunksPerBatch && index < count {
                let start = index * Self.chunkBytes
                let chunk = Array(bytes[start..<min(start + Self.chunkBytes, bytes.count)])
                commands.append([Array("RPUSH".utf8), name, chunk])
                index += 1
                expected.append(.integer(Int64(index)))
                if index == 1 {
                    commands.append([Array("PEXPIRE".utf8), name, Array(String(leaseMilliseconds).utf8)])
                    expected.append(.integer(1))
                }
            }
            switch client.sendAndWait(batch: commands, timeout: Self.transferTimeout) {
            case .failure(let error):
                return .failure(SharedLogError("staging \(key): \(error)"))
            case .success(let replies):
                guard replies.count == expected.count else {
                    return .failure(SharedLogError("staging \(key): \(replies.count) replies for \(expected.count) commands"))
                }
                for (reply, wanted) in zip(replies, expected) where reply.integer == nil || (wanted.map { $0 != reply } ?? false) {
                    return .failure(SharedLogError("staging \(key): reply \(reply) where \(wanted?.description ?? "a count") was due"))
                }
            }
        }
        return .success(())
    }

    /// Deletes this instance's staging keys (best effort: they expire anyway).
    func deleteStaging() {
        let command = [Array("DEL".utf8)] + ["monitor", "broker"].map { Array(keys.staging($0, instance: instance).utf8) }
        _ = client.sendAndWait(command, timeout: 1_000)
    }

    /// Reads the part list `key` (`LRANGE` per element) and joins its elements; nil when Redis did
    /// not answer, or the part is not `length` bytes (deleted meanwhile because a newer snapshot
    /// replaced it, or damaged).
    func readPart(key: String, length: Int) -> [UInt8]? {
        let name = Array(key.utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        var index = 0
        while true {
            var commands: [[[UInt8]]] = []
            for _ in 0..<Self.chunksPerBatch {
                let position = Array(String(index).utf8)
                commands.append([Array("LRANGE".utf8), name, position, position])
                index += 1
            }
            guard case .success(let replies) = client.sendAndWait(batch: commands, timeout: Self.transferTimeout) else { return nil }
            for reply in replies {
                guard let elements = reply.array else { return nil }
                guard let element = elements.first else { return bytes.count == length ? bytes : nil }
                guard case .bulkString(let chunk?) = element, bytes.count + chunk.count <= length else { return nil }
                bytes.append(contentsOf: chunk)
            }
        }
    }
}
