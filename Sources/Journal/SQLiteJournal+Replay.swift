import CSQLite
import Monitor

extension SQLiteJournal {
    /// Calls `body` with every stored entry, group by group in commit order.
    ///
    /// Each group is decoded and checked completely before any of its entries is delivered, so a
    /// damaged group stops the replay at a group boundary with a ``JournalError`` naming its id.
    /// Checked: ids run 1, 2, 3… without gaps; the payload decodes exactly; the running totals
    /// stored with each row match the entries decoded. `body` must not call ``append(_:)``.
    public func replay(_ body: (JournalEntry) throws -> Void) throws {
        guard let connection else { throw JournalError("journal is closed") }
        let select = try connection.prepare(
            "SELECT id, entry_total, transaction_total, payload_total, payload FROM groups ORDER BY id"
        )
        defer { select.reset() }
        var totals = JournalStatistics()
        while try select.step() {
            let id = select.integer(at: 0)
            guard id == Int64(totals.groups) + 1 else {
                throw JournalError("group \(id) follows group \(totals.groups): groups are missing")
            }
            guard select.isBlob(at: 4) else { throw JournalError("group \(id): payload is not a blob") }
            let payload = select.blob(at: 4)
            let entries: [JournalEntry]
            do throws(JournalError) {
                entries = try JournalPayloadCodec.decode(payload)
            } catch {
                throw JournalError("group \(id): \(error.message)")
            }
            var transactionCount = 0
            for entry in entries {
                transactionCount &+= entry.transactionCount
            }
            totals = totals.adding(entries: entries.count, transactions: transactionCount, bytes: payload.count)
            guard Int64(totals.entries) == select.integer(at: 1),
                Int64(totals.transactions) == select.integer(at: 2),
                Int64(totals.payloadBytes) == select.integer(at: 3)
            else {
                throw JournalError("group \(id): stored running totals do not match its payload")
            }
            for entry in entries {
                try body(entry)
            }
        }
    }
}
