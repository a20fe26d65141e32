import Crypto
import GatewayCore
import HTTPServer
import Synchronization

/// A gateway key as the request path sees it after authentication.
public struct AuthenticatedKey: Sendable, Equatable {
    /// The key's id (`design-web`, or an admin-created `key_…`).
    public var id: String
    /// Its team, if any.
    public var team: String?
    /// Models and aliases it may use; `nil` = every model.
    public var allowedModels: Set<String>?
    /// The key's own budget.
    public var budget: GatewayConfiguration.Budget?
    /// `rpm` and `max_concurrent`.
    public var limits: RateLimiter.Limits = RateLimiter.Limits(rpm: nil, maxConcurrent: nil)
}

extension KeyRecord {
    var authenticated: AuthenticatedKey {
        AuthenticatedKey(id: id, team: team, allowedModels: models.map(Set.init), budget: budget,
                         limits: RateLimiter.Limits(rpm: rpm, maxConcurrent: maxConcurrent))
    }
}

/// Keys and teams (API.md §1, §9): bearer tokens resolve by SHA-256; only hashes are kept.
/// Config-declared entries are loaded at start; the admin API adds, changes and revokes others.
public final class KeyRing: Sendable {
    private struct State: ~Copyable {
        var keys: [String: KeyRecord] = [:]
        var idByHash: [String: String] = [:]
        var teams: [String: TeamRecord] = [:]
    }

    private let state = Mutex(State())

    /// The keys and teams declared in the configuration.
    public init(configuration: GatewayConfiguration) {
        _ = try? replaceConfigured(from: configuration)
    }

    /// Swaps in the keys and teams of a (reloaded) configuration, atomically: the old config
    /// entries go, admin-created ones stay. Refused — nothing changes — when the file would take
    /// an admin-created key's id or token, or an admin-created team's name, or drop a team that
    /// admin-created keys belong to; the reasons are thrown.
    func replaceConfigured(from configuration: GatewayConfiguration) throws(ConflictList) {
        let now = Timestamp.now()
        var teams: [String: TeamRecord] = [:]
        for team in configuration.teams {
            teams[team.name] = TeamRecord(name: team.name, budget: team.budget, createdAt: now, source: .config)
        }
        var keys: [String: KeyRecord] = [:]
        for key in configuration.keys {
            let hex: String
            switch key.credential {
            case .plaintext(let secret): hex = Self.sha256Hex(secret.value)
            case .sha256(let digest): hex = digest.lowercased()
            }
            keys[key.id] = KeyRecord(
                id: key.id, name: key.name, team: key.team, sha256Hex: hex, budget: key.budget, models: key.models,
                rpm: key.rpm, maxConcurrent: key.maxConcurrent, webhookSecret: key.webhookSecret, createdAt: now, source: .config)
        }
        try state.withLock { (state: inout State) throws(ConflictList) in
            var conflicts: [String] = []
            let adminKeys = state.keys.values.filter { $0.source == .admin }
            let adminTeams = state.teams.values.filter { $0.source == .admin }
            for key in adminKeys {
                if keys[key.id] != nil { conflicts.append("keys: id \(key.id) is an admin-created key") }
                if keys.values.contains(where: { $0.sha256Hex == key.sha256Hex }) { conflicts.append("keys: a key's token is admin-created key \(key.id)'s") }
                if let team = key.team, key.revokedAt == nil, teams[team] == nil, !adminTeams.contains(where: { $0.name == team }) {
                    conflicts.append("teams: \(team) is used by admin-created key \(key.id)")
                }
            }
            for team in adminTeams where teams[team.name] != nil { conflicts.append("teams: \(team.name) is an admin-created team") }
            guard conflicts.isEmpty else { throw ConflictList(conflicts: conflicts.sorted()) }
            // Keep when a config entry was first seen, so `created_at` does not move on reload.
            for id in Array(keys.keys) {
                if let old = state.keys[id], old.source == .config { keys[id]?.createdAt = old.createdAt }
            }
            for name in Array(teams.keys) {
                if let old = state.teams[name], old.source == .config { teams[name]?.createdAt = old.createdAt }
            }
            state.keys = state.keys.filter { $0.value.source == .admin }.merging(keys) { _, new in new }
            state.teams = state.teams.filter { $0.value.source == .admin }.merging(teams) { _, new in new }
            state.idByHash = Dictionary(state.keys.values.map { ($0.sha256Hex, $0.id) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// Why a reloaded configuration's keys or teams cannot be taken.
    struct ConflictList: Error, CustomStringConvertible {
        let conflicts: [String]
        var description: String { conflicts.joined(separator: "; ") }
    }

    /// Puts back admin-created keys and teams read from the durable store (start-up). An entry
    /// whose id (or token hash) the configuration now declares is skipped: its id is returned.
    func restore(keys: [KeyRecord], teams: [TeamRecord]) -> [String] {
        state.withLock { state in
            var ignored: [String] = []
            for team in teams {
                guard state.teams[team.name] == nil else { ignored.append(team.name); continue }
                state.teams[team.name] = team
            }
            for key in keys {
                guard state.keys[key.id] == nil, state.idByHash[key.sha256Hex] == nil else { ignored.append(key.id); continue }
                state.keys[key.id] = key
                state.idByHash[key.sha256Hex] = key.id
            }
            return ignored
        }
    }

    /// Removes an admin-created key again (its creation could not be recorded).
    func remove(id: String) {
        state.withLock { state in
            guard let record = state.keys.removeValue(forKey: id) else { return }
            state.idByHash[record.sha256Hex] = nil
        }
    }

    /// The key for a bearer token (taken out of `Authorization` by ``bearerToken(_:)``), or `nil`
    /// (→ 401 `invalid_api_key`): unknown or revoked. The lookup is by the token's SHA-256, so its
    /// timing reveals nothing usable about any stored key.
    public func authenticate(token: String) -> AuthenticatedKey? {
        let hex = Self.sha256Hex(token)
        return state.withLock { state in
            guard let id = state.idByHash[hex], let record = state.keys[id], record.revokedAt == nil else { return nil }
            return record.authenticated
        }
    }

    /// The budgets a key's requests are held against: its own, then its team's.
    public func applicableBudgets(for key: AuthenticatedKey) -> [ApplicableBudget] {
        var budgets: [ApplicableBudget] = []
        if let budget = key.budget { budgets.append(ApplicableBudget(owner: .key(key.id), budget: budget)) }
        if let team = key.team, let budget = state.withLock({ $0.teams[team]?.budget }) {
            budgets.append(ApplicableBudget(owner: .team(team), budget: budget))
        }
        return budgets
    }

    // MARK: Records

    public func key(id: String) -> KeyRecord? { state.withLock { $0.keys[id] } }
    public func team(name: String) -> TeamRecord? { state.withLock { $0.teams[name] } }
    public var allKeys: [KeyRecord] { state.withLock { $0.keys.values.sorted { $0.id < $1.id } } }
    public var allTeams: [TeamRecord] { state.withLock { $0.teams.values.sorted { $0.name < $1.name } } }

    /// Adds an admin-created key; returns `false` if the id or the token hash is taken.
    func insert(_ record: KeyRecord) -> Bool {
        state.withLock { state in
            guard state.keys[record.id] == nil, state.idByHash[record.sha256Hex] == nil else { return false }
            state.keys[record.id] = record
            state.idByHash[record.sha256Hex] = record.id
            return true
        }
    }

    /// Replaces a key's record (the hash never changes).
    func update(_ record: KeyRecord) {
        state.withLock { $0.keys[record.id] = record }
    }

    /// Adds or replaces a team.
    func upsert(_ team: TeamRecord) {
        state.withLock { $0.teams[team.name] = team }
    }

    /// Removes a team; refuses (returns the key ids) while keys still belong to it.
    func removeTeam(name: String) -> [String] {
        state.withLock { state in
            let members = state.keys.values.filter { $0.team == name && $0.revokedAt == nil }.map(\.id).sorted()
            if members.isEmpty { state.teams[name] = nil }
            return members
        }
    }

    // MARK: Tokens

    /// The token of `Bearer <token>` (scheme case-insensitive, RFC 9110 §11.1).
    static func bearerToken(_ authorization: String?) -> String? {
        guard let utf8 = authorization?.utf8, utf8.count > 7 else { return nil }
        // Compared on bytes, ASCII case folded: no Character breaking.
        guard HTTPHeaders.namesEqual(utf8.prefix(7), "bearer ".utf8) else { return nil }
        let token = utf8.dropFirst(7).drop { $0 == 0x20 }
        return token.isEmpty ? nil : String(Substring(token))
    }

    /// Lowercase hex SHA-256 of a token's UTF-8.
    static func sha256Hex(_ token: String) -> String {
        var token = token
        return token.withUTF8 { Hex.encode(SHA256.hash(data: UnsafeRawBufferPointer($0))) }
    }
}

/// Lowercase hex encoding.
enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
