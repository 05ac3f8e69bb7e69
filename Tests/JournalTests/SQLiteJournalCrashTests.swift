import CSQLite
import Glibc
import Monitor
import SeededRandom
import Testing

@testable import Journal

/// DESIGN.md §6: "`kill -9` at any moment loses no transaction that was answered with 2xx."
///
/// A forked child appends numbered groups in a loop and reports each completed append through a
/// pipe; the parent kills it with SIGKILL mid-stream, reopens the database and checks that every
/// reported group is there, in order, none twice, with at most the one unreported group after them.
@Suite("SQLiteJournal: kill -9 during appends", .serialized)
struct SQLiteJournalCrashTests {
    /// Group `number`: a marker message carrying the number, then 0–975 transactions stamped with it.
    static func group(_ number: Int) -> [JournalEntry] {
        let count = (number % 40) * 25
        let transactions = (0..<count).map { index in
            Transaction(
                id: index % 2 == 0 ? "tx-\(number)-\(index)" : nil,
                investorId: "investor-\(index % 7)",
                syndicateId: "syndicate-\(index % 3)",
                amount: Money(cents: Int64(index + 1)),
                timestamp: Int64(number)
            )
        }
        return [.message(topic: "group", data: Array(String(number).utf8)), .transactions(transactions)]
    }

    /// Replays `directory` and returns how many well-formed groups it holds, recording any damage.
    static func verifiedGroupCount(_ directory: String) throws -> Int {
        let journal = try SQLiteJournal(directory: directory)
        defer { journal.close() }
        let entries = try replayed(journal)
        #expect(entries.count % 2 == 0, "groups are stored whole")
        let count = entries.count / 2
        for number in 0..<count {
            let stored = Array(entries[(2 * number)..<(2 * number + 2)])
            #expect(stored == group(number), "group \(number) is in place, once")
            if stored != group(number) { break }
        }
        #expect(journal.statistics.groups == count)
        return count
    }

    /// Runs in the forked child: append groups forever, writing one 8-byte word per completed append.
    static func appendUntilKilled(directory: String, pipe: Int32) -> Never {
        guard let journal = try? SQLiteJournal(directory: directory, synchronous: .full) else { _exit(3) }
        var number = journal.statistics.groups
        while true {
            do {
                try journal.append(group(number))
            } catch {
                _exit(4)
            }
            number += 1
            var completed = UInt64(number)
            guard write(pipe, &completed, 8) == 8 else { _exit(5) }
        }
    }

    /// SQLite's static mutexes, outermost first as SQLite nests them (the allocator's is taken
    /// inside the others, so it comes last).
    static let sqliteStaticMutexes: [Int32] = [
        SQLITE_MUTEX_STATIC_MAIN, SQLITE_MUTEX_STATIC_OPEN, SQLITE_MUTEX_STATIC_VFS1, SQLITE_MUTEX_STATIC_VFS2,
        SQLITE_MUTEX_STATIC_VFS3, SQLITE_MUTEX_STATIC_APP1, SQLITE_MUTEX_STATIC_APP2, SQLITE_MUTEX_STATIC_APP3,
        SQLITE_MUTEX_STATIC_LRU, SQLITE_MUTEX_STATIC_PMEM, SQLITE_MUTEX_STATIC_PRNG, SQLITE_MUTEX_STATIC_MEM,
    ]

    /// `fork()` with SQLite's process-wide mutexes held across it, released in parent and child.
    ///
    /// Other test suites use SQLite on other threads while this one forks. A child forked while
    /// one of them held, say, the allocator's mutex inherits it locked with no thread to release
    /// it, and waits forever in its first `sqlite3_malloc` (seen: a child stuck in
    /// `sqlite3Malloc` → `pthread_mutex_lock` until the round's 60 s deadline). Taking them all
    /// first, as an atfork handler would, hands the child each of them in a known state.
    static func forkHoldingSQLiteLocks() -> pid_t {
        let mutexes = sqliteStaticMutexes.compactMap { sqlite3_mutex_alloc($0) }
        for mutex in mutexes { sqlite3_mutex_enter(mutex) }
        let child = fork()
        for mutex in mutexes.reversed() { sqlite3_mutex_leave(mutex) }
        return child
    }

    /// Closes every descriptor from 3 up except `kept` (in a forked child).
    static func closeDescriptors(except kept: Int32) {
        let limit = Int32(clamping: sysconf(Int32(_SC_OPEN_MAX)))
        for descriptor in 3..<max(limit, 4) where descriptor != kept {
            close(descriptor)
        }
    }

    /// Forks a child appending to `directory`, kills it after about `appends` appends, and returns
    /// how many appends it reported complete.
    static func crashRound(directory: String, appends: Int, seed: UInt64) -> Int? {
        var descriptors: [Int32] = [0, 0]
        guard pipe(&descriptors) == 0 else { return nil }
        let child = forkHoldingSQLiteLocks()
        if child == 0 {
            // The child inherits every descriptor the other suites' threads hold, among them the
            // data-directory locks of their open journals (`flock` belongs to the open file, which
            // the child now shares): closing them all keeps the child from holding those
            // directories locked until it is killed.
            closeDescriptors(except: descriptors[1])
            appendUntilKilled(directory: directory, pipe: descriptors[1])
        }
        close(descriptors[1])
        defer { close(descriptors[0]) }
        guard child > 0 else { return nil }
        var generator = SeededGenerator(seed: seed)
        var bytesRead = 0
        var killed = false
        let deadline = time(nil) + 60
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            if !killed && (bytesRead / 8 >= appends || time(nil) > deadline) {
                // Land the kill anywhere inside the next few appends.
                usleep(UInt32.random(in: 0...3_000, using: &generator))
                kill(child, SIGKILL)
                killed = true
            }
            var descriptor = pollfd(fd: descriptors[0], events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 100) >= 0 else { continue }
            if descriptor.revents == 0 { continue }
            let count = buffer.withUnsafeMutableBytes { read(descriptors[0], $0.baseAddress, $0.count) }
            if count > 0 {
                bytesRead += count
            } else if count == 0 {
                break
            }
        }
        var status: Int32 = 0
        waitpid(child, &status, 0)
        // Killed by a signal: the low seven bits of the status hold its number.
        #expect(status & 0x7F == SIGKILL, "the child was killed, not exited (status \(status))")
        return bytesRead / 8
    }

    @Test("every group whose append returned survives SIGKILL, in order, none twice")
    func killDuringAppends() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        // Run the same code paths once before forking so the child starts warm: group 1, since
        // group 0 holds no transaction. Whatever a transaction initialises lazily (the process's
        // hash key, type metadata) is then set up here, not in a child forked while another
        // test's thread might be half-way through setting it up (the child would wait forever).
        let warmUp = makeTemporaryDirectory()
        defer { removeDirectory(warmUp) }
        let warm = try SQLiteJournal(directory: warmUp)
        try warm.append(Self.group(0))
        try warm.append(Self.group(1))
        warm.close()
        #expect(try Self.verifiedGroupCount(warmUp) == 2)
        var stored = 0
        for round in 0..<5 {
            guard let reported = Self.crashRound(directory: directory, appends: 40, seed: UInt64(round)) else {
                Issue.record("fork or pipe failed")
                return
            }
            #expect(reported >= 40 || round > 0, "the child made progress before the kill")
            let count = try Self.verifiedGroupCount(directory)
            #expect(count >= stored + reported, "no reported group is lost")
            #expect(count <= stored + reported + 1, "at most the unreported in-flight group is extra")
            stored = count
        }
        #expect(stored >= 200)
    }
}
