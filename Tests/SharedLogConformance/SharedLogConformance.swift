import Basics
import Broker
import Monitor

/// The cluster contract's checks (CLUSTER-CONTRACT.md) for any ``SharedLog``: the in-memory log
/// runs them in BrokerTests, and a Redis implementation's tests can run the same ones against a
/// log on a fresh redis-server.
public enum SharedLogConformance {
    /// Runs every check against `log`, which must be empty; returns what failed (empty: it
    /// conforms). Blocks the calling thread, waiting at most `timeoutMilliseconds` per step.
    public static func failures(of log: any SharedLog, timeoutMilliseconds: Int = 5_000) -> [String] {
        var failures: [String] = []
        func check(_ condition: Bool, _ message: @autoclosure () -> String) {
            if !condition { failures.append(message()) }
        }
        let first = Recorder()
        let firstReading = log.read(after: nil) { first.record($0) }
        check(first.wait(count: 1, timeoutMilliseconds) == ["caught up"], "an empty log's reading is caught up at once")

        // Requests in order: an id in-request repeated, a conflict refusing its request only, an
        // id accepted by an earlier request of the call, a message.
        let one = append(
            log,
            [
                [transaction("a", 1), transaction("a", 1), transaction("", 1)], [transaction("b", 1), transaction("a", 2)],
                [transaction("a", 1), transaction("c", 1)], [],
            ], payload: [1, 2, 3], timeoutMilliseconds)
        check(
            one?.requests == [.accepted(duplicates: 1), .conflict(indices: [1]), .accepted(duplicates: 1), .accepted(duplicates: 0)],
            "first group's outcomes: \(String(describing: one))")
        guard let firstPosition = one?.position else { return failures + ["the first group was not appended"] }
        check(
            first.wait(count: 2, timeoutMilliseconds).last == "entry \(firstPosition) [1, 2, 3] skip 0.1 1 2.0",
            "first entry as read: \(first.deliveries)")

        // Everything duplicate: nothing appended.
        let two = append(log, [[transaction("a", 1)]], payload: [4], timeoutMilliseconds)
        check(
            two == SharedLogAppendResult(position: nil, requests: [.accepted(duplicates: 1)]),
            "an all-duplicate group: \(String(describing: two))")

        // "b" was refused with its request, so it is new; "c" was stored, so other content conflicts.
        let three = append(log, [[transaction("b", 1)], [transaction("c", 2)]], payload: [5], timeoutMilliseconds)
        check(
            three?.requests == [.accepted(duplicates: 0), .conflict(indices: [0])], "third group's outcomes: \(String(describing: three))")
        guard let secondPosition = three?.position else { return failures + ["the third group was not appended"] }
        check(secondPosition > firstPosition, "positions ascend: \(firstPosition) then \(secondPosition)")
        let expected = ["caught up", "entry \(firstPosition) [1, 2, 3] skip 0.1 1 2.0", "entry \(secondPosition) [5] skip 1"]
        check(first.wait(count: 3, timeoutMilliseconds) == expected, "live deliveries: \(first.deliveries)")

        // Later readings: the backlog in order, then caught up.
        let whole = Recorder()
        let wholeReading = log.read(after: nil) { whole.record($0) }
        check(
            whole.wait(count: 3, timeoutMilliseconds) == Array(expected.dropFirst()) + ["caught up"],
            "reading from the start: \(whole.deliveries)")
        let after = Recorder()
        let afterReading = log.read(after: firstPosition) { after.record($0) }
        check(
            after.wait(count: 2, timeoutMilliseconds) == [expected[2], "caught up"], "reading after the first entry: \(after.deliveries)")

        // A cancelled reading gets nothing more; the others get the next entry.
        firstReading.cancel()
        let four = append(log, [[]], payload: [6], timeoutMilliseconds)
        guard let thirdPosition = four?.position else { return failures + ["a message was not appended"] }
        check(
            whole.wait(count: 4, timeoutMilliseconds).last == "entry \(thirdPosition) [6] skip ",
            "live after catching up: \(whole.deliveries)")
        check(
            after.wait(count: 3, timeoutMilliseconds).last == "entry \(thirdPosition) [6] skip ",
            "live after a position: \(after.deliveries)")
        check(first.deliveries.count == 3, "a cancelled reading got \(first.deliveries)")
        wholeReading.cancel()
        afterReading.cancel()
        return failures + windowFailures(of: log, after: thirdPosition, timeoutMilliseconds: timeoutMilliseconds)
    }

    /// The window's rules: ids only in entries at or before the group's position are the
    /// caller's to decide, known duplicates are skipped, an entry carries the records of the
    /// requests it does not refuse, and without repeats nothing is checked per transaction.
    static func windowFailures(of log: any SharedLog, after last: SharedLogPosition, timeoutMilliseconds: Int) -> [String] {
        var failures: [String] = []
        func check(_ condition: Bool, _ message: @autoclosure () -> String) {
            if !condition { failures.append(message()) }
        }
        let reading = Recorder()
        let records = ConditionLock<[SharedLogPosition: [UInt8]]>([:])
        let handle = log.read(after: last) { delivery in
            if case .entry(let entry) = delivery { records.withLock { $0[entry.position] = entry.records } }
            reading.record(delivery)
        }
        // "a" is in the first entry, at or before `last`: not the log's to find.
        let five = append(log, [[transaction("a", 1)]], payload: [7], after: last, timeoutMilliseconds)
        check(
            five?.requests == [.accepted(duplicates: 0)] && five?.position != nil, "an id before the position: \(String(describing: five))")
        // After the position, the log finds it: duplicate and conflict; a known duplicate is skipped
        // and counted; the refused request's records are not in the entry.
        let six = append(
            log, [[transaction("a", 1), transaction("d", 1)], [transaction("a", 3)], [transaction("e", 1), transaction("", 1)]],
            payload: [8], after: last, known: [[], [], [0]], timeoutMilliseconds)
        check(
            six?.requests == [.accepted(duplicates: 1), .conflict(indices: [0]), .accepted(duplicates: 1)],
            "ids after the position and known duplicates: \(String(describing: six))")
        if let position = six?.position {
            _ = reading.wait(count: 4, timeoutMilliseconds)
            let expected =
                log.records.records(of: [transaction("a", 1), transaction("d", 1)])
                + log.records.records(of: [transaction("e", 1), transaction("", 1)])
            check(records.withLock { $0[position] } == expected, "the entry's records are those of the requests not refused")
            check(
                reading.deliveries.contains("entry \(position) [8] skip 0.0 1 2.0"),
                "the skip list has the log's and the known duplicates: \(reading.deliveries)")
            // Without repeats and with no entry after the position, an id twice in the group is not
            // looked for (the caller said it does not occur).
            let seven = append(
                log, [[transaction("f", 1)], [transaction("f", 1)]], payload: [9], after: position, repeats: false, timeoutMilliseconds)
            check(seven?.requests == [.accepted(duplicates: 0), .accepted(duplicates: 0)], "no repeats: \(String(describing: seven))")
        } else {
            failures.append("the sixth group was not appended")
        }
        handle.cancel()
        return failures
    }

    /// A transaction with id `id` (none when empty) and content `content` (its amount in cents).
    static func transaction(_ id: String, _ content: UInt8) -> Transaction {
        Transaction(id: id.isEmpty ? nil : id, investorId: "i", syndicateId: "s", amount: Money(cents: Int64(content)), timestamp: 0)
    }

    /// Appends one group (requests of transactions; empty for a message) after `position`, with
    /// the `known` duplicates of each request, and waits for the reply.
    static func append(
        _ log: any SharedLog, _ requests: [[Transaction]], payload: [UInt8], after position: SharedLogPosition? = nil,
        known: [[Int]] = [], repeats: Bool = true, _ timeoutMilliseconds: Int
    ) -> SharedLogAppendResult? {
        let reply = ConditionLock<Result<SharedLogAppendResult, SharedLogError>?>(nil)
        let requests = requests.enumerated().map { index, transactions in
            SharedLogRequest(
                transactions: transactions, records: log.records.records(of: transactions),
                knownDuplicates: index < known.count ? known[index] : [])
        }
        log.append(group: SharedLogGroup(payload: payload, requests: requests, after: position, repeatsIds: repeats)) { result in
            reply.withLock { $0 = result }
            reply.broadcast()
        }
        let result = reply.withLock(when: { $0 != nil }, timeoutMilliseconds: timeoutMilliseconds) { $0 }
        return try? result?.get()
    }

    /// Records a reading's deliveries as text.
    final class Recorder: Sendable {
        private let state = ConditionLock<[String]>([])

        func record(_ delivery: SharedLogDelivery) {
            let text =
                switch delivery {
                case .entry(let entry): "entry \(entry.position) \(entry.payload) skip \(entry.skip?.text ?? "damaged")"
                case .caughtUp: "caught up"
                }
            state.withLock { $0.append(text) }
            state.broadcast()
        }

        var deliveries: [String] { state.withLock { $0 } }

        /// The deliveries once there are `count` (or at the timeout).
        func wait(count: Int, _ timeoutMilliseconds: Int) -> [String] {
            state.withLock(when: { $0.count >= count }, timeoutMilliseconds: timeoutMilliseconds) { $0 }
        }
    }
}
