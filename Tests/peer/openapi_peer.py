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
   response_schema_conformance and response_headers_conformance: zero failures allowed.

Run: python3 openapi_peer.py BINARY [--max-examples N] [--workers N] [--seed N] [--use-file]
(prints 'N passed, N failed', exits 1 on any failure). Needs Tests/peer/requirements-openapi.txt."""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ElementTree

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DOCUMENT = os.path.join(ROOT, "Sources", "GatewayApp", "Resources", "openapi.json")
KEY = "kgw_demo_0123456789abcdef0123456789abcdef"
MASTER_KEY = "demo-master-key"
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

results = {"passed": 0, "failed": 0}


def check(name, condition, detail=""):
    results["passed" if condition else "failed"] += 1
    print(("ok   " if condition else "FAIL ") + name + ("" if condition else " " + str(detail)), flush=True)
    return condition


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
                    found.add((method, path.replace(r"\(Self.callbackPathPrefix)", "/v1/provider-callbacks")))
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

class Gateway:
    """`krea-gateway demo` on a copy of config/demo.yaml with free loopback ports."""

    def __init__(self, binary, workspace):
        self.port = free_port()
        text = open(os.path.join(ROOT, "config", "demo.yaml"), encoding="utf-8").read()
        text = text.replace("127.0.0.1:9101", "127.0.0.1:%d" % free_port()).replace("127.0.0.1:9102", "127.0.0.1:%d" % free_port())
        # Budgets big enough that fuzzed submissions keep reaching the providers (402 stays documented).
        text = text.replace('limit_usd: "1.00"', 'limit_usd: "100000.00"').replace('limit_usd: "5.00"', 'limit_usd: "500000.00"')
        # OpenAI-shaped requests wait for their job: bounded, and well under schemathesis's request timeout.
        text += "compat: {openai_max_wait_s: 20}\n"
        self.config = os.path.join(workspace, "gateway.yaml")
        open(self.config, "w", encoding="utf-8").write(text)
        self.log = []
        self.process = subprocess.Popen([binary, "demo", "--config", self.config, "--step-seconds", "0.05"],
                                        env=dict(os.environ, GATEWAY_LISTEN="127.0.0.1:%d" % self.port),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, errors="replace")
        threading.Thread(target=lambda: [self.log.append(line) for line in self.process.stderr], daemon=True).start()
        self.base = "http://127.0.0.1:%d" % self.port

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

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()


def fetch(url):
    """(status, body bytes) of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers.get("Content-Type", "")


# MARK: schemathesis

def schemathesis_config(path):
    """Per-operation credentials through the document's security schemes (gatewayKey on /v1 and
    the compatibility paths, masterKey on /admin), and the demo's model names offered for `model`
    most of the time so that generated submissions get past `unknown_model`."""
    models = ", ".join('"%s"' % name for name in MODELS)
    ratios = ", ".join('"%s"' % ratio for ratio in ["1:1", "16:9", "9:16", "4:3", "2:3", "3:2", "4:5"])
    open(path, "w", encoding="utf-8").write(
        "[auth.openapi.gatewayKey]\nbearer = \"%s\"\n\n[auth.openapi.masterKey]\nbearer = \"%s\"\n\n" % (KEY, MASTER_KEY)
        + "[dictionaries.models]\nvalues = [%s]\n\n[dictionaries.ratios]\nvalues = [%s]\n\n" % (models, ratios)
        + "[parameters]\n"
        + "\"body.model\" = { dictionary = \"models\", probability = 0.8 }\n"
        + "\"body.aspect_ratio\" = { dictionary = \"ratios\", probability = 0.7 }\n"
        + "\"body.size\" = { dictionary = \"ratios\", probability = 0.5 }\n")


def junit_summary(path):
    """(operations, failing operations with their messages) from schemathesis's JUnit report."""
    if not os.path.exists(path):
        return 0, []
    tree = ElementTree.parse(path)
    cases, failing = 0, []
    for case in tree.iter("testcase"):
        cases += 1
        problems = [element for element in case if element.tag in ("failure", "error")]
        if problems:
            text = " | ".join((element.get("message") or element.text or "").strip().splitlines()[0][:300]
                              for element in problems if (element.get("message") or element.text))
            failing.append((case.get("name"), text))
    return cases, failing


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
    print("     $ " + " ".join(command[2:]), flush=True)
    started = time.monotonic()
    try:
        completed = subprocess.run(command, cwd=workspace, capture_output=True, text=True, errors="replace", timeout=args.timeout)
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
    parser.add_argument("--max-examples", type=int, default=int(os.environ.get("OPENAPI_PEER_MAX_EXAMPLES", "25")))
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
                         "served %d bytes that differ from the file" % len(body)):
                return
            location, exclude = gateway.base + "/openapi.json", False

        code, output, elapsed, junit = run_schemathesis(location, gateway.base, workspace, args, exclude)
        operations, failing = junit_summary(junit)
        alive = gateway.process.poll() is None
        summary = [line for line in output.splitlines() if re.search(r"(passed|failed|errors?|skipped|Test cases|Seed|seconds|Coverage|Fuzzing|Stateful|Examples)", line)]
        print("     schemathesis exit %s in %.0f s; %d operations tested; %d failing" % (code, elapsed, operations, len(failing)), flush=True)
        for line in summary[-14:]:
            print("     | " + line.strip(), flush=True)
        for name, message in failing:
            print("     - %s: %s" % (name, message), flush=True)
        check("the gateway survived the run", alive, "".join(gateway.log[-20:]))
        check("schemathesis tested every documented operation", operations >= len(ROUTES) - (1 if exclude else 0),
              "%d operations in the report" % operations)
        if not check("schemathesis found no failure (%s)" % ", ".join(CHECKS), code == 0 and not failing,
                     "exit %s; full output in %s" % (code, os.path.join(workspace, "schemathesis.log"))):
            print(output[-6000:], flush=True)
            args.keep = True
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
