/// What `SQLiteJournal.backup(from:to:replacing:pagesPerStep:progress:)` copied.
public struct JournalBackupSummary: Sendable, Equatable {
    /// The copy's database file.
    public let path: String
    /// The source's epoch when the copy was taken.
    public let sourceEpoch: String
    /// The copy's own epoch (a restored server is a fork of the history: `renameHistory(at:)`).
    public let epoch: String
    /// What the copy holds: the source's totals at the moment the copy's snapshot was taken.
    public let statistics: JournalStatistics
    /// Database pages copied (4 KiB each).
    public let pages: Int
}
