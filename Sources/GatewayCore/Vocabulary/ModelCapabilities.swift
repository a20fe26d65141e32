/// What a routed model accepts, declared by its provider adapter (PROVIDERS.md); the request is
/// checked against it before any money is reserved or any provider is called.
public struct ModelCapabilities: Sendable, Equatable {
    /// Aspect ratios the model supports.
    public var aspectRatios: [String]
    /// Resolutions the model supports.
    public var resolutions: [String]
    /// The optional fields the model supports; any other optional field is `unsupported_parameter`.
    public var optionalFields: Set<GenerationField>
    /// The seed range.
    public var seedRange: ClosedRange<Int>
    /// The longest prompt, in characters.
    public var maxPromptCharacters: Int
    /// Accepted `image_style_references[].strength`.
    public var styleReferenceStrength: ClosedRange<Double>
    /// Longest `image_style_references[].url`.
    public var maxStyleReferenceURLLength: Int
    /// Accepted `moodboards[].strength`.
    public var moodboardStrength: ClosedRange<Double>
    /// Whether `moodboards[].id` must be a UUID (Krea's is).
    public var moodboardIDsAreUUIDs: Bool

    /// Declares a model's capabilities.
    public init(
        aspectRatios: [String], resolutions: [String], optionalFields: Set<GenerationField>, seedRange: ClosedRange<Int>,
        maxPromptCharacters: Int, styleReferenceStrength: ClosedRange<Double> = -2...2, maxStyleReferenceURLLength: Int = 1024,
        moodboardStrength: ClosedRange<Double> = -0.5...1.5, moodboardIDsAreUUIDs: Bool = false
    ) {
        self.aspectRatios = aspectRatios
        self.resolutions = resolutions
        self.optionalFields = optionalFields
        self.seedRange = seedRange
        self.maxPromptCharacters = maxPromptCharacters
        self.styleReferenceStrength = styleReferenceStrength
        self.maxStyleReferenceURLLength = maxStyleReferenceURLLength
        self.moodboardStrength = moodboardStrength
        self.moodboardIDsAreUUIDs = moodboardIDsAreUUIDs
    }
}

extension GenerationRequest {
    /// Checks the request against the routed model (API.md §3, PROVIDERS.md): a field the model
    /// lacks is `unsupported_parameter`, never silently dropped; a value it lacks is `invalid_parameter`.
    public func validate(for capabilities: ModelCapabilities, model: String, provider: String) throws(APIError) {
        for field in presentFields where !capabilities.optionalFields.contains(field) {
            throw APIError.parameter(.unsupported, field.rawValue, "\(field.rawValue) is not supported by model \(model) (provider \(provider))")
        }
        guard capabilities.aspectRatios.contains(effectiveAspectRatio) else {
            throw APIError.parameter(.invalid, "aspect_ratio", "aspect_ratio \(effectiveAspectRatio) is not supported by model \(model); supported: \(capabilities.aspectRatios.joined(separator: ", "))")
        }
        guard capabilities.resolutions.contains(effectiveResolution) else {
            throw APIError.parameter(.invalid, "resolution", "resolution \(effectiveResolution) is not supported by model \(model); supported: \(capabilities.resolutions.joined(separator: ", "))")
        }
        if let seed, !capabilities.seedRange.contains(seed) {
            throw APIError.parameter(.invalid, "seed", "seed must be between \(capabilities.seedRange.lowerBound) and \(capabilities.seedRange.upperBound) for model \(model)")
        }
        if prompt.count > capabilities.maxPromptCharacters {
            throw APIError.parameter(.invalid, "prompt", "prompt is longer than \(capabilities.maxPromptCharacters) characters, the limit of model \(model)")
        }
        for reference in imageStyleReferences ?? [] {
            guard reference.url.utf8.count <= capabilities.maxStyleReferenceURLLength,
                  reference.url.hasPrefix("https://") || reference.url.hasPrefix("http://") || reference.url.hasPrefix("data:") else {
                throw APIError.parameter(.invalid, "image_style_references", "image_style_references[].url must be an http(s) URL or a data URI of at most \(capabilities.maxStyleReferenceURLLength) characters")
            }
            if let strength = reference.strength, !capabilities.styleReferenceStrength.contains(strength) {
                throw APIError.parameter(.invalid, "image_style_references", "image_style_references[].strength must be between \(capabilities.styleReferenceStrength.lowerBound) and \(capabilities.styleReferenceStrength.upperBound)")
            }
        }
        for moodboard in moodboards ?? [] {
            if capabilities.moodboardIDsAreUUIDs, !Self.isUUID(moodboard.id) {
                throw APIError.parameter(.invalid, "moodboards", "moodboards[].id must be a UUID for model \(model)")
            }
            if let strength = moodboard.strength, !capabilities.moodboardStrength.contains(strength) {
                throw APIError.parameter(.invalid, "moodboards", "moodboards[].strength must be between \(capabilities.moodboardStrength.lowerBound) and \(capabilities.moodboardStrength.upperBound)")
            }
        }
    }

    /// `8-4-4-4-12` hexadecimal digits.
    static func isUUID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return false }
        for (index, byte) in bytes.enumerated() {
            if index == 8 || index == 13 || index == 18 || index == 23 {
                guard byte == UInt8(ascii: "-") else { return false }
            } else {
                guard PercentHex.isHexDigit(byte) else { return false }
            }
        }
        return true
    }
}

enum PercentHex {
    static func isHexDigit(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x46).contains(byte) || (0x61...0x66).contains(byte)
    }
}
