import Testing

@testable import Journal

@Suite("InMemoryJournal: counts only")
struct InMemoryJournalTests {
    @Test("groups, entries and transactions are counted like SQLiteJournal counts them, no payload bytes, and replay delivers nothing")
    func countsWithoutEntries() throws {
        let memory = InMemoryJournal()
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let disk = try SQLiteJournal(directory: directory)
        for group in SQLiteJournalTests.groups {
            try memory.append(group)
            try disk.append(group)
        }
        try memory.append([])
        #expect(memory.statistics.groups == disk.statistics.groups)
        #expect(memory.statistics.entries == disk.statistics.entries)
        #expect(memory.statistics.transactions == disk.statistics.transactions)
        #expect(memory.statistics.payloadBytes == 0)
        #expect(disk.statistics.payloadBytes > 0)
        #expect(memory.statistics.transactions == 103)
        #expect(try replayed(memory).isEmpty)
    }

    @Test("every instance has its own 16-character epoch")
    func epochs() {
        let first = InMemoryJournal()
        let second = InMemoryJournal()
        #expect(first.epoch.utf8.count == 16)
        #expect(first.epoch != second.epoch)
    }

    @Test("a closed in-memory journal refuses appends")
    func closed() {
        let journal = InMemoryJournal()
        journal.close()
        #expect(throws: JournalError.self) { try journal.append([.message(topic: "t", data: [])]) }
        #expect(journal.statistics == JournalStatistics())
    }
}
