"""The compatibility front doors against the real binary, with the clients people already have:

- the real `openai` Python client (PyPI) generating an image through each model, and getting the
  right `openai` exception classes for a budget error, a bad size and an unknown model;
- a client written the way Krea's docs show (`requests`: POST, then poll GET /jobs/{id} until
  `completed`), unchanged, first against the default mapping, then with
  `compat.krea_paths.medium` pointed at `krea-2-turbo` (its jobs then go to Evolink);
- `X-Webhook-URL` on the Krea path: the Krea-shaped job arrives, signed (verified with
  `standardwebhooks`).

Run: python3 compat_peer.py BINARY   (prints 'N passed, N failed', exits 1 on a failure)"""
import json
import os
import shutil
import sys
import tempfile
import time

import openai
import requests
from standardwebhooks.webhooks import Webhook

KEY = "kgw_demo_0123456789abcdef0123456789abcdef"
TIGHT_KEY = "kgw_tight_0123456789abcdef0123456789abcdef"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
from gateway_process import DemoGateway  # noqa: E402
from peer_checks import Receiver, check, results  # noqa: E402 (the peers' shared helpers)


class Gateway(DemoGateway):
    """`krea-gateway demo` on a copy of config/demo.yaml: free ports, step 0.05 s, a second key with a
    budget too small for any image, webhooks allowed to loopback over http. Waits (up to 30 s)
    for its 'listening' line."""

    def __init__(self, binary, workspace, medium_target="krea-2-medium"):
        def edit(text):
            text = text.replace("\nlogging:", "  - {id: tight, name: \"Tight\", key: \"%s\", budget: {limit_usd: \"0.010\", period: daily}}\n\nlogging:"
                                % TIGHT_KEY, 1)
            return text + ("webhooks: {secret: \"%s\", allow_http: true, allow_private_networks: true}\n" % SECRET
                           + "compat: {openai_max_wait_s: 30, krea_paths: {medium: %s, large: krea-2-large}}\n" % medium_target)

        super().__init__(binary, os.path.join(workspace, "gateway-%s.yaml" % medium_target), edit)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any("listening" in line for line in self.log):
            time.sleep(0.05)


def krea_docs_client(base, token, prompt, webhook=None):
    """What Krea's docs show: POST the generation, then poll the job until it is completed."""
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    if webhook:
        headers["X-Webhook-URL"] = webhook
    response = requests.post(base + "/generate/image/krea/krea-2/medium", headers=headers,
                             json={"prompt": prompt, "aspect_ratio": "16:9"}, timeout=30)
    response.raise_for_status()
    job = response.json()
    for _ in range(200):
        job = requests.get(base + "/jobs/" + job["job_id"], headers=headers, timeout=30).json()
        if job["status"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.05)
    return response, job


def main():
    binary = sys.argv[1]
    workspace = tempfile.mkdtemp(prefix="kgw-compat-")
    receiver = Receiver()
    gateway = Gateway(binary, workspace)
    try:
        if not check("the gateway starts", any("listening" in line for line in gateway.log), "".join(gateway.log[-5:])):
            return
        client = openai.OpenAI(base_url=gateway.base + "/v1", api_key=KEY, max_retries=0)
        for model, size in (("krea-2-medium", "1024x1024"), ("krea-2-large", "1792x1024"), ("krea-2-turbo", "1024x1536")):
            try:
                image = client.images.generate(model=model, prompt="a lighthouse at dusk", size=size)
                check("openai client: %s at %s returns an image URL" % (model, size),
                      len(image.data) == 1 and image.data[0].url.startswith("http") and image.created > 0, image)
            except Exception as error:  # noqa: BLE001 - any failure is the finding
                check("openai client: %s at %s returns an image URL" % (model, size), False, repr(error))
        raw = client.images.with_raw_response.generate(model="krea-2-medium", prompt="a cat")
        check("the job id is in X-Generation-Id", raw.headers.get("x-generation-id", "").startswith("gen_"), dict(raw.headers))

        tight = openai.OpenAI(base_url=gateway.base + "/v1", api_key=TIGHT_KEY, max_retries=0)
        for name, call, expected, code in (
            ("a budget error", lambda: tight.images.generate(model="krea-2-medium", prompt="x"), openai.APIStatusError, "budget_exceeded"),
            ("a bad size", lambda: client.images.generate(model="krea-2-medium", prompt="x", size="1000x100"), openai.BadRequestError, "invalid_parameter"),
            ("an unknown model", lambda: client.images.generate(model="dall-e-3", prompt="x"), openai.BadRequestError, "unknown_model"),
            ("n = 2", lambda: client.images.generate(model="krea-2-medium", prompt="x", n=2), openai.BadRequestError, "invalid_parameter"),
            ("b64_json", lambda: client.images.generate(model="krea-2-medium", prompt="x", response_format="b64_json"), openai.BadRequestError, "invalid_parameter"),
            ("a bad key", lambda: openai.OpenAI(base_url=gateway.base + "/v1", api_key="kgw_nope", max_retries=0).images.generate(model="krea-2-medium", prompt="x"),
             openai.AuthenticationError, "invalid_api_key"),
        ):
            try:
                call()
                check("openai client: %s raises %s" % (name, expected.__name__), False, "no exception")
            except expected as error:
                body_code = (error.body or {}).get("code") if isinstance(error.body, dict) else None
                check("openai client: %s raises %s (code %s)" % (name, expected.__name__, code),
                      body_code == code and (expected is not openai.APIStatusError or error.status_code == 402),
                      "%s %s" % (error.status_code, error.body))
            except Exception as error:  # noqa: BLE001
                check("openai client: %s raises %s" % (name, expected.__name__), False, repr(error))

        # A client written from Krea's docs, unchanged.
        hook = "http://127.0.0.1:%d/krea-hook" % receiver.port
        response, job = krea_docs_client(gateway.base, KEY, "a red fox", webhook=hook)
        check("Krea client: POST answers 200 with a queued Krea job", response.status_code == 200
              and response.json()["status"] == "queued" and response.json()["result"] is None, response.text)
        check("Krea client: polling GET /jobs/{id} reaches completed with result.urls",
              job["status"] == "completed" and job["result"]["urls"] and job["completed_at"], job)
        routed = requests.get(gateway.base + "/v1/generations/" + job["job_id"], headers={"Authorization": "Bearer " + KEY}).json()
        check("Krea medium goes to krea-2-medium by default", routed["model"] == "krea-2-medium" and routed["provider"] == "krea", routed)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not receiver.events:
            time.sleep(0.05)
        if check("X-Webhook-URL: the event arrives", len(receiver.events) == 1, receiver.events):
            headers, body = receiver.events[0]
            try:
                Webhook(SECRET).verify(body, headers)
                verified = True
            except Exception:  # noqa: BLE001
                verified = False
            check("X-Webhook-URL: signed (standardwebhooks verifies it)", verified)
            event = json.loads(body)
            check("X-Webhook-URL: the body is the Krea-shaped job", event.get("job_id") == job["job_id"]
                  and event.get("status") == "completed" and event["result"]["urls"], event)
        bad = requests.post(gateway.base + "/generate/image/krea/krea-2/medium", headers={"Authorization": "Bearer " + KEY},
                            json={"prompt": "x", "model": "krea-2-large"})
        check("Krea client: an unknown field is a 400 with a Krea-style error string",
              bad.status_code == 400 and isinstance(bad.json().get("error"), str), bad.text)
        check("exit 0 on SIGTERM", gateway.stop() == 0)

        # The operator moves Krea's medium path to Evolink: the same client, no change.
        gateway = Gateway(binary, workspace, medium_target="krea-2-turbo")
        response, job = krea_docs_client(gateway.base, KEY, "a red fox")
        routed = requests.get(gateway.base + "/v1/generations/" + job["job_id"], headers={"Authorization": "Bearer " + KEY}).json()
        check("with krea_paths.medium = krea-2-turbo the same client completes", job["status"] == "completed", job)
        check("... and its job went to Evolink", routed["provider"] == "evolink" and routed["model"] == "krea-2-turbo", routed)
        check("exit 0 on SIGTERM", gateway.stop() == 0)
    finally:
        gateway.stop()
        receiver.server.shutdown()
        shutil.rmtree(workspace, ignore_errors=True)
        print("%d passed, %d failed" % (results["passed"], results["failed"]))
    sys.exit(1 if results["failed"] else 0)


if __name__ == "__main__":
    main()
