"""docs/API.md documents every operation of the OpenAPI document the gateway serves, and names
no route that document lacks: the reference is kept equal to /openapi.json."""
import json
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parents[2]
spec = json.loads((root / "Sources/GatewayApp/Resources/openapi.json").read_text())
doc = (root / "docs/API.md").read_text()

documented = set()
for method, path in re.findall(r"`(GET|POST|PUT|PATCH|DELETE|HEAD) (/[^`\s?]*)", doc):
    documented.add((method, path))
# "GET/DELETE /x" style headings name one path for two methods.
for methods, path in re.findall(r"`((?:GET|POST|PATCH|DELETE)(?:/(?:GET|POST|PATCH|DELETE))+) (/[^`\s?]*)", doc):
    for method in methods.split("/"):
        documented.add((method, path))

served = {(method.upper(), path) for path, item in spec["paths"].items() for method in item
          if method in ("get", "post", "put", "patch", "delete", "head")}

# Abbreviated paths in prose ("/generate/image/krea/...") are not routes.
documented = {(m, p) for m, p in documented if "..." not in p}
# The reference says HEAD is served wherever GET is.
documented |= {("HEAD", p) for m, p in documented if m == "GET"}
missing = sorted(served - documented)
unknown = sorted((m, p) for m, p in documented - served if not (m == "HEAD" and ("GET", p) in served))
for method, path in missing:
    print(f"docs/API.md does not document {method} {path}")
for method, path in unknown:
    print(f"docs/API.md names {method} {path}, which /openapi.json does not serve")
print(f"{len(served) - len(missing)} passed, {len(missing) + len(unknown)} failed")
sys.exit(1 if missing or unknown else 0)
