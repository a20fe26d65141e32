import Foundation
import Testing
@testable import ProviderSimulators

@Suite("SimulatorMarkers")
struct SimulatorMarkersTests {
    @Test func markers_NoneMeansDefault() {
        #expect(SimulatorMarkers(prompt: "a cat on a mat [not a marker]") == SimulatorMarkers())
        #expect(SimulatorMarkers(prompt: "a cat on a mat, no brackets at all") == SimulatorMarkers())
        #expect(SimulatorMarkers(prompt: "") == SimulatorMarkers())
    }

    @Test func markers_CombineInSeparateAndCommaSeparatedBrackets() {
        let separate = SimulatorMarkers(prompt: "x [sim:fail] y [sim:errobj][sim:nocallback]")
        #expect(separate.outcome == .failed && separate.errorObject && separate.noCallback)
        let joined = SimulatorMarkers(prompt: "[sim:policy, intcode, allstatuses]")
        #expect(joined.outcome == .policy && joined.integerCodes && joined.allStatuses)
    }

    @Test func markers_FoundAfterOtherBracketsAndNonASCII() {
        #expect(SimulatorMarkers(prompt: "ünï [x] [[sim:fail] 🦊").outcome == .failed)
        #expect(SimulatorMarkers(prompt: "[sim") == SimulatorMarkers())
        #expect(SimulatorMarkers.nextMarker(in: "ab[sim:x]"[...]).map { "ab[sim:x]"[$0.upperBound...] } == "x]")
    }

    @Test func markers_ValuesAreParsed() {
        #expect(SimulatorMarkers(prompt: "[sim:http=429]").submission == .httpStatus(429))
        #expect(SimulatorMarkers(prompt: "[sim:delay=300]").delay == .milliseconds(300))
        #expect(SimulatorMarkers(prompt: "[sim:garbage]").submission == .garbage)
        #expect(SimulatorMarkers(prompt: "[sim:wrongshape]").submission == .wrongShape)
        #expect(SimulatorMarkers(prompt: "[sim:never]").outcome == .never)
        #expect(SimulatorMarkers(prompt: "[sim:cancelled]").outcome == .cancelled)
    }

    @Test func markers_MalformedOnesAreIgnored() {
        #expect(SimulatorMarkers(prompt: "[sim:http=abc][sim:http=42][sim:delay=-5][sim:bogus][sim:fail").submission == .normal)
        #expect(SimulatorMarkers(prompt: "[sim:delay=-5]").delay == nil)
        #expect(SimulatorMarkers(prompt: "[sim:fail").outcome == .completed)
    }
}

@Suite("RandomUUID")
struct RandomUUIDTests {
    @Test func uuid_IsVersion4Variant10LowercaseAndUnique() {
        var seen = Set<String>()
        for _ in 0..<2_000 {
            let text = RandomUUID.string()
            let bytes = Array(text.utf8)
            #expect(bytes.count == 36)
            #expect([8, 13, 18, 23].allSatisfy { bytes[$0] == UInt8(ascii: "-") })
            #expect(bytes[14] == UInt8(ascii: "4"))
            #expect("89ab".utf8.contains(bytes[19]))
            #expect(text == text.lowercased())
            #expect(UUID(uuidString: text) != nil)
            seen.insert(text)
        }
        #expect(seen.count == 2_000)
    }
}
