import GatewayCore

/// Krea's wire format (PROVIDERS.md "Krea"): pure translation between the unified vocabulary
/// and Krea's JSON, with no I/O, so every rule is tested on its own.
enum KreaWire {
    /// `image_style_references[].strength` when the client gave none (PROVIDERS.md Decision:
    /// always send a strength).
    static let defaultStyleReferenceStrength: JSONValue = .number("0.5")
    /// `moodboards[].strength` when the client gave none (PROVIDERS.md Decision).
    static let defaultMoodboardStrength: JSONValue = .number("0.35")
    /// Seconds to wait after a 429 without `Retry-After`: the first delay of Krea's own client.
    static let defaultRetryAfterSeconds = 5

    /// `POST` path that creates a job on `upstreamModel` (`/generate/image/krea/krea-2/medium`).
    static func generatePath(upstreamModel: String) -> String {
        "/generate/image/krea/" + HTTPTransport.pathSegments(forModel: upstreamModel)
    }

    /// `GET`/`DELETE` path of a job, or `nil` when `jobID` is not a plausible id.
    static func jobPath(jobID: String) -> String? {
        HTTPTransport.pathSegment(forJobID: jobID).map { "/jobs/" + $0 }
    }

    /// Extra headers of a submission: `X-Webhook-URL` when the gateway wants a callback.
    static func submitHeaders(callbackURL: String?) -> [(name: String, value: String)] {
        guard let callbackURL, !callbackURL.isEmpty else { return [] }
        return [(name: "X-Webhook-URL", value: callbackURL)]
    }

    /// The body of `POST /generate/image/krea/<model>`: snake_case, only documented keys (the
    /// root object is closed upstream), in the order of PROVIDERS.md's table.
    ///
    /// - `aspect_ratio` and `resolution` are always sent, defaults applied (PROVIDERS.md Decision).
    /// - `creativity` only when the client sent it (PROVIDERS.md Decision).
    /// - every style reference carries a strength, 0.5 when none was given; every moodboard 0.35.
    /// - `seed`, `styles`, `intensity`, `complexity`, `movement` as given.
    /// - An empty list is left out: it means the same as no list (and prices the same), and
    ///   leaving it out cannot trip an upstream minimum length.
    /// - `nsfw_check` and `webhook_url` are never in the body (the first is refused earlier by
    ///   capabilities; the callback goes in `X-Webhook-URL`).
    static func requestBody(_ request: GenerationRequest) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("prompt", .string(request.prompt)),
            ("aspect_ratio", .string(request.effectiveAspectRatio)),
            ("resolution", .string(request.effectiveResolution)),
        ]
        if let seed = request.seed { members.append(("seed", ProviderText.number(seed))) }
        if let creativity = request.creativity { members.append(("creativity", .string(creativity))) }
        if let references = request.imageStyleReferences, !references.isEmpty {
            members.append(("image_style_references", .array(references.map { reference in
                .object([
                    ("url", .string(reference.url)),
                    ("strength", reference.strength.map(ProviderText.number) ?? defaultStyleReferenceStrength),
                ])
            })))
        }
        if let moodboards = request.moodboards, !moodboards.isEmpty {
            members.append(("moodboards", .array(moodboards.map { moodboard in
                .object([
                    ("id", .string(moodboard.id)),
                    ("strength", moodboard.strength.map(ProviderText.number) ?? defaultMoodboardStrength),
                ])
            })))
        }
        if let styles = request.styles, !styles.isEmpty {
            members.append(("styles", .array(styles.map { style in
                .object([("id", .string(style.id)), ("strength", ProviderText.number(style.strength))])
            })))
        }
        if let intensity = request.intensity { members.append(("intensity", ProviderText.number(intensity))) }
        if let complexity = request.complexity { members.append(("complexity", ProviderText.number(complexity))) }
        if let movement = request.movement { members.append(("movement", ProviderText.number(movement))) }
        return .object(members)
    }
}
