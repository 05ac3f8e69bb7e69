import Glibc
import Monitor
import SeededRandom

@testable import Journal

/// Characters random strings are drawn from: ASCII, two-byte, three-byte and four-byte UTF-8.
let sampleCharacters: [Character] = [
    "a", "Z", "0", "-", "_", " ", "\"", "\\", "\u{0}", "\n", "é", "ß", "Ж", "€", "中", "文", "😀", "🇫🇷", "e\u{301}",
]

/// A random string of up to `maximumCharacters` characters, sometimes empty, sometimes long.
func randomString(_ generator: inout SeededGenerator, maximumCharacters: Int = 24) -> String {
    let length: Int
    switch Int.random(in: 0..<10, using: &generator) {
    case 0: length = 0
    case 1: length = Int.random(in: 100...400, using: &generator)
    default: length = Int.random(in: 1...maximumCharacters, using: &generator)
    }
    var string = ""
    for _ in 0..<length {
        string.append(sampleCharacters[Int.random(in: 0..<sampleCharacters.count, using: &generator)])
    }
    return string
}

/// A signed value from the edges or the middle of `Int64`.
func randomInt64(_ generator: inout SeededGenerator) -> Int64 {
    let edges: [Int64] = [0, 1, -1, 63, 64, -64, -65, 127, 128, Int64.max, Int64.min, Int64.max - 1, Int64.min + 1]
    switch Int.random(in: 0..<4, using: &generator) {
    case 0: return edges[Int.random(in: 0..<edges.count, using: &generator)]
    case 1: return Int64.random(in: 1...1_000_000_00, using: &generator)
    case 2: return 1_795_773_600_000 + Int64.random(in: -1_000_000...1_000_000, using: &generator)
    default: return Int64(bitPattern: generator.next())
    }
}

/// A random transaction with or without an id.
func randomTransaction(_ generator: inout SeededGenerator) -> Transaction {
    Transaction(
        id: randomIdentifier(&generator),
        investorId: randomString(&generator),
        syndicateId: randomString(&generator),
        amount: Money(cents: randomInt64(&generator)),
        timestamp: randomInt64(&generator)
    )
}

/// No id (a quarter of the time), a random string (a quarter), or one of a small family of ids
/// that share prefixes and suffixes with each other, some of them splitting inside a multi-byte
/// character (`é` and `è` share their first UTF-8 byte), for the format's shared-ends coding.
func randomIdentifier(_ generator: inout SeededGenerator) -> String? {
    switch Int.random(in: 0..<4, using: &generator) {
    case 0: return nil
    case 1: return randomString(&generator)
    default:
        let marks = ["é", "è", "ê", "😀", "😁", ""]
        let mark = marks[Int.random(in: 0..<marks.count, using: &generator)]
        return "order-\(Int.random(in: 0...30, using: &generator))-\(mark)-\(Int.random(in: 0...3, using: &generator))"
    }
}

/// A random entry: a batch of 0–20 transactions or a message with empty, short or long data.
func randomEntry(_ generator: inout SeededGenerator) -> JournalEntry {
    if Bool.random(using: &generator) {
        let count = Int.random(in: 0...20, using: &generator)
        return .transactions((0..<count).map { _ in randomTransaction(&generator) })
    }
    let dataCount = [0, 1, 30, 5_000][Int.random(in: 0..<4, using: &generator)]
    let data = (0..<dataCount).map { _ in UInt8.random(in: 0...255, using: &generator) }
    return .message(topic: randomString(&generator), data: data)
}

/// A realistic transaction numbered `number`.
func sampleTransaction(_ number: Int, id: Bool = true) -> Transaction {
    Transaction(
        id: id ? "tx-\(100_000_000_000 + number)" : nil,
        investorId: "investor-\(1_000_000 + number % 97)",
        syndicateId: "syndicate-\(number % 13)",
        amount: Money(cents: Int64(100 + number)),
        timestamp: 1_795_773_600_000 + Int64(number)
    )
}

/// A fresh empty directory under /tmp, removed again by ``removeDirectory(_:)``.
func makeTemporaryDirectory() -> String {
    var template = Array("/tmp/journal-tests-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { buffer -> String? in
        guard let base = buffer.baseAddress, mkdtemp(base) != nil else { return nil }
        return String(cString: base)
    }
    return path ?? "/tmp/journal-tests-fallback-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
}

/// Removes a directory made by ``makeTemporaryDirectory()`` and everything in it.
func removeDirectory(_ path: String) {
    guard path.hasPrefix("/tmp/journal-tests-") else { return }
    _ = system("rm -rf '\(path)'")
}

/// Every entry `journal` replays, in order.
func replayed(_ journal: any JournalStore) throws -> [JournalEntry] {
    var entries: [JournalEntry] = []
    try journal.replay { entries.append($0) }
    return entries
}

/// Whether a file exists at `path`.
func fileExists(_ path: String) -> Bool {
    access(path, F_OK) == 0
}
