import Foundation
import GatewayCore
import Testing

@Test func loader_LoadsTheFullExampleOfConfigMD() throws {
    let config = try #require(ConfigFixtures.load(ConfigFixtures.fullExample))

    #expect(config.server.listen == ListenAddress(host: "0.0.0.0", port: 8080))
    #expect(config.server.publicBaseURL == nil)
    #expect(config.server.maxBodyBytes == 1_048_576)
    #expect(config.server.maxConnections == 10_000)
    #expect(config.server.headerTimeout == .seconds(10))
    #expect(config.server.idleTimeout == .seconds(60))
    #expect(config.server.shutdownGrace == .seconds(25))
    #expect(config.state.directory == "./data")
    #expect(config.admin.masterKey.value == "master-SECRET-1111")

    #expect(config.providers.map(\.name) == ["krea", "evolink"])
    let krea = try #require(config.provider(named: "krea"))
    #expect(krea.kind == .krea)
    #expect(krea.baseURL == "https://api.krea.ai")
    #expect(krea.apiKey.value == "krea-SECRET-2222")
    #expect(krea.timeout == .seconds(30))
    #expect(krea.pollInterval == .seconds(3))
    let evolink = try #require(config.provider(named: "evolink"))
    #expect(evolink.kind == .evolink)
    #expect(evolink.apiKey.value == "evolink-SECRET-3333")
    #expect(evolink.timeout == .seconds(30))  // omitted: default

    #expect(config.models.map(\.name) == ["krea-2-medium", "krea-2-large", "krea-2-turbo"])
    let medium = try #require(config.model(named: "krea-2-medium"))
    #expect(medium.provider == "krea")
    #expect(medium.upstreamModel == "krea-2/medium")
    #expect(medium.price.base == Money(micros: 30_000))
    #expect(medium.price.rules.map(\.condition) == [.has(field: "moodboards"), .has(field: "image_style_references")])
    #expect(medium.price.rules.map(\.price.micros) == [40_000, 35_000])
    let large = try #require(config.model(named: "krea-2-large"))
    #expect(large.price.base.micros == 60_000)
    #expect(large.price.rules.map(\.price.micros) == [70_000, 65_000])
    let turbo = try #require(config.model(named: "krea-2-turbo"))
    #expect(turbo.provider == "evolink")
    #expect(turbo.upstreamModel == "krea-2-turbo")
    #expect(turbo.price.base.micros == 6_700)
    #expect(turbo.price.rules.map(\.condition) == [.equals(field: "resolution", value: "2K")])
    #expect(turbo.price.rules.map(\.price.micros) == [27_000])

    #expect(config.aliases.map(\.name) == ["default", "fast"])
    #expect(config.alias(named: "default")?.targets == ["krea-2-medium"])
    #expect(config.alias(named: "default")?.isFallbackList == false)
    #expect(config.alias(named: "fast")?.targets == ["krea-2-turbo", "krea-2-medium"])

    #expect(config.teams.map(\.name) == ["design"])
    #expect(config.team(named: "design")?.budget == .init(limit: Money(micros: 100_000_000), period: .monthly))

    #expect(config.keys.count == 1)
    let key = try #require(config.key(id: "design-web"))
    #expect(key.name == "Design web app")
    #expect(key.team == "design")
    #expect(key.credential == .sha256(hex: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"))
    #expect(key.budget == .init(limit: Money(micros: 20_000_000), period: .daily))
    #expect(key.models == ["krea-2-medium", "krea-2-turbo", "fast"])
    #expect(key.rpm == 120)
    #expect(key.maxConcurrent == 20)
    #expect(key.webhookSecret?.value == ConfigFixtures.webhookSecret)

    #expect(config.jobs.maxAge == .seconds(7200))
    #expect(config.webhooks.secret == nil)  // ${GATEWAY_WEBHOOK_SECRET:-} with the variable unset
    #expect(config.webhooks.timeout == .seconds(10))
    #expect(config.webhooks.retrySchedule == [5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800].map { .seconds($0) })
    #expect(!config.webhooks.allowHTTP)
    #expect(!config.webhooks.allowPrivateNetworks)
    #expect(config.webhooks.allowedHosts.isEmpty)
    #expect(config.compat.openAIMaxWait == .seconds(120))
    #expect(config.compat.kreaPaths == [.medium: "krea-2-medium", .large: "krea-2-large"])
    #expect(config.logging.level == .info)
    #expect(config.logging.format == .json)
    #expect(config.metrics.enabled)
    #expect(config.metrics.bearerToken == nil)
}

@Test func loader_ResolvesRoutesForModelsAndAliases() throws {
    let config = try #require(ConfigFixtures.load(ConfigFixtures.fullExample))
    let fast = try #require(config.routes(for: "fast"))
    #expect(fast.map(\.model.name) == ["krea-2-turbo", "krea-2-medium"])
    #expect(fast.map(\.provider.kind) == [.evolink, .krea])
    #expect(config.routes(for: "krea-2-large")?.map(\.provider.name) == ["krea"])
    #expect(config.routes(for: "nope") == nil)
}

@Test func loader_AppliesDefaultsWhenSectionsAreOmitted() throws {
    let config = try #require(ConfigFixtures.load(ConfigFixtures.minimal, environment: [:]))
    let server = GatewayConfiguration.Server()
    #expect(config.server.listen.description == "0.0.0.0:8080")
    #expect(config.server.maxBodyBytes == server.maxBodyBytes && server.maxBodyBytes == 1_048_576)
    #expect(config.server.maxConnections == 10_000)
    #expect(config.server.headerTimeout == .seconds(10))
    #expect(config.server.idleTimeout == .seconds(60))
    #expect(config.server.shutdownGrace == .seconds(25))
    #expect(config.state.directory == "./data")
    #expect(config.aliases.isEmpty && config.teams.isEmpty && config.keys.isEmpty)
    #expect(config.jobs.maxAge == .seconds(7200))
    #expect(config.webhooks.secret == nil)
    #expect(config.webhooks.timeout == .seconds(10))
    #expect(config.webhooks.retrySchedule.count == 9)
    #expect(config.webhooks.retrySchedule.last == .seconds(28800))
    #expect(config.compat.openAIMaxWait == .seconds(120))
    // The default krea_paths name models this file does not declare, so none is kept.
    #expect(config.compat.kreaPaths.isEmpty)
    #expect(config.logging.level == .info && config.logging.format == .json)
    #expect(config.metrics.enabled && config.metrics.bearerToken == nil)
    #expect(config.provider(named: "sim")?.timeout == .seconds(30))
    #expect(config.provider(named: "sim")?.pollInterval == .seconds(3))
    #expect(config.model(named: "m1")?.price.rules.isEmpty == true)
}

@Test func loader_KeepsTheDefaultKreaPathsWhoseModelsExist() throws {
    let yaml = ConfigFixtures.minimal.replacingOccurrences(of: "  m1:", with: "  krea-2-large:")
    let config = try #require(ConfigFixtures.load(yaml))
    #expect(config.compat.kreaPaths == [.large: "krea-2-large"])
}

@Test func loader_TreatsEmptyAndNullValuesAsDocumented() throws {
    let yaml = ConfigFixtures.minimal + """
        server:
          public_base_url: "https://gw.example.com"
          max_connections:
        state:
          dir: ""
        metrics:
          bearer_token: "metrics-SECRET"
        teams:
          solo:
        """
    let config = try #require(ConfigFixtures.load(yaml))
    #expect(config.server.publicBaseURL == "https://gw.example.com")
    #expect(config.server.maxConnections == 10_000)  // null → default
    #expect(config.state.isMemoryOnly)
    #expect(config.metrics.bearerToken?.value == "metrics-SECRET")
    #expect(config.team(named: "solo")?.budget == nil)
}

@Test func loader_ReadsFractionalDurationsAndPlaintextKeys() throws {
    let yaml = ConfigFixtures.minimal + """
        server:
          listen: "[::1]:0"
          header_timeout_s: 0.2
          idle_timeout_s: "1.5"
        jobs:
          max_age_s: 0
        webhooks:
          retry_schedule_s: [0.2, 1]
        keys:
          - id: k.1_a
            name: plain
            key: "kgw_PLAINTEXT-abcdefghijklmnopqrstuvwxyz012345"
            webhook_secret: ""
        """
    let config = try #require(ConfigFixtures.load(yaml))
    #expect(config.server.listen == ListenAddress(host: "::1", port: 0))
    #expect(config.server.headerTimeout == .milliseconds(200))
    #expect(config.server.idleTimeout == .milliseconds(1500))
    #expect(config.jobs.maxAge == .zero)
    #expect(config.webhooks.retrySchedule == [.milliseconds(200), .seconds(1)])
    #expect(config.keys.first?.credential == .plaintext(Secret("kgw_PLAINTEXT-abcdefghijklmnopqrstuvwxyz012345")))
    #expect(config.keys.first?.webhookSecret == nil)
    #expect(config.keys.first?.models == nil)
}

@Test func loader_LoadsFromAFile() throws {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("gateway-\(UUID().uuidString).yaml")
    try ConfigFixtures.fullExample.write(to: url, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: url) }
    let config = try ConfigLoader.load(path: url.path, environment: ConfigFixtures.environment)
    #expect(config.models.count == 3)
}

@Test func loader_ReportsAnUnreadableFile() {
    do {
        _ = try ConfigLoader.load(path: "/nonexistent/gateway.yaml", environment: [:])
        Issue.record("expected an error")
    } catch {
        #expect(error.issues.count == 1)
        #expect(error.description.contains("/nonexistent/gateway.yaml"))
    }
}

@Test func loader_ProducesEqualConfigurationsForEqualInputs() throws {
    let first = try #require(ConfigFixtures.load(ConfigFixtures.fullExample))
    let second = try #require(ConfigFixtures.load(ConfigFixtures.fullExample))
    #expect(first == second)
    var changedEnvironment = ConfigFixtures.environment
    changedEnvironment["KREA_API_KEY"] = "rotated"
    let rotated = try #require(ConfigFixtures.load(ConfigFixtures.fullExample, environment: changedEnvironment))
    #expect(first != rotated)
}

/// `server.compression` (API.md §11): gzip on by default from 1,024 bytes; both keys settable;
/// a wrong type or a negative size is reported with its path.
@Test func loader_ReadsServerCompression() throws {
    let defaults = try #require(ConfigFixtures.load(ConfigFixtures.minimal))
    #expect(defaults.server.compression == GatewayConfiguration.Server.Compression(gzip: true, minBytes: 1024))
    let set = try #require(ConfigFixtures.load("server:\n  compression: {gzip: false, min_bytes: 0}\n" + ConfigFixtures.minimal))
    #expect(set.server.compression == GatewayConfiguration.Server.Compression(gzip: false, minBytes: 0))
    let wrong = ConfigFixtures.descriptions("server:\n  compression: {gzip: maybe, min_bytes: -1, level: 9}\n" + ConfigFixtures.minimal)
    #expect(wrong.contains { $0.hasPrefix("server.compression.gzip:") })
    #expect(wrong.contains { $0.hasPrefix("server.compression.min_bytes:") })
    #expect(wrong.contains("server.compression.level: unknown key"))
}

/// `server.body_timeout_s` (CONFIG.md): 60 s by default, settable, a duration like the others.
@Test func loader_ReadsTheBodyTimeout() throws {
    #expect(try #require(ConfigFixtures.load(ConfigFixtures.minimal)).server.bodyTimeout == .seconds(60))
    #expect(try #require(ConfigFixtures.load("server:\n  body_timeout_s: 7.5\n" + ConfigFixtures.minimal)).server.bodyTimeout == .milliseconds(7500))
    #expect(ConfigFixtures.descriptions("server:\n  body_timeout_s: soon\n" + ConfigFixtures.minimal).contains { $0.hasPrefix("server.body_timeout_s:") })
}
