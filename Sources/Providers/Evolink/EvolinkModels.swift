import GatewayCore

/// The Evolink models this adapter knows and what each accepts (PROVIDERS.md "Evolink").
enum EvolinkModels {
    /// Krea 2 Turbo, text-to-image only: no style references, moodboards, styles or sliders.
    static let krea2Turbo = ModelCapabilities(
        aspectRatios: ["1:1", "4:3", "3:4", "5:4", "4:5", "2:3", "3:2", "9:16", "16:9", "1:2", "2:1"],
        resolutions: ["1K", "2K"],
        optionalFields: [.aspectRatio, .resolution, .seed, .nsfwCheck],
        seedRange: 0...1_048_576,
        // Evolink counts ≤ 640 tokens with an unspecified tokenizer; PROVIDERS.md Decision:
        // refuse over 2,560 characters at the gateway.
        maxPromptCharacters: 2_560
    )

    /// What `upstreamModel` accepts, or `nil` for a model this adapter does not know.
    static func capabilities(for upstreamModel: String) -> ModelCapabilities? {
        upstreamModel == "krea-2-turbo" ? krea2Turbo : nil
    }
}
