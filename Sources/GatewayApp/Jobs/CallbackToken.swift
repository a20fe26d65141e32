import Crypto
import GatewayCore

/// The unguessable token in a provider callback URL (API.md §6): HMAC-SHA256 of the job id under a
/// key derived from the master key, so it survives restarts and cannot be forged without it.
struct CallbackToken: Sendable {
    private let key: SymmetricKey

    init(masterKey: String) {
        let derived = HMAC<SHA256>.authenticationCode(for: Array("krea-gateway provider callback tokens v1".utf8), using: SymmetricKey(data: Array(masterKey.utf8)))
        key = SymmetricKey(data: Array(derived))
    }

    /// The token for a job: 32 hex digits (128 bits).
    func token(for jobID: String) -> String {
        String(Hex.encode(HMAC<SHA256>.authenticationCode(for: Array(jobID.utf8), using: key)).prefix(32))
    }

    /// Constant-time check of a presented token.
    func verify(_ presented: String, for jobID: String) -> Bool {
        ConstantTime.equals(token(for: jobID), presented)
    }
}

/// Where a provider calls back about a job (API.md §6):
/// `{server.public_base_url}/v1/provider-callbacks/{id}/{token}`, or nowhere when no public base
/// URL is configured (the job is then followed by polling alone).
struct CallbackRoute: Sendable {
    static let pathPrefix = "/v1/provider-callbacks"

    /// The base URL without a trailing slash.
    let publicBaseURL: String?
    let tokens: CallbackToken

    init(publicBaseURL: String?, tokens: CallbackToken) {
        self.publicBaseURL = publicBaseURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.tokens = tokens
    }

    /// The callback URL for a job.
    func url(for jobID: String) -> String? {
        publicBaseURL.map { "\($0)\(Self.pathPrefix)/\(jobID)/\(tokens.token(for: jobID))" }
    }
}
