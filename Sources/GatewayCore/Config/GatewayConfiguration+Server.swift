extension GatewayConfiguration {
    /// `server`: the listener and the HTTP limits.
    public struct Server: Sendable, Equatable {
        /// `listen`: host and port to bind. Default `0.0.0.0:8080`; port 0 picks a free port.
        public var listen: ListenAddress
        /// `public_base_url`: the gateway's public URL, which providers call back to; `nil` when
        /// empty (the default), and then the gateway polls instead.
        public var publicBaseURL: String?
        /// `max_body_bytes`: the largest request body accepted (413 above). Default 1 MiB.
        public var maxBodyBytes: Int
        /// `max_connections`: open connections at most (503 above). Default 10,000.
        public var maxConnections: Int
        /// `header_timeout_s`: time to receive a request head (408 after). Default 10 s.
        public var headerTimeout: Duration
        /// `idle_timeout_s`: how long an idle keep-alive connection stays open. Default 60 s.
        public var idleTimeout: Duration
        /// `body_timeout_s`: a request body must arrive whole within this, from the end of its
        /// head (408 after). Default 60 s.
        public var bodyTimeout: Duration
        /// `shutdown_grace_s`: time to finish in-flight work after SIGTERM. Default 25 s.
        public var shutdownGrace: Duration
        /// `compression`: gzip for response bodies.
        public var compression: Compression
        /// `tls`: a second listener that speaks TLS; `nil` (the default) for none.
        public var tls: TLS?

        /// `server.tls` (API.md §11).
        public struct TLS: Sendable, Equatable {
            /// `listen`: host and port of the TLS listener. Default `0.0.0.0:8443`.
            public var listen: ListenAddress
            /// `cert_file`: the PEM certificate chain, leaf first. Required.
            public var certificateFile: String
            /// `key_file`: the PEM private key (RSA or ECDSA). Required; never logged.
            public var keyFile: String
            /// `min_version`: `1.2` (default) or `1.3`.
            public var minimumVersion: String
            /// `client_ca_file`: when set, clients need a certificate signed by this CA (mutual TLS).
            public var clientCAFile: String?

            /// TLS settings; the defaults as in CONFIG.md.
            public init(listen: ListenAddress = ListenAddress(host: "0.0.0.0", port: 8443), certificateFile: String, keyFile: String,
                        minimumVersion: String = "1.2", clientCAFile: String? = nil) {
                self.listen = listen
                self.certificateFile = certificateFile
                self.keyFile = keyFile
                self.minimumVersion = minimumVersion
                self.clientCAFile = clientCAFile
            }
        }

        /// `server.compression` (API.md §11).
        public struct Compression: Sendable, Equatable {
            /// `gzip`: compress responses for clients that accept gzip. Default true.
            public var gzip: Bool
            /// `min_bytes`: the smallest body compressed. Default 1,024.
            public var minBytes: Int

            /// Compression settings; the defaults as in CONFIG.md.
            public init(gzip: Bool = true, minBytes: Int = 1024) {
                self.gzip = gzip
                self.minBytes = minBytes
            }
        }

        /// Server settings; every parameter defaults as in CONFIG.md.
        public init(
            listen: ListenAddress = ListenAddress(host: "0.0.0.0", port: 8080),
            publicBaseURL: String? = nil,
            maxBodyBytes: Int = 1_048_576,
            maxConnections: Int = 10_000,
            headerTimeout: Duration = .seconds(10),
            idleTimeout: Duration = .seconds(60),
            bodyTimeout: Duration = .seconds(60),
            shutdownGrace: Duration = .seconds(25),
            compression: Compression = Compression(),
            tls: TLS? = nil
        ) {
            self.listen = listen
            self.publicBaseURL = publicBaseURL
            self.maxBodyBytes = maxBodyBytes
            self.maxConnections = maxConnections
            self.headerTimeout = headerTimeout
            self.idleTimeout = idleTimeout
            self.bodyTimeout = bodyTimeout
            self.shutdownGrace = shutdownGrace
            self.compression = compression
            self.tls = tls
        }
    }

    /// `state`: where the embedded durable store lives.
    public struct State: Sendable, Equatable {
        /// `dir`: the store's directory; `nil` when the file says `""` (memory only: nothing
        /// survives a restart). Default `./data`.
        public var directory: String?

        /// State settings; the directory defaults to `./data`.
        public init(directory: String? = "./data") {
            self.directory = directory
        }

        /// Whether nothing is written to disk.
        public var isMemoryOnly: Bool { directory == nil }
    }

    /// `admin`: operator access to `/admin/*`.
    public struct Admin: Sendable, Equatable {
        /// `master_key`: the operator's bearer token. Required and non-empty.
        public var masterKey: Secret

        /// Admin settings.
        public init(masterKey: Secret) {
            self.masterKey = masterKey
        }
    }

    /// `jobs`: job lifetime.
    public struct Jobs: Sendable, Equatable {
        /// `max_age_s`: a job not terminal by then is failed (`upstream_timeout`) and charged.
        /// Default 7,200 s.
        public var maxAge: Duration

        /// Job settings; the maximum age defaults to 2 hours.
        public init(maxAge: Duration = .seconds(7200)) {
            self.maxAge = maxAge
        }
    }

    /// `logging`: what is logged and how.
    public struct Logging: Sendable, Equatable {
        /// `level`: the least severe level written. Default `info`.
        public var level: Level
        /// `format`: one JSON object per line, or plain text. Default `json`.
        public var format: Format

        /// Logging settings; defaults `info` and `json`.
        public init(level: Level = .info, format: Format = .json) {
            self.level = level
            self.format = format
        }

        /// `logging.level`.
        public enum Level: String, Sendable, CaseIterable {
            /// Everything.
            case trace
            /// Debugging detail.
            case debug
            /// Normal operation (the default).
            case info
            /// Something unexpected that the gateway handled.
            case warning
            /// Something failed.
            case error
        }

        /// `logging.format`.
        public enum Format: String, Sendable, CaseIterable {
            /// JSON lines (the default).
            case json
            /// Human-readable text.
            case text
        }
    }

    /// `metrics`: the Prometheus endpoint.
    public struct Metrics: Sendable, Equatable {
        /// `enabled`: whether `/metrics` is served. Default `true`.
        public var enabled: Bool
        /// `bearer_token`: when set, `/metrics` requires `Authorization: Bearer <token>`;
        /// `nil` when empty (the default).
        public var bearerToken: Secret?

        /// Metrics settings; enabled with no token by default.
        public init(enabled: Bool = true, bearerToken: Secret? = nil) {
            self.enabled = enabled
            self.bearerToken = bearerToken
        }
    }
}
