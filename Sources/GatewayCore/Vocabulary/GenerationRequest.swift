/// The unified image-generation request of `POST /v1/generations` (API.md §3), after strict
/// decoding. Fields the client did not send are `nil`; defaults apply only where documented.
public struct GenerationRequest: Sendable, Equatable {
    /// A style reference image.
    public struct StyleReference: Sendable, Equatable {
        /// http(s) URL or data URI of the image.
        public var url: String
        /// How strongly it applies; `nil` lets the adapter choose its documented default.
        public var strength: Double?
        public init(url: String, strength: Double? = nil) { self.url = url; self.strength = strength }
    }

    /// A moodboard reference.
    public struct Moodboard: Sendable, Equatable {
        /// The moodboard id.
        public var id: String
        /// How strongly it applies; `nil` lets the adapter choose its documented default.
        public var strength: Double?
        public init(id: String, strength: Double? = nil) { self.id = id; self.strength = strength }
    }

    /// A style with its strength (both required).
    public struct Style: Sendable, Equatable {
        public var id: String
        public var strength: Double
        public init(id: String, strength: Double) { self.id = id; self.strength = strength }
    }

    /// The model or alias the client named.
    public var model: String
    /// The prompt (non-blank, at most 10,000 characters; a provider may allow fewer).
    public var prompt: String
    /// `aspect_ratio` (or its synonym `size`); `nil` means the default `1:1`.
    public var aspectRatio: String?
    /// `resolution` (or its synonym `quality`); `nil` means the default `1K`.
    public var resolution: String?
    public var seed: Int?
    public var creativity: String?
    public var imageStyleReferences: [StyleReference]?
    public var moodboards: [Moodboard]?
    public var styles: [Style]?
    public var intensity: Int?
    public var complexity: Int?
    public var movement: Int?
    public var nsfwCheck: Bool?
    /// Where to POST the terminal event; the `X-Webhook-URL` header is merged in by the route.
    public var webhookURL: String?
    /// The client's metadata object, echoed on the job and in webhooks.
    public var metadata: JSONValue?

    /// A request with only the required fields.
    public init(model: String, prompt: String) {
        self.model = model
        self.prompt = prompt
    }

    /// The aspect ratio that applies.
    public var effectiveAspectRatio: String { aspectRatio ?? "1:1" }
    /// The resolution that applies.
    public var effectiveResolution: String { resolution ?? "1K" }

    /// The optional fields the client set, by their API names.
    public var presentFields: [GenerationField] {
        var fields: [GenerationField] = []
        if aspectRatio != nil { fields.append(.aspectRatio) }
        if resolution != nil { fields.append(.resolution) }
        if seed != nil { fields.append(.seed) }
        if creativity != nil { fields.append(.creativity) }
        if imageStyleReferences != nil { fields.append(.imageStyleReferences) }
        if moodboards != nil { fields.append(.moodboards) }
        if styles != nil { fields.append(.styles) }
        if intensity != nil { fields.append(.intensity) }
        if complexity != nil { fields.append(.complexity) }
        if movement != nil { fields.append(.movement) }
        if nsfwCheck != nil { fields.append(.nsfwCheck) }
        return fields
    }

    /// Whether the request "has" a field, as price rules mean it: a non-empty list, or a value.
    public func has(_ field: String) -> Bool {
        switch GenerationField(rawValue: field) {
        case .imageStyleReferences: return !(imageStyleReferences ?? []).isEmpty
        case .moodboards: return !(moodboards ?? []).isEmpty
        case .styles: return !(styles ?? []).isEmpty
        case .some(let known): return presentFields.contains(known)
        case .none: return false
        }
    }

    /// A field's value as text, defaults applied (`resolution` → `1K`), for `{field: value}` rules.
    public func value(of field: String) -> String? {
        switch GenerationField(rawValue: field) {
        case .aspectRatio: return effectiveAspectRatio
        case .resolution: return effectiveResolution
        case .seed: return seed.map(String.init)
        case .creativity: return creativity
        case .intensity: return intensity.map(String.init)
        case .complexity: return complexity.map(String.init)
        case .movement: return movement.map(String.init)
        case .nsfwCheck: return nsfwCheck.map { $0 ? "true" : "false" }
        default: return nil
        }
    }
}

/// The optional request fields a model may or may not support, by API name.
public enum GenerationField: String, Sendable, CaseIterable, Hashable {
    case aspectRatio = "aspect_ratio"
    case resolution
    case seed
    case creativity
    case imageStyleReferences = "image_style_references"
    case moodboards
    case styles
    case intensity
    case complexity
    case movement
    case nsfwCheck = "nsfw_check"
}
