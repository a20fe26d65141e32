import GatewayCore
import Testing
@testable import GatewayApp

/// The pure parts of the front doors: OpenAI sizes, Krea's job shape.
@Suite("Front-door shapes")
struct CompatShapeTests {
    static let krea = ModelCapabilities(
        aspectRatios: ["1:1", "4:3", "3:2", "16:9", "2.35:1", "4:5", "2:3", "9:16"], resolutions: ["1K"], optionalFields: [],
        seedRange: 0...1, maxPromptCharacters: 10)
    static let turbo = ModelCapabilities(
        aspectRatios: ["1:1", "4:3", "3:4", "5:4", "4:5", "2:3", "3:2", "9:16", "16:9", "1:2", "2:1"], resolutions: ["1K", "2K"],
        optionalFields: [], seedRange: 0...1, maxPromptCharacters: 10)

    @Test(arguments: [
        ("1024x1024", "1:1", "1K"), ("1792x1024", "16:9", "1K"), ("1024x1792", "9:16", "1K"), ("1536x1024", "3:2", "1K"),
        ("1024x1536", "2:3", "1K"), ("256x256", "1:1", "1K"), ("2048x2048", "1:1", "1K"), ("2400x1000", "2.35:1", "1K"),
    ])
    func openAISizesMapToTheNearestKreaRatio(size: String, ratio: String, resolution: String) throws {
        let mapped = try OpenAIImagesRoute.map(size: size, to: Self.krea)
        #expect(mapped.ratio == ratio && mapped.resolution == resolution)
    }

    @Test func resolutionFollowsPixelCountWhereTheModelHasSeveral() throws {
        #expect(try OpenAIImagesRoute.map(size: "2048x2048", to: Self.turbo).resolution == "2K")
        #expect(try OpenAIImagesRoute.map(size: "1024x1024", to: Self.turbo).resolution == "1K")
        #expect(try OpenAIImagesRoute.map(size: "16:9", to: Self.turbo) == ("16:9", nil))
    }

    @Test(arguments: ["1000x100", "100x1000", "1024", "x", "0x0", "99999x99999", "1024X"])
    func sizesWithNoCloseRatioOrUnreadableAreRefused(size: String) {
        #expect(throws: APIError.self) { _ = try OpenAIImagesRoute.map(size: size, to: Self.krea) }
    }

    @Test func kreaJobShapeUsesKreaNames() throws {
        var job = Job(id: "gen_1", ownerKeyID: "k", model: "krea-2-medium", provider: "krea", providerModel: "krea-2/medium",
                      cost: Money(micros: 30_000), createdAt: Timestamp(unixMilliseconds: 0))
        #expect(KreaRoutes.job(job) == #"{"job_id":"gen_1","status":"queued","created_at":"1970-01-01T00:00:00Z","completed_at":null,"result":null}"#)
        job.status = .running
        #expect(KreaRoutes.job(job).contains(#""status":"processing""#))
        job.status = .completed
        job.completedAt = Timestamp(unixMilliseconds: 1000)
        job.resultURLs = ["https://x/1.png"]
        #expect(KreaRoutes.job(job).hasSuffix(#""completed_at":"1970-01-01T00:00:01Z","result":{"urls":["https://x/1.png"]}}"#))
        job.status = .failed
        job.error = JobError(code: "content_policy_violation", message: "blocked")
        #expect(KreaRoutes.job(job).hasSuffix(#""result":{"error":"blocked"}}"#))
    }
}
