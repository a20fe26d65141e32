import GatewayCore

/// Evolink's wire format (PROVIDERS.md "Evolink"): pure translation between the unified
/// vocabulary and Evolink's JSON, with no I/O.
enum EvolinkWire {
    /// Seconds to wait after a 429 without `Retry-After` (Evolink documents none; the same
    /// first delay as Krea's client).
    static let defaultRetryAfterSeconds = 5

    /// `POST` path that creates a task.
    static let generationsPath = "/v1/images/generations"

    /// `GET` path of a task, or `nil` when `taskID` is not a plausible id.
    static func taskPath(taskID: String) -> String? {
        HTTPTransport.pathSegment(forJobID: taskID).map { "/v1/tasks/" + $0 }
    }

    /// The body of `POST /v1/images/generations`:
    ///
    /// - `model` = the upstream model, `prompt`;
    /// - `size` = the aspect ratio and `quality` = the resolution, always sent with the unified
    ///   defaults (`1:1`, `1K`) applied, so a change of Evolink's defaults cannot change our output;
    /// - `seed` and `nsfw_check` only when the client sent them;
    /// - `callback_url` when the gateway wants a callback, as given (Evolink requires HTTPS and a
    ///   public host; the gateway's `public_base_url` must satisfy that for Evolink).
    ///
    /// Fields only Krea has are refused earlier by capabilities and never written.
    static func requestBody(_ request: GenerationRequest, upstreamModel: String, callbackURL: String?) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("model", .string(upstreamModel)),
            ("prompt", .string(request.prompt)),
            ("size", .string(request.effectiveAspectRatio)),
            ("quality", .string(request.effectiveResolution)),
        ]
        if let seed = request.seed { members.append(("seed", ProviderText.number(seed))) }
        if let nsfwCheck = request.nsfwCheck { members.append(("nsfw_check", .bool(nsfwCheck))) }
        if let callbackURL, !callbackURL.isEmpty { members.append(("callback_url", .string(callbackURL))) }
        return .object(members)
    }
}
