"""Cross-file checks for deploy/ that no schema can make (run by deploy/check).

Each check guards a drift that would otherwise only show in production: the ConfigMap no
longer matching config/gateway.yaml, a new ${VAR} in the config that no secret template
provides, a stop timeout shorter than the gateway's drain, a second replica on the SQLite store.
Usage: python3 deploy/consistency.py [--write-configmap] [REPO_ROOT]
  prints every problem and exits 1 if any; --write-configmap first rewrites
  deploy/kubernetes/configmap.yaml from config/gateway.yaml (after the config changed).
"""
import json
import re
import sys
from pathlib import Path

import yaml

arguments = sys.argv[1:]
write_configmap = "--write-configmap" in arguments
arguments = [a for a in arguments if a != "--write-configmap"]
root = Path(arguments[0] if arguments else Path(__file__).resolve().parent.parent)
deploy = root / "deploy"
kube = deploy / "kubernetes"
problems = []


def check(ok, message):
    if not ok:
        problems.append(message)


def load(path):
    return yaml.safe_load(path.read_text())


def seconds(text):
    """A compose duration such as "40s", "1m30s" or "500ms", in seconds."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", str(text))
    if not parts or "".join(n + u for n, u in parts) != str(text):
        raise ValueError(f"not a duration: {text!r}")
    return sum(float(n) * units[u] for n, u in parts)


def env_file_names(path):
    """Names assigned (or shown commented out, as "#NAME=") in a KEY=value file."""
    return set(re.findall(r"^#?([A-Z][A-Z0-9_]*)=", path.read_text(), re.M))


config_text = (root / "config/gateway.yaml").read_text()
config = yaml.safe_load(config_text)
grace = float((config.get("server") or {}).get("shutdown_grace_s", 25))
config_vars = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}", config_text))

# Kubernetes -------------------------------------------------------------------------------
if write_configmap:
    # Keeps everything up to the "gateway.yaml: |" line; the block below it is the config, indented.
    marker = "  gateway.yaml: |\n"
    head = (kube / "configmap.yaml").read_text().partition(marker)[0]
    body = "".join("    " + line if line.strip() else line for line in config_text.splitlines(True))
    (kube / "configmap.yaml").write_text(head + marker + body)
configmap = load(kube / "configmap.yaml")
check(configmap["data"].get("gateway.yaml") == config_text,
      "kubernetes/configmap.yaml: data.gateway.yaml differs from config/gateway.yaml"
      " (python3 deploy/consistency.py --write-configmap copies it)")

kustomization = load(kube / "kustomization.yaml")
listed = set(kustomization.get("resources", []))
present = {p.name for p in kube.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
check("secret.example.yaml" not in listed, "kubernetes/kustomization.yaml must not list the secret template")
check(listed == present,
      f"kubernetes/kustomization.yaml resources {sorted(listed)} != manifests present {sorted(present)}")

deployment = load(kube / "deployment.yaml")
spec = deployment["spec"]
pod = spec["template"]["spec"]
container = pod["containers"][0]
check(spec.get("replicas") == 1, "kubernetes/deployment.yaml: replicas must be 1 (SQLite store: one writer)")
check(spec.get("strategy", {}).get("type") == "Recreate",
      "kubernetes/deployment.yaml: strategy must be Recreate (ReadWriteOnce volume, one writer)")
pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
pre_stop_s = float(pre_stop[1]) if pre_stop[:1] == ["sleep"] else 0.0
check(pod.get("terminationGracePeriodSeconds", 30) > pre_stop_s + grace,
      f"kubernetes/deployment.yaml: terminationGracePeriodSeconds must exceed preStop ({pre_stop_s:g} s)"
      f" + server.shutdown_grace_s ({grace:g} s)")
secret = load(kube / "secret.example.yaml")
k8s_names = set(secret.get("stringData", {})) | {e["name"] for e in container.get("env", [])}
check(not (missing := config_vars - k8s_names),
      f"kubernetes: secret.example.yaml / deployment env lack {sorted(missing)} used by config/gateway.yaml")

# Compose ----------------------------------------------------------------------------------
compose = load(deploy / "docker-compose.yml")
gateway = compose["services"]["gateway"]
check(seconds(gateway.get("stop_grace_period", "10s")) > grace,
      f"docker-compose.yml: stop_grace_period must exceed server.shutdown_grace_s ({grace:g} s)")
check("deploy" not in gateway or gateway["deploy"].get("replicas", 1) == 1,
      "docker-compose.yml: one replica only (SQLite store: one writer)")
compose_names = env_file_names(deploy / "gateway.env.example") | set(gateway.get("environment", {}))
check(not (missing := config_vars - compose_names),
      f"docker-compose.yml: gateway.env.example / environment lack {sorted(missing)} used by config/gateway.yaml")

dockerfile = re.sub(r"\\\n", " ", (root / "Dockerfile").read_text())
found = re.search(r"^HEALTHCHECK\s+(.*?)\s*CMD\s+(\[.*\])\s*$", dockerfile, re.M)
check(found is not None, "Dockerfile: no HEALTHCHECK ... CMD [...] line to compare with")
if found:
    options = dict(re.findall(r"--([a-z-]+)=(\S+)", found.group(1)))
    health = gateway.get("healthcheck", {})
    check(health.get("test") == ["CMD", *json.loads(found.group(2))],
          "docker-compose.yml: healthcheck.test differs from the Dockerfile's HEALTHCHECK CMD")
    for key, value in options.items():
        mine = health.get(key.replace("-", "_"))
        same = mine is not None and (
            seconds(mine) == seconds(value) if key != "retries" else int(mine) == int(value))
        check(same, f"docker-compose.yml: healthcheck {key.replace('-', '_')} {mine!r} != Dockerfile's {value}")

# systemd ----------------------------------------------------------------------------------
unit = (deploy / "systemd/krea-gateway.service").read_text()
settings = {}
for line in unit.splitlines():
    if "=" in line and not line.lstrip().startswith(("#", ";")):
        key, _, value = line.partition("=")
        settings.setdefault(key.strip(), []).append(value.strip())
timeout = settings.get("TimeoutStopSec", ["90"])[-1]
check(timeout.isdigit() and int(timeout) > grace,
      f"systemd: TimeoutStopSec ({timeout}) must exceed server.shutdown_grace_s ({grace:g} s)")
systemd_names = env_file_names(deploy / "systemd/krea-gateway.env.example") | {
    v.partition("=")[0] for v in settings.get("Environment", [])}
check(not (missing := config_vars - systemd_names),
      f"systemd: krea-gateway.env.example / Environment= lack {sorted(missing)} used by config/gateway.yaml")

for problem in problems:
    print(f"deploy/consistency.py: {problem}", file=sys.stderr)
print(f"consistency: {len(problems)} problem(s)")
sys.exit(1 if problems else 0)
