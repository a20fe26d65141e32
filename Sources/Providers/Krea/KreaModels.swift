import GatewayCore

/// The Krea models this adapter knows and what each accepts (PROVIDERS.md "Krea").
enum KreaModels {
    /// Medium and Large take the same body; Medium Turbo exists with the same body too.
    static let upstreamModels: Set<String> = ["krea-2/medium", "krea-2/large", "krea-2/medium-turbo"]

    /// The capabilities every Krea 2 model shares. `nsfw_check` is Evolink's, so not here.
    static let krea2 = ModelCapabilities(
        aspectRatios: ["1:1", "4:3", "3:2", "16:9", "2.35:1", "4:5", "2:3", "9:16"],
        resolutions: ["1K"],
        optionalFields: [
            .aspectRatio, .resolution, .seed, .creativity, .imageStyleReferences, .moodboards, .styles,
            .intensity, .complexity, .movement,
        ],
        // Range unpublished; PROVIDERS.md Decision: 0…2147483647.
        seedRange: 0...2_147_483_647,
        maxPromptCharacters: 10_000,
        // Published as 0…1 and as −2…2; PROVIDERS.md Decision: accept −2…2.
        styleReferenceStrength: -2...2,
        maxStyleReferenceURLLength: 1024,
        // Published as 0…1 and as −0.5…1.5; PROVIDERS.md Decision: accept −0.5…1.5.
        moodboardStrength: -0.5...1.5,
        // PROVIDERS.md: moodboards are `{id (uuid), strength}`; refused up front, not by Krea.
        moodboardIDsAreUUIDs: true
    )

    /// What `upstreamModel` accepts, or `nil` for a model Krea does not have.
    static func capabilities(for upstreamModel: String) -> ModelCapabilities? {
        upstreamModels.contains(upstreamModel) ? krea2 : nil
    }
}
