"""Operations against the real binary: /metrics read by `prometheus_client`'s own parser, and a
config reload by SIGHUP (a good file applies, a broken one changes nothing).

Runs `krea-gateway demo` on a copy of config/demo.yaml with free loopback ports.
Run: python3 ops_peer.py BINARY   (prints 'N passed, N failed', exits 1 on a failure)"""
import asyncio
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = "kgw_demo_0123456789abcdef0123456789abcdef"
from peer_checks import check, free_port, results  # noqa: E402 (the peers' shared helpers)


def call(port, method, path, body=None, key=KEY):
    request = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
    if key:
        request.add_header("Authorization", "Bearer " + key)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def scrape(port):
    status, headers, text = call(port, "GET", "/metrics", key=None)
    samples = {}
    for family in text_string_to_metric_families(text):   # raises on anything that is not the exposition format
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return status, headers, samples


def sample(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def medium_price(port):
    _, _, text = call(port, "GET", "/v1/models")
    for model in json.loads(text)["data"]:
        if model["id"] == "krea-2-medium":
            return model["pricing"]["base_usd"]
    return None


async def hold_waiters(port, job_id, count, seconds):
    """`count` clients, each on its own connection, GET the job with `Prefer: wait=seconds`;
    returns the statuses they got."""
    request = ("GET /v1/generations/%s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
               "Prefer: wait=%d\r\nConnection: close\r\n\r\n" % (job_id, KEY, seconds)).encode()

    async def one():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=seconds + 30)
        writer.close()
        return answer.split(b" ", 2)[1].decode() if answer.startswith(b"HTTP/1.1 ") else "?"

    return await asyncio.gather(*(one() for _ in range(count)), return_exceptions=True)


def process_status(pid):
    fields = {}
    for line in open("/proc/%d/status" % pid):
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return int(fields["Threads"]), int(fields["VmRSS"].split()[0])


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    binary = sys.argv[1]
    workspace = tempfile.mkdtemp(prefix="kgw-ops-")
    port, krea, evolink = free_port(), free_port(), free_port()
    config = os.path.join(workspace, "gateway.yaml")
    original = open(os.path.join(HERE, "..", "..", "config", "demo.yaml")).read()
    original = original.replace("127.0.0.1:9101", "127.0.0.1:%d" % krea).replace("127.0.0.1:9102", "127.0.0.1:%d" % evolink)
    open(config, "w").write(original)
    log = []
    gateway = subprocess.Popen([binary, "demo", "--config", config, "--step-seconds", "0.05"],
                               env=dict(os.environ, GATEWAY_LISTEN="127.0.0.1:%d" % port),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    threading.Thread(target=lambda: [log.append(line) for line in gateway.stderr], daemon=True).start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any("listening" in line for line in log):
            time.sleep(0.05)
        if not check("the gateway starts", any("listening" in line for line in log), "".join(log[-5:])):
            return

        status, headers, before = scrape(port)
        check("/metrics answers 200 in the text exposition format", status == 200
              and headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"), str(headers))
        ids = []
        for _ in range(2):
            status, _, text = call(port, "POST", "/v1/generations", {"model": "krea-2-medium", "prompt": "a lighthouse"})
            ids.append(json.loads(text)["id"])
        for job in ids:
            for _ in range(100):
                if json.loads(call(port, "GET", "/v1/generations/" + job)[2])["status"] == "completed":
                    break
                time.sleep(0.05)
        _, _, after = scrape(port)
        posted = dict(route="/v1/generations", method="POST", status="202")
        check("the request counter moved by the two submissions",
              sample(after, "gateway_http_requests_total", **posted) - sample(before, "gateway_http_requests_total", **posted) == 2)
        check("upstream submissions are counted by provider and outcome",
              sample(after, "gateway_upstream_requests_total", provider="krea", operation="submit", outcome="ok") >= 2)
        check("the latency histogram has the requests",
              sample(after, "gateway_http_request_duration_seconds_count", route="/v1/generations", method="POST") >= 2)
        usage = json.loads(call(port, "GET", "/v1/usage")[2])
        key_budget = next(b for b in usage["budgets"] if b["scope"] == "key")
        check("budget spend in /metrics equals the ledger's (/v1/usage)",
              abs(sample(after, "gateway_budget_spent_usd", scope="key", id=key_budget["id"], period=key_budget["period"])
                  - float(key_budget["spent_usd"])) < 1e-9, "%s vs %s" % (after, key_budget))
        check("jobs by status", sample(after, "gateway_jobs", status="completed") >= 2)

        # 2,000 clients waiting at once (Prefer: wait) cost the gateway no thread each.
        _, _, text = call(port, "POST", "/v1/generations", {"model": "krea-2-medium", "prompt": "never ends [sim:never]"})
        never = json.loads(text)["id"]
        threads_before, rss_before = process_status(gateway.pid)
        waiters, seen = 2000, {"waiting": 0, "threads": 0, "rss": 0}

        def watch():
            deadline = time.monotonic() + 6
            while time.monotonic() < deadline:
                waiting = int(sample(scrape(port)[2], "gateway_waiting_requests"))
                if waiting >= seen["waiting"]:
                    threads, rss = process_status(gateway.pid)
                    seen.update(waiting=waiting, threads=threads, rss=rss)
                time.sleep(0.2)

        sampler = threading.Thread(target=watch)
        sampler.start()
        statuses = asyncio.run(hold_waiters(port, never, waiters, 4))
        sampler.join()
        print("     %d Prefer: wait clients: %d waiting at once; gateway threads %d (%d before), RSS %.1f MiB (%.1f before)"
              % (waiters, seen["waiting"], seen["threads"], threads_before, seen["rss"] / 1024, rss_before / 1024))
        check("2,000 clients waiting at once are all answered (200, job still running)",
              statuses.count("200") == waiters, str({s: statuses.count(s) for s in set(map(str, statuses))}))
        check("they were waiting at the same time", seen["waiting"] >= waiters * 0.9, str(seen))
        check("no thread per waiting client", seen["threads"] - threads_before < 64, str(seen))

        # SIGHUP with a changed price: applied, new requests pay it.
        open(config, "w").write(original.replace('base_usd: "0.030"', 'base_usd: "0.045"', 1))
        gateway.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and medium_price(port) != "0.045":
            time.sleep(0.05)
        check("SIGHUP applies a changed price", medium_price(port) == "0.045")
        status, headers, _ = call(port, "POST", "/v1/generations", {"model": "krea-2-medium", "prompt": "x"})
        check("a new submission is priced at the reloaded price", headers.get("X-Gateway-Cost-USD") == "0.045", str(headers))

        # SIGHUP with a broken file: refused, logged, nothing changes, the process lives on.
        open(config, "w").write(original.replace('base_usd: "0.030"', 'base_usd: "free"', 1))
        gateway.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any("reload refused" in line for line in log):
            time.sleep(0.05)
        check("a broken file is refused and the errors are logged",
              any("reload refused" in line and "base_usd" in line for line in log), "".join(log[-3:]))
        check("the running configuration stays", gateway.poll() is None and medium_price(port) == "0.045")
        gateway.send_signal(signal.SIGTERM)
        check("SIGTERM still stops it cleanly (exit 0)", gateway.wait(timeout=30) == 0)
    finally:
        if gateway.poll() is None:
            gateway.kill()
            gateway.wait()
        shutil.rmtree(workspace, ignore_errors=True)
        print("%d passed, %d failed" % (results["passed"], results["failed"]))
    sys.exit(1 if results["failed"] else 0)


if __name__ == "__main__":
    main()
