import GatewayCore
@testable import Providers
import Testing

@Suite struct KreaWireTests {
    /// The keys Krea's closed root object accepts (PROVIDERS.md body table).
    static let documentedKeys: Set<String> = [
        "prompt", "aspect_ratio", "resolution", "seed", "creativity", "image_style_references", "moodboards",
        "styles", "intensity", "complexity", "movement",
    ]

    static func keys(_ value: JSONValue) -> [String] {
        guard case .object(let members) = value else { return [] }
        return members.map(\.key)
    }

    @Test func requestBody_MinimalRequestAlwaysSendsAspectRatioAndResolutionDefaults() {
        let body = KreaWire.requestBody(GenerationRequest(model: "krea-2-medium", prompt: "a cat"))
        #expect(body.serialized == #"{"prompt":"a cat","aspect_ratio":"1:1","resolution":"1K"}"#)
    }

    @Test func requestBody_TranslatesEveryKreaField() {
        var request = GenerationRequest(model: "krea-2-medium", prompt: "a red fox")
        request.aspectRatio = "16:9"
        request.resolution = "1K"
        request.seed = 42
        request.creativity = "high"
        request.imageStyleReferences = [
            .init(url: "https://example.com/a.png"),
            .init(url: "https://example.com/b.png", strength: -1.25),
        ]
        request.moodboards = [.init(id: "0b7c3f2e-5a1d-4c8e-9f60-7d2a1b3c4e5f")]
        request.styles = [.init(id: "style-1", strength: 0.8)]
        request.intensity = -20
        request.complexity = 0
        request.movement = 100
        let body = KreaWire.requestBody(request)
        #expect(body.serialized == """
            {"prompt":"a red fox","aspect_ratio":"16:9","resolution":"1K","seed":42,"creativity":"high",\
            "image_style_references":[{"url":"https://example.com/a.png","strength":0.5},{"url":"https://example.com/b.png","strength":-1.25}],\
            "moodboards":[{"id":"0b7c3f2e-5a1d-4c8e-9f60-7d2a1b3c4e5f","strength":0.35}],\
            "styles":[{"id":"style-1","strength":0.8}],"intensity":-20,"complexity":0,"movement":100}
            """)
        #expect(Set(Self.keys(body)).isSubset(of: Self.documentedKeys))
    }

    @Test func requestBody_KeepsGivenStrengths() {
        var request = GenerationRequest(model: "m", prompt: "p")
        request.imageStyleReferences = [.init(url: "data:image/png;base64,AAAA", strength: 2)]
        request.moodboards = [.init(id: "mb", strength: -0.5)]
        let body = KreaWire.requestBody(request)
        #expect(body["image_style_references"] == .array([.object([("url", .string("data:image/png;base64,AAAA")), ("strength", .number("2.0"))])]))
        #expect(body["moodboards"] == .array([.object([("id", .string("mb")), ("strength", .number("-0.5"))])]))
    }

    @Test func requestBody_SendsCreativityOnlyWhenGiven() {
        var request = GenerationRequest(model: "m", prompt: "p")
        #expect(KreaWire.requestBody(request)["creativity"] == nil)
        request.creativity = "raw"
        #expect(KreaWire.requestBody(request)["creativity"] == .string("raw"))
    }

    @Test func requestBody_NeverSendsGatewayOrEvolinkFields() {
        var request = GenerationRequest(model: "m", prompt: "p")
        request.nsfwCheck = true
        request.webhookURL = "https://hooks.example.com/x"
        request.metadata = .object([("ticket", .string("DES-42"))])
        #expect(Self.keys(KreaWire.requestBody(request)) == ["prompt", "aspect_ratio", "resolution"])
    }

    @Test func requestBody_LeavesOutEmptyLists() {
        var request = GenerationRequest(model: "m", prompt: "p")
        request.imageStyleReferences = []
        request.moodboards = []
        request.styles = []
        #expect(Self.keys(KreaWire.requestBody(request)) == ["prompt", "aspect_ratio", "resolution"])
    }

    @Test func requestBody_EscapesThePrompt() throws {
        let prompt = "a \"quoted\" line\nwith \\ and ünïcödé 🦊"
        let body = KreaWire.requestBody(GenerationRequest(model: "m", prompt: prompt))
        #expect(try JSONParser.parse(body.serialized)["prompt"] == .string(prompt))
    }

    @Test func paths_ModelIsThePathAndJobIDsAreChecked() {
        #expect(KreaWire.generatePath(upstreamModel: "krea-2/medium") == "/generate/image/krea/krea-2/medium")
        #expect(KreaWire.generatePath(upstreamModel: "krea-2/large") == "/generate/image/krea/krea-2/large")
        #expect(KreaWire.jobPath(jobID: "5f0c1a52-3b7e-4d4a-9e1f-0a2b3c4d5e6f") == "/jobs/5f0c1a52-3b7e-4d4a-9e1f-0a2b3c4d5e6f")
        #expect(KreaWire.jobPath(jobID: "../generate/image") == nil)
        #expect(KreaWire.jobPath(jobID: "") == nil)
    }

    @Test func submitHeaders_CarryTheCallbackURL() {
        #expect(KreaWire.submitHeaders(callbackURL: nil).isEmpty)
        let headers = KreaWire.submitHeaders(callbackURL: "https://gw.example.com/callbacks/krea/gen_1/tok")
        #expect(headers.map(\.name) == ["X-Webhook-URL"])
        #expect(headers.map(\.value) == ["https://gw.example.com/callbacks/krea/gen_1/tok"])
    }
}
