import Monitor
import Testing

@testable import SyndicastServer

/// The epoch names the journal's history under one rule set: the same journal and rules give the
/// same epoch in every process, other rules (or another journal) another one.
@Suite("StreamEpoch: the journal's identity bound to the rules")
struct StreamEpochTests {
    private let journal = "0123456789abcdef"

    @Test func theSameJournalAndRulesGiveTheSameEpochEverywhere() {
        let epoch = StreamEpoch.derive(journalEpoch: journal, rules: MonitorConfiguration())
        #expect(epoch == StreamEpoch.derive(journalEpoch: journal, rules: MonitorConfiguration()))
        #expect(epoch.utf8.count == 16 && epoch.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        // Pinned: a change to the derivation would make every durable server's clients lose their
        // resume on upgrade; it must be deliberate.
        // (Value computed independently: FNV-1a 64 then SplitMix64's finaliser, in Python.)
        #expect(epoch == "401b90b35b46c311")
        #expect(epoch == StreamEpoch.derive(journalEpoch: journal, rules: MonitorConfiguration(recentAlertCapacity: 7)))
    }

    @Test(arguments: [
        MonitorConfiguration(amountThreshold: Money(cents: 1_000_001)), MonitorConfiguration(spikeWindowSeconds: 3_601),
        MonitorConfiguration(spikeThreshold: 101), MonitorConfiguration(topK: 6),
        MonitorConfiguration(spikeClockMarginSeconds: 300), MonitorConfiguration(spikeClockMarginSeconds: nil),
    ])
    func anotherRuleGivesAnotherEpoch(rules: MonitorConfiguration) {
        #expect(
            StreamEpoch.derive(journalEpoch: journal, rules: rules)
                != StreamEpoch.derive(journalEpoch: journal, rules: MonitorConfiguration()))
    }

    @Test func anotherJournalGivesAnotherEpoch() {
        #expect(
            StreamEpoch.derive(journalEpoch: journal, rules: MonitorConfiguration())
                != StreamEpoch.derive(journalEpoch: "0123456789abcdee", rules: MonitorConfiguration()))
    }
}
