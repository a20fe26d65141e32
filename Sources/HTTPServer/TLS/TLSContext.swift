#if canImport(Glibc)
import Glibc
#endif
import COpenSSL

/// A server-side OpenSSL context made from a `TLSConfiguration`: the chain and key loaded and
/// checked against each other, TLS 1.2+ (or 1.3+), forward-secret ECDHE suites only for TLS 1.2
/// (TLS 1.3's are all forward secret), no renegotiation, ALPN `http/1.1`, session resumption by
/// tickets and by session id.
///
/// Immutable once made: a reload makes a new one and new connections take it, while open
/// connections keep the one they started with (OpenSSL counts references to it).
/// `@unchecked Sendable`: OpenSSL's `SSL_CTX` is safe to share between threads once configured,
/// and nothing here changes it after `init`.
public final class TLSContext: @unchecked Sendable {
    let context: OpaquePointer

    /// TLS 1.2 suites: ECDHE key exchange with an AEAD cipher only.
    static let tls12Ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
        + "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

    /// Loads and checks everything the configuration names; throws a `TLSError` that says which
    /// file or step failed (never its content).
    public init(configuration: TLSConfiguration) throws(TLSError) {
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_server_method()) else { throw TLSError("cannot create a TLS context") }
        self.context = context
        let minimum = configuration.minimumVersion == .tls13 ? TLS1_3_VERSION : TLS1_2_VERSION
        guard kgw_ssl_ctx_set_min_proto_version(context, minimum) == 1 else { throw TLSError("cannot set the minimum TLS version") }
        guard SSL_CTX_set_cipher_list(context, Self.tls12Ciphers) == 1 else { throw TLSError("cannot set the TLS 1.2 cipher suites") }
        kgw_ssl_ctx_set_server_options(context)
        kgw_ssl_ctx_set_nonblocking_modes(context)
        kgw_ssl_ctx_select_http11(context)
        _ = kgw_ssl_ctx_set_session_cache_mode(context, Int(SSL_SESS_CACHE_SERVER))
        let sessionContext: [UInt8] = Array("krea-gateway".utf8)
        _ = SSL_CTX_set_session_id_context(context, sessionContext, UInt32(sessionContext.count))
        guard SSL_CTX_use_certificate_chain_file(context, configuration.certificateChainFile) == 1 else {
            throw TLSError("cannot read the certificate chain \(configuration.certificateChainFile) (PEM, leaf first)")
        }
        guard SSL_CTX_use_PrivateKey_file(context, configuration.privateKeyFile, SSL_FILETYPE_PEM) == 1 else {
            throw TLSError("cannot read the private key \(configuration.privateKeyFile) (PEM)")
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            throw TLSError("the private key \(configuration.privateKeyFile) does not match the certificate \(configuration.certificateChainFile)")
        }
        if let authority = configuration.clientCAFile {
            guard SSL_CTX_load_verify_locations(context, authority, nil) == 1 else {
                throw TLSError("cannot read the client CA file \(authority) (PEM)")
            }
            // The CA names go to clients in the CertificateRequest, so they pick the right certificate.
            if let names = SSL_load_client_CA_file(authority) { SSL_CTX_set_client_CA_list(context, names) }
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
        }
    }

    /// A client-side context: peers verified against `configuration`'s trust (the system's store
    /// by default), TLS 1.2+, ALPN offering `http/1.1`, sessions kept for resumption.
    public init(client configuration: TLSClientConfiguration) throws(TLSError) {
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw TLSError("cannot create a TLS context") }
        self.context = context
        let minimum = configuration.minimumVersion == .tls13 ? TLS1_3_VERSION : TLS1_2_VERSION
        guard kgw_ssl_ctx_set_min_proto_version(context, minimum) == 1 else { throw TLSError("cannot set the minimum TLS version") }
        guard SSL_CTX_set_cipher_list(context, Self.tls12Ciphers) == 1 else { throw TLSError("cannot set the TLS 1.2 cipher suites") }
        kgw_ssl_ctx_set_nonblocking_modes(context)
        if let file = configuration.caFile {
            guard SSL_CTX_load_verify_locations(context, file, nil) == 1 else { throw TLSError("cannot read the CA file \(file) (PEM)") }
        } else {
            guard SSL_CTX_set_default_verify_paths(context) == 1 else { throw TLSError("cannot load the system's trust store") }
        }
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        let http11: [UInt8] = [8] + Array("http/1.1".utf8)
        guard SSL_CTX_set_alpn_protos(context, http11, UInt32(http11.count)) == 0 else { throw TLSError("cannot set ALPN") }
    }

    deinit { SSL_CTX_free(context) }

    /// A session for one accepted socket.
    func makeSession(fd: Int32) -> TLSSession? { TLSSession(context: context, fd: fd) }

    /// A client session on a connected socket to `host` (a name or an IP literal): the name goes
    /// out as SNI (not for an IP literal, RFC 6066 §3) and the peer's certificate must match it.
    func makeClientSession(fd: Int32, host: String) -> TLSSession? { TLSSession(context: context, fd: fd, host: host) }
}

extension TLSError {
    /// OpenSSL's queued reasons, as `: reason; reason` (empty when it queued none), and the queue cleared.
    static func openSSLReasons() -> String {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            reasons.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return reasons.isEmpty ? "" : ": " + reasons.joined(separator: "; ")
    }
}

/// When the leaf certificate of a PEM chain stops being valid (for `check-config`'s warning).
public enum CertificateValidity {
    /// The `notAfter` of the first certificate in `chainFile`, in Unix seconds.
    public static func notAfter(chainFile: String) throws(TLSError) -> Int64 {
        ERR_clear_error()
        guard let file = fopen(chainFile, "r") else { throw TLSError("cannot open the certificate chain \(chainFile)") }
        defer { fclose(file) }
        guard let certificate = PEM_read_X509(file, nil, nil, nil) else {
            throw TLSError("the certificate chain \(chainFile) holds no PEM certificate")
        }
        defer { X509_free(certificate) }
        var parts = tm()
        guard let time = X509_get0_notAfter(certificate), ASN1_TIME_to_tm(time, &parts) == 1 else {
            throw TLSError("the certificate in \(chainFile) has no readable expiry")
        }
        return Int64(timegm(&parts))
    }
}
