import Glibc
import Monitor
import Testing

@testable import Journal

/// Damage in the middle of SQLite's write-ahead log is refused at open; a torn tail is not.
@Suite("WriteAheadLogCheck: damage SQLite's recovery would pass over")
struct WriteAheadLogCheckTests {
    /// A data directory whose journal has `groups` committed groups, all still in the log (the
    /// files are copied while the journal is open, as after `kill -9`).
    static func crashedDirectory(groups: Int) throws -> (directory: String, log: [UInt8]) {
        let live = makeTemporaryDirectory()
        defer { removeDirectory(live) }
        let journal = try SQLiteJournal(directory: live)
        for number in 0..<groups {
            try journal.append([.transactions((0..<20).map { sampleTransaction(number * 20 + $0) })])
        }
        let copy = makeTemporaryDirectory()
        let database = SQLiteJournal.path(in: live)
        _ = system("cp '\(database)' '\(database)-wal' '\(copy)/'")
        journal.close()
        let log = try #require(try WriteAheadLogCheck.readFile(SQLiteJournal.path(in: copy) + "-wal"))
        return (copy, log)
    }

    static func write(_ bytes: [UInt8], to path: String) {
        let file = fopen(path, "wb")
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
    }

    /// The byte offset of frame `frame`'s page, and the log's frame count.
    static func frames(of log: [UInt8]) -> (pageSize: Int, count: Int) {
        let pageSize = Int(log[8]) << 24 | Int(log[9]) << 16 | Int(log[10]) << 8 | Int(log[11])
        return (pageSize, (log.count - 32) / (24 + pageSize))
    }

    @Test("an undamaged log is intact, and the journal opens with every group")
    func intact() throws {
        let (directory, log) = try Self.crashedDirectory(groups: 6)
        defer { removeDirectory(directory) }
        #expect(WriteAheadLogCheck.check(log) == .intact(validFrames: Self.frames(of: log).count))
        let journal = try SQLiteJournal(directory: directory)
        #expect(journal.statistics.groups == 6)
        journal.close()
    }

    @Test("a damaged last frame is a torn tail: the journal opens without the last group")
    func tornTail() throws {
        let (directory, original) = try Self.crashedDirectory(groups: 6)
        defer { removeDirectory(directory) }
        var log = original
        let (pageSize, count) = Self.frames(of: log)
        log[32 + (count - 1) * (24 + pageSize) + 24 + 100] ^= 0xff
        #expect(WriteAheadLogCheck.check(log) == .intact(validFrames: count - 1))
        Self.write(log, to: SQLiteJournal.path(in: directory) + "-wal")
        let journal = try SQLiteJournal(directory: directory)
        #expect(journal.statistics.groups == 5)
        journal.close()
    }

    @Test("a damaged frame with committed groups after it stops the journal from opening")
    func damagedMiddle() throws {
        let (directory, original) = try Self.crashedDirectory(groups: 6)
        defer { removeDirectory(directory) }
        var log = original
        let pageSize = Self.frames(of: log).pageSize
        log[32 + 1 * (24 + pageSize) + 24 + 100] ^= 0xff
        guard case .damaged(frame: 1, let committedAfter) = WriteAheadLogCheck.check(log) else {
            Issue.record("not reported as damaged: \(WriteAheadLogCheck.check(log))")
            return
        }
        #expect(committedAfter >= 4)
        Self.write(log, to: SQLiteJournal.path(in: directory) + "-wal")
        #expect {
            _ = try SQLiteJournal(directory: directory)
        } throws: { error in
            "\(error)".contains("-wal is damaged at frame 2") && "\(error)".contains("move the -wal file aside")
        }
        // With the log moved aside, the journal opens at the state before the damage.
        _ = system("mv '\(SQLiteJournal.path(in: directory))-wal' '\(directory)/aside'")
        let journal = try SQLiteJournal(directory: directory)
        #expect(journal.statistics.groups < 6)
        journal.close()
    }

    @Test("a damaged log header is damage when the frames after it verify")
    func damagedHeader() throws {
        let (directory, original) = try Self.crashedDirectory(groups: 3)
        defer { removeDirectory(directory) }
        var log = original
        log[12] ^= 0x01  // the checkpoint sequence number, covered by the header's checksum
        guard case .damaged(frame: -1, let committedAfter) = WriteAheadLogCheck.check(log) else {
            Issue.record("not reported as damaged: \(WriteAheadLogCheck.check(log))")
            return
        }
        #expect(committedAfter == 4)  // the schema's commit and the three groups
    }

    @Test("the checksum is SQLite's: s0 += x0 + s1, s1 += x1 + s0 over native words")
    func checksumDefinition() {
        let bytes: [UInt8] = [1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0]
        // Little-endian words 1, 2, 3, 4: (1, 3), then (1+3+3, 3+4+7) = (7, 14).
        #expect(WriteAheadLogCheck.checksum(bytes, 0..<16, seed: (0, 0), bigEndian: false) == (7, 14))
        #expect(WriteAheadLogCheck.checksum(bytes, 0..<8, seed: (0, 0), bigEndian: true) == (0x0100_0000, 0x0300_0000))
    }

    @Test("short, foreign or empty logs are intact with no frames")
    func notALog() {
        #expect(WriteAheadLogCheck.check([]) == .intact(validFrames: 0))
        #expect(WriteAheadLogCheck.check([UInt8](repeating: 7, count: 5000)) == .intact(validFrames: 0))
    }
}
