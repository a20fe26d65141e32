import Crypto
import GatewayCore

/// A gateway key as the request path sees it after authentication.
public struct AuthenticatedKey: Sendable, Equatable {
    /// The key's id (`design-web`, or an admin-created id).
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

/// Resolves bearer tokens to keys by SHA-256 (API.md §1): only hashes are kept.
public struct KeyRing: Sendable {
    private var byHash: [String: AuthenticatedKey] = [:]
    private var teams: [String: GatewayConfiguration.Team] = [:]

    /// The keys declared in the configuration.
    public init(configuration: GatewayConfiguration) {
        for key in configuration.keys {
            let hex: String
            switch key.credential {
            case .plaintext(let secret): hex = Self.sha256Hex(secret.value)
            case .sha256(let digest): hex = digest.lowercased()
            }
            byHash[hex] = AuthenticatedKey(
                id: key.id, team: key.team, allowedModels: key.models.map(Set.init), budget: key.budget,
                limits: RateLimiter.Limits(rpm: key.rpm, maxConcurrent: key.maxConcurrent))
        }
        for team in configuration.teams { teams[team.name] = team }
    }

    /// The budgets a key's requests are held against: its own, then its team's.
    public func applicableBudgets(for key: AuthenticatedKey) -> [ApplicableBudget] {
        var budgets: [ApplicableBudget] = []
        if let budget = key.budget { budgets.append(ApplicableBudget(owner: .key(key.id), budget: budget)) }
        if let team = key.team, let budget = teams[team]?.budget { budgets.append(ApplicableBudget(owner: .team(team), budget: budget)) }
        return budgets
    }

    /// The key for an `Authorization` header value, or `nil` (→ 401 `invalid_api_key`).
    ///
    /// The lookup is by the token's SHA-256, so its timing reveals nothing usable about any stored
    /// key (matching a prefix of a hash does not help find a token).
    public func authenticate(authorization: String?) -> AuthenticatedKey? {
        guard let token = Self.bearerToken(authorization) else { return nil }
        return byHash[Self.sha256Hex(token)]
    }

    /// The token of `Bearer <token>` (scheme case-insensitive, RFC 9110 §11.1).
    static func bearerToken(_ authorization: String?) -> String? {
        guard let authorization, authorization.utf8.count > 7 else { return nil }
        guard authorization.prefix(7).lowercased() == "bearer " else { return nil }
        let token = authorization.dropFirst(7).drop { $0 == " " }
        return token.isEmpty ? nil : String(token)
    }

    /// Lowercase hex SHA-256 of a token's UTF-8.
    static func sha256Hex(_ token: String) -> String {
        Hex.encode(SHA256.hash(data: Array(token.utf8)))
    }
}

/// Lowercase hex encoding.
enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
