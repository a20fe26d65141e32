import Testing
import Deadlines

@Suite("DeadlineHeap")
struct DeadlineHeapTests {
    static func drain(_ heap: inout DeadlineHeap<Int, String>) -> [String] {
        var out: [String] = []
        while let payload = heap.popDue(now: .max) { out.append(payload) }
        return out
    }

    @Test func popsByDeadlineThenInsertionOrderAndOnlyWhenDue() {
        var heap = DeadlineHeap<Int, String>()
        for (deadline, name) in [(5, "a"), (1, "b"), (5, "c"), (3, "d"), (1, "e")] { heap.insert(deadline: deadline, name) }
        #expect(heap.earliest == 1 && heap.count == 5)
        #expect(heap.popDue(now: 0) == nil)
        #expect(heap.popDue(now: 1) == "b" && heap.popDue(now: 1) == "e" && heap.popDue(now: 1) == nil)
        #expect(Self.drain(&heap) == ["d", "a", "c"])
        #expect(heap.earliest == nil && heap.count == 0)
    }

    /// Removing entries keeps the rest in deadline order, ties still in insertion order.
    @Test func removeAllKeepsTheOrderOfTheRest() {
        var heap = DeadlineHeap<Int, String>()
        var expected: [(Int, Int, String)] = []
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        for index in 0..<500 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let deadline = Int(seed >> 58)  // 0…63: many ties
            heap.insert(deadline: deadline, "p\(index)")
            if index % 3 != 0 { expected.append((deadline, index, "p\(index)")) }
        }
        heap.removeAll { Int($0.dropFirst())! % 3 == 0 }
        #expect(heap.count == expected.count)
        let sorted = expected.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }.map(\.2)
        #expect(Self.drain(&heap) == sorted)
        heap.insert(deadline: 1, "x")
        heap.removeAll { _ in true }
        #expect(heap.count == 0 && heap.earliest == nil)
    }
}
