import Basics
import Monitor

/// The stream's epoch: the name of the history that sequence numbers count in, which clients
/// quote when they resume (`?epoch=`, the SSE id's prefix).
///
/// Sequence numbers and events are a function of the journal *and* the rules: the same journal
/// replayed with another `--amount-threshold`, `--spike-window`, `--spike-threshold`, `--top-k` or
/// `--max-clock-skew` (the spike rule's clock margin, docs/SPIKE-RULE.md)
/// gives other alerts and rankings events, so other events at the same numbers. The epoch is
/// therefore derived from the journal's own identity (``JournalStore/epoch``, random per history and
/// stored with it) and the rule parameters that shape the events: a restart with the same journal
/// and rules keeps it, so clients resume; another rule set gives another epoch, so clients get
/// a snapshot with `"recovered":false`. Parameters that only refuse input (and do not change
/// what a stored transaction produces) and `recentAlertCapacity` (snapshot size) are not part of it.
enum StreamEpoch {
    /// 16 lowercase hex digits, like the journal's own epoch.
    static func derive(journalEpoch: String, rules: MonitorConfiguration) -> String {
        HexDigits.word(fingerprint(journalEpoch + "|" + ruleText(rules)))
    }

    /// The rule parameters that shape the events, as stable text.
    static func ruleText(_ rules: MonitorConfiguration) -> String {
        "amount-threshold=\(rules.amountThreshold);spike-window=\(rules.spikeWindowSeconds);"
            + "spike-threshold=\(rules.spikeThreshold);top-k=\(rules.topK);"
            + "spike-clock-margin=\(rules.spikeClockMarginSeconds.map(String.init) ?? "none")"
    }

    /// FNV-1a (64-bit) over the UTF-8 bytes, then a SplitMix64 finaliser to spread the bits. The
    /// same in every process and build (unlike `Hasher`, which is seeded per process); it
    /// guards against accidental reuse of a number, not against an adversary.
    static func fingerprint(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        hash = (hash ^ (hash >> 30)) &* 0xbf58_476d_1ce4_e5b9
        hash = (hash ^ (hash >> 27)) &* 0x94d0_49bb_1331_11eb
        return hash ^ (hash >> 31)
    }
}
