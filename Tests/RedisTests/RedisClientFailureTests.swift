import Basics
import Glibc
import RedisTestSupport
import Synchronization
import Testing

@testable import Redis

@Suite(
    "Redis client: disconnects, restarts, timeouts, bounds", .serialized,
    .enabled(if: RedisServerProcess.isInstalled, "redis-server is not installed: install it (apt-get install redis-server) to run these")
)
struct RedisClientFailureTests {
    @Test func aRestartFailsPendingCommandsThenTheClientReconnects() throws {
        let server = try RedisServerProcess()
        let client = try makeClient(server.url())
        defer { client.close() }
        let hooks = Atomic<Int>(0)
        client.setOnConnected { hooks.add(1, ordering: .relaxed) }
        #expect(try client.sendAndWait(RedisClient.command("SET", "before", "1")).get() == .simpleString(bytes("OK")))
        let pending = Replies<Result<RESPValue, RedisError>>()
        client.send(RedisClient.command("BLPOP", "nothing", "20"), timeout: 30_000) { pending.append($0) }
        usleep(200_000)
        server.kill()
        let lost = pending.wait(for: 1)
        #expect(lost.first == .failure(.connectionLost))
        // Sent while Redis is down: waits for the reconnect (within its timeout).
        let waited = Replies<Result<RESPValue, RedisError>>()
        client.send(RedisClient.command("PING"), timeout: 20_000) { waited.append($0) }
        usleep(300_000)
        try server.start()
        #expect(waited.wait(for: 1).first == .success(.simpleString(bytes("PONG"))))
        #expect(client.connectionCount == 2)
        #expect(eventually { hooks.load(ordering: .relaxed) >= 1 })
        #expect(try client.sendAndWait(RedisClient.command("GET", "before")).get() == .bulkString(nil))  // no persistence
        #expect(client.isConnected)
    }

    @Test func aCommandWithoutAReplyInTimeFailsTheConnectionWhichRecovers() throws {
        let server = try RedisServerProcess()
        let client = try makeClient(server.url())
        defer { client.close() }
        #expect(try client.sendAndWait(RedisClient.command("PING")).get() == .simpleString(bytes("PONG")))
        let started = monotonicMillisecondsForTests()
        let slow = client.sendAndWait(RedisClient.command("DEBUG", "SLEEP", "1"), timeout: 200)
        let elapsed = monotonicMillisecondsForTests() - started
        #expect(slow == .failure(.timeout))
        #expect(elapsed >= 190 && elapsed < 900)
        #expect(try client.sendAndWait(RedisClient.command("PING"), timeout: 5_000).get() == .simpleString(bytes("PONG")))
        #expect(client.connectionCount == 2)
    }

    @Test func whileDisconnectedTheQueueIsBoundedAndWaitersTimeOut() throws {
        // Nothing listens on this port: the client keeps retrying with backoff.
        let client = try makeClient("redis://127.0.0.1:\(RedisServerProcess.freePort())") { $0.maxQueuedCommands = 2 }
        defer { client.close() }
        let replies = Replies<Result<RESPValue, RedisError>>()
        for _ in 0..<3 {
            client.send(RedisClient.command("PING"), timeout: 300) { replies.append($0) }
        }
        let all = replies.wait(for: 3)
        #expect(all == [.failure(.unavailable), .failure(.timeout), .failure(.timeout)])
        #expect(!client.isConnected)
        #expect(client.lastConnectError != nil)
    }

    @Test func closeFailsWhatIsPendingAndLaterSends() throws {
        let server = try RedisServerProcess()
        let client = try makeClient(server.url())
        #expect(try client.sendAndWait(RedisClient.command("PING")).get() == .simpleString(bytes("PONG")))
        let pending = Replies<Result<RESPValue, RedisError>>()
        client.send(RedisClient.command("BLPOP", "nothing", "20"), timeout: 30_000) { pending.append($0) }
        usleep(100_000)
        client.close()
        #expect(pending.wait(for: 1) == [.failure(.closed)])
        #expect(client.sendAndWait(RedisClient.command("PING")) == .failure(.closed))
    }

    @Test func sendAndWaitOnTheLoopThreadIsRefusedInsteadOfDeadlocking() throws {
        let server = try RedisServerProcess()
        let client = try makeClient(server.url())
        defer { client.close() }
        let inner = Replies<Result<RESPValue, RedisError>>()
        client.send(RedisClient.command("PING")) { _ in inner.append(client.sendAndWait(RedisClient.command("PING"))) }
        guard case .failure(.misuse)? = inner.wait(for: 1).first else {
            Issue.record("expected misuse")
            return
        }
    }
}

@Suite(
    "Redis client: connect timeout and many threads", .serialized,
    .enabled(if: RedisServerProcess.isInstalled, "redis-server is not installed: install it (apt-get install redis-server) to run these")
)
struct RedisClientConcurrencyTests {
    @Test func aServerThatAcceptsButNeverAnswersHitsTheConnectTimeout() throws {
        // The kernel completes the TCP handshake for a listening socket nobody accepts from, so
        // only the PING of the client's handshake shows that no Redis is there.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        #expect(listen(fd, 16) == 0)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let client = try makeClient("redis://127.0.0.1:\(port)") { $0.connectTimeout = 200 }
        defer { client.close() }
        #expect(client.sendAndWait(RedisClient.command("PING"), timeout: 500) == .failure(.timeout))
        #expect(eventually(milliseconds: 2_000) { client.lastConnectError == "connect timeout" })
        #expect(!client.isConnected)
    }

    @Test func commandsFromManyThreadsAreAllAnswered() throws {
        let server = try RedisServerProcess()
        let client = try makeClient(server.url())
        defer { client.close() }
        let failures = Atomic<Int>(0)
        let threads = try (0..<4).map { index in
            try NamedThread(name: "redis-test-\(index)") {
                for _ in 0..<500 {
                    if case .failure = client.sendAndWait(RedisClient.command("INCR", "shared")) {
                        failures.add(1, ordering: .relaxed)
                    }
                }
            }
        }
        for thread in threads { thread.join() }
        #expect(failures.load(ordering: .relaxed) == 0)
        #expect(try client.sendAndWait(RedisClient.command("GET", "shared")).get() == .bulkString(bytes("2000")))
    }
}
