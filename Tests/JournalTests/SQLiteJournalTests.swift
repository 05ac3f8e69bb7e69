import Glibc
import Monitor
import Testing

@testable import Journal

@Suite("SQLiteJournal: append, reopen, replay")
struct SQLiteJournalTests {
    /// Three groups of mixed entries, as concurrent POSTs would produce them.
    static let groups: [[JournalEntry]] = [
        [.transactions([sampleTransaction(1), sampleTransaction(2, id: false)])],
        [
            .message(topic: "orders", data: Array(#"{"order":7,"note":"ünïcödé"}"#.utf8)),
            .transactions((3..<103).map { sampleTransaction($0) }),
            .message(topic: "empty", data: []),
        ],
        [.transactions([]), .transactions([sampleTransaction(103)])],
    ]

    @Test("entries replay in append order after reopening, with statistics restored")
    func appendReopenReplay() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let journal = try SQLiteJournal(directory: directory)
        for group in Self.groups {
            try journal.append(group)
        }
        let expectedStatistics = journal.statistics
        #expect(expectedStatistics.groups == 3)
        #expect(expectedStatistics.entries == 6)
        #expect(expectedStatistics.transactions == 103)
        #expect(try replayed(journal) == Self.groups.flatMap { $0 })
        journal.close()

        let reopened = try SQLiteJournal(directory: directory)
        #expect(reopened.statistics == expectedStatistics)
        #expect(try replayed(reopened) == Self.groups.flatMap { $0 })
        // Appends after a reopen continue the same order.
        try reopened.append([.message(topic: "after", data: [0x31])])
        reopened.close()
        let third = try SQLiteJournal(directory: directory)
        #expect(try replayed(third).last == .message(topic: "after", data: [0x31]))
        #expect(third.statistics.groups == 4)
    }

    @Test("a database written in payload format 1 replays, and appends after it are format 2")
    func formatVersion1Database() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let version1 = JournalPayloadCodecTests.goldenVersion1Bytes
        let hex = version1.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        let journal = try SQLiteJournal(directory: directory)
        #expect(try journal.connection?.queryText("SELECT value FROM meta WHERE key = 'payload_format'") == "2")
        try journal.execute("UPDATE meta SET value = '1' WHERE key = 'payload_format'")
        // As an older build stored it: one group of two entries holding one transaction.
        try journal.execute(
            "INSERT INTO groups (id, entry_total, transaction_total, payload_total, payload) VALUES (1, 2, 1, \(version1.count), X'\(hex)')"
        )
        journal.close()
        let upgraded = try SQLiteJournal(directory: directory)
        #expect(upgraded.statistics == JournalStatistics(groups: 1, entries: 2, transactions: 1, payloadBytes: version1.count))
        try upgraded.append(Self.groups[1])
        upgraded.close()
        let reopened = try SQLiteJournal(directory: directory)
        #expect(try replayed(reopened) == JournalPayloadCodecTests.goldenEntries + Self.groups[1])
        let statement = try #require(reopened.connection).prepare("SELECT substr(payload, 1, 1) FROM groups ORDER BY id")
        var versions: [[UInt8]] = []
        while try statement.step() { versions.append(Array(statement.blob(at: 0))) }
        #expect(versions == [[0x01], [0x02]])
        #expect(try reopened.connection?.queryText("SELECT value FROM meta WHERE key = 'payload_format'") == "2")
        reopened.close()
    }

    @Test("the log is checkpointed between appends: 30 MiB appended leave a log of a few MiB")
    func logStaysBounded() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let journal = try SQLiteJournal(directory: directory)
        let blob = [UInt8](repeating: 0x5A, count: 3 << 20)
        for number in 0..<10 {
            try journal.append([.message(topic: "bulk", data: blob + [UInt8(number)])])
        }
        var log = stat()
        var database = stat()
        #expect(stat(journal.path + "-wal", &log) == 0)
        #expect(stat(journal.path, &database) == 0)
        // Without checkpoints the log would hold all 30 MiB; the database file holds most of it.
        #expect(log.st_size < 12 << 20, "log \(log.st_size) bytes")
        #expect(database.st_size > 20 << 20, "database \(database.st_size) bytes")
        #expect(try replayed(journal).count == 10)
        journal.close()
        let reopened = try SQLiteJournal(directory: directory)
        #expect(try replayed(reopened).map(\.transactionCount).count == 10)
        reopened.close()
    }

    @Test("small commits are counted by the log frames they write: 3,000 one-transaction appends leave a short log")
    func smallCommitsKeepTheLogShort() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let journal = try SQLiteJournal(directory: directory, synchronous: .off)
        for number in 0..<3_000 {
            try journal.append([.transactions([sampleTransaction(number)])])
        }
        var log = stat()
        #expect(stat(journal.path + "-wal", &log) == 0)
        // ~2 frames of 4 KiB per commit: without a checkpoint every 1,000 frames, ~24 MiB.
        #expect(log.st_size < 6 << 20, "log \(log.st_size) bytes")
        journal.close()
    }

    @Test("the epoch is 16 hex characters, stable across reopen and new for a new directory")
    func epochs() throws {
        let directory = makeTemporaryDirectory()
        let other = makeTemporaryDirectory()
        defer {
            removeDirectory(directory)
            removeDirectory(other)
        }
        let first = try SQLiteJournal(directory: directory)
        let epoch = first.epoch
        #expect(epoch.utf8.count == 16)
        #expect(epoch.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        first.close()
        let reopened = try SQLiteJournal(directory: directory)
        #expect(reopened.epoch == epoch)
        #expect(try SQLiteJournal(directory: other).epoch != epoch)
    }

    @Test("missing parent directories are created and the database file is syndicast.sqlite3")
    func createsDirectories() throws {
        let root = makeTemporaryDirectory()
        defer { removeDirectory(root) }
        let journal = try SQLiteJournal(directory: root + "/a/b/c/")
        #expect(journal.path == root + "/a/b/c/syndicast.sqlite3")
        #expect(fileExists(journal.path))
    }

    @Test("an empty append stores no group")
    func emptyAppend() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let journal = try SQLiteJournal(directory: directory)
        try journal.append([])
        #expect(journal.statistics == JournalStatistics())
        #expect(try replayed(journal).isEmpty)
    }

    @Test("every synchronous level stores and replays", arguments: JournalSynchronous.allCases)
    func synchronousLevels(level: JournalSynchronous) throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let journal = try SQLiteJournal(directory: directory, synchronous: level)
        #expect(try journal.connection?.queryInteger("PRAGMA synchronous") == ["off": 0, "normal": 1, "full": 2][level.rawValue])
        #expect(try journal.connection?.queryText("PRAGMA journal_mode") == "wal")
        try journal.append(Self.groups[1])
        journal.close()
        #expect(try replayed(SQLiteJournal(directory: directory, synchronous: level)) == Self.groups[1])
    }

    @Test("an error thrown by the replay body stops the replay and is rethrown")
    func bodyErrorStops() throws {
        struct Stop: Error {}
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let journal = try SQLiteJournal(directory: directory)
        for group in Self.groups {
            try journal.append(group)
        }
        var seen = 0
        #expect(throws: Stop.self) {
            try journal.replay { _ in
                seen += 1
                if seen == 2 { throw Stop() }
            }
        }
        #expect(seen == 2)
        // The journal is still usable afterwards.
        try journal.append([.message(topic: "t", data: [])])
        #expect(try replayed(journal).count == 7)
    }

    @Test("a closed journal refuses appends and replays")
    func closed() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let journal = try SQLiteJournal(directory: directory)
        journal.close()
        journal.close()
        #expect(throws: JournalError.self) { try journal.append(Self.groups[0]) }
        #expect(throws: JournalError.self) { try replayed(journal) }
    }

    @Test("a second open of the same directory fails while the first is open")
    func exclusiveDirectory() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let journal = try SQLiteJournal(directory: directory)
        try journal.append(Self.groups[0])
        let error = #expect(throws: JournalError.self) { try SQLiteJournal(directory: directory) }
        #expect(error?.message.contains("another syndicast process") == true)
        journal.close()
        #expect(try replayed(SQLiteJournal(directory: directory)) == Self.groups[0])
    }

    @Test("a database from a newer schema version is refused")
    func newerSchema() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let journal = try SQLiteJournal(directory: directory)
        try journal.execute("PRAGMA user_version = 99")
        journal.close()
        let error = #expect(throws: JournalError.self) { try SQLiteJournal(directory: directory) }
        #expect(error?.message.contains("schema version 99") == true)
    }
}
