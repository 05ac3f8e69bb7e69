import Basics
import Broker
import Glibc
import Monitor
import Redis
import RedisTestSupport
import SharedLogConformance
import Synchronization
import Testing

@testable import Cluster

@Suite("RedisSharedLog on a real redis-server", .serialized, .enabled(if: RedisServerProcess.isInstalled))
struct RedisSharedLogTests {
    func makeLog(_ server: RedisServerProcess, ttl: Int = 60) throws -> RedisSharedLog {
        var configuration = RedisSharedLog.Configuration(url: try RedisURL(parsing: server.url()))
        configuration.idempotencyTTLSeconds = ttl
        configuration.blockMilliseconds = 200
        return try RedisSharedLog(configuration: configuration)
    }

    @Test func conformsToTheContract() throws {
        let server = try RedisServerProcess()
        let log = try makeLog(server)
        defer { log.close() }
        #expect(SharedLogConformance.failures(of: log, timeoutMilliseconds: 5_000) == [])
    }

    @Test func theEpochIsCreatedOnceAndSharedByEveryInstance() throws {
        let server = try RedisServerProcess()
        let first = try makeLog(server)
        let second = try makeLog(server)
        defer {
            first.close()
            second.close()
        }
        #expect(first.epoch.utf8.count == 16)
        #expect(first.epoch == second.epoch)
    }

    @Test func anUnreachableRedisIsAStartupError() throws {
        var configuration = RedisSharedLog.Configuration(
            url: RedisURL(host: "127.0.0.1", port: RedisServerProcess.freePort()))
        configuration.connectTimeoutMilliseconds = 200
        #expect(throws: RedisSharedLogError.self) { try RedisSharedLog(configuration: configuration) }
    }

    @Test func anAppendWhileRedisIsDownFailsAndTheReadingResumesAfterARestart() throws {
        let server = try RedisServerProcess()
        let log = try makeLog(server)
        defer { log.close() }
        let events = Mutex<[RedisSharedLog.Event]>([])
        log.onEvent { event in events.withLock { $0.append(event) } }
        let recorder = Recorder()
        let reading = log.read(after: nil) { recorder.record($0) }
        defer { reading.cancel() }
        #expect(recorder.wait(count: 1) == ["caught up"])
        #expect(append(log, id: "a") != nil)
        #expect(recorder.wait(count: 2).count == 2)
        server.kill()
        #expect(append(log, id: "b") == nil, "an append with Redis down fails")
        try server.start()
        var appended: SharedLogAppendResult?
        for _ in 0..<100 where appended == nil {
            appended = append(log, id: "b")
            if appended == nil { usleep(50_000) }
        }
        #expect(appended?.position != nil)
        let deliveries = recorder.wait(count: 3)
        #expect(deliveries.count == 3 && deliveries[2].hasPrefix("entry"), "\(deliveries)")
        let seen = events.withLock { $0 }
        #expect(seen.contains { if case .connectionLost = $0 { true } else { false } }, "\(seen)")
        #expect(seen.contains(.connectionRestored), "\(seen)")
    }

    @Test func entriesTrimmedBeyondThePositionAreReportedAsAGap() throws {
        let server = try RedisServerProcess()
        let log = try makeLog(server)
        defer { log.close() }
        for index in 0..<3 { #expect(append(log, id: "t\(index)") != nil) }
        let admin = try RedisClient(configuration: RedisClient.Configuration(url: try RedisURL(parsing: server.url())))
        defer { admin.close() }
        _ = admin.sendAndWait(RedisClient.command("XTRIM", "{syndicast}:stream", "MAXLEN", "1"))
        let gap = ConditionLock<String?>(nil)
        log.onEvent { event in
            if case .gap(let message) = event {
                gap.withLock { $0 = message }
                gap.broadcast()
            }
        }
        let recorder = Recorder()
        let reading = log.read(after: nil) { recorder.record($0) }
        defer { reading.cancel() }
        let message = gap.withLock(when: { $0 != nil }, timeoutMilliseconds: 5_000) { $0 }
        #expect(message?.contains("trimmed") == true)
        #expect(recorder.deliveries.isEmpty, "nothing is delivered across a gap")
    }

    /// Appends one transaction with `id`; the result, or nil on failure.
    func append(_ log: RedisSharedLog, id: String) -> SharedLogAppendResult? {
        let reply = ConditionLock<Result<SharedLogAppendResult, SharedLogError>?>(nil)
        let transaction = Transaction(id: id, investorId: "i", syndicateId: "s", amount: Money(cents: 1), timestamp: 0)
        let request = SharedLogRequest(transactions: [transaction], records: log.records.records(of: [transaction]))
        log.append(group: SharedLogGroup(payload: [1], requests: [request])) { result in
            reply.withLock { $0 = result }
            reply.broadcast()
        }
        return try? reply.withLock(when: { $0 != nil }, timeoutMilliseconds: 10_000) { $0 }?.get()
    }

    final class Recorder: Sendable {
        private let state = ConditionLock<[String]>([])

        func record(_ delivery: SharedLogDelivery) {
            let text =
                switch delivery {
                case .entry(let entry): "entry \(entry.position)"
                case .caughtUp: "caught up"
                }
            state.withLock { $0.append(text) }
            state.broadcast()
        }

        var deliveries: [String] { state.withLock { $0 } }

        func wait(count: Int, milliseconds: Int = 10_000) -> [String] {
            state.withLock(when: { $0.count >= count }, timeoutMilliseconds: milliseconds) { $0 }
        }
    }
}
