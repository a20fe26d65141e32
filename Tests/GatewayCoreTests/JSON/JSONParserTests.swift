import Testing
@testable import GatewayCore

@Suite("JSONParser")
struct JSONParserTests {
    @Test func parser_KeepsNumberTextAndMemberOrder() throws {
        let value = try JSONParser.parse(#"{"b": 0.030, "a": [1, -2.5e3, true, null, "x"]}"#)
        guard case .object(let members) = value else { Issue.record("not an object"); return }
        #expect(members.map(\.key) == ["b", "a"])
        #expect(value["b"] == .number("0.030"))
        #expect(value["a"] == .array([.number("1"), .number("-2.5e3"), .bool(true), .null, .string("x")]))
    }

    @Test func parser_DecodesEscapesAndSurrogatePairs() throws {
        let value = try JSONParser.parse(#""a\"b\\c\/d\n\u00e9\ud83c\udfa8""#)
        #expect(value == .string("a\"b\\c/d\né🎨"))
    }

    static let invalid: [String] = [
        "", "{", "{\"a\":1,}", "[1,]", "{\"a\" 1}", "{a:1}", "'x'", "01", "1.", ".5", "-", "1e", "tru", "nul",
        "{\"a\":1}{", "\"unterminated", "\"bad \\x escape\"", "\"\\ud83c alone\"", "\"ctrl \u{01}\"",
        "{\"a\":1,\"a\":2}", "[1 2]", "NaN", "Infinity",
    ]

    @Test("invalid documents are refused", arguments: invalid)
    func parser_RefusesInvalidJSON(text: String) {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(text) }
    }

    @Test func parser_BoundsNesting() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(deep) }
        let fine = String(repeating: "[", count: 60) + String(repeating: "]", count: 60)
        #expect((try? JSONParser.parse(fine)) != nil)
    }

    @Test func parser_RefusesInvalidUTF8() {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse([0x22, 0xFF, 0xFE, 0x22]) }
    }

    @Test func parser_FindsDuplicateNamesInSmallAndLargeObjects() throws {
        // Up to 16 members are checked by a linear search, later ones through a set: a duplicate is
        // refused on either side of that line, and 40 distinct names are accepted.
        let names = (0..<40).map { "k\($0)" }
        let distinct = "{" + names.map { "\"\($0)\":1" }.joined(separator: ",") + "}"
        guard case .object(let members) = try JSONParser.parse(distinct) else { Issue.record("not an object"); return }
        #expect(members.map(\.key) == names)
        for (count, repeated) in [(3, "k1"), (16, "k0"), (17, "k16"), (30, "k3"), (40, "k39")] {
            let text = "{" + (names.prefix(count) + [repeated]).map { "\"\($0)\":1" }.joined(separator: ",") + "}"
            #expect(throws: JSONParser.Failure.self, "\(count) members then \(repeated)") { try JSONParser.parse(text) }
        }
    }

    @Test func parser_ReportsStringErrorsAtTheSameOffsets() {
        // Plain strings take a scan-then-validate path; its failures must read as the general path's.
        func failure(_ bytes: [UInt8]) -> JSONParser.Failure? {
            do { _ = try JSONParser.parse(bytes); return nil } catch { return error }
        }
        #expect(failure([0x22, 0x61, 0xFF, 0x22]) == JSONParser.Failure(message: "string is not valid UTF-8", offset: 4))
        #expect(failure(Array(#""abc"#.utf8)) == JSONParser.Failure(message: "unterminated string", offset: 4))
        #expect(failure([0x22, 0x61, 0x01, 0x22]) == JSONParser.Failure(message: "control character in a string", offset: 2))
        #expect((try? JSONParser.parse(#"["plain", "with \"escape\" inside", "é"]"#)) == .array([.string("plain"), .string("with \"escape\" inside"), .string("é")]))
    }

    @Test func serialized_RoundTrips() throws {
        let text = #"{"k":[1,2.50,{"z":"é\n"}],"t":true,"n":null}"#
        #expect(try JSONParser.parse(text).serialized == text)
    }
}
