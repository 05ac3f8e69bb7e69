import Monitor
import Testing

@testable import Journal

@Suite("SQLiteJournal: failed appends and damaged databases")
struct SQLiteJournalFailureTests {
    /// A journal holding groups 1 and 2 of ``SQLiteJournalTests/groups``.
    func journalWithTwoGroups(_ directory: String) throws -> SQLiteJournal {
        let journal = try SQLiteJournal(directory: directory)
        try journal.append(SQLiteJournalTests.groups[0])
        try journal.append(SQLiteJournalTests.groups[1])
        return journal
    }

    @Test("an insert that fails rolls back: nothing stored, statistics unchanged, journal usable")
    func insertFailureRollsBack() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let journal = try journalWithTwoGroups(directory)
        let before = journal.statistics
        try journal.execute(
            "CREATE TEMP TRIGGER refuse BEFORE INSERT ON main.groups BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        )
        let error = #expect(throws: JournalError.self) { try journal.append(SQLiteJournalTests.groups[2]) }
        #expect(error?.message.contains("injected failure") == true)
        #expect(journal.statistics == before)
        #expect(journal.connection?.isInTransaction == false)
        try journal.execute("DROP TRIGGER refuse")
        try journal.append([.message(topic: "next", data: [])])
        journal.close()

        let reopened = try SQLiteJournal(directory: directory)
        let expected = SQLiteJournalTests.groups[0] + SQLiteJournalTests.groups[1] + [.message(topic: "next", data: [])]
        #expect(try replayed(reopened) == expected)
        #expect(reopened.statistics.groups == 3)
    }

    @Test("a commit that fails rolls back: the inserted group is gone")
    func commitFailureRollsBack() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let journal = try journalWithTwoGroups(directory)
        let before = journal.statistics
        // A deferred foreign key violation passes the INSERT and fails the COMMIT.
        try journal.execute(
            """
            PRAGMA foreign_keys = ON;
            CREATE TABLE parent (id INTEGER PRIMARY KEY);
            CREATE TABLE child (parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);
            CREATE TEMP TRIGGER orphan AFTER INSERT ON main.groups BEGIN INSERT INTO child VALUES (42); END;
            """
        )
        let error = #expect(throws: JournalError.self) { try journal.append(SQLiteJournalTests.groups[2]) }
        #expect(error?.message.contains("COMMIT") == true)
        #expect(journal.statistics == before)
        #expect(journal.connection?.isInTransaction == false)
        try journal.execute("DROP TRIGGER orphan")
        try journal.append(SQLiteJournalTests.groups[2])
        journal.close()

        let reopened = try SQLiteJournal(directory: directory)
        #expect(try replayed(reopened) == SQLiteJournalTests.groups.flatMap { $0 })
    }

    /// Damages the database with `sql`, then returns the replay error and the entries delivered first.
    func replayAfterDamage(_ sql: String) throws -> (error: JournalError?, delivered: [JournalEntry]) {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let journal = try journalWithTwoGroups(directory)
        try journal.append(SQLiteJournalTests.groups[2])
        try journal.execute(sql)
        journal.close()
        let reopened = try SQLiteJournal(directory: directory)
        var delivered: [JournalEntry] = []
        do {
            try reopened.replay { delivered.append($0) }
            return (nil, delivered)
        } catch let error as JournalError {
            return (error, delivered)
        }
    }

    @Test("a truncated payload is an error naming its group; earlier groups were delivered whole")
    func truncatedPayload() throws {
        let result = try replayAfterDamage("UPDATE groups SET payload = substr(payload, 1, length(payload) - 3) WHERE id = 2")
        #expect(result.error?.message.hasPrefix("group 2:") == true)
        #expect(result.error?.message.contains("bytes left") == true)
        #expect(result.delivered == SQLiteJournalTests.groups[0])
    }

    @Test("a garbage payload is an error naming its group")
    func garbagePayload() throws {
        let result = try replayAfterDamage("UPDATE groups SET payload = X'09FFFF' WHERE id = 3")
        #expect(result.error?.message.contains("group 3: payload format version 9") == true)
        #expect(result.delivered == SQLiteJournalTests.groups[0] + SQLiteJournalTests.groups[1])
    }

    @Test("a payload that is not a blob is an error naming its group")
    func textPayload() throws {
        let result = try replayAfterDamage("UPDATE groups SET payload = 'text' WHERE id = 1")
        #expect(result.error?.message == "group 1: payload is not a blob")
        #expect(result.delivered.isEmpty)
    }

    @Test("a missing group is an error")
    func missingGroup() throws {
        let result = try replayAfterDamage("DELETE FROM groups WHERE id = 2")
        #expect(result.error?.message.contains("group 3 follows group 1") == true)
        #expect(result.delivered == SQLiteJournalTests.groups[0])
    }

    @Test("running totals that disagree with the payload are an error")
    func wrongTotals() throws {
        let result = try replayAfterDamage("UPDATE groups SET transaction_total = transaction_total + 1 WHERE id = 2")
        #expect(result.error?.message.contains("group 2: stored running totals") == true)
    }

    @Test("a database without an epoch is refused")
    func missingEpoch() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let journal = try SQLiteJournal(directory: directory)
        try journal.execute("DELETE FROM meta WHERE key = 'epoch'")
        journal.close()
        #expect(throws: JournalError.self) { try SQLiteJournal(directory: directory) }
    }
}
