// The system OpenSSL 3 (Debian: libssl-dev) for the HTTP core's TLS. OpenSSL spells several calls
// as macros over SSL_CTX_ctrl, and its ALPN selection is a C callback: both are written here once,
// as static inline functions Swift can call.
#ifndef KREA_GATEWAY_COPENSSL_H
#define KREA_GATEWAY_COPENSSL_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>

static inline int kgw_ssl_ctx_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

static inline long kgw_ssl_ctx_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}

/// No renegotiation (a client could make the server redo expensive work at will), the server's
/// order of suites, no TLS-level compression (CRIME).
static inline void kgw_ssl_ctx_set_server_options(SSL_CTX *ctx) {
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
}

static inline long kgw_ssl_ctx_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}

static inline int kgw_ssl_session_reused(SSL *ssl) { return (int)SSL_session_reused(ssl); }

/// RFC 7301: the server speaks HTTP/1.1 only; a client that offers ALPN without it gets no
/// protocol rather than a failed handshake (the HTTP layer refuses what it cannot parse).
static int kgw_alpn_select_http11(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                                  const unsigned char *in, unsigned int inlen, void *arg) {
    (void)ssl; (void)arg;
    static const unsigned char http11[] = { 8, 'h', 't', 't', 'p', '/', '1', '.', '1' };
    unsigned char *selected = NULL;
    if (SSL_select_next_proto(&selected, outlen, http11, sizeof(http11), in, inlen) == OPENSSL_NPN_NEGOTIATED) {
        *out = selected;
        return SSL_TLSEXT_ERR_OK;
    }
    return SSL_TLSEXT_ERR_NOACK;
}

static inline void kgw_ssl_ctx_select_http11(SSL_CTX *ctx) {
    SSL_CTX_set_alpn_select_cb(ctx, kgw_alpn_select_http11, NULL);
}

/// The modes every connection needs on a non-blocking socket: `SSL_write` may take part of a
/// buffer, and a retried write may come from a buffer that has moved (a Swift array).
static inline void kgw_ssl_ctx_set_nonblocking_modes(SSL_CTX *ctx) {
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
}

/// SNI (RFC 6066): the host name the client asks for. A macro over SSL_ctrl in OpenSSL.
static inline int kgw_ssl_set_server_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}
#endif
