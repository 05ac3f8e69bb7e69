import Testing

@testable import LoadTestKit

@Suite("Loss and duplicate accounting")
struct CounterWindowTests {
    @Test("in-order counters are all unique")
    func inOrder() {
        var window = CounterWindow()
        for counter in 0..<10_000 {
            let isNew = window.record(counter)
            #expect(isNew)
        }
        #expect(window.unique == 10_000)
        #expect(window.duplicates == 0)
    }

    @Test("reordering within the window is not a duplicate; repeats are")
    func reordered() {
        var window = CounterWindow()
        for counter in [1, 0, 3, 2, 200, 100, 4] {
            let isNew = window.record(counter)
            #expect(isNew)
        }
        let seen3 = window.record(3)
        #expect(!seen3)
        let seen200 = window.record(200)
        #expect(!seen200)
        #expect(window.unique == 7)
        #expect(window.duplicates == 2)
    }

    @Test("gaps count as missing against the expected total; old counters are duplicates")
    func gapsAndSliding() {
        var window = CounterWindow()
        for counter in stride(from: 0, to: 1_000, by: 2) { window.record(counter) }
        #expect(window.unique == 500)
        #expect(window.base == 998 - CounterWindow.width + 1)
        let seen0 = window.record(0)
        #expect(!seen0)  // far below the window
        let seen999 = window.record(999)
        #expect(seen999)  // inside the window, never seen
        #expect(window.duplicates == 1)
        window.record(5_000)  // a jump clears the whole window
        let seen4999 = window.record(4_999)
        #expect(seen4999)
        let seenAgain = window.record(4_999)
        #expect(!seenAgain)
    }
}
