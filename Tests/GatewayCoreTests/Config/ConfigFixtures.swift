import GatewayCore
import Testing

/// Configurations shared by the loader tests.
enum ConfigFixtures {
    /// The full example of CONFIG.md, verbatim (comments included).
    static let fullExample = """
    server:
      listen: "0.0.0.0:8080"        # host:port; port 0 picks a free port and the log says which
      public_base_url: ""           # e.g. "https://gateway.example.com"; when set, providers call back here
      max_body_bytes: 1048576
      max_connections: 10000
      header_timeout_s: 10
      idle_timeout_s: 60
      shutdown_grace_s: 25

    state:
      dir: "./data"                 # embedded durable store lives here; "" = memory only (nothing survives a restart)

    admin:
      master_key: "${GATEWAY_MASTER_KEY}"

    providers:                      # name → connection; the name is what models refer to
      krea:
        kind: krea                  # which adapter speaks to it: krea | evolink
        base_url: "https://api.krea.ai"
        api_key: "${KREA_API_KEY}"
        timeout_s: 30               # one upstream HTTP call
        poll_interval_s: 3          # first poll of a running job; backs off from there
      evolink:
        kind: evolink
        base_url: "https://api.evolink.ai"
        api_key: "${EVOLINK_API_KEY}"

    models:                         # the names clients send
      krea-2-medium:
        provider: krea
        upstream_model: "krea-2/medium"     # Krea: the path after /generate/image/krea/
        price:
          base_usd: "0.030"
          rules:                            # first match wins; no match → base_usd
            - if: moodboards                # the request has at least one moodboard
              usd: "0.040"
            - if: image_style_references
              usd: "0.035"
      krea-2-large:
        provider: krea
        upstream_model: "krea-2/large"
        price:
          base_usd: "0.060"
          rules:
            - if: moodboards
              usd: "0.070"
            - if: image_style_references
              usd: "0.065"
      krea-2-turbo:
        provider: evolink
        upstream_model: "krea-2-turbo"      # Evolink: the body's model field
        price:
          base_usd: "0.0067"
          rules:
            - if: {resolution: "2K"}        # a field equal to a value
              usd: "0.027"

    aliases:                        # extra names clients may send
      default: krea-2-medium
      fast: [krea-2-turbo, krea-2-medium]   # a list is a fallback order: the next is tried only when the
                                            # previous provider refused or failed the submission (5xx, 429,
                                            # timeout, connection error) — never after a job was created

    teams:
      design:
        budget: { limit_usd: "100.00", period: monthly }   # daily | weekly | monthly | total

    keys:                           # keys declared here are read-only through the admin API
      - id: design-web
        name: "Design web app"
        team: design
        key_sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"  # or key: "${DESIGN_WEB_KEY}"
        budget: { limit_usd: "20.00", period: daily }
        models: [krea-2-medium, krea-2-turbo, fast]          # omitted = every model
        rpm: 120                                              # omitted = unlimited
        max_concurrent: 20                                    # omitted = unlimited
        webhook_secret: "${DESIGN_WEB_WHSEC}"                 # omitted = webhooks.secret

    jobs:
      max_age_s: 7200               # a job not terminal by then is failed (upstream_timeout) and charged

    webhooks:
      secret: "${GATEWAY_WEBHOOK_SECRET:-}"   # default signing secret, whsec_<base64>
      timeout_s: 10
      retry_schedule_s: [5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800]
      allow_http: false
      allow_private_networks: false
      allowed_hosts: []             # hostnames exempt from the private-network rule

    compat:
      openai_max_wait_s: 120
      krea_paths:                   # Krea-compatible front door: path variant → gateway model
        medium: krea-2-medium
        large: krea-2-large

    logging:
      level: info                   # trace | debug | info | warning | error
      format: json                  # json | text

    metrics:
      enabled: true
      bearer_token: ""
    """
}

extension ConfigFixtures {
    /// A valid `whsec_` secret (base64 of "signing-key-for-tests").
    static let webhookSecret = "whsec_c2lnbmluZy1rZXktZm9yLXRlc3Rz"

    /// The environment the full example needs (GATEWAY_WEBHOOK_SECRET left unset: it has a default).
    static let environment: [String: String] = [
        "GATEWAY_MASTER_KEY": "master-SECRET-1111",
        "KREA_API_KEY": "krea-SECRET-2222",
        "EVOLINK_API_KEY": "evolink-SECRET-3333",
        "DESIGN_WEB_WHSEC": webhookSecret,
    ]

    /// The smallest valid configuration: the three required sections.
    static let minimal = """
        admin:
          master_key: "mk-SECRET-0000"
        providers:
          sim:
            kind: krea
            base_url: "http://127.0.0.1:9999"
            api_key: "sim-SECRET-9999"
        models:
          m1:
            provider: sim
            upstream_model: "krea-2/medium"
            price: { base_usd: "0.03" }

        """

    /// Loads `yaml`, failing the test on any error.
    static func load(
        _ yaml: String, environment: [String: String] = environment,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> GatewayConfiguration? {
        do {
            return try ConfigLoader.parse(yaml: yaml, environment: environment)
        } catch {
            Issue.record("unexpected configuration error:\n\(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    /// The issues loading `yaml` reports, failing the test when it loads.
    static func issues(
        _ yaml: String, environment: [String: String] = environment,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> [ConfigIssue] {
        do {
            _ = try ConfigLoader.parse(yaml: yaml, environment: environment)
            Issue.record("expected a configuration error", sourceLocation: sourceLocation)
            return []
        } catch {
            return error.issues
        }
    }

    /// The issue descriptions (`path: message`) loading `yaml` reports.
    static func descriptions(
        _ yaml: String, environment: [String: String] = environment,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> [String] {
        issues(yaml, environment: environment, sourceLocation: sourceLocation).map(\.description)
    }
}
