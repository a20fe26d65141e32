import Testing
@testable import GatewayCore

@Suite("GenerationRequest decoding and validation")
struct GenerationRequestTests {
    func decode(_ json: String) -> Result<GenerationRequest, APIError> {
        do throws(APIError) { return .success(try GenerationRequest.decode(Array(json.utf8))) } catch { return .failure(error) }
    }

    func failure(_ json: String) -> APIError? {
        if case .failure(let error) = decode(json) { return error }
        return nil
    }

    @Test func decode_ReadsEveryField() throws {
        let request = try decode("""
            {"model":"krea-2-medium","prompt":"a red fox","aspect_ratio":"16:9","resolution":"1K","seed":42,
             "creativity":"high","image_style_references":[{"url":"https://x/a.png","strength":0.7},{"url":"https://x/b.png"}],
             "moodboards":[{"id":"mb1"}],"styles":[{"id":"s1","strength":-1.5}],"intensity":10,"complexity":-20,"movement":0,
             "webhook_url":"https://hooks.example/x","metadata":{"ticket":"DES-42","n":1}}
            """).get()
        #expect(request.model == "krea-2-medium")
        #expect(request.aspectRatio == "16:9")
        #expect(request.seed == 42)
        #expect(request.imageStyleReferences == [.init(url: "https://x/a.png", strength: 0.7), .init(url: "https://x/b.png")])
        #expect(request.moodboards == [.init(id: "mb1")])
        #expect(request.styles == [.init(id: "s1", strength: -1.5)])
        #expect(request.intensity == 10 && request.complexity == -20 && request.movement == 0)
        #expect(request.metadata?["ticket"] == .string("DES-42"))
    }

    @Test func decode_SizeAndQualityAreSynonyms() throws {
        let request = try decode(#"{"model":"m","prompt":"p","size":"4:3","quality":"2K"}"#).get()
        #expect(request.effectiveAspectRatio == "4:3")
        #expect(request.effectiveResolution == "2K")
        #expect(failure(#"{"model":"m","prompt":"p","size":"4:3","aspect_ratio":"1:1"}"#)?.param == "size")
    }

    @Test func decode_NullMeansAbsent() throws {
        let request = try decode(#"{"model":"m","prompt":"p","seed":null,"metadata":null}"#).get()
        #expect(request.seed == nil && request.metadata == nil)
    }

    static let errors: [(String, String, String?)] = [
        ("not json", "invalid_json", nil),
        ("[1,2]", "invalid_json", nil),
        (#"{"model":"m","prompt":"p","prompt":"q"}"#, "invalid_json", nil),
        (#"{"prompt":"p"}"#, "missing_parameter", "model"),
        (#"{"model":"m"}"#, "missing_parameter", "prompt"),
        (#"{"model":"m","prompt":"   "}"#, "invalid_parameter", "prompt"),
        (#"{"model":"m","prompt":""}"#, "invalid_parameter", "prompt"),
        (#"{"model":1,"prompt":"p"}"#, "invalid_parameter", "model"),
        (#"{"model":"m","prompt":"p","colour":"red"}"#, "unknown_parameter", "colour"),
        (#"{"model":"m","prompt":"p","seed":-1}"#, "invalid_parameter", "seed"),
        (#"{"model":"m","prompt":"p","seed":1.5}"#, "invalid_parameter", "seed"),
        (#"{"model":"m","prompt":"p","seed":"1"}"#, "invalid_parameter", "seed"),
        (#"{"model":"m","prompt":"p","creativity":"extreme"}"#, "invalid_parameter", "creativity"),
        (#"{"model":"m","prompt":"p","intensity":101}"#, "invalid_parameter", "intensity"),
        (#"{"model":"m","prompt":"p","movement":-101}"#, "invalid_parameter", "movement"),
        (#"{"model":"m","prompt":"p","nsfw_check":"yes"}"#, "invalid_parameter", "nsfw_check"),
        (#"{"model":"m","prompt":"p","moodboards":[{"id":"a"},{"id":"b"}]}"#, "invalid_parameter", "moodboards"),
        (#"{"model":"m","prompt":"p","moodboards":[{"strength":1}]}"#, "invalid_parameter", "moodboards"),
        (#"{"model":"m","prompt":"p","image_style_references":[{"url":"https://a","extra":1}]}"#, "invalid_parameter", "image_style_references"),
        (#"{"model":"m","prompt":"p","image_style_references":"https://a"}"#, "invalid_parameter", "image_style_references"),
        (#"{"model":"m","prompt":"p","styles":[{"id":"s"}]}"#, "invalid_parameter", "styles"),
        (#"{"model":"m","prompt":"p","styles":[{"id":"s","strength":2.5}]}"#, "invalid_parameter", "styles"),
        (#"{"model":"m","prompt":"p","metadata":"x"}"#, "invalid_parameter", "metadata"),
        (#"{"model":"m","prompt":"p","webhook_url":""}"#, "invalid_webhook_url", "webhook_url"),
    ]

    @Test("each bad request gets its code and param", arguments: errors)
    func decode_AnswersTheDocumentedCodes(json: String, code: String, param: String?) {
        let error = failure(json)
        #expect(error?.status == 400)
        #expect(error?.code == code)
        #expect(error?.param == param)
    }

    @Test func decode_ElevenStyleReferencesAreTooMany() {
        let items = (0..<11).map { _ in #"{"url":"https://a"}"# }.joined(separator: ",")
        #expect(failure(#"{"model":"m","prompt":"p","image_style_references":[\#(items)]}"#)?.param == "image_style_references")
    }

    @Test func decode_PromptAndMetadataLimits() {
        let atLimit = String(repeating: "a", count: 10_000)
        #expect(failure(#"{"model":"m","prompt":"\#(atLimit)"}"#) == nil)
        #expect(failure(#"{"model":"m","prompt":"\#(atLimit)a"}"#)?.param == "prompt")
        // The limit counts characters, not bytes: 10,000 two-byte or multi-scalar characters pass.
        #expect(failure(#"{"model":"m","prompt":"\#(String(repeating: "é", count: 10_000))"}"#) == nil)
        #expect(failure(#"{"model":"m","prompt":"\#(String(repeating: "🇫🇷", count: 10_000))"}"#) == nil)
        #expect(failure(#"{"model":"m","prompt":"\#(String(repeating: "é", count: 10_001))"}"#)?.param == "prompt")
        let sixteen = (0..<16).map { #""k\#($0)":1"# }.joined(separator: ",")
        #expect(failure(#"{"model":"m","prompt":"p","metadata":{\#(sixteen)}}"#) == nil)
        #expect(failure(#"{"model":"m","prompt":"p","metadata":{\#(sixteen),"k16":1}}"#)?.param == "metadata")
        let big = String(repeating: "v", count: 4100)
        #expect(failure(#"{"model":"m","prompt":"p","metadata":{"k":"\#(big)"}}"#)?.param == "metadata")
    }

    // MARK: Validation against the routed model

    static let turbo = ModelCapabilities(
        aspectRatios: ["1:1", "4:3", "16:9"], resolutions: ["1K", "2K"],
        optionalFields: [.aspectRatio, .resolution, .seed, .nsfwCheck], seedRange: 0...1_048_576, maxPromptCharacters: 2560)

    @Test func validate_RefusesFieldsTheModelLacksWithParam() throws {
        let request = try decode(#"{"model":"krea-2-turbo","prompt":"p","moodboards":[{"id":"m"}]}"#).get()
        #expect(throws: APIError.parameter(.unsupported, "moodboards", "moodboards is not supported by model krea-2-turbo (provider evolink)")) {
            try request.validate(for: Self.turbo, model: "krea-2-turbo", provider: "evolink")
        }
    }

    @Test func validate_RefusesValuesTheModelLacks() throws {
        func check(_ json: String, _ param: String) throws {
            let request = try decode(json).get()
            do throws(APIError) {
                try request.validate(for: Self.turbo, model: "krea-2-turbo", provider: "evolink")
                Issue.record("expected \(param) to be refused")
            } catch {
                #expect(error.code == "invalid_parameter")
                #expect(error.param == param)
            }
        }
        try check(#"{"model":"t","prompt":"p","aspect_ratio":"2.35:1"}"#, "aspect_ratio")
        try check(#"{"model":"t","prompt":"p","resolution":"4K"}"#, "resolution")
        try check(#"{"model":"t","prompt":"p","seed":1048577}"#, "seed")
        try check(#"{"model":"t","prompt":"\#(String(repeating: "x", count: 2561))"}"#, "prompt")
    }

    @Test func validate_AcceptsWhatTheModelSupports() throws {
        let request = try decode(#"{"model":"t","prompt":"p","size":"16:9","quality":"2K","seed":1048576,"nsfw_check":true}"#).get()
        try request.validate(for: Self.turbo, model: "krea-2-turbo", provider: "evolink")
    }
}
