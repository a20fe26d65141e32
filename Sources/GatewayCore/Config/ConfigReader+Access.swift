import Yams

/// `teams` and `keys`.
extension ConfigReader {
    func teams(_ node: Node?) -> [Config.Team] {
        guard let node, let entries = entries(node, at: "teams") else { return [] }
        var result: [Config.Team] = []
        for (name, value) in entries {
            let path = "teams.\(name)"
            if ConfigReader.isNull(value) {
                result.append(Config.Team(name: name))
                continue
            }
            guard let f = fields(value, at: path, allowed: ["budget"]) else { continue }
            let budget = f["budget"].map { self.budget($0, at: f.path("budget")) }
            if case .some(nil) = budget { continue }  // present but wrong: reported
            result.append(Config.Team(name: name, budget: budget ?? nil))
        }
        return result
    }

    /// `{limit_usd, period}`, both required.
    func budget(_ node: Node, at path: String) -> Config.Budget? {
        guard let f = fields(node, at: path, allowed: ["limit_usd", "period"]) else { return nil }
        let limit = required(f, "limit_usd") { money($0, at: $1) }
        let period = required(f, "period") { choice($0, at: $1, of: Config.Budget.Period.self) }
        guard let limit, let period else { return nil }
        return Config.Budget(limit: limit, period: period)
    }

    func keys(_ node: Node?, names: DeclaredNames) -> [Config.Key] {
        guard let node, let items = sequence(node, at: "keys") else { return [] }
        var result: [Config.Key] = []
        var seenIDs: Set<String> = []
        var seenCredentials: Set<Config.Key.Credential> = []
        for (index, item) in items.enumerated() {
            let path = "keys[\(index)]"
            guard let f = fields(item, at: path, allowed: [
                "id", "name", "team", "key_sha256", "key", "budget", "models", "rpm",
                "max_concurrent", "webhook_secret",
            ]) else { continue }
            var complete = true
            /// Reads an optional field; a present but bad value marks the key incomplete.
            func optional<Value>(_ key: String, _ read: (Node, String) -> Value?) -> Value? {
                guard let node = f[key] else { return nil }
                let value = read(node, f.path(key))
                if value == nil { complete = false }
                return value
            }

            let id = required(f, "id") { node, path -> String? in
                guard let id = nonEmptyText(node, at: path) else { return nil }
                guard ConfigReader.isKeyID(id) else {
                    report(path, "may contain only letters, digits, '.', '_' and '-'")
                    return nil
                }
                guard seenIDs.insert(id).inserted else {
                    report(path, "duplicate key id \"\(id)\"")
                    return nil
                }
                return id
            }
            let name = required(f, "name") { nonEmptyText($0, at: $1) }
            let team = optional("team") { node, path -> String? in
                guard let team = nonEmptyText(node, at: path) else { return nil }
                guard names.teams.contains(team) else {
                    report(path, "unknown team \"\(team)\"")
                    return nil
                }
                return team
            }
            let credential = keyCredential(f, at: path)
            if let credential, !seenCredentials.insert(credential).inserted {
                // Never echo the credential itself.
                report(path, "the same key is declared twice")
                complete = false
            }
            let budget = optional("budget") { self.budget($0, at: $1) }
            let models = optional("models") { node, path -> [String]? in
                guard let list = stringList(node, at: path) else { return nil }
                var ok = true
                for (i, model) in list.enumerated() where !names.isModelOrAlias(model) {
                    report("\(path)[\(i)]", "unknown model or alias \"\(model)\"")
                    ok = false
                }
                return ok ? list : nil
            }
            let rpm = optional("rpm") { integer($0, at: $1, minimum: 1) }
            let maxConcurrent = optional("max_concurrent") { integer($0, at: $1, minimum: 1) }
            let webhookSecret = optional("webhook_secret") { node, path -> Secret?? in
                // Present but empty means "use webhooks.secret", like omitting it.
                guard let text = text(node, at: path) else { return nil }
                if text.isEmpty { return .some(nil) }
                guard let secret = self.webhookSecret(node, at: path) else { return nil }
                return .some(secret)
            }
            guard complete, let id, let name, let credential else { continue }
            result.append(Config.Key(
                id: id, name: name, team: team, credential: credential, budget: budget,
                models: models, rpm: rpm, maxConcurrent: maxConcurrent,
                webhookSecret: webhookSecret ?? nil))
        }
        return result
    }

    /// Exactly one of `key_sha256` (64 lowercase hex digits) and `key` (plaintext, non-empty).
    func keyCredential(_ f: Fields, at path: String) -> Config.Key.Credential? {
        switch (f["key_sha256"], f["key"]) {
        case (let hashNode?, nil):
            guard let hex = text(hashNode, at: f.path("key_sha256")) else { return nil }
            let isLowerHex = hex.utf8.count == 64
                && hex.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
            guard isLowerHex else {
                report(f.path("key_sha256"), "must be 64 lowercase hexadecimal digits")
                return nil
            }
            return .sha256(hex: hex)
        case (nil, let keyNode?):
            return nonEmptyText(keyNode, at: f.path("key")).map { .plaintext(Secret($0)) }
        case (.some, .some):
            report(path, "set only one of key_sha256 and key")
            return nil
        case (nil, nil):
            report(path, "one of key_sha256 and key is required")
            return nil
        }
    }

    /// Key ids appear in admin URLs (`/admin/keys/{id}`): letters, digits, `.`, `_`, `-`.
    static func isKeyID(_ id: String) -> Bool {
        id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
    }
}
