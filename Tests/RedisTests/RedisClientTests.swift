import Basics
import Glibc
import RedisTestSupport
import Synchronization
import Testing

@testable import Redis

/// Collects completions from the loop thread for a test thread to wait on.
final class Replies<Value: Sendable>: Sendable {
    private let lock = ConditionLock<[Value]>([])

    func append(_ value: Value) {
        lock.withLock { $0.append(value) }
        lock.broadcast()
    }

    /// Waits (at most `milliseconds`) until `count` values arrived; returns what arrived.
    func wait(for count: Int, milliseconds: Int = 10_000) -> [Value] {
        lock.withLock(when: { $0.count >= count }, timeoutMilliseconds: milliseconds) { $0 }
    }
}

func makeClient(_ url: String, configure: (inout RedisClient.Configuration) -> Void = { _ in }) throws -> RedisClient {
    var configuration = RedisClient.Configuration(url: try RedisURL(parsing: url))
    configure(&configuration)
    return try RedisClient(configuration: configuration)
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Waits until `condition` holds or `milliseconds` pass; returns whether it holds.
func eventually(milliseconds: Int = 10_000, _ condition: () -> Bool) -> Bool {
    let deadline = monotonicMillisecondsForTests() + Int64(milliseconds)
    while monotonicMillisecondsForTests() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

func monotonicMillisecondsForTests() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Int64(spec.tv_sec) * 1_000 + Int64(spec.tv_nsec) / 1_000_000
}

@Suite(
    "Redis client against a real redis-server", .serialized,
    .enabled(if: RedisServerProcess.isInstalled, "redis-server is not installed: install it (apt-get install redis-server) to run these")
)
struct RedisClientTests {
    @Test func pingAndBinarySafeSetGet() throws {
        let server = try RedisServerProcess()
        let client = try makeClient(server.url())
        defer { client.close() }
        #expect(try client.sendAndWait(RedisClient.command("PING")).get() == .simpleString(bytes("PONG")))
        let value: [UInt8] = [0, 13, 10, 255, 36, 42] + Array(repeating: 7, count: 100_000)
        let key: [UInt8] = [107, 0, 255]
        #expect(try client.sendAndWait([bytes("SET"), key, value]).get() == .simpleString(bytes("OK")))
        #expect(try client.sendAndWait([bytes("GET"), key]).get() == .bulkString(value))
        #expect(try client.sendAndWait(RedisClient.command("GET", "missing")).get() == .bulkString(nil))
        // A server error is a value, and the connection carries on.
        let error = try client.sendAndWait(RedisClient.command("NOSUCHCOMMAND")).get()
        #expect(error.errorCode == "ERR")
        #expect(try client.sendAndWait(RedisClient.command("PING")).get() == .simpleString(bytes("PONG")))
        #expect(client.connectionCount == 1)
    }

    @Test func aThousandPipelinedCommandsCompleteInOrder() throws {
        let server = try RedisServerProcess()
        let client = try makeClient(server.url())
        defer { client.close() }
        let replies = Replies<Int64>()
        for _ in 0..<1_000 {
            client.send(RedisClient.command("INCR", "counter")) { result in
                replies.append((try? result.get())?.integer ?? -1)
            }
        }
        #expect(replies.wait(for: 1_000) == Array(1...1_000))
        let batch = try client.sendAndWait(
            batch: [RedisClient.command("SET", "a", "1"), RedisClient.command("INCR", "a"), RedisClient.command("GET", "a")]
        ).get()
        #expect(batch == [.simpleString(bytes("OK")), .integer(2), .bulkString(bytes("2"))])
        #expect(try client.sendAndWait(batch: []).get() == [])
    }

    @Test func evalshaFallsBackToScriptLoadAfterScriptFlush() throws {
        let server = try RedisServerProcess()
        let client = try makeClient(server.url())
        defer { client.close() }
        let script = RedisScript("return {KEYS[1], ARGV[1], ARGV[2]}")
        let expected = RESPValue.array([.bulkString(bytes("k")), .bulkString(bytes("a")), .bulkString([0, 255])])
        #expect(try client.evaluateAndWait(script, keys: [bytes("k")], arguments: [bytes("a"), [0, 255]]).get() == expected)
        let exists = try client.sendAndWait([bytes("SCRIPT"), bytes("EXISTS"), script.sha1]).get()
        #expect(exists == .array([.integer(1)]))
        #expect(try client.sendAndWait(RedisClient.command("SCRIPT", "FLUSH")).get() == .simpleString(bytes("OK")))
        #expect(try client.evaluateAndWait(script, keys: [bytes("k")], arguments: [bytes("a"), [0, 255]]).get() == expected)
        // A script that does not compile returns the load's error reply.
        let broken = try client.evaluateAndWait(RedisScript("return {"), keys: [], arguments: []).get()
        #expect(broken.isError)
    }

    @Test func authWithRequirepassAndWithAnACLUser() throws {
        let server = try RedisServerProcess(arguments: ["--requirepass", "p@ss", "--user", "alice", "on", ">s3cret", "~*", "&*", "+@all"])
        let withPassword = try makeClient(server.url(userinfo: ":p%40ss@"))
        defer { withPassword.close() }
        #expect(try withPassword.sendAndWait(RedisClient.command("ACL", "WHOAMI")).get() == .bulkString(bytes("default")))
        let alice = try makeClient(server.url(userinfo: "alice:s3cret@"))
        defer { alice.close() }
        #expect(try alice.sendAndWait(RedisClient.command("ACL", "WHOAMI")).get() == .bulkString(bytes("alice")))
        let wrong = try makeClient(server.url(userinfo: ":wrong@"))
        defer { wrong.close() }
        let refused = wrong.sendAndWait(RedisClient.command("PING"), timeout: 5_000)
        guard case .failure(.handshakeFailed(let message)) = refused else {
            Issue.record("expected handshakeFailed, got \(refused)")
            return
        }
        #expect(message.contains("WRONGPASS"))
    }

    @Test func theDatabaseFromTheURLIsSelected() throws {
        let server = try RedisServerProcess()
        let database3 = try makeClient(server.url(path: "/3"))
        let database0 = try makeClient(server.url())
        defer {
            database3.close()
            database0.close()
        }
        #expect(try database3.sendAndWait(RedisClient.command("SET", "where", "three")).get() == .simpleString(bytes("OK")))
        #expect(try database0.sendAndWait(RedisClient.command("GET", "where")).get() == .bulkString(nil))
        #expect(try database3.sendAndWait(RedisClient.command("GET", "where")).get() == .bulkString(bytes("three")))
        let info = try database3.sendAndWait(RedisClient.command("CLIENT", "INFO")).get().string ?? ""
        #expect(info.contains(" db=3 "))
    }

    @Test func aBlockingXreadOnOneClientSeesAnXaddFromAnother() throws {
        let server = try RedisServerProcess()
        let reader = try makeClient(server.url())
        let writer = try makeClient(server.url())
        defer {
            reader.close()
            writer.close()
        }
        #expect(try reader.sendAndWait(RedisClient.command("PING")).get() == .simpleString(bytes("PONG")))
        let replies = Replies<Result<RESPValue, RedisError>>()
        reader.send(
            RedisClient.command("XREAD", "COUNT", "10", "BLOCK", "5000", "STREAMS", "s", "$"),
            timeout: RedisClient.timeout(blockingFor: 5_000)
        ) {
            replies.append($0)
        }
        usleep(200_000)
        #expect(replies.wait(for: 1, milliseconds: 0).isEmpty)  // still blocked
        let id = try writer.sendAndWait([bytes("XADD"), bytes("s"), bytes("*"), bytes("p"), [1, 2, 3]]).get()
        let got = replies.wait(for: 1)
        let entry = try #require(got.first).get()
        // [[stream, [[id, [field, value]]]]]
        #expect(
            entry
                == .array([
                    .array([.bulkString(bytes("s")), .array([.array([id, .array([.bulkString(bytes("p")), .bulkString([1, 2, 3])])])])])
                ]))
    }
}
