import Testing
@testable import GatewayCore

@Suite("BufferedSystemRandom")
struct BufferedSystemRandomTests {
    /// Across several refills of the 512-word buffer: no repeats, and every bit position set in
    /// about half of the words (a stuck or zeroed buffer, or one handed out twice, fails this).
    @Test func drawsAcrossRefillsAreDistinctAndBalanced() {
        var generator = BufferedSystemRandom()
        let words = (0..<4_000).map { _ in generator.next() }
        #expect(Set(words).count == words.count)
        for bit in 0..<64 {
            let ones = words.count { $0 >> UInt64(bit) & 1 == 1 }
            #expect((1_700...2_300).contains(ones), "bit \(bit) was set in \(ones) of 4,000 words")
        }
    }

    @Test func concurrentDrawsNeverShareAWord() async {
        let batches = await withTaskGroup(of: [UInt64].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var generator = BufferedSystemRandom()
                    return (0..<1_000).map { _ in generator.next() }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let all = batches.flatMap { $0 }
        #expect(all.count == 8_000)
        #expect(Set(all).count == all.count)
    }

    @Test func generationIDsStayUniqueAndWellFormed() {
        let now = Timestamp.now()
        let ids = (0..<5_000).map { _ in GenerationID.make(at: now) }
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy(GenerationID.isWellFormed))
    }
}
