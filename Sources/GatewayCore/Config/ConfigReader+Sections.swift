import Foundation
import Yams

/// The single-mapping sections: each returns its defaults for what is absent or wrong (the
/// wrong parts are reported, so the result is only used when nothing was).
extension ConfigReader {
    func server(_ node: Node?) -> GatewayConfiguration.Server {
        var server = GatewayConfiguration.Server()
        guard let node, let f = fields(node, at: "server", allowed: [
            "listen", "public_base_url", "max_body_bytes", "max_connections",
            "header_timeout_s", "body_timeout_s", "idle_timeout_s", "shutdown_grace_s", "compression", "tls",
        ]) else { return server }
        if let node = f["listen"], let text = text(node, at: f.path("listen")) {
            if let address = ListenAddress(parsing: text) {
                server.listen = address
            } else {
                report(f.path("listen"), "expected host:port or [ipv6]:port with a port from 0 to 65535")
            }
        }
        if let node = f["public_base_url"], let text = text(node, at: f.path("public_base_url")) {
            if text.isEmpty {
                server.publicBaseURL = nil
            } else if ConfigReader.isHTTPURL(text) {
                server.publicBaseURL = text
            } else {
                report(f.path("public_base_url"), "must be an http(s) URL")
            }
        }
        if let v = f["max_body_bytes"].flatMap({ integer($0, at: f.path("max_body_bytes"), minimum: 1) }) {
            server.maxBodyBytes = v
        }
        if let v = f["max_connections"].flatMap({ integer($0, at: f.path("max_connections"), minimum: 1) }) {
            server.maxConnections = v
        }
        if let v = f["header_timeout_s"].flatMap({ duration($0, at: f.path("header_timeout_s")) }) {
            server.headerTimeout = v
        }
        if let v = f["idle_timeout_s"].flatMap({ duration($0, at: f.path("idle_timeout_s")) }) {
            server.idleTimeout = v
        }
        if let v = f["body_timeout_s"].flatMap({ duration($0, at: f.path("body_timeout_s")) }) {
            server.bodyTimeout = v
        }
        if let v = f["shutdown_grace_s"].flatMap({ duration($0, at: f.path("shutdown_grace_s")) }) {
            server.shutdownGrace = v
        }
        if let node = f["tls"] { server.tls = tls(node, at: f.path("tls")) }
        if let node = f["compression"], let c = fields(node, at: f.path("compression"), allowed: ["gzip", "min_bytes"]) {
            if let v = c["gzip"].flatMap({ bool($0, at: c.path("gzip")) }) { server.compression.gzip = v }
            if let v = c["min_bytes"].flatMap({ integer($0, at: c.path("min_bytes"), minimum: 0) }) { server.compression.minBytes = v }
        }
        return server
    }

    /// `server.tls`: a listener, the chain and key (required), the lowest version, a client CA.
    func tls(_ node: Node, at path: String) -> GatewayConfiguration.Server.TLS? {
        guard let f = fields(node, at: path, allowed: ["listen", "cert_file", "key_file", "min_version", "client_ca_file"]) else { return nil }
        var listen = ListenAddress(host: "0.0.0.0", port: 8443)
        if let node = f["listen"], let text = text(node, at: f.path("listen")) {
            if let address = ListenAddress(parsing: text) {
                listen = address
            } else {
                report(f.path("listen"), "expected host:port or [ipv6]:port with a port from 0 to 65535")
            }
        }
        func file(_ key: String, required: Bool) -> String? {
            guard let node = f[key] else {
                if required { report(f.path(key), "required: the path of a PEM file") }
                return nil
            }
            guard let text = text(node, at: f.path(key)) else { return nil }
            if text.isEmpty {
                if required { report(f.path(key), "required: the path of a PEM file") }
                return nil
            }
            return text
        }
        let certificate = file("cert_file", required: true), key = file("key_file", required: true)
        let clientCA = file("client_ca_file", required: false)
        var minimum = "1.2"
        if let node = f["min_version"], let text = text(node, at: f.path("min_version")) {
            if text == "1.2" || text == "1.3" { minimum = text } else { report(f.path("min_version"), "must be \"1.2\" or \"1.3\"") }
        }
        guard let certificate, let key else { return nil }
        return GatewayConfiguration.Server.TLS(listen: listen, certificateFile: certificate, keyFile: key, minimumVersion: minimum, clientCAFile: clientCA)
    }

    func state(_ node: Node?) -> GatewayConfiguration.State {
        var state = GatewayConfiguration.State()
        guard let node, let f = fields(node, at: "state", allowed: ["dir"]) else { return state }
        if let node = f["dir"], let text = text(node, at: f.path("dir")) {
            state.directory = text.isEmpty ? nil : text
        }
        return state
    }

    /// The master key, or `nil` after reporting it missing, empty or unresolvable.
    func admin(_ node: Node?) -> Secret? {
        let path = "admin.master_key"
        guard let node else {
            report(path, "required")
            return nil
        }
        guard let f = fields(node, at: "admin", allowed: ["master_key"]) else { return nil }
        guard let keyNode = f["master_key"] else {
            report(path, "required")
            return nil
        }
        return nonEmptyText(keyNode, at: path).map { Secret($0) }
    }

    func jobs(_ node: Node?) -> GatewayConfiguration.Jobs {
        var jobs = GatewayConfiguration.Jobs()
        guard let node, let f = fields(node, at: "jobs", allowed: ["max_age_s"]) else { return jobs }
        if let v = f["max_age_s"].flatMap({ duration($0, at: f.path("max_age_s")) }) {
            jobs.maxAge = v
        }
        return jobs
    }

    func webhooks(_ node: Node?) -> GatewayConfiguration.Webhooks {
        var hooks = GatewayConfiguration.Webhooks()
        guard let node, let f = fields(node, at: "webhooks", allowed: [
            "secret", "timeout_s", "retry_schedule_s", "allow_http", "allow_private_networks",
            "allowed_hosts",
        ]) else { return hooks }
        if let node = f["secret"] {
            hooks.secret = webhookSecret(node, at: f.path("secret"))
        }
        if let v = f["timeout_s"].flatMap({ duration($0, at: f.path("timeout_s")) }) {
            hooks.timeout = v
        }
        if let node = f["retry_schedule_s"], let items = sequence(node, at: f.path("retry_schedule_s")) {
            if items.isEmpty {
                report(f.path("retry_schedule_s"), "must list at least one delay")
            }
            let delays = items.enumerated().compactMap { index, item in
                duration(item, at: "\(f.path("retry_schedule_s"))[\(index)]")
            }
            hooks.retrySchedule = delays
        }
        if let v = f["allow_http"].flatMap({ bool($0, at: f.path("allow_http")) }) {
            hooks.allowHTTP = v
        }
        if let v = f["allow_private_networks"].flatMap({ bool($0, at: f.path("allow_private_networks")) }) {
            hooks.allowPrivateNetworks = v
        }
        if let v = f["allowed_hosts"].flatMap({ stringList($0, at: f.path("allowed_hosts")) }) {
            hooks.allowedHosts = v
        }
        return hooks
    }

    func compat(_ node: Node?, names: DeclaredNames) -> GatewayConfiguration.Compat {
        typealias Variant = GatewayConfiguration.Compat.KreaVariant
        var compat = GatewayConfiguration.Compat()
        // Omitted krea_paths: CONFIG.md's mapping, limited to targets this file declares.
        compat.kreaPaths = compat.kreaPaths.filter { names.isModelOrAlias($0.value) }
        guard let node, let f = fields(node, at: "compat", allowed: ["openai_max_wait_s", "krea_paths"])
        else { return compat }
        if let v = f["openai_max_wait_s"].flatMap({ duration($0, at: f.path("openai_max_wait_s")) }) {
            compat.openAIMaxWait = v
        }
        if let node = f["krea_paths"], let entries = entries(node, at: f.path("krea_paths")) {
            var paths: [Variant: String] = [:]
            for (key, value) in entries where !ConfigReader.isNull(value) {
                let path = "\(f.path("krea_paths")).\(key)"
                guard let variant = Variant(rawValue: key) else {
                    report(path, "unknown Krea path variant (expected medium or large)")
                    continue
                }
                guard let target = nonEmptyText(value, at: path) else { continue }
                if names.isModelOrAlias(target) {
                    paths[variant] = target
                } else {
                    report(path, "unknown model or alias \"\(target)\"")
                }
            }
            compat.kreaPaths = paths
        }
        return compat
    }

    func logging(_ node: Node?) -> GatewayConfiguration.Logging {
        typealias Logging = GatewayConfiguration.Logging
        var logging = Logging()
        guard let node, let f = fields(node, at: "logging", allowed: ["level", "format"]) else {
            return logging
        }
        if let v = f["level"].flatMap({ choice($0, at: f.path("level"), of: Logging.Level.self) }) {
            logging.level = v
        }
        if let v = f["format"].flatMap({ choice($0, at: f.path("format"), of: Logging.Format.self) }) {
            logging.format = v
        }
        return logging
    }

    func metrics(_ node: Node?) -> GatewayConfiguration.Metrics {
        var metrics = GatewayConfiguration.Metrics()
        guard let node, let f = fields(node, at: "metrics", allowed: ["enabled", "bearer_token"]) else {
            return metrics
        }
        if let v = f["enabled"].flatMap({ bool($0, at: f.path("enabled")) }) {
            metrics.enabled = v
        }
        if let node = f["bearer_token"], let text = text(node, at: f.path("bearer_token")) {
            metrics.bearerToken = text.isEmpty ? nil : Secret(text)
        }
        return metrics
    }

    // MARK: Formats

    /// A webhook signing secret: empty → `nil`; else `whsec_` followed by non-empty base64.
    func webhookSecret(_ node: Node, at path: String) -> Secret? {
        guard let text = text(node, at: path), !text.isEmpty else { return nil }
        let encoded = text.dropFirst("whsec_".count)
        guard text.hasPrefix("whsec_"), let key = Data(base64Encoded: String(encoded)), !key.isEmpty
        else {
            // The value itself is never echoed: it is a secret.
            report(path, "must be whsec_ followed by base64")
            return nil
        }
        return Secret(text)
    }

    /// Whether `text` is an absolute `http://` or `https://` URL with a host.
    static func isHTTPURL(_ text: String) -> Bool {
        guard let components = URLComponents(string: text),
            let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = components.host, !host.isEmpty
        else { return false }
        return true
    }
}
