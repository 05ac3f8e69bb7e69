import Monitor
import SeededRandom
import Testing

@testable import Broker

@Suite("Broker cluster mode: concurrent instances")
struct ClusterConcurrencyTests {
    /// One request of the random workload: transactions, or a message when empty.
    struct Request: Sendable {
        var transactions: [Transaction]
    }

    /// Requests with ids from a small pool in two contents each, so that duplicates, conflicts
    /// and in-request repeats all occur; one in eight is a publish.
    static func workload(seed: UInt64, count: Int) -> [Request] {
        var random = SeededGenerator(seed: seed)
        return (0..<count).map { _ in
            if Int.random(in: 0..<8, using: &random) == 0 { return Request(transactions: []) }
            return Request(
                transactions: (0..<Int.random(in: 1...3, using: &random)).map { _ in
                    let id = Int.random(in: 0..<40, using: &random)
                    let variant: Int64 = Int64.random(in: 0..<5, using: &random) == 0 ? 2 : 1
                    return transaction("t\(id)", "i\(id % 7)", "s\(id % 3)", cents: 1_000 * variant * Int64(id + 1))
                })
        }
    }

    @Test func threeInstancesIngestingAtOnceAgreeOnEveryEventAndEveryAnswer() async {
        let log = InMemorySharedLog()
        var brokers: [(MessageBroker, RecordingSink)] = []
        for _ in 0..<3 { brokers.append(await makeClusterBroker(log)) }
        let answers = await withTaskGroup(of: [(Request, IngestOutcome?)].self) { group in
            for (index, (broker, _)) in brokers.enumerated() {
                group.addTask {
                    var answers: [(Request, IngestOutcome?)] = []
                    for request in Self.workload(seed: UInt64(index + 1), count: 60) {
                        if request.transactions.isEmpty {
                            let published = await publish(broker, topic: "orders", "{\"from\":\(index)}")
                            if case .unavailable(let reason) = published { Issue.record("publish refused: \(reason)") }
                            answers.append((request, nil))
                        } else {
                            answers.append((request, await ingest(broker, request.transactions)))
                        }
                    }
                    return answers
                }
            }
            var all: [(Request, IngestOutcome?)] = []
            for await answers in group { all += answers }
            return all
        }
        for (broker, _) in brokers { await settle(broker) }
        let reference = brokers[0].1.events
        #expect(reference.map(\.seq) == Array(1...UInt64(reference.count)))
        for (_, sink) in brokers.dropFirst() { #expect(transcript(sink) == transcript(brokers[0].1)) }
        // Every id is applied at most once, and every accepted answer names its own events.
        let ids = reference.compactMap(\.transaction?.id)
        #expect(Set(ids).count == ids.count)
        var acceptedTotal = 0
        var outcomes: Set<String> = []
        for (request, outcome) in answers {
            guard let outcome else { continue }
            switch outcome {
            case .accepted(let accepted, let duplicates, let first, let last):
                outcomes.insert(duplicates > 0 ? "duplicates" : "accepted")
                acceptedTotal += accepted
                guard accepted > 0, let first, let last else { continue }
                let mine = reference.filter { $0.seq >= first && $0.seq <= last }.compactMap(\.transaction)
                #expect(mine.count == accepted)
                #expect(Set(mine.compactMap(\.id)).isSubset(of: Set(request.transactions.compactMap(\.id))))
            case .idConflict: outcomes.insert("conflict")
            default: Issue.record("unexpected \(outcome)")
            }
        }
        #expect(acceptedTotal == ids.count)
        #expect(outcomes == ["accepted", "duplicates", "conflict"])
        for (broker, _) in brokers { broker.shutdown() }
    }
}
