import ArgumentParser
import Glibc
import Journal

/// `syndicast backup --data DIR DEST`: a consistent copy of a journal, taken while a server runs.
///
/// The copy is one snapshot of the committed groups (SQLite's online backup API inside one read
/// transaction, see `SQLiteJournal.backup`); the server keeps ingesting meanwhile. `serve --data
/// DEST` on the copy restores the state, sequence numbers and epoch as of the snapshot.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy a journal consistently, also while a server is using it.",
        discussion: """
            Copies DIR/syndicast.sqlite3 into DEST/syndicast.sqlite3 (DEST is created) as one snapshot \
            of the groups committed when the copy starts; a server on DIR keeps ingesting meanwhile, \
            and what it commits later is not in the copy. The copy is replayed before the command \
            succeeds. Restore by starting `syndicast serve --data DEST` (or by moving the file into \
            place while no server runs): same state, same sequence numbers, same epoch.

            Exit status: 0 on success; 1 when the copy fails (the message on stderr says why; no \
            journal is left in DEST); 64 for a usage error.
            """)

    @Option(help: "The journal directory to copy (default: $SYNDICAST_DATA, else ./data).")
    var data: String?
    @Argument(help: "The directory to write the copy into (created if missing).")
    var destination: String
    @Flag(help: "Replace a journal that DEST already holds (refused otherwise).")
    var force = false
    @Option(help: "Database pages (4 KiB) copied per step, 1…65536.")
    var pagesPerStep: Int32 = 256

    func validate() throws {
        guard (1...65_536).contains(pagesPerStep) else { throw ValidationError("--pages-per-step must be 1…65536") }
    }

    func run() throws {
        let source = data ?? EnvironmentDefaults.current()[ServeOptions.data.environmentName] ?? ServeOptions.data.defaultValue
        let started = monotonicSeconds()
        let summary: JournalBackupSummary
        do {
            summary = try SQLiteJournal.backup(
                from: source, to: destination, replacing: force, pagesPerStep: pagesPerStep)
        } catch {
            Self.write("syndicast backup: \(error.message)\n", to: STDERR_FILENO)
            throw ExitCode.failure
        }
        let seconds = monotonicSeconds() - started
        let statistics = summary.statistics
        Self.write(
            "copied \(SQLiteJournal.path(in: source)) to \(summary.path): \(statistics.groups) groups, "
                + "\(statistics.entries) entries, \(statistics.transactions) transactions, new epoch \(summary.epoch) (source \(summary.sourceEpoch)), "
                + "\(summary.pages) pages in \(String(format: "%.2f", seconds)) s\n",
            to: STDOUT_FILENO)
    }

    /// Seconds on the monotonic clock.
    private func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    private static func write(_ text: String, to descriptor: Int32) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { return }
            bytes = bytes.dropFirst(written)
        }
    }
}
