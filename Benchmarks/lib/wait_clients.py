#!/usr/bin/env python3
"""N clients, each on its own connection, GET one running job with `Prefer: wait=S` at once, while
the gateway's threads and RSS (/proc/PID/status) and its gateway_waiting_requests gauge
(/metrics) are sampled. Writes a JSON summary. Used by Benchmarks/prefer-wait.sh."""
import argparse
import asyncio
import json
import resource
import time
import urllib.request


def status_of(pid):
    fields = {}
    for line in open("/proc/%d/status" % pid):
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return int(fields["Threads"]), int(fields["VmRSS"].split()[0])


def waiting(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("gateway_waiting_requests "):
                return int(float(line.split()[1]))
    return 0


async def main(args):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    request = ("GET /v1/generations/%s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nPrefer: wait=%d\r\n"
               "Connection: close\r\n\r\n" % (args.job, args.key, args.wait)).encode()
    threads_before, rss_before = status_of(args.pid)
    gate = asyncio.Semaphore(args.open_concurrency)
    statuses, answered_at = {}, []
    sent = 0

    async def one():
        nonlocal sent
        async with gate:
            reader, writer = await asyncio.open_connection("127.0.0.1", args.port)
            writer.write(request)
            await writer.drain()
            sent += 1
        answer = await asyncio.wait_for(reader.read(), timeout=args.wait + 60)
        answered_at.append(time.monotonic())
        writer.close()
        code = answer.split(b" ", 2)[1].decode() if answer.startswith(b"HTTP/1.1 ") else "?"
        statuses[code] = statuses.get(code, 0) + 1

    started = time.monotonic()
    tasks = [asyncio.create_task(one()) for _ in range(args.clients)]
    while sent < args.clients and time.monotonic() - started < args.wait:
        await asyncio.sleep(0.1)
    all_sent = time.monotonic() - started
    await asyncio.sleep(1)
    peak = {"waiting": waiting(args.port)}
    peak["threads"], peak["rss_kb"] = status_of(args.pid)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    errors = [repr(r) for r in results if isinstance(r, Exception)]
    json.dump({
        "clients": args.clients, "wait_s": args.wait, "all_sent_after_s": round(all_sent, 2),
        "waiting_at_once": peak["waiting"], "threads_before": threads_before, "threads_waiting": peak["threads"],
        "rss_before_kb": rss_before, "rss_waiting_kb": peak["rss_kb"], "statuses": statuses, "errors": len(errors),
        "first_errors": errors[:3],
        "answers_spread_s": round(max(answered_at) - min(answered_at), 3) if answered_at else None,
    }, open(args.json, "w"), indent=1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    for name, kind in (("port", int), ("pid", int), ("clients", int), ("wait", int), ("open-concurrency", int)):
        parser.add_argument("--" + name, type=kind, required=True)
    parser.add_argument("--job", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--json", required=True)
    asyncio.run(main(parser.parse_args()))
