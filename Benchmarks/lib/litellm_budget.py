"""The budget test of Benchmarks/litellm.sh: TOTAL submissions of one fixed POST, CONCURRENCY in
flight at once (CONCURRENCY threads, each on its own keep-alive connection, all released together
by a barrier), against a front door whose budget covers fewer. Counts the answers by status and
adds up the cost each 2xx answer says it was charged (`X-Gateway-Cost-USD` from krea-gateway,
`x-litellm-response-cost` from LiteLLM), then writes a JSON summary.

    python3 litellm_budget.py --port P --path /v1/generations --key K --body '{...}' \
        --total 200 --concurrency 50 --json out.json

Loopback only (127.0.0.1)."""
import argparse
import http.client
import json
import threading
import time
from decimal import Decimal

COST_HEADERS = ("x-gateway-cost-usd", "x-litellm-response-cost")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--body", required=True)
    parser.add_argument("--total", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--json", required=True)
    args = parser.parse_args()

    lock = threading.Lock()
    next_index = [0]
    statuses = {}
    errors = []
    charged = [Decimal(0)]
    answers = []  # (status, first 300 bytes of the body) of a few non-2xx answers, for the log
    barrier = threading.Barrier(args.concurrency)
    body = args.body.encode()
    headers = {"Content-Type": "application/json", "Authorization": "Bearer " + args.key}

    def take():
        with lock:
            if next_index[0] >= args.total:
                return False
            next_index[0] += 1
            return True

    def worker():
        connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=args.timeout)
        try:
            connection.connect()
        except OSError as error:
            with lock:
                errors.append(f"connect: {error}")
        barrier.wait()
        while take():
            try:
                connection.request("POST", args.path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                cost = next((response.getheader(h) for h in COST_HEADERS if response.getheader(h)), None)
                with lock:
                    statuses[response.status] = statuses.get(response.status, 0) + 1
                    if 200 <= response.status < 300 and cost is not None:
                        charged[0] += Decimal(cost)
                    if not 200 <= response.status < 300 and len(answers) < 3:
                        answers.append((response.status, data[:300].decode("utf-8", "replace")))
                if response.getheader("connection", "").lower() == "close":
                    connection.close()
            except (OSError, http.client.HTTPException) as error:
                with lock:
                    errors.append(f"{type(error).__name__}: {error}")
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=args.timeout)
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started

    admitted = sum(count for status, count in statuses.items() if 200 <= status < 300)
    result = {
        "total": args.total,
        "concurrency": args.concurrency,
        "admitted": admitted,
        "statuses": {str(status): count for status, count in sorted(statuses.items())},
        "errors": len(errors),
        "error_samples": errors[:3],
        "charged_usd": str(charged[0]),
        "seconds": round(elapsed, 3),
        "refusal_samples": answers,
    }
    with open(args.json, "w") as out:
        json.dump(result, out, indent=1)
    print(f"admitted {admitted} of {args.total} ({', '.join(f'{s}: {c}' for s, c in sorted(statuses.items()))}; "
          f"{len(errors)} errors) in {elapsed:.2f} s; charged per the answers' headers: {charged[0]} USD")


if __name__ == "__main__":
    main()
