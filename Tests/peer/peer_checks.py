"""What every peer script shares: counted checks, a free loopback port, a webhook receiver."""
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

results = {"passed": 0, "failed": 0}


def check(name, condition, detail=""):
    """Counts and prints one check; returns the condition."""
    results["passed" if condition else "failed"] += 1
    print(("ok   " if condition else "FAIL ") + name + ("" if condition else " " + str(detail)), flush=True)
    return condition


def free_port():
    """A loopback port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    """A webhook receiver on loopback answering 204 to every POST; `events` holds
    (headers with lower-cased names, body bytes), oldest first."""

    def __init__(self):
        self.events = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.events.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d/hook" % self.port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
