import Testing

@testable import HTTP1

/// How a test hands bytes to the parser.
enum Feed: CustomStringConvertible, CaseIterable {
    /// Everything in one call.
    case whole
    /// One byte more per call, as a slow client would send it.
    case byteByByte
    /// Seven bytes more per call, so boundaries fall everywhere.
    case sevenBytes

    var step: Int {
        switch self {
        case .whole: return Int.max
        case .byteByByte: return 1
        case .sevenBytes: return 7
        }
    }

    var description: String {
        switch self {
        case .whole: return "whole"
        case .byteByByte: return "byte by byte"
        case .sevenBytes: return "seven bytes at a time"
        }
    }
}

/// Everything one parsing session produced.
struct ParseRun {
    var requests: [HTTPRequest] = []
    var error: HTTPParseError?
    /// How many times the parser asked for `100 Continue`.
    var continues = 0
    /// Bytes the parser left unconsumed at the end.
    var leftover: [UInt8] = []
    /// The head the admission check refused, if any (parsing stops there).
    var refused: HTTPRequestHead?
}

/// Drives a parser the way a server does: keep the unconsumed bytes, append what arrives, call
/// again. Checks the contract on every call (consumed never exceeds what was passed).
func parse(
    _ input: [UInt8], feed: Feed, limits: HTTPParserLimits = .init(),
    admit: (HTTPRequestHead) -> HTTPRequestAdmission = { _ in .accept(maxBodySize: .max) }
) -> ParseRun {
    var parser = HTTPRequestParser(limits: limits)
    var pending: [UInt8] = []
    var run = ParseRun()
    var position = 0
    repeat {
        let next = input.count - position > feed.step ? position + feed.step : input.count
        pending.append(contentsOf: input[position..<next])
        position = next
        parsing: while true {
            let count = pending.count
            let result = pending.withUnsafeBytes { parser.parse($0, admit: admit) }
            switch result {
            case .refused(let head, let consumed):
                #expect(consumed > 0 && consumed <= count)
                run.refused = head
                pending.removeFirst(min(consumed, count))
                run.leftover = pending
                return run
            case .request(let request, let consumed):
                #expect(consumed > 0 && consumed <= count)
                run.requests.append(request)
                pending.removeFirst(min(consumed, count))
                #expect(parser.isIdle)
                if pending.isEmpty { break parsing }
            case .needMore(let consumed, let sendContinue):
                #expect(consumed >= 0 && consumed <= count)
                pending.removeFirst(min(max(consumed, 0), count))
                if sendContinue { run.continues += 1 }
                break parsing
            case .error(let error):
                run.error = error
                // A failed parser stays failed.
                if case .error(let again) = pending.withUnsafeBytes({ parser.parse($0) }) {
                    #expect(again == error)
                } else {
                    Issue.record("parser did not stay failed")
                }
                run.leftover = pending
                return run
            }
        }
    } while position < input.count
    run.leftover = pending
    return run
}

/// The UTF-8 bytes of `text`.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Parses `text` whole, byte by byte, seven bytes at a time and as `copies` pipelined copies, and
/// checks every request with `check`. Each mode must yield exactly the expected requests.
func expectRequest(
    _ text: String, copies: Int = 5, limits: HTTPParserLimits = .init(),
    sourceLocation: SourceLocation = #_sourceLocation, _ check: (HTTPRequest) -> Void = { _ in }
) {
    let input = bytes(text)
    for feed in Feed.allCases {
        let single = parse(input, feed: feed, limits: limits)
        #expect(single.error == nil, "\(feed): \(single.error.map(String.init(describing:)) ?? "")", sourceLocation: sourceLocation)
        #expect(single.requests.count == 1, "\(feed)", sourceLocation: sourceLocation)
        #expect(single.leftover.isEmpty, "\(feed)", sourceLocation: sourceLocation)
        single.requests.forEach(check)
        let pipelined = parse(Array(repeatElement(input, count: copies).joined()), feed: feed, limits: limits)
        #expect(pipelined.error == nil, "\(feed) pipelined", sourceLocation: sourceLocation)
        #expect(pipelined.requests.count == copies, "\(feed) pipelined", sourceLocation: sourceLocation)
        #expect(pipelined.leftover.isEmpty, "\(feed) pipelined", sourceLocation: sourceLocation)
        pipelined.requests.forEach(check)
    }
}

/// Parses `text` in every feed mode and expects an error with `status` and no request.
/// Also expects the same error after a valid pipelined request.
func expectError(
    _ text: String, status: Int, limits: HTTPParserLimits = .init(),
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let valid = bytes("GET /ok HTTP/1.1\r\nHost: a\r\n\r\n")
    for feed in Feed.allCases {
        let single = parse(bytes(text), feed: feed, limits: limits)
        #expect(single.requests.isEmpty, "\(feed)", sourceLocation: sourceLocation)
        #expect(
            single.error?.status == status, "\(feed): got \(single.error.map(String.init(describing:)) ?? "no error")",
            sourceLocation: sourceLocation)
        let afterValid = parse(valid + bytes(text), feed: feed, limits: limits)
        #expect(afterValid.requests.count == 1, "\(feed) after a valid request", sourceLocation: sourceLocation)
        #expect(afterValid.error?.status == status, "\(feed) after a valid request", sourceLocation: sourceLocation)
    }
}
