import Foundation
import GatewayCore
import HTTPServer

/// `POST /v1/images/generations` in the OpenAI Images API shape (API.md §7): synchronous up to
/// `compat.openai_max_wait_s`, `{"created", "data": [{"url"}]}`, errors in OpenAI's shape (ours
/// already is), the job id in `X-Generation-Id`. An OpenAI SDK pointed at the gateway works
/// unchanged.
struct OpenAIImagesRoute: Sendable {
    let auth: Authenticator
    let submissions: SubmissionService
    let models: LiveModels
    let maxWait: Duration

    static let fields: Set<String> = ["model", "prompt", "n", "size", "response_format", "quality", "style", "user"]
    /// How far a requested `WxH` may be from a supported aspect ratio (10 %).
    static let ratioTolerance = 1.10

    func register(on router: inout Router) {
        router.add("POST", "/v1/images/generations") { request in await create(request) }
    }

    func create(_ request: HTTPRequest) async -> HTTPResponse {
        let key: AuthenticatedKey
        switch auth.requireKey(request) {
        case .success(let found): key = found
        case .failure(let error): return .error(error)
        }
        let generation: GenerationRequest
        do throws(APIError) {
            generation = try translate(request.body)
        } catch {
            return .error(error)
        }
        let accepted: AcceptedSubmission
        switch await submissions.submit(generation, Submission(key: key, frontDoor: .openai, wait: maxWait)) {
        case .accepted(let found): accepted = found
        case .refused(let refusal): return .error(refusal)
        }
        let job = accepted.job
        var answer: HTTPResponse
        switch job.status {
        case .completed:
            let urls = job.resultURLs ?? []
            answer = .json(200, "{\"created\":\(job.createdAt.unixSeconds),\"data\":[" + urls.map { "{\"url\":\(JSONText.quoted($0))}" }.joined(separator: ",") + "]}")
        case .failed:
            let failure = job.error ?? JobError(code: "upstream_error", message: "the generation failed")
            answer = failure.code == "content_policy_violation"
                ? .error(APIError(status: 400, kind: .invalidRequest, code: failure.code, message: failure.message))
                : .error(APIError(status: 502, kind: .upstream, code: failure.code, message: failure.message))
        case .cancelled:
            answer = .error(APIError(status: 502, kind: .upstream, code: "cancelled", message: "the generation \(job.id) was cancelled"))
        case .queued, .running:
            answer = .error(APIError(status: 504, kind: .upstream, code: "upstream_timeout",
                                     message: "the generation \(job.id) is still running after \(maxWait.components.seconds) s; GET /v1/generations/\(job.id) for it"))
        }
        answer.headers.addSubmission(accepted)
        return answer
    }

    /// The OpenAI request as a generation request for the routed model.
    func translate(_ body: [UInt8]) throws(APIError) -> GenerationRequest {
        guard case .object(let members) = try JSONValue.parseBody(body) else {
            throw APIError.parameter(.invalid, "body", "the body must be a JSON object")
        }
        if let unknown = members.first(where: { !Self.fields.contains($0.key) }) {
            throw APIError(status: 400, kind: .invalidRequest, code: "unknown_parameter", message: "unknown field \(unknown.key)", param: unknown.key)
        }
        let object = JSONValue.object(members)
        // What the OpenAI fields mean in our request; the one strict decoder then checks it all
        // (model and prompt present and well-formed, a blank prompt, metadata limits).
        var translated: [(key: String, value: JSONValue)] = members.filter { $0.key == "model" || $0.key == "prompt" }
        let modelName = object["model"]?.stringValue ?? ""
        if let n = object["n"], !(n == .null) {
            guard n.integerValue == 1 else { throw APIError.parameter(.invalid, "n", "only n = 1 is supported: one image per request") }
        }
        if let format = object["response_format"], !(format == .null) {
            guard format.stringValue == "url" else {
                throw APIError.parameter(.invalid, "response_format", "only response_format \"url\" is supported (not b64_json)")
            }
        }
        if let style = object["style"], !(style == .null) {
            throw APIError(status: 400, kind: .invalidRequest, code: "unsupported_parameter", message: "style is not supported by \(modelName)", param: "style")
        }
        if let user = object["user"], !(user == .null) {
            guard user.stringValue != nil else { throw APIError.parameter(.invalid, "user", "user must be a string") }
            translated.append(("metadata", .object([("user", user)])))
        }
        var resolution: String?
        if let quality = object["quality"], !(quality == .null) {
            switch quality.stringValue {
            case "auto", "standard": break
            case "1K", "2K": resolution = quality.stringValue
            default: throw APIError.parameter(.invalid, "quality", "quality must be auto, standard, 1K or 2K")
            }
        }
        if let size = object["size"], !(size == .null) {
            guard let text = size.stringValue else { throw APIError.parameter(.invalid, "size", "size must be a string") }
            if text != "auto" {
                let capabilities = models.resolve(modelName)?.first?.capabilities
                let mapped = try Self.map(size: text, to: capabilities)
                translated.append(("aspect_ratio", .string(mapped.ratio)))
                if resolution == nil { resolution = mapped.resolution }
            }
        }
        if let resolution { translated.append(("resolution", .string(resolution))) }
        let generation: GenerationRequest
        do {
            generation = try GenerationRequest.decode(Array(JSONValue.object(translated).serialized.utf8))
        } catch {
            // `user` is carried as metadata: its limits are the metadata's, named by its field.
            throw error.param == "metadata" ? APIError.parameter(.invalid, "user", "user is too long (metadata is at most 4 KiB)") : error
        }
        return generation
    }

    /// `WxH` → the nearest supported aspect ratio (refused when none is within 10 %) and the
    /// supported resolution nearest in pixel count; an aspect ratio (`16:9`) is taken as it is.
    static func map(size: String, to capabilities: ModelCapabilities?) throws(APIError) -> (ratio: String, resolution: String?) {
        let ratios = capabilities?.aspectRatios ?? ["1:1"]
        if ratios.contains(size) || size.contains(":") { return (size, nil) }
        let parts = size.lowercased().split(separator: "x")
        guard parts.count == 2, let width = Int(parts[0]), let height = Int(parts[1]), (64...16_384).contains(width), (64...16_384).contains(height) else {
            throw APIError.parameter(.invalid, "size", "size must be WIDTHxHEIGHT (like 1024x1024) or an aspect ratio (\(ratios.joined(separator: ", ")))")
        }
        let wanted = log(Double(width) / Double(height))
        let nearest = ratios.compactMap { ratio -> (String, Double)? in
            let sides = ratio.split(separator: ":").compactMap { Double($0) }
            guard sides.count == 2, sides[1] > 0 else { return nil }
            return (ratio, abs(log(sides[0] / sides[1]) - wanted))
        }.min { $0.1 < $1.1 }
        guard let nearest, nearest.1 <= log(ratioTolerance) else {
            throw APIError.parameter(.invalid, "size", "no supported aspect ratio is close to \(size); supported: \(ratios.joined(separator: ", "))")
        }
        // 1K ≈ 1 megapixel, 2K ≈ 4.
        let pixels = log(Double(width * height))
        let resolution = (capabilities?.resolutions ?? ["1K"]).min { lhs, rhs in
            abs(log(megapixels(lhs) * 1_048_576) - pixels) < abs(log(megapixels(rhs) * 1_048_576) - pixels)
        }
        return (nearest.0, resolution)
    }

    private static func megapixels(_ resolution: String) -> Double {
        switch resolution {
        case "2K": return 4
        case "4K": return 16
        default: return 1
        }
    }
}
