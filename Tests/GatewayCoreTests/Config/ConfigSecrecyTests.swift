import GatewayCore
import Testing

/// Every secret plaintext used below contains this marker.
private let marker = "SECRET"

private let secretsEverywhere = ConfigFixtures.fullExample
    .replacingOccurrences(of: #"bearer_token: """#, with: #"bearer_token: "metrics-SECRET-4444""#)
    .replacingOccurrences(of: "keys:", with: """
        keys:
          - id: plain
            name: Plain
            key: "kgw_SECRET-5555"
            webhook_secret: "whsec_U0VDUkVULTY2NjY="
        """)

private let environment = ConfigFixtures.environment.merging([
    "GATEWAY_WEBHOOK_SECRET": "whsec_U0VDUkVULTc3Nzc=",
]) { $1 }

@Test func configuration_DescriptionContainsNoSecret() throws {
    let config = try #require(ConfigFixtures.load(secretsEverywhere, environment: environment))
    // The fixture really holds the secrets (or this test could not fail).
    #expect(config.metrics.bearerToken?.value == "metrics-SECRET-4444")
    #expect(config.key(id: "plain")?.credential == .plaintext(Secret("kgw_SECRET-5555")))
    #expect(config.webhooks.secret != nil)
    for rendering in [String(describing: config), String(reflecting: config), config.renderResolvedTables()] {
        #expect(!rendering.contains(marker), "\(rendering)")
        #expect(!rendering.contains("whsec_"))
    }
    var dumped = ""
    dump(config, to: &dumped)
    #expect(!dumped.contains(marker))
    #expect(dumped.contains("<redacted>"))
}

@Test func configError_ContainsNoSecret() {
    // Secrets that fail validation, next to valid ones and unrelated errors.
    let yaml = secretsEverywhere
        .replacingOccurrences(of: #"webhook_secret: "whsec_U0VDUkVULTY2NjY=""#,
                              with: #"webhook_secret: "SECRET-not-a-whsec""#)
        .replacingOccurrences(of: "jobs:", with: "jobz:")
    let error: ConfigError
    do {
        _ = try ConfigLoader.parse(
            yaml: yaml, environment: environment.merging(["GATEWAY_WEBHOOK_SECRET": "whsec_SECRET***"]) { $1 })
        Issue.record("expected an error")
        return
    } catch let caught {
        error = caught
    }
    #expect(error.issues.count == 3, "\(error)")
    #expect(!String(describing: error).contains(marker), "\(error)")
    #expect(!String(reflecting: error).contains(marker))
}

@Test func configError_OfASyntaxErrorDoesNotQuoteTheLine() {
    let yaml = "admin:\n  master_key: \"SECRET-unterminated\n"
    let descriptions = ConfigFixtures.descriptions(yaml)
    #expect(descriptions.count == 1)
    #expect(!descriptions.joined().contains(marker), "\(descriptions)")
}
