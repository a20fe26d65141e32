import GatewayCore
@testable import Providers
import Testing

@Suite struct EvolinkModelsTests {
    @Test func capabilities_Krea2Turbo() throws {
        let capabilities = try #require(EvolinkModels.capabilities(for: "krea-2-turbo"))
        #expect(capabilities.aspectRatios == ["1:1", "4:3", "3:4", "5:4", "4:5", "2:3", "3:2", "9:16", "16:9", "1:2", "2:1"])
        #expect(capabilities.resolutions == ["1K", "2K"])
        #expect(capabilities.optionalFields == [.aspectRatio, .resolution, .seed, .nsfwCheck])
        #expect(capabilities.seedRange == 0...1_048_576)
        #expect(capabilities.maxPromptCharacters == 2_560)
        #expect(EvolinkModels.capabilities(for: "krea-2/medium") == nil)
    }

    // Krea-only options are refused before Evolink is called; the 2,560-character Decision holds.
    @Test func capabilities_RefuseKreaOnlyFieldsAndLongPrompts() throws {
        let capabilities = try #require(EvolinkModels.capabilities(for: "krea-2-turbo"))
        for field in ["creativity", "moodboards", "intensity"] {
            var request = GenerationRequest(model: "krea-2-turbo", prompt: "p")
            switch field {
            case "creativity": request.creativity = "low"
            case "moodboards": request.moodboards = [.init(id: "m")]
            default: request.intensity = 1
            }
            #expect(throws: APIError.self) { try request.validate(for: capabilities, model: "krea-2-turbo", provider: "evolink") }
        }
        try GenerationRequest(model: "krea-2-turbo", prompt: String(repeating: "a", count: 2_560))
            .validate(for: capabilities, model: "krea-2-turbo", provider: "evolink")
        #expect(throws: APIError.self) {
            try GenerationRequest(model: "krea-2-turbo", prompt: String(repeating: "a", count: 2_561))
                .validate(for: capabilities, model: "krea-2-turbo", provider: "evolink")
        }
    }
}
