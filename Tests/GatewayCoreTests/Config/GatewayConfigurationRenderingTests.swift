import GatewayCore
import Testing

@Test func rendering_ShowsRoutesAliasesAndPricesInOrder() throws {
    let config = try #require(ConfigFixtures.load(ConfigFixtures.fullExample))
    let text = config.renderResolvedTables()
    let lines = text.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
    #expect(lines.contains("krea-2-medium krea krea https://api.krea.ai krea-2/medium 30s"), "\(text)")
    #expect(lines.contains("krea-2-turbo evolink evolink https://api.evolink.ai krea-2-turbo 30s"))
    #expect(lines.contains("fast krea-2-turbo -> krea-2-medium"))
    #expect(lines.contains("default krea-2-medium"))
    #expect(lines.contains("krea-2/medium krea-2-medium"))
    // The medium model's price table: rules in file order, then the base.
    let start = try #require(lines.firstIndex(of: "krea-2-medium"))
    #expect(Array(lines[(start + 1)...(start + 3)]) == [
        "if has moodboards 0.04", "if has image_style_references 0.035", "base 0.03",
    ])
    let turbo = try #require(lines.firstIndex(of: "krea-2-turbo"))
    #expect(Array(lines[(turbo + 1)...(turbo + 2)]) == ["if resolution = 2K 0.027", "base 0.0067"])
}

@Test func rendering_RemovesCredentialsFromBaseURLs() throws {
    let yaml = ConfigFixtures.minimal.replacingOccurrences(
        of: "http://127.0.0.1:9999", with: "https://user:SECRET-pw@sim.example:8443/api")
    let config = try #require(ConfigFixtures.load(yaml))
    let text = config.renderResolvedTables()
    #expect(!text.contains("SECRET"), "\(text)")
    #expect(text.contains("https://sim.example:8443/api"))
}

@Test func rendering_ShowsFractionalTimeouts() throws {
    let yaml = ConfigFixtures.minimal.replacingOccurrences(
        of: "    api_key: \"sim-SECRET-9999\"\n", with: "    api_key: \"sim-SECRET-9999\"\n    timeout_s: 0.25\n")
    let config = try #require(ConfigFixtures.load(yaml))
    #expect(config.renderResolvedTables().contains(" 0.25s"))
}
