// libFuzzer target for the JSON reader and the generation-request decoder (see Tests/Fuzz/run);
// without FUZZING it replays files through the same check.
import FuzzSupport
import GatewayCore

let capabilities = ModelCapabilities(
    aspectRatios: ["1:1", "16:9"], resolutions: ["1K", "2K"], optionalFields: Set(GenerationField.allCases), seedRange: 0...2_147_483_647,
    maxPromptCharacters: 10_000, moodboardIDsAreUUIDs: true)

/// Any bytes: JSON that parses serializes and parses back to the same value; the decoder returns a
/// request or an API error (4xx with a code), never crashes; a decoded request validates or
/// gives an API error.
func fuzzOne(_ bytes: [UInt8]) {
    if let value = try? JSONParser.parse(bytes) {
        let again = try? JSONParser.parse(value.serialized)
        precondition(again == value, "JSON did not survive a round trip")
    }
    do {
        let request = try GenerationRequest.decode(bytes)
        do {
            try request.validate(for: capabilities, model: "m", provider: "p")
        } catch {
            precondition((400...499).contains(error.status) && !error.code.isEmpty)
        }
    } catch {
        precondition((400...499).contains(error.status) && !error.code.isEmpty, "decode answered \(error.status)")
    }
}

@main
struct Fuzz {
    static func main() { FuzzCorpus.main(fuzzOne) }
}
