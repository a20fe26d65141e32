import GatewayCore
import HTTPServer

/// Who sends a request, from its `Authorization: Bearer` header: the operator (master key) or a
/// gateway key. Every front door asks it; each renders a refusal in its own shape.
struct Authenticator: Sendable {
    let keys: KeyRing
    let masterKey: String

    /// The caller, or `nil` when the token is missing or unknown. Notes the key id for the access log.
    func caller(_ request: HTTPRequest) -> Caller? {
        guard let token = KeyRing.bearerToken(request.headers["authorization"]) else { return nil }
        if ConstantTime.equals(token, masterKey) {
            RequestLog.current?.keyID = "admin"
            return .master
        }
        let key = keys.authenticate(token: token)
        if let key { RequestLog.current?.keyID = key.id }
        return key.map(Caller.key)
    }

    /// A gateway key: 401 without a valid token, 403 `key_required` for the master key (it reads
    /// jobs through `/admin`).
    func requireKey(_ request: HTTPRequest) -> Result<AuthenticatedKey, APIError> {
        switch caller(request) {
        case .key(let key): return .success(key)
        case .master:
            return .failure(APIError(
                status: 403, kind: .permission, code: "key_required", message: "this route takes a gateway key; the master key reads jobs through /admin"))
        case .none: return .failure(.invalidAPIKey())
        }
    }
}
