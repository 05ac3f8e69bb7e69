/// Finds damage inside a SQLite write-ahead log that SQLite's own recovery would pass over
/// silently, before the database is opened.
///
/// SQLite's recovery reads the log's frames in order and stops at the first frame whose salt or
/// checksum does not match ("the WAL is considered valid up to … the last valid commit frame",
/// sqlite.org/fileformat.html §4.3). That is right for a torn tail: the group being written when
/// the process died was never acknowledged. It is wrong when a frame in the *middle* of the log is
/// damaged later (a bad disk block, a stray write): every group committed after it is dropped too,
/// although each was fsynced and answered `201`.
///
/// The two cases can be told apart because each frame's checksum is seeded by the previous
/// frame's *stored* checksum: past a damaged frame, the frames written after it still verify
/// against that stored value. If a commit frame after the damage verifies, and so does a frame
/// after that commit, the commit's fsync had returned before the next frame was written (with
/// `PRAGMA synchronous = FULL`, SQLite syncs the log at each commit), so the damaged frame had been
/// synced too: the damage is not a torn tail, and opening the database would lose acknowledged
/// groups. ``SQLiteJournal`` then refuses to start and names the file.
enum WriteAheadLogCheck {
    /// What the log holds.
    enum Finding: Equatable {
        /// Every frame up to the first that fails its salt or checksum is valid, and nothing
        /// that verifies was committed after that point (or there is no log).
        case intact(validFrames: Int)
        /// Frame `frame` (0-based; `-1` for the log's header) fails its checksum, and
        /// `committedAfter` commit frames written after it verify.
        case damaged(frame: Int, committedAfter: Int)
    }

    /// The log's header: 32 bytes. A frame: a 24-byte header, then one page.
    static let headerSize = 32
    static let frameHeaderSize = 24
    /// The magic number's two values: the low bit says the checksum reads big-endian words.
    static let magic: UInt32 = 0x377f_0682

    /// Checks the log at `path`; `.intact(validFrames: 0)` if it does not exist or is empty.
    static func check(path: String) throws(JournalError) -> Finding {
        guard let bytes = try readFile(path) else { return .intact(validFrames: 0) }
        return check(bytes)
    }

    /// Checks a whole log held in memory.
    static func check(_ log: [UInt8]) -> Finding {
        guard log.count >= headerSize else { return .intact(validFrames: 0) }
        let magicValue = bigEndianWord(log, 0)
        guard magicValue & ~1 == magic else { return .intact(validFrames: 0) }
        let bigEndianChecksum = magicValue & 1 == 1
        let pageSizeField = Int(bigEndianWord(log, 8))
        let pageSize = pageSizeField == 1 ? 65536 : pageSizeField
        guard pageSize >= 512, pageSize <= 65536, pageSize & (pageSize - 1) == 0 else { return .intact(validFrames: 0) }
        let frameSize = frameHeaderSize + pageSize
        let frames = (log.count - headerSize) / frameSize
        let salts = (bigEndianWord(log, 16), bigEndianWord(log, 20))
        let headerStored = (bigEndianWord(log, 24), bigEndianWord(log, 28))

        var seed = headerStored
        var damagedAt: Int?
        if checksum(log, 0..<24, seed: (0, 0), bigEndian: bigEndianChecksum) != headerStored { damagedAt = -1 }
        var frame = 0
        if damagedAt == nil {
            while frame < frames {
                let offset = headerSize + frame * frameSize
                guard frameSalts(log, offset) == salts else { return .intact(validFrames: frame) }
                let stored = storedChecksum(log, offset)
                guard frameChecksum(log, offset, frameSize, seed: seed, bigEndian: bigEndianChecksum) == stored else {
                    damagedAt = frame
                    break
                }
                seed = stored
                frame += 1
            }
        }
        guard let damaged = damagedAt else { return .intact(validFrames: frames) }
        // Past the damage: frames that verify against the stored checksums were written after it.
        if damaged >= 0 { seed = storedChecksum(log, headerSize + damaged * frameSize) }
        var commitsAfter = 0
        var verifiedAfterCommit = false
        var next = damaged + 1
        while next < frames {
            let offset = headerSize + next * frameSize
            guard frameSalts(log, offset) == salts else { break }
            let stored = storedChecksum(log, offset)
            guard frameChecksum(log, offset, frameSize, seed: seed, bigEndian: bigEndianChecksum) == stored else { break }
            if commitsAfter > 0 { verifiedAfterCommit = true }
            if bigEndianWord(log, offset + 4) != 0 { commitsAfter += 1 }
            seed = stored
            next += 1
        }
        guard verifiedAfterCommit else { return .intact(validFrames: max(damaged, 0)) }
        return .damaged(frame: damaged, committedAfter: commitsAfter)
    }

    private static func frameSalts(_ log: [UInt8], _ offset: Int) -> (UInt32, UInt32) {
        (bigEndianWord(log, offset + 8), bigEndianWord(log, offset + 12))
    }

    private static func storedChecksum(_ log: [UInt8], _ offset: Int) -> (UInt32, UInt32) {
        (bigEndianWord(log, offset + 16), bigEndianWord(log, offset + 20))
    }

    /// A frame's checksum covers the first 8 bytes of its header and its page.
    private static func frameChecksum(
        _ log: [UInt8], _ offset: Int, _ frameSize: Int, seed: (UInt32, UInt32), bigEndian: Bool
    ) -> (UInt32, UInt32) {
        let afterHeader = checksum(log, offset..<(offset + 8), seed: seed, bigEndian: bigEndian)
        return checksum(log, (offset + frameHeaderSize)..<(offset + frameSize), seed: afterHeader, bigEndian: bigEndian)
    }

    /// SQLite's log checksum (fileformat.html §4.1): over 32-bit words x(i),
    /// `s0 += x(i) + s1; s1 += x(i+1) + s0`, with wrapping arithmetic.
    static func checksum(
        _ bytes: [UInt8], _ range: Range<Int>, seed: (UInt32, UInt32), bigEndian: Bool
    ) -> (UInt32, UInt32) {
        var (s0, s1) = seed
        var index = range.lowerBound
        while index + 8 <= range.upperBound {
            let x0 = bigEndian ? bigEndianWord(bytes, index) : littleEndianWord(bytes, index)
            let x1 = bigEndian ? bigEndianWord(bytes, index + 4) : littleEndianWord(bytes, index + 4)
            s0 = s0 &+ x0 &+ s1
            s1 = s1 &+ x1 &+ s0
            index += 8
        }
        return (s0, s1)
    }

    private static func bigEndianWord(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
            | UInt32(bytes[offset + 3])
    }

    private static func littleEndianWord(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(bytes[offset + 3]) << 24 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 1]) << 8
            | UInt32(bytes[offset])
    }
}
