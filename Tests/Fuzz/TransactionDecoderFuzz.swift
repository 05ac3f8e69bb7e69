// libFuzzer target: the transaction decoder must answer every body, as JSON and as NDJSON, with
// transactions or a validation error — never a crash — and every accepted transaction must satisfy
// the field rules of DESIGN.md §3 and the domain bounds (amount at most the maximum, event time at
// most the clock skew ahead of the receive time).
// Built by Tests/Fuzz/run.sh together with Sources/Monitor (same module, so no import).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTransactionDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let decoder = TransactionDecoder()
    let receivedAt: Int64 = 1_700_000_000_000
    let latest = receivedAt + (decoder.limits.maximumClockSkewMilliseconds ?? 0)
    for format in [TransactionDecoder.Format.json, .ndjson] {
        if case .success(let transactions) = decoder.decode(bytes, format: format, receivedAt: receivedAt) {
            for transaction in transactions {
                if transaction.amount.cents <= 0 || transaction.investorId.isEmpty || transaction.syndicateId.isEmpty
                    || transaction.investorId.utf8.count > 128 || transaction.syndicateId.utf8.count > 128
                    || transaction.amount > decoder.limits.maximumAmount || transaction.timestamp > latest
                {
                    fatalError("accepted an invalid transaction: \(transaction)")
                }
            }
        }
    }
    return 0
}
