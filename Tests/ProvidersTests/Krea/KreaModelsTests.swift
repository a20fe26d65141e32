import GatewayCore
@testable import Providers
import Testing

@Suite struct KreaModelsTests {
    @Test(arguments: ["krea-2/medium", "krea-2/large", "krea-2/medium-turbo"])
    func capabilities_Krea2Models(model: String) throws {
        let capabilities = try #require(KreaModels.capabilities(for: model))
        #expect(capabilities.aspectRatios == ["1:1", "4:3", "3:2", "16:9", "2.35:1", "4:5", "2:3", "9:16"])
        #expect(capabilities.resolutions == ["1K"])
        #expect(capabilities.optionalFields == [
            .aspectRatio, .resolution, .seed, .creativity, .imageStyleReferences, .moodboards, .styles, .intensity, .complexity, .movement,
        ])
        #expect(!capabilities.optionalFields.contains(.nsfwCheck))
        #expect(capabilities.seedRange == 0...2_147_483_647)
        #expect(capabilities.maxPromptCharacters == 10_000)
        #expect(capabilities.styleReferenceStrength == -2...2)
        #expect(capabilities.maxStyleReferenceURLLength == 1024)
        #expect(capabilities.moodboardStrength == -0.5...1.5)
        #expect(capabilities.moodboardIDsAreUUIDs)
    }

    @Test func capabilities_UnknownModelIsNil() {
        #expect(KreaModels.capabilities(for: "krea-2-turbo") == nil)
        #expect(KreaModels.capabilities(for: "krea-1") == nil)
        #expect(KreaModels.capabilities(for: "") == nil)
    }

    // The capabilities drive GenerationRequest.validate: nsfw_check is refused on Krea.
    @Test func capabilities_RefuseNSFWCheckAndOutOfRangeValues() throws {
        let capabilities = try #require(KreaModels.capabilities(for: "krea-2/medium"))
        var request = GenerationRequest(model: "krea-2-medium", prompt: "p")
        request.nsfwCheck = false
        #expect(throws: APIError.self) { try request.validate(for: capabilities, model: "krea-2-medium", provider: "krea") }
        request.nsfwCheck = nil
        request.aspectRatio = "2.35:1"
        request.seed = 2_147_483_647
        request.moodboards = [.init(id: "0b7c3f2e-5a1d-4c8e-9f60-7d2a1b3c4e5f", strength: 1.5)]
        try request.validate(for: capabilities, model: "krea-2-medium", provider: "krea")
        request.resolution = "2K"
        #expect(throws: APIError.self) { try request.validate(for: capabilities, model: "krea-2-medium", provider: "krea") }
    }
}
