import ArgumentParser
import Basics
import Glibc
import Monitor

/// `syndicast rank FILE`: seed task 1 as a batch job over a CSV, JSON or NDJSON file.
///
/// The file is streamed through ``RankingJob`` in 1 MiB reads, so memory grows with the number
/// of distinct investors, their syndicates and the distinct transaction ids, never with the file
/// size. The records follow the server's rules (docs/RANK.md); the first invalid record or
/// conflicting id stops the job: the error names the file and line and the exit status is 1.
struct RankCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rank",
        abstract: "Rank investors in a transaction file (seed task 1) and print the top N.",
        discussion: """
            Investors are ordered by distinct syndicate count (descending), then total invested \
            (descending), then investor id (ascending, in UTF-8 byte order). CSV files need a header \
            with investorId, syndicateId and amount (id and timestamp optional, any order). JSON files \
            hold an array of transaction objects; NDJSON files one object per line.

            Records follow the server's rules: ids are non-empty, at most 128 bytes, without control \
            characters, and compared as UTF-8 bytes (no Unicode normalisation); amounts are greater \
            than 0, have at most 2 fraction digits and are at most --max-amount. A repeated id with \
            the same investor, syndicate and amount is a duplicate and counts once; the same id with \
            different content is a conflict (the server's 409) and stops the job. Event times are \
            not checked against the clock (the server's --max-clock-skew): the file has no receive \
            time and the ranking does not use event times.

            Exit status: 0 on success; 1 when the file cannot be read, a record is invalid or an id \
            conflicts (the message on stderr names the file and line; nothing is printed on stdout); \
            64 for a usage error.
            """)

    /// How the ranking is printed.
    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case table
        case json
    }

    @Argument(help: "The transaction file (.csv, .json, .ndjson or .jsonl); '-' reads standard input.")
    var file: String
    @Option(help: "How many investors to print.") var top = 5
    @Option(help: "Output: table or json.") var format = OutputFormat.table
    @Option(help: "Input format when the extension does not tell: csv, json or ndjson.")
    var inputFormat: String?
    @Option(help: "Refuse a record whose amount is greater, like the server's flag (decimal).")
    var maxAmount = "1000000000000"

    func validate() throws {
        guard (1...1_000_000).contains(top) else { throw ValidationError("--top must be 1…1000000") }
        guard (try? Money(parsing: maxAmount)) != nil else {
            throw ValidationError("--max-amount must be a positive decimal with at most 2 fraction digits")
        }
        if let inputFormat, RankingJob.InputFormat(rawValue: inputFormat.lowercased()) == nil {
            throw ValidationError("--input-format must be csv, json or ndjson")
        }
        if inputFormat == nil, RankingJob.InputFormat(path: file) == nil {
            throw ValidationError("cannot tell the format of '\(file)' from its extension; pass --input-format")
        }
    }

    func run() throws {
        let inputFormat = inputFormat.flatMap { RankingJob.InputFormat(rawValue: $0.lowercased()) }
        guard let resolved = inputFormat ?? RankingJob.InputFormat(path: file) else { throw ExitCode(64) }
        let maximumAmount = (try? Money(parsing: maxAmount)) ?? TransactionDecoder.Limits.defaultMaximumAmount
        var job = RankingJob(format: resolved, topCount: top, maximumAmount: maximumAmount)
        do {
            try Self.read(file, into: &job)
        } catch let error as TransactionFileError {
            Self.fail("\(file): \(error)")
        }
        let entries = job.top(top)
        switch format {
        case .table: Self.write(Self.table(entries))
        case .json: Self.write(Self.json(entries))
        }
    }

    /// Streams the file through the job in 1 MiB reads.
    static func read(_ path: String, into job: inout RankingJob) throws {
        let descriptor = path == "-" ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { fail("\(path): \(String(cString: strerror(errno)))") }
        defer { if descriptor != STDIN_FILENO { close(descriptor) } }
        _ = posix_fadvise(descriptor, 0, 0, POSIX_FADV_SEQUENTIAL)
        let chunkBytes = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkBytes, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = Glibc.read(descriptor, buffer.baseAddress, chunkBytes)
            if count < 0 {
                if errno == EINTR { continue }
                fail("\(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            try job.consume(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
        try job.finish()
    }

    /// An aligned table: rank, investor, syndicates, total.
    static func table(_ entries: [RankingEntry]) -> String {
        let header = ["rank", "investor", "syndicates", "total"]
        let rows = entries.map { ["\($0.rank)", $0.investorId, "\($0.syndicateCount)", $0.totalInvested.description] }
        var widths = header.map(\.count)
        for row in rows {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        // Numbers align right, the investor column left; the last column carries no padding.
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return column == 1 ? (cell + padding) : (padding + cell)
            }.joined(separator: "  ").trimmingTrailingSpaces() + "\n"
        }
        return ([line(header)] + rows.map(line)).joined()
    }

    /// `[{"rank":1,"investorId":"i1","syndicateCount":3,"totalInvested":"12500.00"}]`
    static func json(_ entries: [RankingEntry]) -> String {
        var writer = JSONWriter()
        writer.appendRaw("[")
        for (index, entry) in entries.enumerated() {
            if index > 0 { writer.appendRaw(",") }
            entry.appendJSON(to: &writer)
        }
        writer.appendRaw("]\n")
        return writer.string
    }

    private static func write(_ text: String, to descriptor: Int32 = STDOUT_FILENO) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { return }
            bytes = bytes.dropFirst(written)
        }
    }

    /// Prints `syndicast rank: message` on standard error and exits with status 1.
    static func fail(_ message: String) -> Never {
        write("syndicast rank: \(message)\n", to: STDERR_FILENO)
        Glibc.exit(1)
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}
