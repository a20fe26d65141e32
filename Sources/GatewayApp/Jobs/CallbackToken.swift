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
