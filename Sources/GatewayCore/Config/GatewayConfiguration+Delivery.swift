extension GatewayConfiguration {
    /// `webhooks`: delivery of terminal job events to callers (API.md §5).
    public struct Webhooks: Sendable, Equatable {
        /// `secret`: the default `whsec_<base64>` signing secret; `nil` when empty (the default).
        public var secret: Secret?
        /// `timeout_s`: the deadline of one delivery attempt. Default 10 s.
        public var timeout: Duration
        /// `retry_schedule_s`: waits before each retry (jittered ±10 % by the deliverer); never
        /// empty. Default 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h.
        public var retrySchedule: [Duration]
        /// `allow_http`: whether plain `http://` webhook URLs are accepted. Default `false`.
        public var allowHTTP: Bool
        /// `allow_private_networks`: whether URLs resolving to private addresses are accepted.
        /// Default `false`.
        public var allowPrivateNetworks: Bool
        /// `allowed_hosts`: hostnames exempt from the private-network rule. Default none.
        public var allowedHosts: [String]

        /// The retry schedule CONFIG.md shows, in seconds.
        public static let defaultRetrySchedule: [Duration] =
            [5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800].map { .seconds($0) }

        /// Webhook settings; every parameter defaults as in CONFIG.md.
        public init(
            secret: Secret? = nil,
            timeout: Duration = .seconds(10),
            retrySchedule: [Duration] = Webhooks.defaultRetrySchedule,
            allowHTTP: Bool = false,
            allowPrivateNetworks: Bool = false,
            allowedHosts: [String] = []
        ) {
            self.secret = secret
            self.timeout = timeout
            self.retrySchedule = retrySchedule
            self.allowHTTP = allowHTTP
            self.allowPrivateNetworks = allowPrivateNetworks
            self.allowedHosts = allowedHosts
        }
    }

    /// `compat`: the OpenAI- and Krea-compatible front doors.
    public struct Compat: Sendable, Equatable {
        /// `openai_max_wait_s`: how long the OpenAI-compatible route waits for a job. Default 120 s.
        public var openAIMaxWait: Duration
        /// `krea_paths`: Krea path variant → gateway model or alias. Default `medium` →
        /// `krea-2-medium`, `large` → `krea-2-large` — when the section is omitted the loader keeps
        /// only the defaults whose target exists.
        public var kreaPaths: [KreaVariant: String]

        /// The mapping CONFIG.md shows.
        public static let defaultKreaPaths: [KreaVariant: String] =
            [.medium: "krea-2-medium", .large: "krea-2-large"]

        /// Compat settings; every parameter defaults as in CONFIG.md.
        public init(
            openAIMaxWait: Duration = .seconds(120),
            kreaPaths: [KreaVariant: String] = Compat.defaultKreaPaths
        ) {
            self.openAIMaxWait = openAIMaxWait
            self.kreaPaths = kreaPaths
        }

        /// The path variants of the Krea front door (`/generate/image/krea/krea-2/<variant>`).
        public enum KreaVariant: String, Sendable, Hashable, CaseIterable {
            /// `krea-2/medium`.
            case medium
            /// `krea-2/large`.
            case large
        }
    }
}
