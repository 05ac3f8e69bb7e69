// libFuzzer target: the HTTP/1.1 request parser must answer every input with a request, a need
// for more bytes, or an error — never a crash — and feeding in pieces must agree with feeding whole.
// Built by Tests/Fuzz/run.sh together with Sources/HTTP1 (same module, so no import).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPRequestParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let whole = outcomes(bytes, step: size)
    let split = outcomes(bytes, step: max(1, Int(size > 0 ? data[0] % 7 : 1)))
    if whole != split {
        fatalError("chunking changed the outcome: \(whole) vs \(split)")
    }
    return 0
}

/// Feeds `bytes` in pieces of `step`, keeping unconsumed bytes like the reactor does.
private func outcomes(_ bytes: UnsafeRawBufferPointer, step: Int) -> [String] {
    var parser = HTTPRequestParser()
    var pending: [UInt8] = []
    var results: [String] = []
    var offset = 0
    while offset < bytes.count {
        let end = min(bytes.count, offset + max(step, 1))
        pending += bytes[offset..<end]
        offset = end
        var progress = true
        while progress && !pending.isEmpty {
            progress = false
            // Refuse PUT, cap POST bodies at 1 KiB: the admission paths are fuzzed too.
            let result = pending.withUnsafeBytes {
                parser.parse($0) { head in
                    head.method == "PUT" ? .refuse : .accept(maxBodySize: head.method == "POST" ? 1_024 : .max)
                }
            }
            switch result {
            case .refused(let head, _):
                results.append("refused \(head.method)")
                return results
            case .request(let request, let consumed):
                results.append("\(request.head.method) \(request.head.target) \(request.body.count)")
                pending.removeFirst(consumed)
                progress = consumed > 0
            case .needMore(let consumed, _):
                pending.removeFirst(consumed)
            case .error(let error):
                results.append("error \(error.status)")
                return results
            }
        }
    }
    return results
}
