import Foundation
import Glibc
import Monitor
import Synchronization
import Testing

@testable import Journal

/// `SQLiteJournal.backup`: a consistent copy of a journal another connection keeps appending to.
@Suite("SQLiteJournal: backup of a live journal", .serialized)
struct SQLiteJournalBackupTests {
    /// Group `number`: a marker message carrying the number, then 40 transactions stamped with it.
    static func group(_ number: Int) -> [JournalEntry] {
        let transactions = (0..<40).map { sampleTransaction(number * 40 + $0) }
        return [.message(topic: "group", data: Array(String(number).utf8)), .transactions(transactions)]
    }

    /// What the appending thread and the test share.
    final class Appender: Sendable {
        let completed = Mutex(0)
        let stop = Atomic<Bool>(false)
        let failure = Mutex<String?>(nil)

        /// Appends numbered groups from `start` until told to stop.
        func run(_ journal: SQLiteJournal, from start: Int) {
            var number = start
            while !stop.load(ordering: .acquiring) {
                do {
                    try journal.append(SQLiteJournalBackupTests.group(number))
                } catch {
                    failure.withLock { $0 = error.message }
                    return
                }
                number += 1
                completed.withLock { $0 = number }
            }
        }

        /// Waits (up to 10 s) until at least `count` groups were appended; returns whether they were.
        func wait(forGroups count: Int) -> Bool {
            for _ in 0..<10_000 {
                if completed.withLock({ $0 }) >= count { return true }
                usleep(1_000)
            }
            return false
        }
    }

    @Test("a copy taken while another thread appends holds exactly a prefix, and appends go on during it")
    func copyWhileAppending() throws {
        let directory = makeTemporaryDirectory()
        let destination = directory + "/copy"
        defer { removeDirectory(directory) }
        let source = directory + "/data"
        let journal = try SQLiteJournal(directory: source, synchronous: .normal)
        for number in 0..<300 { try journal.append(Self.group(number)) }
        let appender = Appender()
        appender.completed.withLock { $0 = 300 }
        let thread = Thread { appender.run(journal, from: 300) }
        thread.start()
        var steps = 0
        var appendedDuringCopy = false
        let summary = try SQLiteJournal.backup(from: source, to: destination, pagesPerStep: 8) { copied, total in
            steps += 1
            #expect(copied <= total)
            // Halfway through the copy, the other connection commits more groups: the held
            // snapshot does not block it (and the copy must not restart or include them).
            if steps == 2 {
                let now = appender.completed.withLock { $0 }
                appendedDuringCopy = appender.wait(forGroups: now + 20)
            }
        }
        appender.stop.store(true, ordering: .releasing)
        _ = appender.wait(forGroups: 0)
        while !thread.isFinished { usleep(1_000) }
        #expect(appender.failure.withLock { $0 } == nil)
        #expect(steps > 2, "the copy took several steps")
        #expect(appendedDuringCopy, "appends went on while the copy's snapshot was held")
        let finalCount = journal.statistics.groups
        journal.close()

        let copied = summary.statistics.groups
        #expect(copied >= 300)
        #expect(copied + 20 <= finalCount, "the groups appended during the copy are not in it")
        let restored = try SQLiteJournal(directory: destination)
        defer { restored.close() }
        #expect(restored.epoch == summary.epoch)
        #expect(restored.statistics == summary.statistics)
        #expect(try replayed(restored) == (0..<copied).flatMap { Self.group($0) })
        let original = try SQLiteJournal(directory: source)
        defer { original.close() }
        // The copy is a fork of the history: same entries, an epoch of its own.
        #expect(summary.sourceEpoch == original.epoch && restored.epoch != original.epoch)
    }

    @Test("an existing copy is kept unless replacing, and a directory in use or the source itself is refused")
    func refusals() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let source = directory + "/data"
        let destination = directory + "/copy"
        let journal = try SQLiteJournal(directory: source)
        try journal.append(Self.group(0))
        _ = try SQLiteJournal.backup(from: source, to: destination)
        try journal.append(Self.group(1))

        let exists = #expect(throws: JournalError.self) { try SQLiteJournal.backup(from: source, to: destination) }
        #expect(exists?.message.contains("--force") == true)
        let replaced = try SQLiteJournal.backup(from: source, to: destination, replacing: true)
        #expect(replaced.statistics.groups == 2)

        let itself = #expect(throws: JournalError.self) {
            try SQLiteJournal.backup(from: source, to: source + "/.", replacing: true)
        }
        #expect(itself?.message.contains("own directory") == true)
        let open = try SQLiteJournal(directory: destination)
        let inUse = #expect(throws: JournalError.self) {
            try SQLiteJournal.backup(from: source, to: destination, replacing: true)
        }
        #expect(inUse?.message.contains("is locked") == true)
        #expect(open.statistics.groups == 2, "the open copy was left alone")
        open.close()
        let missing = #expect(throws: JournalError.self) {
            try SQLiteJournal.backup(from: directory + "/nothing", to: directory + "/other")
        }
        #expect(missing?.message.contains("no journal") == true)
        journal.close()
    }
}
