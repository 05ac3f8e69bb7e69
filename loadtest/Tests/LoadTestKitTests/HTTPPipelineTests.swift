import Testing

@testable import LoadTestKit

@Suite("In-order matching of pipelined HTTP/1.1 requests")
struct HTTPPipelineTests {
    @Test("Holds at most depth requests; a full pipeline refuses and records nothing")
    func depthBound() {
        var pipeline = HTTPPipeline(depth: 3)
        #expect(pipeline.hasRoom && pipeline.isEmpty)
        let accepted = (0..<3).map { pipeline.push(sentAt: UInt64($0), tag: $0) }
        #expect(accepted == [true, true, true])
        #expect(!pipeline.hasRoom)
        let overflow = pipeline.push(sentAt: 99, tag: 99)
        #expect(!overflow)
        #expect(pipeline.count == 3)
        let oldest = pipeline.popOldest()
        #expect(oldest?.tag == 0)
        #expect(pipeline.hasRoom)
    }

    @Test("Depth below 1 means one request at a time (no pipelining)", arguments: [0, -5, 1])
    func depthAtLeastOne(depth: Int) {
        var pipeline = HTTPPipeline(depth: depth)
        #expect(pipeline.depth == 1)
        let first = pipeline.push(sentAt: 1, tag: 1)
        let second = pipeline.push(sentAt: 2, tag: 2)
        #expect(first && !second)
    }

    @Test("Responses are matched oldest first across many interleaved sends and receives", arguments: [1, 2, 16, 32])
    func fifoOrder(depth: Int) {
        var pipeline = HTTPPipeline(depth: depth)
        var reference: [HTTPPipeline.Entry] = []
        var nextTag = 0
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<5_000 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            if seed >> 63 == 0 {
                let pushed = pipeline.push(sentAt: UInt64(nextTag) * 7, tag: nextTag)
                #expect(pushed == (reference.count < depth))
                if pushed {
                    reference.append(HTTPPipeline.Entry(sentAt: UInt64(nextTag) * 7, tag: nextTag))
                    nextTag += 1
                }
            } else {
                let popped = pipeline.popOldest()
                #expect(popped == reference.first)
                if !reference.isEmpty { reference.removeFirst() }
            }
            #expect(pipeline.count == reference.count)
        }
        #expect(nextTag > 1_000)
    }

    @Test("Nothing in flight: a response is unsolicited")
    func unsolicited() {
        var pipeline = HTTPPipeline(depth: 4)
        let fromEmpty = pipeline.popOldest()
        #expect(fromEmpty == nil)
        pipeline.push(sentAt: 1, tag: 1)
        _ = pipeline.popOldest()
        let afterAnswered = pipeline.popOldest()
        #expect(afterAnswered == nil)
    }

    @Test("A lost connection hands back every unanswered request, oldest first, and empties the pipeline")
    func removeAll() {
        var pipeline = HTTPPipeline(depth: 8)
        for tag in 0..<5 { pipeline.push(sentAt: UInt64(100 + tag), tag: tag) }
        _ = pipeline.popOldest()
        _ = pipeline.popOldest()
        let unanswered = pipeline.removeAll()
        #expect(unanswered == [.init(sentAt: 102, tag: 2), .init(sentAt: 103, tag: 3), .init(sentAt: 104, tag: 4)])
        #expect(pipeline.isEmpty && pipeline.hasRoom)
        let again = pipeline.removeAll()
        #expect(again.isEmpty)
    }
}
