import GatewayCore

/// Checks an Evolink generation body against PROVIDERS.md §Evolink. Unknown fields are ignored
/// (Evolink's schema is not documented as closed).
enum EvolinkRequestValidator {
    /// Why a body is refused.
    enum Refusal: Error, Equatable {
        /// 400 `invalid_request`.
        case invalidRequest(String)
        /// 403 `model_access_denied`: a model this key cannot use.
        case modelAccessDenied(String)
    }

    /// What the simulator needs from a valid body.
    struct Accepted: Equatable {
        var prompt: String
        var quality: String
        var callbackURL: String?
    }

    static let sizes: Set<String> = ["1:1", "4:3", "3:4", "5:4", "4:5", "2:3", "3:2", "9:16", "16:9", "1:2", "2:1"]
    static let qualities: Set<String> = ["1K", "2K"]

    /// The body as a JSON object.
    static func parse(_ body: [UInt8]) throws(Refusal) -> JSONValue {
        let value: JSONValue
        do {
            value = try JSONParser.parse(body)
        } catch {
            throw .invalidRequest("invalid JSON body: \(error.message)")
        }
        guard value.members != nil else { throw .invalidRequest("the body must be a JSON object") }
        return value
    }

    static func validate(_ value: JSONValue, enforceCallbackURLPolicy: Bool) throws(Refusal) -> Accepted {
        guard let modelField = value["model"] else { throw .invalidRequest("model is required") }
        guard let model = modelField.stringValue else { throw .invalidRequest("model must be a string") }
        guard model == EvolinkTask.model else { throw .modelAccessDenied("no access to model \(model)") }
        guard let prompt = value["prompt"]?.stringValue, !prompt.isEmpty else {
            throw .invalidRequest("prompt is required and must be a non-empty string")
        }
        if let size = value["size"] {
            guard let text = size.stringValue, sizes.contains(text) else {
                throw .invalidRequest("size must be one of \(sizes.sorted().joined(separator: ", "))")
            }
        }
        var quality = "1K"
        if let field = value["quality"] {
            guard let text = field.stringValue, qualities.contains(text) else { throw .invalidRequest("quality must be 1K or 2K") }
            quality = text
        }
        if let seed = value["seed"] {
            guard let number = seed.integerValue, (0...1_048_576).contains(number) else {
                throw .invalidRequest("seed must be an integer in 0…1048576")
            }
        }
        if let nsfw = value["nsfw_check"], nsfw.boolValue == nil { throw .invalidRequest("nsfw_check must be a boolean") }
        var callbackURL: String?
        if let field = value["callback_url"] {
            guard let url = field.stringValue else { throw .invalidRequest("callback_url must be a string") }
            if let refusal = CallbackURLPolicy.refusal(for: url, enforce: enforceCallbackURLPolicy) { throw .invalidRequest(refusal) }
            callbackURL = url
        }
        return Accepted(prompt: prompt, quality: quality, callbackURL: callbackURL)
    }
}
