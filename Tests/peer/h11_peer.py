"""An independent, strict HTTP/1.1 peer (h11) against the real gateway binary.

Every response is parsed by h11, which refuses anything that is not well-formed HTTP/1.1
(bad status line, bad header syntax, wrong framing). Run: python3 h11_peer.py BINARY CONFIG [--tls]
With --tls every check runs again over the gateway's TLS listener (a certificate made at test time).
Prints 'N passed, N failed' and exits non-zero on any failure."""
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile

import h11

from gateway_process import GatewayProcess

TIMEOUT = 5.0
results = {"passed": 0, "failed": 0}
# Set by --tls: every connection is wrapped in TLS with this context.
TLS_CONTEXT = None


def connect(port):
    """A connection to the gateway: plain TCP, or TLS over it with --tls."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    return TLS_CONTEXT.wrap_socket(sock, server_hostname="localhost") if TLS_CONTEXT else sock


def check(name, condition, detail=""):
    if condition:
        results["passed"] += 1
        print(f"ok   {name}")
    else:
        results["failed"] += 1
        print(f"FAIL {name} {detail}")


class Peer:
    """One h11 client connection."""

    def __init__(self, port):
        self.sock = connect(port)
        self.conn = h11.Connection(our_role=h11.CLIENT)

    def send(self, *events):
        for event in events:
            data = self.conn.send(event)
            if data:
                self.sock.sendall(data)

    def receive(self):
        """Reads one whole response: (response, body bytes). h11 raises on anything malformed."""
        response, body = None, b""
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                self.conn.receive_data(self.sock.recv(65536))
                continue
            if isinstance(event, h11.InformationalResponse):
                continue
            if isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                return response, body
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionError("closed before the end of the response")

    def request(self, method, target, headers=(), body=None):
        headers = [("Host", "gateway.test")] + list(headers)
        if body is not None:
            headers.append(("Content-Length", str(len(body))))
        self.send(h11.Request(method=method, target=target, headers=headers))
        if body is not None:
            self.send(h11.Data(data=body))
        self.send(h11.EndOfMessage())
        response = self.receive()
        if self.conn.our_state is h11.DONE and self.conn.their_state is h11.DONE:
            self.conn.start_next_cycle()
        return response

    def close(self):
        self.sock.close()


def header(response, name):
    for key, value in response.headers:
        if key.decode().lower() == name.lower():
            return value.decode()
    return None


def raw_exchange(port, payload):
    """Sends raw bytes (possibly malformed) and parses the answer with h11."""
    sock = connect(port)
    sock.sendall(payload)
    conn = h11.Connection(our_role=h11.CLIENT)
    # h11 needs to have sent a request to accept a response: feed it an equivalent request.
    conn.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
    conn.send(h11.EndOfMessage())
    response, body = None, b""
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(sock.recv(65536))
            continue
        if isinstance(event, h11.Response):
            response = event
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            break
    closed = sock.recv(1) == b""
    sock.close()
    return response, body, closed


def run(port):
    peer = Peer(port)
    response, body = peer.request("GET", "/healthz")
    check("healthz is 200", response.status_code == 200)
    check("healthz body is JSON", json.loads(body) == {"status": "ok"})
    check("Date header present", header(response, "date") is not None)
    check("X-Request-Id generated", (header(response, "x-request-id") or "").startswith("req_"))

    response, _ = peer.request("GET", "/healthz", headers=[("X-Request-Id", "peer-42")])
    check("keep-alive reuse and X-Request-Id echoed", header(response, "x-request-id") == "peer-42")

    response, body = peer.request("HEAD", "/healthz")
    check("HEAD is 200 with no body", response.status_code == 200 and body == b"")

    response, body = peer.request("GET", "/does-not-exist")
    error = json.loads(body)["error"]
    check("404 in the API error shape", response.status_code == 404 and error["code"] == "not_found")

    response, body = peer.request("POST", "/healthz", body=b"{}")
    check("405 with Allow", response.status_code == 405 and "GET" in (header(response, "allow") or ""))

    # A chunked upload: h11 frames it with Transfer-Encoding: chunked when no length is given.
    peer.send(h11.Request(method="POST", target="/healthz", headers=[("Host", "gateway.test"), ("Transfer-Encoding", "chunked")]))
    peer.send(h11.Data(data=b'{"a":'), h11.Data(data=b'"b"}'), h11.EndOfMessage())
    response, _ = peer.receive()
    check("chunked upload read to its end (405 here)", response.status_code == 405)
    peer.conn.start_next_cycle()
    response, _ = peer.request("GET", "/healthz")
    check("connection still usable after a chunked upload", response.status_code == 200)
    peer.close()

    # Pipelining: 50 requests in one write, answers in order and all well-formed.
    sock = connect(port)
    sock.sendall(b"".join(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: p%d\r\n\r\n" % i for i in range(50)))
    conn = h11.Connection(our_role=h11.CLIENT)
    ids = []
    for i in range(50):
        conn.send(h11.Request(method="GET", target="/healthz", headers=[("Host", "x")]))
        conn.send(h11.EndOfMessage())
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(sock.recv(65536))
                continue
            if isinstance(event, h11.Response):
                ids.append(header(event, "x-request-id"))
            if isinstance(event, h11.EndOfMessage):
                conn.start_next_cycle()
                break
    sock.close()
    check("50 pipelined requests answered in order", ids == ["p%d" % i for i in range(50)])

    cases = [
        ("CL+TE is 400 and closes", b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        ("obs-fold is 400 and closes", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", 400),
        ("414 for a long request line", b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        ("431 for huge headers", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX: " + b"b" * 70000 + b"\r\n\r\n", 431),
        ("413 for a large body", b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n", 413),
    ]
    for name, payload, status in cases:
        response, body, closed = raw_exchange(port, payload)
        error = json.loads(body).get("error", {})
        check(name, response.status_code == status and closed and error.get("type") == "invalid_request_error",
              f"got {response.status_code} closed={closed} body={body[:120]!r}")


def tls_config(config, directory):
    """The configuration with a TLS listener on a free port and a self-signed certificate for
    localhost made now by the openssl CLI; returns (config path, TLS port)."""
    global TLS_CONTEXT
    key, cert = os.path.join(directory, "key.pem"), os.path.join(directory, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    text = open(config, encoding="utf-8").read().replace(
        "server:\n", 'server:\n  tls: {listen: "127.0.0.1:%d", cert_file: "%s", key_file: "%s"}\n' % (port, cert, key), 1)
    path = os.path.join(directory, "gateway.yaml")
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)
    TLS_CONTEXT = ssl.create_default_context(cafile=cert)
    return path, port


def main():
    binary, config = sys.argv[1], sys.argv[2]
    directory = tempfile.mkdtemp()
    port = None
    if "--tls" in sys.argv[3:]:
        config, port = tls_config(config, directory)
    gateway = GatewayProcess(binary, config)
    try:
        run(port or gateway.port)
    except Exception as error:  # a malformed response or a timeout is a failure, not a crash
        check("peer run completed", False, repr(error))
    finally:
        code = gateway.stop()
        check("SIGTERM exits 0", code == 0, f"exit code {code}")
    print(f"{results['passed']} passed, {results['failed']} failed")
    sys.exit(1 if results["failed"] else 0)


if __name__ == "__main__":
    main()
