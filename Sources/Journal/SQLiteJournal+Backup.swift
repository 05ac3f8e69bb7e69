import CSQLite
import Glibc

extension SQLiteJournal {
    /// The suffix of the copy's file while it is being written; renamed to the journal's name
    /// once complete and on disk, so that a failed backup never leaves a journal behind.
    static let partialSuffix = ".partial"

    /// Copies the journal in `directory` into `destination` (created if missing), while a server
    /// may keep appending to it; returns what the copy holds.
    ///
    /// The copy is one consistent snapshot: a read transaction on the source is opened first and
    /// held through the whole copy, so every `sqlite3_backup_step` reads the same committed
    /// groups. A write-ahead-log reader never blocks the writer, so the server's commits go on
    /// meanwhile (they are not in the copy; its checkpoints cannot pass the snapshot, so the
    /// log grows until the copy ends). Without the held snapshot, a commit by the server between
    /// two steps would restart the backup from page 1, and under steady ingest it would never end.
    /// Pages are copied `pagesPerStep` at a time; `progress` is called after each step with the
    /// pages copied and the total.
    ///
    /// The copy is written under a temporary name, fsynced, renamed to `syndicast.sqlite3`, and
    /// then opened and replayed as a journal, which checks every group (ids, payloads, running
    /// totals) and that it holds exactly the snapshot's totals and epoch.
    ///
    /// Refuses when `destination` already holds a journal, unless `replacing`; refuses when it is
    /// the source directory or a server holds it (its directory lock).
    public static func backup(
        from directory: String, to destination: String, replacing: Bool = false, pagesPerStep: Int32 = 256,
        progress: (_ copied: Int, _ total: Int) -> Void = { _, _ in }
    ) throws(JournalError) -> JournalBackupSummary {
        let sourcePath = path(in: directory)
        guard access(sourcePath, F_OK) == 0 else { throw JournalError("no journal at \(sourcePath)") }
        try createDirectory(destination)
        let destinationPath = path(in: destination)
        if let source = realDirectory(directory), source == realDirectory(destination) {
            throw JournalError("the destination \(destination) is the journal's own directory")
        }
        let snapshot: (epoch: String, statistics: JournalStatistics, pages: Int)
        let copyEpoch: String
        do {
            // Held while the files are replaced: no server may open the destination meanwhile.
            let lock = try DataDirectoryLock(directory: destination, databasePath: destinationPath)
            defer { lock.release() }
            let leftovers = [destinationPath, destinationPath + "-wal", destinationPath + "-shm"]
            if !replacing, leftovers.contains(where: { access($0, F_OK) == 0 }) {
                throw JournalError("\(destinationPath) already exists; pass --force to replace it")
            }
            let partialPath = destinationPath + partialSuffix
            do throws(JournalError) {
                snapshot = try copySnapshot(
                    from: sourcePath, to: partialPath, pagesPerStep: pagesPerStep, progress: progress)
                copyEpoch = try renameHistory(at: partialPath)
                try synchronize(partialPath)
                for leftover in leftovers.dropFirst() where unlink(leftover) != 0 && errno != ENOENT {
                    throw JournalError("cannot remove \(leftover): \(String(cString: strerror(errno)))")
                }
                guard rename(partialPath, destinationPath) == 0 else {
                    throw JournalError("cannot rename \(partialPath): \(String(cString: strerror(errno)))")
                }
                try synchronize(destination)
            } catch {
                unlink(partialPath)
                unlink(partialPath + "-journal")
                throw error
            }
        }
        try verifyCopy(in: destination, epoch: copyEpoch, statistics: snapshot.statistics)
        return JournalBackupSummary(
            path: destinationPath, sourceEpoch: snapshot.epoch, epoch: copyEpoch, statistics: snapshot.statistics,
            pages: snapshot.pages)
    }

    /// Gives the copy an epoch of its own. The copy is a fork of the history: a server restored
    /// from it numbers its next events from the snapshot's last sequence number, while the source
    /// may already have given those numbers to other events. Under a new epoch a client that
    /// resumes from the source's numbers gets a `snapshot` with `"recovered":false` instead of a
    /// replay of different events; the state and sequence numbers up to the snapshot stay the same.
    static func renameHistory(at copyPath: String) throws(JournalError) -> String {
        let connection = try SQLiteConnection(path: copyPath)
        defer { connection.close() }
        let epoch = newEpoch()
        try connection.execute("UPDATE meta SET value = '\(epoch)' WHERE key = 'epoch'")
        return epoch
    }

    /// Copies the database at `sourcePath` into a new file at `copyPath` from one read snapshot;
    /// returns the snapshot's epoch, totals and page count.
    static func copySnapshot(
        from sourcePath: String, to copyPath: String, pagesPerStep: Int32, progress: (Int, Int) -> Void
    ) throws(JournalError) -> (epoch: String, statistics: JournalStatistics, pages: Int) {
        let source = try SQLiteConnection(path: sourcePath, readOnly: true)
        defer { source.close() }
        if let handle = source.handle { sqlite3_busy_timeout(handle, 5_000) }
        // The snapshot starts at the first read after BEGIN and lasts until COMMIT.
        try source.execute("BEGIN")
        defer { try? source.execute("COMMIT") }
        guard let epoch = try source.queryText("SELECT value FROM meta WHERE key = 'epoch'") else {
            throw JournalError("\(sourcePath) has no epoch in its meta table: not a syndicast journal")
        }
        let statistics = try readStatistics(source)
        unlink(copyPath)
        let copy = try SQLiteConnection(path: copyPath)
        defer { copy.close() }
        guard let copyHandle = copy.handle, let sourceHandle = source.handle,
            let backup = sqlite3_backup_init(copyHandle, "main", sourceHandle, "main")
        else {
            throw copy.error("cannot start the backup into \(copyPath)", code: copy.handle.map { sqlite3_errcode($0) } ?? 0)
        }
        var code: Int32
        repeat {
            code = sqlite3_backup_step(backup, pagesPerStep)
            let total = Int(sqlite3_backup_pagecount(backup))
            progress(total - Int(sqlite3_backup_remaining(backup)), total)
            if code == SQLITE_BUSY || code == SQLITE_LOCKED {
                usleep(1_000)
                code = SQLITE_OK
            }
        } while code == SQLITE_OK
        let pages = Int(sqlite3_backup_pagecount(backup))
        let finished = sqlite3_backup_finish(backup)
        guard code == SQLITE_DONE, finished == SQLITE_OK else {
            throw copy.error("backup of \(sourcePath) into \(copyPath) failed", code: code == SQLITE_DONE ? finished : code)
        }
        return (epoch, statistics, pages)
    }

    /// Opens the copy in `directory` as a journal and replays it whole; throws unless it holds
    /// exactly `statistics` under `epoch`.
    static func verifyCopy(in directory: String, epoch: String, statistics: JournalStatistics) throws(JournalError) {
        let journal = try SQLiteJournal(directory: directory)
        defer { journal.close() }
        var entries = 0
        do {
            try journal.replay { _ in entries += 1 }
        } catch {
            throw JournalError("the copy \(journal.path) does not replay: \(error)")
        }
        guard journal.epoch == epoch, journal.statistics == statistics, entries == statistics.entries else {
            throw JournalError(
                "the copy \(journal.path) holds \(journal.statistics) under epoch \(journal.epoch), "
                    + "not the snapshot's \(statistics) under \(epoch)")
        }
    }

    /// Flushes the file or directory at `path` to stable storage.
    static func synchronize(_ path: String) throws(JournalError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw JournalError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { Glibc.close(descriptor) }
        guard fsync(descriptor) == 0 else { throw JournalError("cannot fsync \(path): \(String(cString: strerror(errno)))") }
    }

    /// The canonical path of an existing directory, or `nil`.
    static func realDirectory(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
