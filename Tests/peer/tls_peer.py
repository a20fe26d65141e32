"""TLS on the real binary (API.md §11) against clients no one here wrote: curl over HTTP/1.1, Python's
ssl module (TLS 1.2 and 1.3, a TLS 1.1 client refused, ALPN, session resumption), openssl s_client
(ALPN, resumption), h11 over TLS (keep-alive and pipelining), plain HTTP on the TLS port, a
handshake that never finishes, a reload that swaps the certificate under an open keep-alive
connection, a reload with a mismatched pair refused, and mutual TLS. Certificates are made here at
test time with the `cryptography` package; no key is committed.

Run: python3 tls_peer.py BINARY   (prints 'N passed, N failed', exits 1 on a failure)"""
import datetime
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

import h11
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from gateway_process import DemoGateway
from peer_checks import check, free_port, results

MASTER = "demo-master-key"


def write_key(key, path):
    with open(path, "wb") as file:
        file.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def write_cert(cert, path):
    with open(path, "wb") as file:
        file.write(cert.public_bytes(serialization.Encoding.PEM))


def make_ca(name):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def make_leaf(ca_key, ca_cert, key, name, server=True, days=2):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
               .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=max(1, -days + 1))).not_valid_after(now + datetime.timedelta(days=days)))
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                                     x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]),
                                        critical=False)
        builder = builder.add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    else:
        builder = builder.add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


def client_context(ca_path, minimum=ssl.TLSVersion.TLSv1_2, maximum=ssl.TLSVersion.MAXIMUM_SUPPORTED, alpn=("http/1.1",)):
    context = ssl.create_default_context(cafile=ca_path)
    context.minimum_version = minimum
    context.maximum_version = maximum
    if alpn:
        context.set_alpn_protocols(list(alpn))
    return context


def tls_get(port, context, path="/healthz", session=None, headers=None):
    """One GET over a new TLS connection; returns (status, body, ssl socket facts)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost", session=session) as tls:
            request = "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" % path
            for name, value in (headers or {}).items():
                request += "%s: %s\r\n" % (name, value)
            tls.sendall((request + "\r\n").encode())
            data = b""
            while True:
                chunk = tls.recv(65536)
                if not chunk:
                    break
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            status = int(head.split(b" ")[1]) if head else 0
            return status, body, {"version": tls.version(), "alpn": tls.selected_alpn_protocol(), "session": tls.session,
                                  "reused": tls.session_reused, "cert": tls.getpeercert(binary_form=True)}


def h11_exchange(tls, requests):
    """Sends `requests` pipelined (all their bytes at once) on one connection and reads one answer
    each with h11. An h11 client sends one request per cycle, so the request bytes are written by
    hand and h11 is told of each request only as its answer is read."""
    tls.sendall(b"".join(b"GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % target.encode() for target in requests))
    connection = h11.Connection(h11.CLIENT)
    answers = []
    for target in requests:
        connection.send(h11.Request(method="GET", target=target, headers=[("Host", "localhost")]))
        connection.send(h11.EndOfMessage())
        status = None
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA:
                chunk = tls.recv(65536)
                if not chunk:
                    return answers
                connection.receive_data(chunk)
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.EndOfMessage):
                answers.append(status)
                connection.start_next_cycle()
                break
    return answers


def start(binary, directory, tls_yaml, name):
    tls_port = free_port()
    gateway = DemoGateway(binary, os.path.join(directory, name + ".yaml"), edit=lambda text: text.replace(
        "server:\n", "server:\n  header_timeout_s: 2\n  tls: {listen: \"127.0.0.1:%d\", %s}\n" % (tls_port, tls_yaml), 1))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", tls_port), timeout=1):
                return gateway, tls_port
        except OSError:
            if gateway.process.poll() is not None:
                break
            time.sleep(0.1)
    gateway.stop()
    sys.exit("the TLS gateway did not start:\n" + "".join(gateway.log[-30:]))


def admin_reload(port):
    import http.client
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("POST", "/admin/reload", headers={"Authorization": "Bearer " + MASTER})
    response = connection.getresponse()
    return response.status, json.loads(response.read())


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as directory:
        path = lambda name: os.path.join(directory, name)
        ca_key, ca_cert = make_ca("krea-gateway test CA")
        write_cert(ca_cert, path("ca.pem"))
        ec_key = ec.generate_private_key(ec.SECP256R1())
        write_key(ec_key, path("ec-key.pem"))
        write_cert(make_leaf(ca_key, ca_cert, ec_key, "localhost"), path("ec-cert.pem"))
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        write_key(rsa_key, path("rsa-key.pem"))
        write_cert(make_leaf(ca_key, ca_cert, rsa_key, "localhost"), path("rsa-cert.pem"))
        # The files the gateway reads; a reload re-reads them in place.
        shutil.copy(path("ec-cert.pem"), path("cert.pem"))
        shutil.copy(path("ec-key.pem"), path("key.pem"))

        gateway, port = start(binary, directory, "cert_file: %s, key_file: %s" % (path("cert.pem"), path("key.pem")), "tls")
        try:
            modern = client_context(path("ca.pem"))
            status, body, facts = tls_get(port, modern)
            check("GET /healthz over TLS (Python ssl, ECDSA P-256)", status == 200 and json.loads(body) == {"status": "ok"}, (status, body))
            check("TLS 1.3 by default", facts["version"] == "TLSv1.3", facts["version"])
            check("ALPN http/1.1", facts["alpn"] == "http/1.1", facts["alpn"])
            status, _, facts = tls_get(port, client_context(path("ca.pem"), maximum=ssl.TLSVersion.TLSv1_2))
            check("a TLS 1.2 client is served", status == 200 and facts["version"] == "TLSv1.2", facts["version"])
            status, _, facts = tls_get(port, client_context(path("ca.pem"), alpn=("h2",)))
            check("a client offering only h2 gets no ALPN protocol, and HTTP/1.1 still works", status == 200 and facts["alpn"] is None, facts)
            old = client_context(path("ca.pem"), minimum=ssl.TLSVersion.TLSv1_1, maximum=ssl.TLSVersion.TLSv1_1)
            old.set_ciphers("DEFAULT:@SECLEVEL=0")
            try:
                tls_get(port, old)
                check("a TLS 1.1 client fails the handshake", False, "it was served")
            except (ssl.SSLError, ConnectionError) as error:
                check("a TLS 1.1 client fails the handshake", True)
            # Session resumption, TLS 1.2 (session id / ticket) and TLS 1.3 (ticket).
            for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
                context = client_context(path("ca.pem"), minimum=version, maximum=version)
                _, _, first = tls_get(port, context)
                _, _, again = tls_get(port, context, session=first["session"])
                check("session resumption over %s" % version.name, again["reused"], again)
            # curl as the client.
            output = subprocess.run(["curl", "-sS", "--http1.1", "--cacert", path("ca.pem"), "-H", "Accept-Encoding: gzip",
                                     "--compressed", "-w", "\n%{http_code} %{http_version} %{ssl_verify_result}",
                                     "https://localhost:%d/openapi.json" % port], capture_output=True, text=True, timeout=20)
            body, _, tail = output.stdout.rpartition("\n")
            check("curl --http1.1 over TLS, gzip on top: a verified 200 with the whole document",
                  tail == "200 1.1 0" and json.loads(body).get("openapi", "").startswith("3."), (tail, output.stderr[-300:]))
            # openssl s_client: ALPN and a resumed session.
            sess = path("session.pem")
            first = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-servername", "localhost", "-alpn", "http/1.1",
                                    "-CAfile", path("ca.pem"), "-tls1_2", "-sess_out", sess], input="", capture_output=True, text=True, timeout=20)
            again = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-servername", "localhost", "-alpn", "http/1.1",
                                    "-CAfile", path("ca.pem"), "-tls1_2", "-sess_in", sess], input="", capture_output=True, text=True, timeout=20)
            check("openssl s_client: ALPN protocol http/1.1, verified", "ALPN protocol: http/1.1" in first.stdout
                  and "Verify return code: 0 (ok)" in first.stdout, first.stdout[-600:])
            check("openssl s_client: the saved session is reused", "Reused, TLSv1.2" in again.stdout, again.stdout[-600:])
            check("openssl s_client: forward-secret ECDHE suite", "ECDHE" in first.stdout, first.stdout[-600:])
            # h11 over TLS: keep-alive and pipelining, answered in order.
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
                with modern.wrap_socket(raw, server_hostname="localhost") as tls:
                    check("h11 over TLS: three requests one after another on one connection",
                          [h11_exchange(tls, ["/healthz"])[0] for _ in range(3)] == [200, 200, 200])
                    check("h11 over TLS: three pipelined requests answered in order",
                          h11_exchange(tls, ["/healthz", "/nope", "/readyz"]) == [200, 404, 200])
                    # A body larger than one TLS record each way.
                    big = json.dumps({"model": "krea-2-medium", "prompt": "x" * 300_000}).encode()
                    tls.sendall(b"POST /v1/generations HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer kgw_demo_0123456789abcdef0123456789abcdef\r\n"
                                b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(big) + big)
                    answer = b""
                    while b"\r\n\r\n" not in answer:
                        answer += tls.recv(65536)
                    check("a 300 KB body over TLS is read whole and answered (400: the prompt is too long)",
                          answer.startswith(b"HTTP/1.1 400"), answer[:100])
            # A large answer goes out without waiting for the client's delayed ACK (TCP_NODELAY):
            # 20 requests for the 140 KB /openapi.json on one connection take milliseconds, where
            # Nagle's algorithm held the last segment of each for ~40 ms.
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
                with modern.wrap_socket(raw, server_hostname="localhost") as tls:
                    started = time.monotonic()
                    statuses = [h11_exchange(tls, ["/openapi.json"])[0] for _ in range(20)]
                    took = time.monotonic() - started
                    check("20 large answers over one TLS connection in well under 20 delayed ACKs (%.0f ms)" % (took * 1000),
                          statuses == [200] * 20 and took < 0.5, (statuses, took))
            # Plain HTTP on the TLS port: closed, never answered in plain text.
            with socket.create_connection(("127.0.0.1", port), timeout=5) as plain:
                plain.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                try:
                    data = plain.recv(4096)
                except ConnectionResetError:
                    data = b""
                check("plain HTTP on the TLS port is closed without an HTTP answer", not data.startswith(b"HTTP/"), data[:60])
            # A handshake that never finishes is cut at header_timeout_s (2 s here).
            with socket.create_connection(("127.0.0.1", port), timeout=10) as slow:
                started = time.monotonic()
                slow.sendall(b"\x16\x03\x01\x00")  # the first bytes of a ClientHello, then nothing
                try:
                    closed = slow.recv(1) == b""
                except ConnectionResetError:
                    closed = True
                waited = time.monotonic() - started
                check("a stalled handshake is closed within header_timeout_s", closed and 1.5 <= waited <= 5, waited)

            # Reload: the certificate swapped in place (ECDSA → RSA) under an open keep-alive connection.
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
                with modern.wrap_socket(raw, server_hostname="localhost") as kept:
                    check("keep-alive connection before the reload", h11_exchange(kept, ["/healthz"]) == [200])
                    shutil.copy(path("rsa-cert.pem"), path("cert.pem"))
                    shutil.copy(path("rsa-key.pem"), path("key.pem"))
                    gateway.process.send_signal(signal.SIGHUP)
                    deadline = time.monotonic() + 10
                    served_rsa = False
                    while time.monotonic() < deadline and not served_rsa:
                        time.sleep(0.2)
                        _, _, facts = tls_get(port, modern)
                        served_rsa = isinstance(x509.load_der_x509_certificate(facts["cert"]).public_key(), rsa.RSAPublicKey)
                    check("after SIGHUP new connections get the renewed (RSA) certificate", served_rsa)
                    check("the keep-alive connection opened before the reload still works", h11_exchange(kept, ["/healthz"]) == [200])
            # A mismatched pair is refused; the running certificate stays.
            shutil.copy(path("ec-key.pem"), path("key.pem"))
            status, answer = admin_reload(gateway.port)
            check("POST /admin/reload with a key that does not match the certificate is refused",
                  status == 400 and answer["error"]["code"] == "invalid_config" and "server.tls" in answer["error"]["message"], answer)
            check("the refusal names no key material", "PRIVATE KEY" not in json.dumps(answer))
            status, _, facts = tls_get(port, modern)
            check("the old (RSA) certificate is still served",
                  status == 200 and isinstance(x509.load_der_x509_certificate(facts["cert"]).public_key(), rsa.RSAPublicKey))
            check("the gateway's log never shows the key",
                  not any("PRIVATE KEY" in line or "BEGIN" in line for line in gateway.log), [l for l in gateway.log if "BEGIN" in l][:2])
        finally:
            check("the TLS gateway exits cleanly", gateway.stop() == 0, "".join(gateway.log[-20:]))

        # Mutual TLS: clients need a certificate signed by the client CA.
        client_ca_key, client_ca = make_ca("krea-gateway client CA")
        write_cert(client_ca, path("client-ca.pem"))
        client_key = ec.generate_private_key(ec.SECP256R1())
        write_key(client_key, path("client-key.pem"))
        write_cert(make_leaf(client_ca_key, client_ca, client_key, "internal-app", server=False), path("client-cert.pem"))
        stranger_key = ec.generate_private_key(ec.SECP256R1())
        write_key(stranger_key, path("stranger-key.pem"))
        write_cert(make_leaf(ca_key, ca_cert, stranger_key, "stranger", server=False), path("stranger-cert.pem"))
        gateway, port = start(binary, directory, "cert_file: %s, key_file: %s, client_ca_file: %s, min_version: \"1.3\"" % (
            path("ec-cert.pem"), path("ec-key.pem"), path("client-ca.pem")), "mtls")
        try:
            with_cert = client_context(path("ca.pem"))
            with_cert.load_cert_chain(path("client-cert.pem"), path("client-key.pem"))
            status, _, _ = tls_get(port, with_cert)
            check("mTLS: a client certificate signed by the client CA is served", status == 200, status)
            for label, context in (("no client certificate", client_context(path("ca.pem"))), ("a certificate from another CA", None)):
                if context is None:
                    context = client_context(path("ca.pem"))
                    context.load_cert_chain(path("stranger-cert.pem"), path("stranger-key.pem"))
                try:
                    status, _, _ = tls_get(port, context)
                    check("mTLS: %s is refused" % label, status == 0, status)
                except (ssl.SSLError, ConnectionError, OSError):
                    check("mTLS: %s is refused" % label, True)
            try:
                tls_get(port, client_context(path("ca.pem"), maximum=ssl.TLSVersion.TLSv1_2))
                check("min_version 1.3: a TLS 1.2 client fails the handshake", False, "it was served")
            except (ssl.SSLError, ConnectionError):
                check("min_version 1.3: a TLS 1.2 client fails the handshake", True)
        finally:
            check("the mTLS gateway exits cleanly", gateway.stop() == 0, "".join(gateway.log[-20:]))

        # check-config: the files readable, PEM, matching, not expired; a warning within 14 days.
        base = open(path("tls.yaml")).read()
        for label, days, code, expect in (("valid for 30 days", 30, 0, None), ("valid for 2 days", 2, 0, "within 14 days"),
                                          ("expired yesterday", -1, 2, "expired at")):
            key = ec.generate_private_key(ec.SECP256R1())
            write_key(key, path("check-key.pem"))
            write_cert(make_leaf(ca_key, ca_cert, key, "localhost", days=days), path("check-cert.pem"))
            with open(path("check.yaml"), "w") as file:
                file.write(base.replace(path("cert.pem"), path("check-cert.pem")).replace(path("key.pem"), path("check-key.pem")))
            run = subprocess.run([binary, "check-config", "--config", path("check.yaml")], capture_output=True, text=True, timeout=30)
            check("check-config with a certificate %s: exit %d%s" % (label, code, ", says '%s'" % expect if expect else ", no warning"),
                  run.returncode == code and ((expect in run.stderr) if expect else ("warning" not in run.stderr)), (run.returncode, run.stderr[-300:]))
        with open(path("check.yaml"), "w") as file:
            file.write(base.replace(path("cert.pem"), path("missing.pem")))
        run = subprocess.run([binary, "check-config", "--config", path("check.yaml")], capture_output=True, text=True, timeout=30)
        check("check-config with an unreadable certificate file names it", run.returncode == 2 and "missing.pem" in run.stderr, run.stderr[-300:])

        # A pair that does not match stops the start with a clear error.
        bad = subprocess.run([binary, "serve", "--config", path("bad.yaml")], capture_output=True, text=True, timeout=30,
                             env=dict(os.environ, GATEWAY_LISTEN="127.0.0.1:0")) if open(path("bad.yaml"), "w").write(
            open(path("tls.yaml")).read().replace(path("key.pem"), path("rsa-key.pem")).replace(path("cert.pem"), path("ec-cert.pem"))) else None
        check("a mismatched certificate and key stop the start with a clear error",
              bad.returncode != 0 and "does not match" in bad.stderr and "BEGIN" not in bad.stderr, (bad.returncode, bad.stderr[-400:]))
    print("%d passed, %d failed" % (results["passed"], results["failed"]))
    sys.exit(1 if results["failed"] else 0)


if __name__ == "__main__":
    main()
