"""Content codings against the real binary (API.md §11), checked with Python's own gzip and zlib:
responses gzipped for clients that accept gzip (q-values, Vary, HEAD, small bodies), request bodies
in gzip and deflate inflated, a decompression bomb refused with 413, a truncated stream with 400
invalid_body_encoding, another coding with 415.

Run: python3 gzip_peer.py BINARY   (prints 'N passed, N failed', exits 1 on a failure)"""
import gzip
import http.client
import json
import os
import sys
import tempfile
import time
import zlib

from gateway_process import DemoGateway
from peer_checks import check, results

KEY = "kgw_demo_0123456789abcdef0123456789abcdef"
JOB = json.dumps({"model": "krea-2-medium", "prompt": "a lighthouse at dawn"}).encode()


def request(port, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def post(port, body, coding):
    return request(port, "POST", "/v1/generations", body, {
        "Authorization": "Bearer " + KEY, "Content-Type": "application/json", "Content-Encoding": coding})


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as directory:
        gateway = DemoGateway(binary, os.path.join(directory, "demo.yaml"),
                              edit=lambda text: text.replace("server:\n", "server:\n  max_body_bytes: 65536\n", 1))
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if request(gateway.port, "GET", "/readyz")[0] == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.1)
            port = gateway.port

            # Responses.
            status, plain_headers, plain = request(port, "GET", "/openapi.json")
            check("openapi.json without Accept-Encoding is sent as it is",
                  status == 200 and "content-encoding" not in plain_headers and plain_headers.get("vary") == "Accept-Encoding", plain_headers)
            status, headers, body = request(port, "GET", "/openapi.json", headers={"Accept-Encoding": "br;q=1, gzip;q=0.8"})
            check("gzip is chosen by q-value and marked", status == 200 and headers.get("content-encoding") == "gzip"
                  and headers.get("vary") == "Accept-Encoding", headers)
            check("the gzip body inflates (Python's gzip) to the same document",
                  json.loads(gzip.decompress(body)) == json.loads(plain) and len(body) < len(plain) / 3, (len(body), len(plain)))
            check("Content-Length is the compressed size", int(headers.get("content-length", -1)) == len(body), headers)
            for value in ["gzip;q=0", "identity", "*;q=0", "deflate"]:
                status, headers, _ = request(port, "GET", "/openapi.json", headers={"Accept-Encoding": value})
                check("Accept-Encoding %r gets no gzip" % value, status == 200 and "content-encoding" not in headers, headers)
            status, headers, _ = request(port, "GET", "/openapi.json", headers={"Accept-Encoding": "*"})
            check("Accept-Encoding * gets gzip", headers.get("content-encoding") == "gzip", headers)
            status, headers, body = request(port, "HEAD", "/openapi.json", headers={"Accept-Encoding": "gzip"})
            check("HEAD is never compressed", status == 200 and "content-encoding" not in headers and body == b"", headers)
            status, headers, _ = request(port, "GET", "/healthz", headers={"Accept-Encoding": "gzip"})
            check("a body under min_bytes is sent as it is", status == 200 and "content-encoding" not in headers, headers)

            # Request bodies.
            status, _, body = post(port, gzip.compress(JOB), "gzip")
            check("a gzip request body is inflated and admitted", status == 202 and json.loads(body)["status"] == "queued", body[:200])
            status, _, body = post(port, zlib.compress(JOB), "deflate")
            check("a deflate (zlib) request body is inflated and admitted", status == 202, body[:200])
            bomb = gzip.compress(b" " * 10_000_000)
            status, headers, body = post(port, bomb, "gzip")
            check("10 MB of spaces in %d gzip bytes is 413 body_too_large" % len(bomb),
                  status == 413 and json.loads(body)["error"]["code"] == "body_too_large", (status, body[:200]))
            status, _, body = post(port, gzip.compress(JOB)[:-6], "gzip")
            check("a truncated gzip stream is 400 invalid_body_encoding",
                  status == 400 and json.loads(body)["error"]["code"] == "invalid_body_encoding", (status, body[:200]))
            status, _, body = post(port, b"\x1f\x8b\x08\x00garbage-garbage", "gzip")
            check("a garbled gzip stream is 400 invalid_body_encoding",
                  status == 400 and json.loads(body)["error"]["code"] == "invalid_body_encoding", (status, body[:200]))
            status, _, body = post(port, JOB, "br")
            check("Content-Encoding br is 415 unsupported_media_type",
                  status == 415 and json.loads(body)["error"]["code"] == "unsupported_media_type", (status, body[:200]))
            status, _, _ = request(port, "GET", "/readyz")
            check("the gateway still answers after the refused bodies", status == 200)
        finally:
            code = gateway.stop()
            check("the gateway exits cleanly", code == 0, "".join(gateway.log[-20:]))
    print("%d passed, %d failed" % (results["passed"], results["failed"]))
    sys.exit(1 if results["failed"] else 0)


if __name__ == "__main__":
    main()
