import Testing

@testable import Monitor

/// The keyed hash behind identifier keys and idempotency digests.
@Suite("KeyedHash: SipHash, eight bytes at a time")
struct KeyedHashTests {
    /// Key 00 01 … 0f, message 00 01 … (n-1): the SipHash paper's reference outputs (appendix A
    /// and the reference implementation's vectors.h) for SipHash-2-4, which runs the same code as
    /// the product's SipHash-1-3 with other round counts.
    @Test(arguments: [
        (0, UInt64(0x726f_db47_dd0e_0e31)),
        (1, UInt64(0x74f8_39c5_93dc_67fd)),
        (7, UInt64(0xab02_00f5_8b01_d137)),
        (8, UInt64(0x93f5_f579_9a93_2462)),
        (15, UInt64(0xa129_ca61_49be_45e5)),
    ])
    func sipHash24MatchesTheReferenceVectors(length: Int, expected: UInt64) {
        let sip24 = KeyedHash(key0: 0x0706_0504_0302_0100, key1: 0x0f0e_0d0c_0b0a_0908, compressionRounds: 2, finalizationRounds: 4)
        let message = (0..<length).map { UInt8($0) }
        let output = message.withUnsafeBytes { sip24.hash($0).0 }
        #expect(output == expected, "length \(length): \(String(output, radix: 16))")
    }

    @Test func stringsHashTheirUTF8Bytes() {
        let hash = KeyedHash.process
        #expect(hash.hash("investor-1") == hash.hash(String(decoding: Array("investor-1".utf8), as: UTF8.self)))
        #expect(hash.hash("investor-1") != hash.hash("investor-2"))
        #expect(hash.hash("") != hash.hash("\u{0}"), "the length is part of the hash")
        let wide = hash.hash128("tx-42")
        #expect(wide.0 != wide.1)
        #expect(hash.hash128("tx-42") == wide)
    }
}
