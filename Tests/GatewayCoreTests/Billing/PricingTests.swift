import Testing
@testable import GatewayCore

@Suite("Pricing")
struct PricingTests {
    static let medium = GatewayConfiguration.Price(base: Money(parsing: "0.030")!, rules: [
        .init(condition: .has(field: "moodboards"), price: Money(parsing: "0.040")!),
        .init(condition: .has(field: "image_style_references"), price: Money(parsing: "0.035")!),
    ])
    static let turbo = GatewayConfiguration.Price(base: Money(parsing: "0.0067")!, rules: [
        .init(condition: .equals(field: "resolution", value: "2K"), price: Money(parsing: "0.027")!),
    ])

    func request(_ configure: (inout GenerationRequest) -> Void = { _ in }) -> GenerationRequest {
        var request = GenerationRequest(model: "m", prompt: "p")
        configure(&request)
        return request
    }

    @Test func price_FirstMatchingRuleWinsElseBase() {
        #expect(Self.medium.price(for: request()).apiString == "0.030")
        #expect(Self.medium.price(for: request { $0.imageStyleReferences = [.init(url: "https://a")] }).apiString == "0.035")
        #expect(Self.medium.price(for: request { $0.moodboards = [.init(id: "m")] }).apiString == "0.040")
        // A moodboard with style references: the moodboard rule comes first.
        #expect(Self.medium.price(for: request { $0.moodboards = [.init(id: "m")]; $0.imageStyleReferences = [.init(url: "https://a")] }).apiString == "0.040")
        // An empty list does not count as having the field.
        #expect(Self.medium.price(for: request { $0.imageStyleReferences = [] }).apiString == "0.030")
    }

    @Test func price_EqualsRuleUsesDefaults() {
        #expect(Self.turbo.price(for: request()).apiString == "0.0067")
        #expect(Self.turbo.price(for: request { $0.resolution = "1K" }).apiString == "0.0067")
        #expect(Self.turbo.price(for: request { $0.resolution = "2K" }).apiString == "0.027")
    }
}
