#!/usr/bin/env python3
"""Samples the gateway during Benchmarks/soak.sh every INTERVAL seconds until STOP_FILE exists:
its RSS (/proc/PID/status), and from /metrics the jobs admitted so far (sum of gateway_jobs) and
the jobs it holds in memory (gateway_jobs_in_memory). One JSON line per sample to OUT.

    soak_sampler.py PID PORT INTERVAL OUT STOP_FILE
"""
import json
import os
import sys
import time
import urllib.request


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def scrape(port: int) -> dict:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    out = {"jobs": {}, "in_memory": {}}
    for line in text.splitlines():
        if line.startswith("gateway_jobs{"):
            status = line.split('status="')[1].split('"')[0]
            out["jobs"][status] = int(float(line.rsplit(" ", 1)[1]))
        elif line.startswith("gateway_jobs_in_memory{"):
            state = line.split('state="')[1].split('"')[0]
            out["in_memory"][state] = int(float(line.rsplit(" ", 1)[1]))
    return out


def main() -> None:
    pid, port, interval, out_path, stop_file = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
    start = time.monotonic()
    with open(out_path, "a") as out:
        while True:
            sample = {"t": round(time.monotonic() - start, 1), "rss_kb": rss_kb(pid)}
            try:
                sample.update(scrape(port))
            except Exception as error:  # a scrape may time out under load; the RSS still counts
                sample["scrape_error"] = str(error)
            out.write(json.dumps(sample) + "\n")
            out.flush()
            deadline = time.monotonic() + interval
            while time.monotonic() < deadline:
                if os.path.exists(stop_file):
                    return
                time.sleep(0.2)


if __name__ == "__main__":
    main()
