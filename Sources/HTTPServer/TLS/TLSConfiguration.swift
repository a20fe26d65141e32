/// What a TLS listener is given (API.md §11): a PEM certificate chain (leaf first) and its PEM
/// key (RSA or ECDSA), the lowest protocol version, and optionally the CA that client
/// certificates must be signed by (mutual TLS).
public struct TLSConfiguration: Sendable, Equatable {
    /// The lowest protocol version accepted.
    public enum MinimumVersion: String, Sendable, Equatable {
        case tls12 = "1.2"
        case tls13 = "1.3"
    }

    /// The PEM certificate chain, leaf first.
    public var certificateChainFile: String
    /// The PEM private key of the leaf certificate. Its content never reaches a log.
    public var privateKeyFile: String
    /// TLS 1.2 by default; 1.0 and 1.1 are never accepted.
    public var minimumVersion: MinimumVersion
    /// When set, clients must present a certificate signed by a CA in this PEM file.
    public var clientCAFile: String?

    /// A configuration; TLS 1.2 and up, no client certificates by default.
    public init(certificateChainFile: String, privateKeyFile: String, minimumVersion: MinimumVersion = .tls12, clientCAFile: String? = nil) {
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
        self.minimumVersion = minimumVersion
        self.clientCAFile = clientCAFile
    }
}

/// Why a TLS context could not be made: which file or step, and OpenSSL's reason. Never holds
/// key material.
public struct TLSError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String

    init(_ what: String) {
        description = what + TLSError.openSSLReasons()
    }
}

/// What an outbound TLS connection trusts (provider and webhook calls): the system's store
/// (`/etc/ssl/certs`, OpenSSL's default paths) or a PEM file of private CAs, and the lowest version.
public struct TLSClientConfiguration: Sendable, Equatable {
    /// PEM CAs to trust instead of the system's (a private CA in tests); `nil`: the system's.
    public var caFile: String?
    /// TLS 1.2 by default.
    public var minimumVersion: TLSConfiguration.MinimumVersion

    /// A configuration that trusts the system's store.
    public init(caFile: String? = nil, minimumVersion: TLSConfiguration.MinimumVersion = .tls12) {
        self.caFile = caFile
        self.minimumVersion = minimumVersion
    }
}
