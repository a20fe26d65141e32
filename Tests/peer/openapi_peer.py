"""The OpenAPI document against the live gateway, checked by schemathesis (PyPI), an independent
property-based API tester:

1. structure: the document names exactly the routes the gateway registers (the list below, which
   is itself checked against the `router.add` calls in Sources/ when they are there), every
   operation documents `X-Request-Id` and its errors in an error shape;
2. the real binary (`krea-gateway demo` on a copy of config/demo.yaml: free loopback ports, step
   0.05 s, bigger demo budgets so that fuzzed submissions keep being admitted) serves the document
   at `GET /openapi.json` (identical to Sources/GatewayApp/Resources/openapi.json; before that route
   exists, a 404 there makes the peer use the file);
3. schemathesis runs every phase (examples, coverage, fuzzing, stateful via the document's links)
   with the gateway key on /v1 and the master key on /admin (per-operation security schemes), and
   the checks not_a_server_error, status_code_conformance, content_type_conformance,
   response_schema_conformance and response_headers_conformance: zero failures allowed;
4. directed requests reach what random inputs cannot (running, failed and cancelled jobs, every
   provider error the simulators' prompt markers produce, limits, refunds, webhook deliveries,
   provider callbacks, 413, /metrics' 401), each answer checked against the document the same way.

Run: python3 openapi_peer.py BINARY [--max-examples N] [--workers N] [--seed N] [--use-file]
(prints 'N passed, N failed', exits 1 on any failure). Needs Tests/peer/requirements-openapi.txt."""
import argparse
import hashlib
import hmac
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import types
import urllib.error
import urllib.request
import xml.etree.ElementTree as ElementTree

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DOCUMENT = os.path.join(ROOT, "Sources", "GatewayApp", "Resources", "openapi.json")
KEY = "kgw_demo_0123456789abcdef0123456789abcdef"
MASTER_KEY = "demo-master-key"
METRICS_TOKEN = "metrics-token-for-the-openapi-peer"
MODELS = ["krea-2-medium", "krea-2-large", "krea-2-turbo", "default", "fast"]
CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "response_headers_conformance"]

# Every route the gateway registers (GatewayApplication.addOperationalRoutes, Routes/*.swift,
# Admin/AdminRoutes.swift, Observability.swift), plus `HEAD /healthz`, which the README documents
# (HEAD is served by every GET route; only this one is described as an operation of its own).
ROUTES = {
    ("GET", "/healthz"), ("HEAD", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"), ("GET", "/openapi.json"),
    ("POST", "/v1/generations"), ("GET", "/v1/generations"), ("GET", "/v1/generations/{id}"),
    ("DELETE", "/v1/generations/{id}"), ("POST", "/v1/provider-callbacks/{id}/{token}"),
    ("GET", "/v1/models"), ("GET", "/v1/usage"), ("POST", "/v1/images/generations"),
    ("POST", "/generate/image/krea/krea-2/{variant}"), ("GET", "/jobs/{id}"), ("DELETE", "/jobs/{id}"),
    ("POST", "/admin/keys"), ("GET", "/admin/keys"), ("GET", "/admin/keys/{id}"), ("PATCH", "/admin/keys/{id}"),
    ("DELETE", "/admin/keys/{id}"), ("POST", "/admin/teams"), ("GET", "/admin/teams"), ("GET", "/admin/teams/{id}"),
    ("PATCH", "/admin/teams/{id}"), ("DELETE", "/admin/teams/{id}"), ("GET", "/admin/spend"),
    ("GET", "/admin/generations"), ("POST", "/admin/generations/{id}/refund"), ("GET", "/admin/webhook-deliveries"),
    ("POST", "/admin/webhook-deliveries/{id}/retry"), ("POST", "/admin/reload"),
}
DOCUMENTED_ONLY = {("HEAD", "/healthz")}
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

from gateway_process import DemoGateway  # noqa: E402
from peer_checks import Receiver, check, results  # noqa: E402 (the peers' shared helpers)


# MARK: Structure

def registered_in_sources():
    """`router.add("METHOD", "pattern")` calls of the gateway (not the simulators), or None
    when the sources are not beside this script."""
    app = os.path.join(ROOT, "Sources", "GatewayApp")
    if not os.path.isdir(app):
        return None
    found = set()
    pattern = re.compile(r'router\.add\(\s*"([A-Z]+)",\s*"([^"]*)"')
    for folder, _, files in os.walk(app):
        for name in files:
            if name.endswith(".swift"):
                text = open(os.path.join(folder, name), encoding="utf-8").read()
                for method, path in pattern.findall(text):
                    found.add((method, path.replace(r"\(CallbackRoute.pathPrefix)", "/v1/provider-callbacks")))
    return found


def structural_checks(document):
    operations = {(method.upper(), path): operation
                  for path, item in document.get("paths", {}).items()
                  for method, operation in item.items() if method in HTTP_METHODS}
    documented = set(operations)
    check("the document is OpenAPI 3.1", str(document.get("openapi", "")).startswith("3.1."), document.get("openapi"))
    check("the document describes exactly the gateway's routes", documented == ROUTES,
          "missing: %s; not served: %s" % (sorted(ROUTES - documented), sorted(documented - ROUTES)))
    in_sources = registered_in_sources()
    if in_sources is not None:
        check("the route list of this peer is the one the sources register", in_sources == ROUTES - DOCUMENTED_ONLY,
              "registered but not listed: %s; listed but not registered: %s"
              % (sorted(in_sources - (ROUTES - DOCUMENTED_ONLY)), sorted((ROUTES - DOCUMENTED_ONLY) - in_sources)))
    ids = [operation.get("operationId") for operation in operations.values()]
    check("every operation has a unique operationId", None not in ids and len(ids) == len(set(ids)), ids)

    components = document.get("components", {})

    def resolve(node):
        while isinstance(node, dict) and "$ref" in node:
            kind, name = node["$ref"].split("/")[-2:]
            node = components[kind][name]
        return node

    problems = []
    for (method, path), operation in sorted(operations.items()):
        parameters = [resolve(p) for p in operation.get("parameters", [])]
        if not any(p.get("in") == "header" and p.get("name") == "X-Request-Id" for p in parameters):
            problems.append("%s %s: no X-Request-Id parameter" % (method, path))
        if not operation.get("responses"):
            problems.append("%s %s: no responses" % (method, path))
        for status, response in operation.get("responses", {}).items():
            response = resolve(response)
            if "X-Request-Id" not in response.get("headers", {}):
                problems.append("%s %s %s: X-Request-Id not documented" % (method, path, status))
            if status.startswith(("4", "5")):
                schema = response.get("content", {}).get("application/json", {}).get("schema", {})
                refs = json.dumps(schema)
                if "#/components/schemas/Error" not in refs and "#/components/schemas/KreaError" not in refs:
                    problems.append("%s %s %s: not in an error shape" % (method, path, status))
    check("every operation documents X-Request-Id and its errors in an error shape", not problems, "; ".join(problems))


# MARK: The gateway

class Gateway(DemoGateway):
    """`krea-gateway demo` on a copy of config/demo.yaml with free loopback ports."""

    def __init__(self, binary, workspace):
        def edit(text):
            # Budgets big enough that fuzzed submissions keep reaching the providers (402 stays documented).
            text = text.replace('limit_usd: "1.00"', 'limit_usd: "100000.00"').replace('limit_usd: "5.00"', 'limit_usd: "500000.00"')
            # OpenAI-shaped requests wait for their job (well under schemathesis's request timeout); the
            # directed 504 waits this long.
            text += "compat: {openai_max_wait_s: 5}\n"
            # Webhooks over http to 127.0.0.1 only. The demo key has no webhook secret and none is
            # configured, so every webhook URL schemathesis sends is refused (400): only the directed
            # checks' admin-created key (which gets a secret) has events delivered, to a local receiver.
            text += "webhooks: {allow_http: true, allowed_hosts: [\"127.0.0.1\"], timeout_s: 2, retry_schedule_s: [0.2]}\n"
            # /metrics behind a token, so that its 401 is exercised too.
            text += "metrics: {bearer_token: \"%s\"}\n" % METRICS_TOKEN
            return text

        super().__init__(binary, os.path.join(workspace, "gateway.yaml"), edit)

    def wait_ready(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with urllib.request.urlopen(self.base + "/readyz", timeout=2) as response:
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        return False


def fetch(url):
    """(status, body bytes) of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers.get("Content-Type", "")


# MARK: Directed checks

class Conformance:
    """Checks one answer against the document: the status is documented for the operation, the
    body matches its schema (schemathesis's own validator), the content type and the headers
    (required ones present, every documented one matching its schema)."""

    def __init__(self, document):
        import jsonschema_rs
        import schemathesis
        self.document = document
        self.schema = schemathesis.openapi.from_dict(document)
        self.jsonschema_rs = jsonschema_rs

    def resolve(self, node):
        while isinstance(node, dict) and "$ref" in node:
            kind, name = node["$ref"].split("/")[-2:]
            node = self.document["components"][kind][name]
        return node

    def problems(self, method, path, response):
        definition = self.document["paths"][path][method.lower()]
        documented = self.resolve(definition["responses"].get(str(response.status_code)))
        if documented is None:
            return ["status %d is not documented" % response.status_code]
        found = []
        media = documented.get("content", {})
        if media:
            content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
            if content_type not in media:
                found.append("Content-Type %r is not documented" % content_type)
        for name, header in documented.get("headers", {}).items():
            header = self.resolve(header)
            value = response.headers.get(name)
            if value is None:
                if header.get("required"):
                    found.append("required header %s is missing" % name)
            elif not self.jsonschema_rs.validator_for(header["schema"]).is_valid(value):
                found.append("header %s: %r does not match %s" % (name, value, json.dumps(header["schema"])))
        try:
            self.schema[path][method.upper()].validate_response(response)
        except Exception as error:  # noqa: BLE001 - a schemathesis failure group: the finding
            found.append(" / ".join(line for line in str(error).splitlines() if line.strip())[:600])
        return found


def directed_checks(gateway, document):
    """What random inputs cannot reach (running, failed and cancelled jobs, provider errors,
    limits, refunds, webhook deliveries, callbacks), driven by the simulators' prompt markers,
    each answer checked against the document."""
    import requests
    import urllib3
    conformance = Conformance(document)
    receiver = Receiver()
    base = gateway.base
    key_headers = {"Authorization": "Bearer " + KEY}
    master_headers = {"Authorization": "Bearer " + MASTER_KEY}
    jobs = {}

    def call(name, method, template, expected, path_values=None, headers=None, **kwargs):
        path = template
        for placeholder, value in (path_values or {}).items():
            path = path.replace("{%s}" % placeholder, value)
        try:
            response = requests.request(method, base + path, headers=headers if headers is not None else key_headers, timeout=60, **kwargs)
        except requests.RequestException as error:
            check(name, False, repr(error))
            return None
        problems = conformance.problems(method, template, response)
        if response.status_code != expected:
            problems.insert(0, "expected %d, got %d: %s" % (expected, response.status_code, response.text[:300]))
        check("%s: %s %s -> %d" % (name, method, template, expected), not problems, "; ".join(problems))
        return response

    def body(response):
        try:
            return response.json()
        except (AttributeError, ValueError):
            return {}

    def generation(prompt, model="krea-2-medium", **extra):
        return {"model": model, "prompt": prompt, **extra}

    # Unified API: a running job is cancelled; then it is terminal.
    created = call("a running Krea job", "POST", "/v1/generations", 202, json=generation("a lighthouse [sim:never]"))
    job = body(created).get("id", "gen_00000000000000000000000000")
    call("it is read while running", "GET", "/v1/generations/{id}", 200, {"id": job})
    call("it is cancelled", "DELETE", "/v1/generations/{id}", 200, {"id": job})
    call("a terminal job is not cancellable", "DELETE", "/v1/generations/{id}", 409, {"id": job})
    evolink = body(call("a running Evolink job", "POST", "/v1/generations", 202, json=generation("x [sim:never]", "krea-2-turbo"))).get("id", job)
    call("Evolink cannot cancel", "DELETE", "/v1/generations/{id}", 409, {"id": evolink})
    call("the master key reads any job", "GET", "/v1/generations/{id}", 200, {"id": evolink}, headers=master_headers)

    # Terminal outcomes, held with Prefer: wait.
    wait = dict(key_headers, Prefer="wait=20")
    completed = call("a job held until it completes", "POST", "/v1/generations", 200, headers=wait, json=generation("a cat", metadata={"t": 1}))
    jobs["completed"] = body(completed).get("id", job)
    call("a failed job (provider failure)", "POST", "/v1/generations", 200, headers=wait, json=generation("x [sim:fail]"))
    failed = call("a failed job (error object)", "POST", "/v1/generations", 200, headers=wait, json=generation("x [sim:fail][sim:errobj]"))
    call("a content-policy failure", "POST", "/v1/generations", 200, headers=wait, json=generation("x [sim:policy]"))
    call("an Evolink cancellation", "POST", "/v1/generations", 200, headers=wait, json=generation("x [sim:cancelled]", "krea-2-turbo"))
    call("GET with Prefer: wait", "GET", "/v1/generations/{id}", 200, {"id": jobs["completed"]}, headers=dict(key_headers, Prefer="wait=1"))
    call("the list holds every kind of job", "GET", "/v1/generations", 200, params={"limit": "100"})
    call("and pages", "GET", "/v1/generations", 200, params={"limit": "1", "status": "failed"})

    # Submission errors mapped from the provider (nothing kept unless the provider may have created a job).
    call("provider 500", "POST", "/v1/generations", 502, json=generation("x [sim:http=500]"))
    call("provider 429", "POST", "/v1/generations", 503, json=generation("x [sim:http=429]"))
    call("provider 402", "POST", "/v1/generations", 503, json=generation("x [sim:http=402]"))
    call("provider 401", "POST", "/v1/generations", 502, json=generation("x [sim:http=401]"))
    call("provider 400", "POST", "/v1/generations", 502, json=generation("x [sim:http=400]"))
    call("the alias falls back and fails on its last target", "POST", "/v1/generations", 502, json=generation("x [sim:http=500]", "fast"))
    garbage = call("an unreadable provider answer", "POST", "/v1/generations", 502, json=generation("x [sim:garbage]"))
    jobs["charged"] = garbage.headers.get("X-Generation-Id") if garbage is not None else None
    call("a provider that does not answer in time", "POST", "/v1/generations", 504, json=generation("x [sim:delay=6000]"))

    # Refunds: a charged job (outcome unknown, so charged) is refunded once.
    if jobs.get("charged"):
        call("a job charged with an unknown outcome is refunded", "POST", "/admin/generations/{id}/refund", 200, {"id": jobs["charged"]}, headers=master_headers)
        call("a second refund is refused", "POST", "/admin/generations/{id}/refund", 409, {"id": jobs["charged"]}, headers=master_headers)
    else:
        check("the unreadable answer names the kept job in X-Generation-Id", False)
    call("a completed job is refunded", "POST", "/admin/generations/{id}/refund", 200, {"id": jobs["completed"]}, headers=master_headers)
    call("any key's jobs", "GET", "/admin/generations", 200, headers=master_headers, params={"key": "demo", "limit": "100"})
    call("spend by model", "GET", "/admin/spend", 200, headers=master_headers, params={"group_by": "model"})
    call("spend by team", "GET", "/admin/spend", 200, headers=master_headers, params={"group_by": "team", "from": "2000-01-01", "to": "2999-12-31"})

    # Krea-compatible paths.
    krea = body(call("Krea: a running job", "POST", "/generate/image/krea/krea-2/{variant}", 200, {"variant": "medium"}, json={"prompt": "x [sim:never]"}))
    krea_id = krea.get("job_id", job)
    call("Krea: read while running", "GET", "/jobs/{id}", 200, {"id": krea_id})
    call("Krea: cancel", "DELETE", "/jobs/{id}", 200, {"id": krea_id})
    call("Krea: a terminal job is not cancellable", "DELETE", "/jobs/{id}", 409, {"id": krea_id})
    if failed is not None:
        call("Krea: a failed job in Krea's shape", "GET", "/jobs/{id}", 200, {"id": body(failed).get("id", job)})
    call("Krea: an unknown job", "GET", "/jobs/{id}", 404, {"id": "gen_00000000000000000000000000"})
    call("Krea: provider 500", "POST", "/generate/image/krea/krea-2/{variant}", 502, {"variant": "large"}, json={"prompt": "x [sim:http=500]"})
    call("Krea: provider 429", "POST", "/generate/image/krea/krea-2/{variant}", 503, {"variant": "large"}, json={"prompt": "x [sim:http=429]"})
    call("Krea: an unknown field", "POST", "/generate/image/krea/krea-2/{variant}", 400, {"variant": "medium"}, json={"prompt": "x", "model": "y"})
    call("Krea: the master key", "POST", "/generate/image/krea/krea-2/{variant}", 403, {"variant": "medium"}, headers=master_headers, json={"prompt": "x"})

    # OpenAI Images.
    call("OpenAI: an image", "POST", "/v1/images/generations", 200, json={"model": "krea-2-large", "prompt": "a cat", "size": "1792x1024", "n": 1})
    call("OpenAI: a failed job", "POST", "/v1/images/generations", 502, json={"model": "krea-2-medium", "prompt": "x [sim:fail]"})
    call("OpenAI: a content-policy refusal", "POST", "/v1/images/generations", 400, json={"model": "krea-2-medium", "prompt": "x [sim:policy]"})
    call("OpenAI: a cancelled job", "POST", "/v1/images/generations", 502, json={"model": "krea-2-turbo", "prompt": "x [sim:cancelled]"})
    call("OpenAI: still running at openai_max_wait_s", "POST", "/v1/images/generations", 504, json={"model": "krea-2-medium", "prompt": "x [sim:never]"})
    call("OpenAI: provider 429", "POST", "/v1/images/generations", 503, json={"model": "krea-2-medium", "prompt": "x [sim:http=429]"})
    call("OpenAI: b64_json", "POST", "/v1/images/generations", 400, json={"model": "krea-2-medium", "prompt": "x", "response_format": "b64_json"})

    # Limits, idempotency, request checks.
    tight = body(call("a key with rpm 1 and a tiny budget", "POST", "/admin/keys", 201, headers=master_headers,
                      json={"name": "tight", "rpm": 1, "budget": {"limit_usd": "0.04", "period": "daily"}}))
    tight_headers = {"Authorization": "Bearer " + tight.get("key", "none")}
    call("its first job", "POST", "/v1/generations", 202, headers=tight_headers, json=generation("a"))
    call("rpm", "POST", "/v1/generations", 429, headers=tight_headers, json=generation("b"))
    poor = body(call("a key with a budget below any price", "POST", "/admin/keys", 201, headers=master_headers,
                     json={"name": "poor", "budget": {"limit_usd": "0.01", "period": "total"}, "models": ["krea-2-medium"]}))
    poor_headers = {"Authorization": "Bearer " + poor.get("key", "none")}
    call("budget", "POST", "/v1/generations", 402, headers=poor_headers, json=generation("a"))
    call("a model the key may not use", "POST", "/v1/generations", 403, headers=poor_headers, json=generation("a", "krea-2-large"))
    call("its usage", "GET", "/v1/usage", 200, headers=poor_headers)
    call("its models", "GET", "/v1/models", 200, headers=poor_headers)
    call("the master key lists every model", "GET", "/v1/models", 200, headers=master_headers)
    call("the master key may not create jobs", "POST", "/v1/generations", 403, headers=master_headers, json=generation("a"))
    call("the master key has no usage", "GET", "/v1/usage", 403, headers=master_headers)
    call("a client key on /admin", "GET", "/admin/keys", 403)
    once = dict(key_headers, **{"Idempotency-Key": "directed-%d" % os.getpid()})
    call("Idempotency-Key: first use", "POST", "/v1/generations", 202, headers=once, json=generation("idem"))
    call("Idempotency-Key: replayed", "POST", "/v1/generations", 200, headers=once, json=generation("idem"))
    call("Idempotency-Key: another body", "POST", "/v1/generations", 422, headers=once, json=generation("other"))
    call("a non-JSON Content-Type", "POST", "/v1/generations", 415, headers=dict(key_headers, **{"Content-Type": "text/plain"}), data=b"{}")
    call("Prefer: wait out of range", "POST", "/v1/generations", 400, headers=dict(key_headers, Prefer="wait=61"), json=generation("a"))
    call("a blank prompt", "POST", "/v1/generations", 400, json=generation("   "))

    # Admin: config entries are read-only; teams in use; reload.
    call("a configured key is read-only", "PATCH", "/admin/keys/{id}", 409, {"id": "demo"}, headers=master_headers, json={"rpm": 5})
    call("a configured team is read-only", "DELETE", "/admin/teams/{id}", 409, {"id": "demo"}, headers=master_headers)
    team = "directed-%d" % os.getpid()
    call("a team", "POST", "/admin/teams", 201, headers=master_headers, json={"name": team, "budget": {"limit_usd": "1", "period": "weekly"}})
    call("the same team again", "POST", "/admin/teams", 409, headers=master_headers, json={"name": team})
    member = body(call("a key in it", "POST", "/admin/keys", 201, headers=master_headers, json={"name": "m", "team": team}))
    call("a team in use", "DELETE", "/admin/teams/{id}", 409, {"id": team}, headers=master_headers)
    call("the key's secret rotated", "PATCH", "/admin/keys/{id}", 200, {"id": member.get("id", "x")}, headers=master_headers, json={"rotate_webhook_secret": True})
    call("the key revoked", "DELETE", "/admin/keys/{id}", 200, {"id": member.get("id", "x")}, headers=master_headers)
    call("the team deleted", "DELETE", "/admin/teams/{id}", 200, {"id": team}, headers=master_headers)
    call("reload", "POST", "/admin/reload", 200, headers=master_headers)

    # Webhooks: an admin-created key has a webhook secret; its event goes to the local receiver.
    hooked = body(call("a key for webhooks", "POST", "/admin/keys", 201, headers=master_headers, json={"name": "hooks"}))
    hook_headers = {"Authorization": "Bearer " + hooked.get("key", "none"), "Prefer": "wait=20"}
    call("a job with a webhook", "POST", "/v1/generations", 200, headers=hook_headers, json=generation("a", webhook_url=receiver.url))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not receiver.events:
        time.sleep(0.05)
    check("its event is delivered", bool(receiver.events))
    # The receiver has the event a moment before the gateway has read its answer.
    deadline = time.monotonic() + 10
    delivered = []
    while not delivered and time.monotonic() < deadline:
        listed = requests.get(base + "/admin/webhook-deliveries", headers=master_headers, params={"state": "delivered"}, timeout=10)
        delivered = [item["id"] for item in body(listed).get("data", [])] if listed.status_code == 200 else []
        time.sleep(0.05 if not delivered else 0)
    deliveries = body(call("the delivery log", "GET", "/admin/webhook-deliveries", 200, headers=master_headers, params={"state": "delivered"}))
    if check("the delivery is listed as delivered", bool(delivered), deliveries):
        call("a delivery sent again", "POST", "/admin/webhook-deliveries/{id}/retry", 202, {"id": delivered[0]}, headers=master_headers)
    call("an unknown delivery", "POST", "/admin/webhook-deliveries/{id}/retry", 404, {"id": "msg_none"}, headers=master_headers)

    # Provider callbacks: the token is an HMAC of the job id under a key derived from the master key.
    derived = hmac.new(MASTER_KEY.encode(), b"krea-gateway provider callback tokens v1", hashlib.sha256).digest()
    token = hmac.new(derived, job.encode(), hashlib.sha256).hexdigest()[:32]
    call("a provider callback", "POST", "/v1/provider-callbacks/{id}/{token}", 200, {"id": job, "token": token}, headers={}, json={"status": "completed"})
    call("a callback with a wrong token", "POST", "/v1/provider-callbacks/{id}/{token}", 404, {"id": job, "token": "0" * 32}, headers={})

    # Limits of the HTTP layer: announced with `Expect: 100-continue`, so the 413 is read before any
    # body byte is sent (a client still sending when the server closes could lose the answer).
    def too_large(name, path, token):
        response = requests.models.Response()
        try:
            with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as connection:
                connection.sendall(("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
                                    "Content-Length: %d\r\nExpect: 100-continue\r\n\r\n" % (path, token, 2 * 1024 * 1024)).encode())
                raw = b""
                # The answer closes the connection (`Connection: close`).
                while True:
                    chunk = connection.recv(65536)
                    if not chunk:
                        break
                    raw += chunk
        except OSError as error:
            check(name, False, repr(error))
            return
        head, _, content = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        response.status_code = int(lines[0].split(" ")[1]) if lines and len(lines[0].split(" ")) > 1 else 0
        fields = urllib3.HTTPHeaderDict()
        for line in lines[1:]:
            if ": " in line:
                fields.add(*line.split(": ", 1))
        response.headers = requests.structures.CaseInsensitiveDict(fields)
        response.raw = types.SimpleNamespace(headers=fields, version=11)  # what schemathesis reads
        response._content, response.encoding, response.url = content, "utf-8", base + path
        response.request = requests.Request("POST", base + path).prepare()
        problems = conformance.problems("POST", path, response)
        if response.status_code != 413:
            problems.insert(0, "expected 413, got %d: %r" % (response.status_code, raw[:300]))
        check("%s: POST %s -> 413" % (name, path), not problems, "; ".join(problems))

    too_large("a body over server.max_body_bytes", "/v1/generations", KEY)
    too_large("an admin body over server.max_body_bytes", "/admin/teams", MASTER_KEY)

    # Operations.
    call("metrics without its token", "GET", "/metrics", 401, headers={})
    call("metrics", "GET", "/metrics", 200, headers={"Authorization": "Bearer " + METRICS_TOKEN})
    call("health", "HEAD", "/healthz", 200, headers={})
    call("readiness", "GET", "/readyz", 200, headers={})
    receiver.server.shutdown()


# MARK: schemathesis

def schemathesis_config(path):
    """Per-operation credentials through the document's security schemes (gatewayKey on /v1 and
    the compatibility paths, masterKey on /admin, metricsToken on /metrics), the demo's model names
    and aspect ratios offered most of the time so that generated submissions get past
    `unknown_model`, and `Prefer: wait` values (the header takes any preference list)."""
    models = ", ".join('"%s"' % name for name in MODELS)
    ratios = ", ".join('"%s"' % ratio for ratio in ["1:1", "16:9", "9:16", "4:3", "2:3", "3:2", "4:5"])
    open(path, "w", encoding="utf-8").write(
        "[auth.openapi.gatewayKey]\nbearer = \"%s\"\n\n[auth.openapi.masterKey]\nbearer = \"%s\"\n\n" % (KEY, MASTER_KEY)
        + "[auth.openapi.metricsToken]\nbearer = \"%s\"\n\n" % METRICS_TOKEN
        + "[dictionaries.models]\nvalues = [%s]\n\n[dictionaries.ratios]\nvalues = [%s]\n\n" % (models, ratios)
        + "[dictionaries.preferences]\nvalues = [\"wait\", \"wait=1\", \"wait=3\", \"respond-async, wait=2\", \"wait=0\", \"wait=61\"]\n\n"
        + "[parameters]\n"
        + "\"header.Prefer\" = { dictionary = \"preferences\", probability = 0.6 }\n"
        + "\"body.model\" = { dictionary = \"models\", probability = 0.8 }\n"
        + "\"body.aspect_ratio\" = { dictionary = \"ratios\", probability = 0.7 }\n"
        + "\"body.size\" = { dictionary = \"ratios\", probability = 0.5 }\n")


# Loaded into schemathesis (SCHEMATHESIS_HOOKS). On CPython 3.11 before the fix of gh-106905,
# `ast.parse` can fail with "SystemError: AST constructor recursion depth mismatch" once an earlier
# parse leaked recursion depth; Hypothesis parses its own sources to describe lambdas in the repr of
# recursive strategies (the "any JSON" of `metadata`), so a run could die with a Runtime Error that
# has nothing to do with the gateway. The description is cosmetic: fall back to a generic one.
HOOKS = """
import hypothesis.internal.lambda_sources as lambda_sources

_describe = lambda_sources.lambda_description


def _robust_description(f):
    try:
        return _describe(f)
    except SystemError:
        return "lambda: <source unavailable>"


lambda_sources.lambda_description = _robust_description
"""


def junit_summary(path):
    """(operations, [(operation, short description of its failures)]) from schemathesis's JUnit report."""
    if not os.path.exists(path):
        return 0, []
    cases, failing = 0, []
    for case in ElementTree.parse(path).iter("testcase"):
        cases += 1
        for element in case:
            if element.tag not in ("failure", "error"):
                continue
            lines = [line.strip() for line in (element.text or element.get("message") or "").splitlines() if line.strip()]
            # The check titles, the first line under each, the answer and the reproduction.
            keep = []
            for index, line in enumerate(lines):
                if line.startswith("- ") and index + 1 < len(lines):
                    keep.append(line[2:] + ": " + lines[index + 1])
                elif re.match(r"^\[\d{3}\]", line) or line.startswith("curl "):
                    keep.append(line)
            failing.append((case.get("name"), "\n         ".join(line[:400] for line in (keep or lines[:6]))))
    return cases, failing


def status_histogram(log):
    """`route status` → count, from the gateway's access log."""
    counts = {}
    for line in log:
        match = re.search(r"method=(\S+) .*route=(\S+) status=(\d+)", line)
        if match:
            key = "%s %s %s" % match.groups()
            counts[key] = counts.get(key, 0) + 1
    return counts


def run_schemathesis(location, base, workspace, args, exclude_openapi):
    config = os.path.join(workspace, "schemathesis.toml")
    schemathesis_config(config)
    junit = os.path.join(workspace, "junit.xml")
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", config, "run", location,
        "--checks", ",".join(CHECKS),
        "--max-examples", str(args.max_examples),
        "--workers", str(args.workers),
        "--seed", str(args.seed),
        "--request-timeout", "75",
        "--generation-database", "none",
        "--suppress-health-check", "all",
        "--report", "junit", "--report-junit-path", junit,
        "--no-color",
    ]
    if location != base + "/openapi.json":
        command += ["--url", base]
    if exclude_openapi:
        command += ["--exclude-path", "/openapi.json"]
    hooks = os.path.join(workspace, "schemathesis_hooks.py")
    open(hooks, "w", encoding="utf-8").write(HOOKS)
    print("     $ " + " ".join(command[2:]), flush=True)
    started = time.monotonic()
    try:
        completed = subprocess.run(command, cwd=workspace, capture_output=True, text=True, errors="replace", timeout=args.timeout,
                                   env=dict(os.environ, SCHEMATHESIS_HOOKS=hooks))
        output, code = completed.stdout + completed.stderr, completed.returncode
    except subprocess.TimeoutExpired as expired:
        output = (expired.stdout or b"").decode(errors="replace") if isinstance(expired.stdout, bytes) else (expired.stdout or "")
        code = "timeout after %d s" % args.timeout
    elapsed = time.monotonic() - started
    log = os.path.join(workspace, "schemathesis.log")
    open(log, "w", encoding="utf-8").write(output)
    return code, output, elapsed, junit


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binary")
    parser.add_argument("--max-examples", type=int, default=int(os.environ.get("OPENAPI_PEER_MAX_EXAMPLES", "50")))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=int(os.environ.get("OPENAPI_PEER_SEED", "20261121")))
    parser.add_argument("--timeout", type=int, default=420, help="hard limit on the schemathesis run, seconds")
    parser.add_argument("--use-file", action="store_true", help="test with the document file even when the gateway serves one")
    parser.add_argument("--keep", action="store_true", help="keep the workspace (config, logs, reports)")
    args = parser.parse_args()

    document = json.load(open(DOCUMENT, encoding="utf-8"))
    structural_checks(document)

    workspace = tempfile.mkdtemp(prefix="kgw-openapi-")
    gateway = Gateway(args.binary, workspace)
    try:
        if not check("the gateway starts and /readyz answers 200", gateway.wait_ready(), "".join(gateway.log[-10:])):
            return
        status, body, content_type = fetch(gateway.base + "/openapi.json")
        location, exclude = gateway.base + "/openapi.json", False
        if status == 404 or args.use_file:
            # Before the route exists (or on request): test the same document from the file.
            print("     GET /openapi.json -> %d: testing %s against %s" % (status, os.path.relpath(DOCUMENT, ROOT), gateway.base), flush=True)
            location, exclude = DOCUMENT, status != 200
        else:
            served = None
            try:
                served = json.loads(body)
            except ValueError:
                pass
            check("GET /openapi.json answers 200 application/json", status == 200 and content_type.startswith("application/json"),
                  "%d %s" % (status, content_type))
            if not check("the served document is Sources/GatewayApp/Resources/openapi.json", served == document,
                         "%d bytes served that differ from the file" % len(body)):
                # Still test the file, for a complete report; the run has failed already.
                location, exclude = DOCUMENT, True

        code, output, elapsed, junit = run_schemathesis(location, gateway.base, workspace, args, exclude)
        operations, failing = junit_summary(junit)
        alive = gateway.process.poll() is None
        summary = [line for line in output.splitlines() if re.search(r"(passed|failed|errors?|skipped|Test cases|Seed|seconds|Coverage|Fuzzing|Stateful|Examples)", line)]
        print("     schemathesis exit %s in %.0f s; %d operations tested; %d failing" % (code, elapsed, operations, len(failing)), flush=True)
        for line in summary[-14:]:
            print("     | " + line.strip(), flush=True)
        for name, message in failing:
            print("     - %s: %s" % (name, message), flush=True)
        histogram = status_histogram(gateway.log)
        by_status = {}
        for key, count in histogram.items():
            by_status[key.rsplit(" ", 1)[1]] = by_status.get(key.rsplit(" ", 1)[1], 0) + count
        print("     gateway answers by status: " + ", ".join("%s: %d" % item for item in sorted(by_status.items())), flush=True)
        served = sorted(key for key in histogram if key.rsplit(" ", 1)[1].startswith("2"))
        print("     2xx by route: " + ", ".join("%s (%d)" % (key, histogram[key]) for key in served), flush=True)
        open(os.path.join(workspace, "gateway.log"), "w", encoding="utf-8").write("".join(gateway.log))
        check("schemathesis tested every documented operation", operations >= len(ROUTES) - (1 if exclude else 0),
              "%d operations in the report" % operations)
        if not check("schemathesis found no failure (%s)" % ", ".join(CHECKS), code == 0 and not failing,
                     "exit %s; full output in %s" % (code, os.path.join(workspace, "schemathesis.log"))):
            print(output[-6000:], flush=True)
            args.keep = True
        if check("the gateway survived the run", alive, "".join(gateway.log[-20:])):
            directed_checks(gateway, document)
    finally:
        gateway.stop()
        if args.keep:
            print("     workspace kept: " + workspace, flush=True)
        else:
            shutil.rmtree(workspace, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    finally:
        print("%d passed, %d failed" % (results["passed"], results["failed"]), flush=True)
    sys.exit(1 if results["failed"] or not results["passed"] else 0)
