import GatewayCore
import Testing

/// `minimal` with the master key, the provider's URL and key, and extra sections made of `${…}`.
private let templated = """
    admin:
      master_key: "${MK}"
    providers:
      sim:
        kind: krea
        base_url: "http://${HOST:-127.0.0.1}:${PORT}/v1"
        api_key: "${SIM_KEY:-}"
    models:
      m1:
        provider: sim
        upstream_model: "krea-2/medium"
        price: { base_usd: "${PRICE:-0.0067}" }
    server:
      max_connections: "${MAXC:-50}"
    state:
      dir: "${STATE_DIR:-/var/lib/gw}"

    """

@Test func loader_InterpolatesVariablesAndDefaults() throws {
    let config = try #require(ConfigFixtures.load(templated, environment: ["MK": "mk-SECRET", "PORT": "8081"]))
    #expect(config.admin.masterKey.value == "mk-SECRET")
    #expect(config.provider(named: "sim")?.baseURL == "http://127.0.0.1:8081/v1")
    #expect(config.provider(named: "sim")?.apiKey.value == "")
    #expect(config.model(named: "m1")?.price.base == Money(micros: 6_700))
    #expect(config.server.maxConnections == 50)
    #expect(config.state.directory == "/var/lib/gw")
}

@Test func loader_PrefersTheEnvironmentOverDefaults() throws {
    let environment = [
        "MK": "mk", "PORT": "1", "HOST": "10.0.0.2", "SIM_KEY": "sk", "PRICE": "0.5", "MAXC": "7",
        "STATE_DIR": "",
    ]
    let config = try #require(ConfigFixtures.load(templated, environment: environment))
    #expect(config.provider(named: "sim")?.baseURL == "http://10.0.0.2:1/v1")
    #expect(config.provider(named: "sim")?.apiKey.value == "sk")
    #expect(config.model(named: "m1")?.price.base.micros == 500_000)
    #expect(config.server.maxConnections == 7)
    // `:-` takes the default for a set but empty variable too (shell semantics).
    #expect(config.state.directory == "/var/lib/gw")
}

@Test func loader_UsesAnEmptyVariableAsIsWithoutADefault() {
    // ${MK} set to "" is not "unset": the master key is then empty, which is its own error.
    #expect(ConfigFixtures.descriptions(templated, environment: ["MK": "", "PORT": "1"]) == [
        "admin.master_key: must not be empty",
    ])
}

@Test func loader_NamesEachUnsetVariableWithItsPath() {
    #expect(ConfigFixtures.descriptions(templated, environment: [:]) == [
        "admin.master_key: environment variable MK is not set",
        "providers.sim.base_url: environment variable PORT is not set",
    ])
    let two = ConfigFixtures.minimal + "state:\n  dir: \"${A}/${B}/${A}\"\n"
    #expect(ConfigFixtures.descriptions(two, environment: [:]) == [
        "state.dir: environment variables A, B are not set",
    ])
}

@Test(arguments: ["${}", "${1X}", "${A", "${A-b}", "${A:b}", "${ A }"])
func loader_RefusesMalformedInterpolation(reference: String) {
    let yaml = ConfigFixtures.minimal + "state:\n  dir: \"x\(reference)y\"\n"
    #expect(ConfigFixtures.descriptions(yaml, environment: ["A": "a"]) == [
        "state.dir: malformed ${…}: expected ${NAME} or ${NAME:-default}",
    ])
}

@Test func loader_KeepsADollarThatStartsNoReference() throws {
    let yaml = ConfigFixtures.minimal + "state:\n  dir: \"$HOME/a$b{c}$\"\n"
    #expect(ConfigFixtures.load(yaml)?.state.directory == "$HOME/a$b{c}$")
}

@Test func loader_IgnoresUnsetVariablesOfAProviderNoModelUses() throws {
    let yaml = ConfigFixtures.minimal.replacingOccurrences(of: "models:", with: """
          spare:
            kind: evolink
            base_url: "${SPARE_URL}"
            api_key: "${SPARE_KEY}"
        models:
        """)
    let config = try #require(ConfigFixtures.load(yaml, environment: [:]))
    // The spare provider cannot be built without its variables; being unused, it is left out.
    #expect(config.providers.map(\.name) == ["sim"])

    let withSpare = try #require(ConfigFixtures.load(yaml, environment: ["SPARE_URL": "https://e.x", "SPARE_KEY": "k"]))
    #expect(withSpare.providers.map(\.name) == ["sim", "spare"])

    // Once a model uses it, the variables are required.
    let used = yaml + "  m2:\n    provider: spare\n    upstream_model: t\n    price: { base_usd: 1 }\n"
    #expect(ConfigFixtures.descriptions(used, environment: [:]) == [
        "providers.spare.base_url: environment variable SPARE_URL is not set",
        "providers.spare.api_key: environment variable SPARE_KEY is not set",
    ])
}

@Test func loader_StillReportsOtherErrorsOfAnUnusedProvider() {
    let yaml = ConfigFixtures.minimal.replacingOccurrences(of: "models:", with: """
          spare:
            kind: bogus
            base_url: "${SPARE_URL}"
            api_key: "${SPARE_KEY}"
            timeout: 5
        models:
        """)
    #expect(ConfigFixtures.descriptions(yaml, environment: [:]) == [
        "providers.spare.timeout: unknown key",
        "providers.spare.kind: must be one of krea, evolink (got \"bogus\")",
    ])
}

@Test func loader_DoesNotExemptUnsetVariablesOutsideProviders() {
    let yaml = ConfigFixtures.minimal + "webhooks:\n  secret: \"${WH}\"\n"
    #expect(ConfigFixtures.descriptions(yaml, environment: [:]) == [
        "webhooks.secret: environment variable WH is not set",
    ])
}
