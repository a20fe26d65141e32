import GatewayCore
@testable import Providers
import Testing

@Suite struct EvolinkWireTests {
    @Test func requestBody_MinimalRequestSendsSizeAndQualityDefaults() {
        let body = EvolinkWire.requestBody(GenerationRequest(model: "krea-2-turbo", prompt: "a cat"), upstreamModel: "krea-2-turbo", callbackURL: nil)
        #expect(body.serialized == #"{"model":"krea-2-turbo","prompt":"a cat","size":"1:1","quality":"1K"}"#)
    }

    @Test func requestBody_TranslatesEveryEvolinkField() {
        var request = GenerationRequest(model: "turbo-alias", prompt: "a red fox")
        request.aspectRatio = "9:16"
        request.resolution = "2K"
        request.seed = 1_048_576
        request.nsfwCheck = true
        request.webhookURL = "https://hooks.example.com/caller"
        request.metadata = .object([("ticket", .string("DES-42"))])
        let body = EvolinkWire.requestBody(request, upstreamModel: "krea-2-turbo", callbackURL: "https://gw.example.com/callbacks/evolink/gen_1/tok")
        #expect(body.serialized == """
            {"model":"krea-2-turbo","prompt":"a red fox","size":"9:16","quality":"2K","seed":1048576,"nsfw_check":true,\
            "callback_url":"https://gw.example.com/callbacks/evolink/gen_1/tok"}
            """)
    }

    @Test func requestBody_NsfwCheckFalseIsSent() {
        var request = GenerationRequest(model: "m", prompt: "p")
        request.nsfwCheck = false
        #expect(EvolinkWire.requestBody(request, upstreamModel: "krea-2-turbo", callbackURL: nil)["nsfw_check"] == .bool(false))
    }

    @Test func paths() {
        #expect(EvolinkWire.generationsPath == "/v1/images/generations")
        #expect(EvolinkWire.taskPath(taskID: "task-unified-1763719200-a1b2c3d4") == "/v1/tasks/task-unified-1763719200-a1b2c3d4")
        #expect(EvolinkWire.taskPath(taskID: "a/b") == nil)
        #expect(EvolinkWire.taskPath(taskID: "..") == nil)
    }
}
