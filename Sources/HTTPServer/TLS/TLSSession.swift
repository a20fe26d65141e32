import COpenSSL

/// One TLS connection over a non-blocking socket (nginx's structure): OpenSSL reads and writes
/// the socket itself (`SSL_set_fd`), and `SSL_ERROR_WANT_READ`/`WANT_WRITE` only say which
/// readiness to wait for. Either direction may want the other: a read that must write first (a
/// TLS 1.3 key update) or a write that must read first; the connection then waits for that
/// readiness and retries. Nothing here blocks or sleeps.
///
/// Owned by one connection and used under its lock only. `@unchecked Sendable` for that reason:
/// an `SSL` is not shared between threads here.
final class TLSSession: @unchecked Sendable {
    private let ssl: OpaquePointer

    /// What a handshake step needs next.
    enum HandshakeStep: Equatable {
        case done
        case wantRead
        case wantWrite
        /// The peer does not speak TLS (plain HTTP on the TLS port), or the handshake failed
        /// (version, certificate, cipher): close.
        case failed
    }

    /// After a read or write that would block: the readiness it waits for.
    private(set) var waitsForWritable = false
    private(set) var waitsForReadable = false
    private var shutdownSent = false

    init?(context: OpaquePointer, fd: Int32) {
        guard let ssl = SSL_new(context) else { return nil }
        self.ssl = ssl
        guard SSL_set_fd(ssl, fd) == 1 else { return nil }
        SSL_set_accept_state(ssl)
    }

    /// A client session to `host`: SNI (for a name), and the peer's certificate verified against
    /// the context's trust and for this host name or IP address.
    init?(context: OpaquePointer, fd: Int32, host: String) {
        guard let ssl = SSL_new(context) else { return nil }
        self.ssl = ssl
        guard SSL_set_fd(ssl, fd) == 1 else { return nil }
        SSL_set_connect_state(ssl)
        // A trailing dot names the same host (`example.com.`); certificates never carry it.
        let name = host.hasSuffix(".") ? String(host.dropLast()) : host
        let bare = name.hasPrefix("[") && name.hasSuffix("]") ? String(name.dropFirst().dropLast()) : name
        // An IP literal is checked against the certificate's IP addresses (`localhost` is a name).
        if name != "localhost", SocketAddress(host: bare, port: 0) != nil {
            guard let parameters = SSL_get0_param(ssl), X509_VERIFY_PARAM_set1_ip_asc(parameters, bare) == 1 else { return nil }
        } else {
            guard kgw_ssl_set_server_name(ssl, name) == 1, SSL_set1_host(ssl, name) == 1 else { return nil }
        }
    }

    deinit { SSL_free(ssl) }

    /// Why the peer's certificate was not accepted (after a failed client handshake), in
    /// OpenSSL's words: `certificate has expired`, `hostname mismatch`, …; `nil` when it was.
    var verificationFailure: String? {
        let result = SSL_get_verify_result(ssl)
        guard result != X509_V_OK else { return nil }
        return String(cString: X509_verify_cert_error_string(result))
    }

    /// Whether the handshake has finished.
    var isEstablished: Bool { SSL_is_init_finished(ssl) == 1 }

    /// The protocol ALPN chose (`http/1.1`), if any.
    var negotiatedProtocol: String? {
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    /// Advances the handshake as far as the socket allows.
    func handshake() -> HandshakeStep {
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        if result == 1 { return .done }
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        default:
            ERR_clear_error()
            return .failed
        }
    }

    /// Decrypted bytes into `buffer`: as a socket read would answer.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        waitsForWritable = false
        ERR_clear_error()
        var count = 0
        if SSL_read_ex(ssl, buffer.baseAddress, buffer.count, &count) == 1 { return .bytes(count) }
        return failure(of: SSL_get_error(ssl, 0), reading: true)
    }

    /// Encrypts and sends what the socket takes: as a socket send would answer.
    func send(_ bytes: UnsafeRawBufferPointer) -> IOResult {
        waitsForReadable = false
        guard !bytes.isEmpty else { return .bytes(0) }
        ERR_clear_error()
        var count = 0
        if SSL_write_ex(ssl, bytes.baseAddress, bytes.count, &count) == 1 { return .bytes(count) }
        return failure(of: SSL_get_error(ssl, 0), reading: false)
    }

    /// Bytes OpenSSL has decrypted and holds (the socket may have none left to signal them).
    var pendingBytes: Int { Int(SSL_pending(ssl)) }

    /// Sends close_notify once, best effort: never waits for the peer's (RFC 8446 §6.1 allows
    /// closing the write side alone), and a socket that would block just misses it.
    func shutdown() {
        guard !shutdownSent, isEstablished else { return }
        shutdownSent = true
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    private func failure(of code: Int32, reading: Bool) -> IOResult {
        switch code {
        case SSL_ERROR_WANT_READ:
            if !reading { waitsForReadable = true }
            return .wouldBlock
        case SSL_ERROR_WANT_WRITE:
            if reading { waitsForWritable = true }
            return .wouldBlock
        case SSL_ERROR_ZERO_RETURN:
            return .endOfStream  // the peer's close_notify
        case SSL_ERROR_SYSCALL:
            ERR_clear_error()
            return .peerGone  // EOF without close_notify, or a reset
        default:
            ERR_clear_error()
            return .peerGone  // a protocol error: the connection cannot go on
        }
    }
}
