"""Our webhook signatures, verified by the independent `standardwebhooks` package (PyPI).

Starts `krea-gateway demo` (simulators in-process) and a receiver on loopback, submits jobs with a
webhook_url, and verifies every event with standardwebhooks.Webhook — then flips one byte of the
body and of the id and checks that verification fails. Prints 'N passed, N failed'.
Run: python3 webhook_peer.py BINARY"""
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
KEY = "kgw_peer_0123456789abcdef0123456789abcdef"
results = {"passed": 0, "failed": 0}
events = []


def check(name, condition, detail=""):
    results["passed" if condition else "failed"] += 1
    print(("ok   " if condition else "FAIL ") + name + ("" if condition else " " + detail))


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        events.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    binary = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    receiver = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    env = dict(os.environ, PEER_KREA_PORT=str(free_port()), PEER_EVOLINK_PORT=str(free_port()))
    gateway = subprocess.Popen([binary, "demo", "--config", os.path.join(here, "webhook-peer.yaml"), "--step-seconds", "0.1"],
                               stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env, text=True)
    try:
        found = []

        def read_log():
            for line in gateway.stderr:
                if not found and "listening" in line and "port=" in line:
                    found.append(int(line.split("port=")[1].split()[0]))

        threading.Thread(target=read_log, daemon=True).start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not found and gateway.poll() is None:
            time.sleep(0.05)
        port = found[0] if found else None
        if port is None:
            check("gateway started", False)
            return
        hook = f"http://127.0.0.1:{receiver.server_port}/hooks"
        ids = []
        for body in ({"model": "krea-2-medium", "prompt": "a fox", "webhook_url": hook},
                     {"model": "krea-2-turbo", "prompt": "a boat [sim:fail]", "webhook_url": hook}):
            request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/generations", data=json.dumps(body).encode(),
                                             headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=10) as response:
                ids.append(json.load(response)["id"])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and len(events) < 2:
            time.sleep(0.05)
        check("two events received", len(events) == 2, f"got {len(events)}")
        webhook = Webhook(SECRET)
        for headers, body in events:
            headers = {k.lower(): v for k, v in headers.items()}
            try:
                payload = webhook.verify(body, headers)
                check(f"signature verifies ({payload['type']})", payload["data"]["id"] in ids)
            except WebhookVerificationError as error:
                check("signature verifies", False, repr(error))
            tampered = bytearray(body)
            tampered[len(tampered) // 2] ^= 0x01
            try:
                webhook.verify(bytes(tampered), headers)
                check("one changed body byte fails verification", False)
            except WebhookVerificationError:
                check("one changed body byte fails verification", True)
            wrong_id = dict(headers, **{"webhook-id": headers["webhook-id"] + "x"})
            try:
                webhook.verify(body, wrong_id)
                check("a changed webhook-id fails verification", False)
            except WebhookVerificationError:
                check("a changed webhook-id fails verification", True)
        types = sorted(json.loads(body)["type"] for _, body in events)
        check("event types", types == ["generation.completed", "generation.failed"], str(types))
    finally:
        gateway.terminate()
        try:
            gateway.wait(timeout=30)
        except subprocess.TimeoutExpired:
            gateway.kill()
        receiver.shutdown()
        print(f"{results['passed']} passed, {results['failed']} failed")
        sys.exit(1 if results["failed"] else 0)


if __name__ == "__main__":
    main()
