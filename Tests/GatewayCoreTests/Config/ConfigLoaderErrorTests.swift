import Foundation
import GatewayCore
import Testing

/// The full example with one line replaced (the line must exist).
private func example(replacing old: String, with new: String) -> String {
    let yaml = ConfigFixtures.fullExample
    if !yaml.contains(old) { Issue.record("the fixture has no \(old)") }
    return yaml.replacingOccurrences(of: old, with: new)
}

@Test func loader_ReportsAMoneyErrorWithItsFullPath() {
    let yaml = example(replacing: #"usd: "0.035""#, with: #"usd: "0.03x""#)
    #expect(ConfigFixtures.descriptions(yaml) == ["models.krea-2-medium.price.rules[1].usd: not a decimal"])
}

@Test func loader_ReportsEveryErrorWithItsPath() {
    let yaml = """
        server:
          listne: "0.0.0.0:1"
          max_connections: 0
        admin:
          master_key: ""
        providers:
          krea:
            kind: kreaa
            base_url: "ftp://api.krea.ai"
            api_key: "k"
        models:
          a:
            provider: nobody
            upstream_model: x
            price:
              base_usd: "0.0000001"
              rules:
                - if: moodboards
                  usd: "-1"
          b:
            provider: krea
            upstream_model: y
            price: {}
        aliases:
          a: b
          fast: []
          slow: [b, ghost]
        teams:
          t: { budget: { limit_usd: "1", period: yearly } }
        keys:
          - { id: k1, name: one, team: nope, key_sha256: "ABC", rpm: 0, models: [b, ghost] }
          - { id: k1, name: two, key: "x", key_sha256: "y" }
        logging:
          level: verbose
          format: xml
        webhooks:
          retry_schedule_s: []
        compat:
          krea_paths: { small: b, large: ghost }
        """
    let found = ConfigFixtures.descriptions(yaml, environment: [:])
    let expected = [
        "server.listne: unknown key",
        "server.max_connections: must be at least 1",
        "admin.master_key: must not be empty",
        "providers.krea.kind: must be one of krea, evolink (got \"kreaa\")",
        "providers.krea.base_url: must be an http(s) URL",
        "models.a.provider: unknown provider \"nobody\"",
        "models.a.price.base_usd: more than 6 fractional digits",
        "models.a.price.rules[0].usd: must not be negative",
        "models.b.price.base_usd: required",
        "aliases.a: shadows the model of the same name",
        "aliases.fast: must list at least one model",
        "aliases.slow[1]: unknown model \"ghost\"",
        "teams.t.budget.period: must be one of daily, weekly, monthly, total (got \"yearly\")",
        "keys[0].team: unknown team \"nope\"",
        "keys[0].key_sha256: must be 64 lowercase hexadecimal digits",
        "keys[0].models[1]: unknown model or alias \"ghost\"",
        "keys[0].rpm: must be at least 1",
        "keys[1].id: duplicate key id \"k1\"",
        "keys[1]: set only one of key_sha256 and key",
        "webhooks.retry_schedule_s: must list at least one delay",
        "compat.krea_paths.small: unknown Krea path variant (expected medium or large)",
        "compat.krea_paths.large: unknown model or alias \"ghost\"",
        "logging.level: must be one of trace, debug, info, warning, error (got \"verbose\")",
        "logging.format: must be one of json, text (got \"xml\")",
    ]
    #expect(found == expected)
}

@Test func loader_ErrorDescriptionListsOneIssuePerLine() {
    do {
        _ = try ConfigLoader.parse(yaml: "modles: {}\n", environment: [:])
        Issue.record("expected an error")
    } catch {
        #expect(error.description.split(separator: "\n") == [
            "modles: unknown key", "admin.master_key: required", "providers: required", "models: required",
        ])
        #expect(error.hasIssue(at: "providers"))
    }
}

@Test func loader_RequiresMasterKeyProvidersAndModels() {
    #expect(ConfigFixtures.descriptions("") == [
        "admin.master_key: required", "providers: required", "models: required",
    ])
    #expect(ConfigFixtures.descriptions("admin: {}\nproviders: {}\nmodels: {}\n") == [
        "admin.master_key: required",
        "providers: must declare at least one provider",
        "models: must declare at least one model",
    ])
}

@Test(arguments: [
    ("server:\n  listen: \"8080\"\n", "server.listen", "expected host:port or [ipv6]:port with a port from 0 to 65535"),
    ("server:\n  listen: \"[::1]:70000\"\n", "server.listen", "expected host:port or [ipv6]:port with a port from 0 to 65535"),
    ("server:\n  max_body_bytes: 0\n", "server.max_body_bytes", "must be at least 1"),
    ("server:\n  max_body_bytes: 1.5\n", "server.max_body_bytes", "not an integer"),
    ("server:\n  header_timeout_s: -1\n", "server.header_timeout_s", "must not be negative"),
    ("server:\n  idle_timeout_s: 1e3\n", "server.idle_timeout_s", "not a number of seconds"),
    ("server:\n  public_base_url: \"gw.example.com\"\n", "server.public_base_url", "must be an http(s) URL"),
    ("server: [1]\n", "server", "expected a mapping"),
    ("state:\n  dir: [a]\n", "state.dir", "expected a single value"),
    ("webhooks:\n  secret: \"not-a-whsec\"\n", "webhooks.secret", "must be whsec_ followed by base64"),
    ("webhooks:\n  secret: \"whsec_!!!\"\n", "webhooks.secret", "must be whsec_ followed by base64"),
    ("webhooks:\n  retry_schedule_s: [5, -1]\n", "webhooks.retry_schedule_s[1]", "must not be negative"),
    ("webhooks:\n  retry_schedule_s: 5\n", "webhooks.retry_schedule_s", "expected a list"),
    ("webhooks:\n  allow_http: maybe\n", "webhooks.allow_http", "expected true or false"),
    ("jobs:\n  max_age_s: \"two hours\"\n", "jobs.max_age_s", "not a number of seconds"),
    ("teams:\n  t: { budget: { period: daily } }\n", "teams.t.budget.limit_usd", "required"),
    ("teams:\n  t: { budget: { limit_usd: 1e2, period: daily } }\n", "teams.t.budget.limit_usd", "not a decimal"),
    ("keys:\n  - { id: k, name: n }\n", "keys[0]", "one of key_sha256 and key is required"),
    ("keys:\n  - { id: \"a b\", name: n, key: x }\n", "keys[0].id", "may contain only letters, digits, '.', '_' and '-'"),
    ("keys:\n  - { name: n, key: x }\n", "keys[0].id", "required"),
    ("keys:\n  - { id: k, name: n, key: x, max_concurrent: -1 }\n", "keys[0].max_concurrent", "must be at least 1"),
    ("keys:\n  - { id: k, name: n, key: x, webhook_secret: \"whsec_\" }\n", "keys[0].webhook_secret", "must be whsec_ followed by base64"),
    ("keys:\n  - { id: k, name: n, key: x, rmp: 5 }\n", "keys[0].rmp", "unknown key"),
    ("keys:\n  - { id: a, name: n, key: x }\n  - { id: b, name: n, key: x }\n", "keys[1]", "the same key is declared twice"),
    ("keys: { id: k }\n", "keys", "expected a list"),
    ("aliases:\n  x: [m1, m1]\n", "aliases.x[1]", "\"m1\" is listed twice"),
    ("aliases:\n  x: y\n  y: m1\n", "aliases.x", "\"y\" is an alias; alias targets must be models"),
    ("compat:\n  krea_paths: { medium: nowhere }\n", "compat.krea_paths.medium", "unknown model or alias \"nowhere\""),
])
func loader_ReportsEachProblemAtItsPath(extra: String, path: String, message: String) {
    let issues = ConfigFixtures.issues(ConfigFixtures.minimal + extra)
    #expect(issues == [ConfigIssue(path: path, message: message)])
}

@Test(arguments: [
    ("    upstream_model: \"krea-2/medium\"\n", "models.m1.upstream_model", "required"),
    ("    provider: sim\n", "models.m1.provider", "required"),
    ("    kind: krea\n", "providers.sim.kind", "required"),
    ("    api_key: \"sim-SECRET-9999\"\n", "providers.sim.api_key", "required"),
    ("    price: { base_usd: \"0.03\" }\n", "models.m1.price", "required"),
])
func loader_ReportsMissingRequiredFields(line: String, path: String, message: String) {
    let yaml = ConfigFixtures.minimal.replacingOccurrences(of: line, with: "")
    #expect(yaml != ConfigFixtures.minimal)
    #expect(ConfigFixtures.issues(yaml) == [ConfigIssue(path: path, message: message)])
}

@Test(arguments: [
    ("- if: image_style_references\n          usd: \"0.035\"", "- if: [image_style_references]\n          usd: \"0.035\"",
     "models.krea-2-medium.price.rules[1].if", "expected a field name or a one-entry map {field: value}"),
    ("- if: {resolution: \"2K\"}", "- if: {resolution: \"2K\", quality: \"2K\"}",
     "models.krea-2-turbo.price.rules[0].if", "expected a field name or a one-entry map {field: value}"),
    ("- if: {resolution: \"2K\"}", "- if: {resolution: [\"2K\"]}",
     "models.krea-2-turbo.price.rules[0].if.resolution", "expected a single value"),
    ("usd: \"0.027\"", "cost: \"0.027\"", "models.krea-2-turbo.price.rules[0].cost", "unknown key"),
    ("kind: evolink", "kind: openai", "providers.evolink.kind", "must be one of krea, evolink (got \"openai\")"),
    ("rpm: 120", "rpm: many", "keys[0].rpm", "not an integer"),
])
func loader_ReportsPriceRuleAndFieldErrorsInTheExample(old: String, new: String, path: String, message: String) {
    let issues = ConfigFixtures.issues(example(replacing: old, with: new))
    #expect(issues.contains(ConfigIssue(path: path, message: message)), "\(issues)")
    #expect(issues.count == 1 || path.hasSuffix(".cost"), "\(issues)")  // a renamed usd is also "required"
}

@Test func loader_ReportsYAMLSyntaxErrorsWithLineAndColumn() {
    let issues = ConfigFixtures.issues("admin:\n  master_key: [unclosed\nmodels: {}\n")
    #expect(issues.count == 1)
    #expect(issues.first?.path == "")
    #expect(issues.first?.message.contains("line 3") == true, "\(issues)")
    #expect(issues.first?.message.contains("column") == true)
}

@Test func loader_ReportsDuplicateKeysAsAYAMLError() {
    let issues = ConfigFixtures.issues(ConfigFixtures.minimal + "admin:\n  master_key: again\n")
    #expect(issues.count == 1)
    #expect(issues.first?.message.contains("duplicate key \"admin\"") == true, "\(issues)")
}

@Test func loader_RefusesATopLevelThatIsNotAMapping() {
    #expect(ConfigFixtures.descriptions("- a\n- b\n") == ["expected a mapping at the top level"])
}

@Suite("Config price rule fields")
struct ConfigPriceRuleFieldTests {
    @Test func loader_RefusesPriceRulesOnUnknownFields() {
        let yaml = """
            admin: {master_key: "m"}
            providers: {krea: {kind: krea, base_url: "http://127.0.0.1:1", api_key: "k"}}
            models:
              krea-2-medium:
                provider: krea
                upstream_model: "krea-2/medium"
                price:
                  base_usd: "0.030"
                  rules:
                    - {if: mooodboards, usd: "0.040"}
                    - {if: {resolutoin: "2K"}, usd: "0.050"}
            """
        do {
            _ = try ConfigLoader.parse(yaml: yaml, environment: [:])
            Issue.record("a misspelt price rule field must be refused")
        } catch {
            #expect(error.hasIssue(at: "models.krea-2-medium.price.rules[0].if"))
            #expect(error.hasIssue(at: "models.krea-2-medium.price.rules[1].if.resolutoin"))
        }
    }
}
