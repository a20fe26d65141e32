"""Crash test: kill -9 the real gateway under load, restart it on the same state.dir, and check
that nothing acknowledged was lost and no money was counted twice.

The simulators run in their own process (`krea-gateway demo --simulators-only`), so provider-side
jobs outlive every gateway kill. Worker threads submit generations (some with webhooks, some
that fail upstream, some refused at submission) while the gateway is killed at a random moment,
ROUNDS times. After each kill the database is read directly (python's sqlite3, read-only) and
checked; after each restart the API is checked. At the end the load stops, every job is followed
to its end, every webhook must have arrived (verified with `standardwebhooks`), and the gateway is
stopped with SIGTERM for a last check.

Run: python3 crash_test.py BINARY [ROUNDS]   (prints 'N passed, N failed', exits 1 on a failure)"""
import hashlib
import http.client
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook

HERE = os.path.dirname(os.path.abspath(__file__))
MASTER = "crash-master-key"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
KEYS = {
    "k1": "kgw_crash_1111111111111111111111111111111111",
    "k2": "kgw_crash_2222222222222222222222222222222222",
    "k3": "kgw_crash_3333333333333333333333333333333333",
}
LIMITS = {("key", "k1"): Decimal("2.5"), ("team", "crash"): Decimal("4"), ("key", "k3"): Decimal("100")}
MICROS = Decimal(1_000_000)

results = {"passed": 0, "failed": 0}


def check(name, condition, detail=""):
    results["passed" if condition else "failed"] += 1
    if not condition:
        print("FAIL " + name + (": " + detail if detail else ""), flush=True)
    return condition


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, method, path, key=None, body=None, timeout=5.0):
    """One HTTP request; returns (status, headers, parsed JSON or None); raises on network errors."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if key:
            headers["Authorization"] = "Bearer " + key
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return response.status, {k.lower(): v for k, v in response.getheaders()}, parsed
    finally:
        connection.close()


# ---------------------------------------------------------------- webhook receiver

class Receiver:
    """Records every delivery; refuses the first attempt of about a third of the events (500) so
    that deliveries are pending at kill time and must be retried after the restart."""

    def __init__(self):
        self.lock = threading.Lock()
        self.attempts = {}      # webhook-id -> number of attempts seen
        self.delivered = {}     # webhook-id -> (headers, body) of the accepted attempt
        self.bodies = {}        # webhook-id -> every distinct body received under it
        self.bad_signatures = []
        self.incomplete = 0     # requests whose body stopped short (the gateway was killed mid-send)
        verifier = Webhook(SECRET)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if len(body) < length:
                    # The sender was killed between its head and the end of its body: no request
                    # arrived (an HTTP server answers only whole requests), so nothing is recorded.
                    with receiver.lock:
                        receiver.incomplete += 1
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                message_id = headers.get("webhook-id", "")
                try:
                    verifier.verify(body, headers)
                except Exception as error:  # noqa: BLE001 - any verification failure is recorded
                    with receiver.lock:
                        receiver.bad_signatures.append((message_id, str(error)))
                with receiver.lock:
                    receiver.bodies.setdefault(message_id, set()).add(body)
                    count = receiver.attempts.get(message_id, 0) + 1
                    receiver.attempts[message_id] = count
                    refuse = count == 1 and int(hashlib.sha256(message_id.encode()).hexdigest(), 16) % 3 == 0
                    if not refuse:
                        receiver.delivered.setdefault(message_id, (headers, body))
                self.send_response(500 if refuse else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


# ---------------------------------------------------------------- processes

class Processes:
    def __init__(self, binary, state_dir):
        self.binary = binary
        self.env = dict(os.environ, CRASH_PORT=str(free_port()), CRASH_KREA_PORT=str(free_port()),
                        CRASH_EVOLINK_PORT=str(free_port()), CRASH_STATE_DIR=state_dir)
        self.port = int(self.env["CRASH_PORT"])
        self.config = os.path.join(HERE, "crash-test.yaml")
        self.gateway = None
        self.log_path = os.path.join(os.path.dirname(state_dir), "gateway.log")
        self.simulators = subprocess.Popen(
            [binary, "demo", "--simulators-only", "--config", self.config, "--step-seconds", "0.3"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=self.env)

    def start_gateway(self, timeout=30.0):
        log = open(self.log_path, "a")
        self.gateway = subprocess.Popen([self.binary, "serve", "--config", self.config],
                                        stdout=subprocess.DEVNULL, stderr=log, env=self.env)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.gateway.poll() is not None:
                return False
            try:
                if request(self.port, "GET", "/readyz", timeout=1)[0] == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.02)
        return False

    def kill_gateway(self):
        self.gateway.send_signal(signal.SIGKILL)
        self.gateway.wait()

    def stop_gateway(self):
        self.gateway.terminate()
        try:
            return self.gateway.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.gateway.kill()
            self.gateway.wait()
            return None

    def stop_all(self):
        for process in (self.gateway, self.simulators):
            if process and process.poll() is None:
                process.kill()
                process.wait()


# ---------------------------------------------------------------- load

class Load:
    """Worker threads submitting generations until stopped; every 202 is recorded."""

    def __init__(self, port, receiver_port, workers=6):
        self.port = port
        self.receiver_port = receiver_port
        self.lock = threading.Lock()
        self.acknowledged = {}   # job id -> (key id, cost Decimal, has webhook)
        self.refused_by_budget = 0
        self.running = threading.Event()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.work, args=(index,), daemon=True) for index in range(workers)]
        for thread in self.threads:
            thread.start()

    def work(self, index):
        rng = random.Random(index)
        while not self.stopping.is_set():
            if not self.running.wait(timeout=0.1):
                continue
            key_id = rng.choice(["k1", "k1", "k2", "k3"])
            model = rng.choice(["krea-2-medium", "krea-2-medium", "krea-2-turbo"])
            roll = rng.random()
            prompt = "a lighthouse" + (" [sim:fail]" if roll < 0.1 else " [sim:http=500]" if roll < 0.15 else "")
            body = {"model": model, "prompt": prompt, "metadata": {"worker": index}}
            with_webhook = rng.random() < 0.5
            if with_webhook:
                body["webhook_url"] = "http://127.0.0.1:%d/hook" % self.receiver_port
            try:
                status, headers, parsed = request(self.port, "POST", "/v1/generations", KEYS[key_id], body, timeout=10)
            except OSError:
                time.sleep(0.01)   # the gateway is down (or was killed mid-request): no answer, no claim
                continue
            if status in (200, 202):
                with self.lock:
                    self.acknowledged[parsed["id"]] = (key_id, Decimal(headers["x-gateway-cost-usd"]), with_webhook)
            elif status == 402:
                with self.lock:
                    self.refused_by_budget += 1

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=15)


# ---------------------------------------------------------------- checks on the database

def read_database(state_dir):
    database = sqlite3.connect("file:%s/gateway.sqlite?mode=ro" % state_dir, uri=True, timeout=5)
    try:
        jobs = {row[0]: {"owner": row[1], "team": row[2], "cost": row[3], "billing": row[4], "status": row[5],
                         "provider_job_id": row[6], "webhook_url": row[7], "error_code": row[8]}
                for row in database.execute("SELECT id, owner_key_id, team, cost_micros, billing_status, status, provider_job_id, "
                                            "webhook_url, error_code FROM jobs")}
        entries = list(database.execute("SELECT job_id, kind, owner_kind, owner, period, window_start_ms, amount_micros FROM ledger_entries ORDER BY seq"))
        deliveries = {row[0]: row[1] for row in database.execute("SELECT id, state FROM webhook_deliveries")}
        return jobs, entries, deliveries
    finally:
        database.close()


def team_total(state_dir):
    """The crash team's spent + reserved on disk now, in micro-USD (a charge moves money from
    reserved to spent; only reservations, releases and refunds change the sum)."""
    _, entries, _ = read_database(state_dir)
    total = 0
    for _, kind, owner_kind, owner, _, _, amount in entries:
        if (owner_kind, owner) == ("team", "crash"):
            total += amount if kind == "reserve" else -amount if kind in ("release", "refund") else 0
    return total


def check_database(label, state_dir, acknowledged, final=False):
    jobs, entries, deliveries = read_database(state_dir)
    missing = [job_id for job_id in acknowledged if job_id not in jobs]
    check(label + ": every acknowledged job is on disk", not missing, "%d missing, e.g. %s" % (len(missing), missing[:3]))

    # The ledger, replayed: holds and spend per (owner, window), and per job.
    reserved, spent, per_job = {}, {}, {}
    for job_id, kind, owner_kind, owner, period, start, amount in entries:
        account = (owner_kind, owner, period, start)
        state = per_job.setdefault((job_id, owner_kind, owner), {"reserve": 0, "charge": 0, "release": 0, "refund": 0})
        state[kind] += 1
        if kind == "reserve":
            reserved[account] = reserved.get(account, 0) + amount
        elif kind in ("charge", "release"):
            reserved[account] = reserved.get(account, 0) - amount
            if kind == "charge":
                spent[account] = spent.get(account, 0) + amount
    twice = [k for k, v in per_job.items() if v["reserve"] > 1 or v["charge"] > 1 or v["charge"] + v["release"] > 1]
    check(label + ": no job is reserved, charged or settled twice", not twice, str(twice[:3]))
    check(label + ": no hold is negative", all(v >= 0 for v in reserved.values()), str(reserved))

    # Each job's row agrees with its ledger lines (written in one transaction).
    disagree = []
    for job_id, job in jobs.items():
        for (entry_job, owner_kind, owner), state in per_job.items():
            if entry_job != job_id:
                continue
            expected = {"reserved": (1, 0, 0), "charged": (1, 1, 0), "released": (1, 0, 1)}[job["billing"]]
            if job["billing"] == "released" and state["charge"] == 1 and state["refund"] == 1:
                continue   # refunded by an operator
            if (state["reserve"], state["charge"], state["release"]) != expected:
                disagree.append((job_id, job["billing"], state))
        if job_id in acknowledged and job["status"] not in ("completed", "failed", "cancelled") and job["provider_job_id"] is None:
            disagree.append((job_id, "acknowledged without a provider job id"))
    check(label + ": every job row agrees with its ledger lines", not disagree, str(disagree[:3]))
    acknowledged_unheld = [j for j in acknowledged if j in jobs and not any(k[0] == j and v["reserve"] == 1 for k, v in per_job.items())]
    check(label + ": every acknowledged job has its reservation", not acknowledged_unheld, str(acknowledged_unheld[:3]))

    # spent + reserved of each owner = the sum over the jobs that hold or spent money there.
    for (owner_kind, owner), limit in LIMITS.items():
        ledger_total = sum(v for k, v in reserved.items() if k[:2] == (owner_kind, owner)) + \
            sum(v for k, v in spent.items() if k[:2] == (owner_kind, owner))
        jobs_total = sum(job["cost"] for job in jobs.values() if job["billing"] in ("reserved", "charged")
                         and (job["owner"] == owner if owner_kind == "key" else job["team"] == owner))
        check(label + ": %s %s spent+reserved = sum over its jobs" % (owner_kind, owner), ledger_total == jobs_total,
              "%s vs %s" % (ledger_total, jobs_total))
        check(label + ": %s %s never over its limit" % (owner_kind, owner), Decimal(ledger_total) / MICROS <= limit,
              "%s > %s" % (Decimal(ledger_total) / MICROS, limit))
    interrupted = [j for j in acknowledged if jobs.get(j, {}).get("error_code") == "submission_interrupted"]
    check(label + ": no acknowledged job was taken for an interrupted submission", not interrupted, str(interrupted[:3]))
    if final:
        open_jobs = [j for j, job in jobs.items() if job["status"] not in ("completed", "failed", "cancelled")]
        check(label + ": no job is left open", not open_jobs, str(open_jobs[:3]))
        check(label + ": no money is left held", all(v == 0 for v in reserved.values()), str(reserved))
        wanted = [j for j, job in jobs.items() if job["webhook_url"]]
        undelivered = [j for j in wanted if deliveries.get("msg_" + j) != "delivered"]
        check(label + ": every webhook is recorded delivered", not undelivered, str(undelivered[:3]))
    totals = {}
    for (owner_kind, owner) in LIMITS:
        totals[(owner_kind, owner)] = (
            sum(v for k, v in spent.items() if k[:2] == (owner_kind, owner)),
            sum(v for k, v in reserved.items() if k[:2] == (owner_kind, owner)))
    return jobs, totals


# ---------------------------------------------------------------- the test

def main():
    binary = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    workspace = tempfile.mkdtemp(prefix="kgw-crash-")
    state_dir = os.path.join(workspace, "state")
    receiver = Receiver()
    processes = Processes(binary, state_dir)
    rng = random.Random(20261121)
    load = None
    started = time.monotonic()
    try:
        if not check("the gateway starts on an empty state.dir", processes.start_gateway()):
            return
        load = Load(processes.port, receiver.port)
        budget_refusals_after_restart = 0
        exhausted_rounds = 0
        for round_number in range(1, rounds + 1):
            load.running.set()
            time.sleep(rng.uniform(0.2, 1.2))
            processes.kill_gateway()          # at a random moment, under load
            load.running.clear()
            time.sleep(0.05)
            with load.lock:
                acknowledged = dict(load.acknowledged)
            _, on_disk = check_database("round %d after kill -9" % round_number, state_dir, acknowledged)
            if not check("round %d: the gateway restarts on the same state.dir" % round_number, processes.start_gateway()):
                return
            # The rebuilt budgets agree with the disk: spent can only have grown (jobs settling
            # after the restart), spent + reserved only shrunk (releases), never more.
            usage = request(processes.port, "GET", "/v1/usage", KEYS["k1"])[2] or {}
            for budget in usage.get("budgets", []):
                key = (budget["scope"], budget["id"])
                disk_spent, disk_reserved = on_disk.get(key, (0, 0))
                api_spent = int(Decimal(budget["spent_usd"]) * MICROS)
                api_total = api_spent + int(Decimal(budget["reserved_usd"]) * MICROS)
                check("round %d: %s %s rebuilt from disk (spent %d >= %d, spent+reserved %d <= %d)"
                      % (round_number, key[0], key[1], api_spent, disk_spent, api_total, disk_spent + disk_reserved),
                      api_spent >= disk_spent and api_total <= disk_spent + disk_reserved)
            # What no longer fits is refused at once: the team's remaining money per the disk. A
            # job that was in flight at the kill may have failed since (a callback or a poll after
            # the restart) and released its hold; a 202 is right only then, and the disk must show
            # it: the team's spent + reserved now, less this job, below what it was at the kill,
            # and still within the limit. (Had the restart forgotten holds, the disk would show no
            # release and the 202 would be refused here.)
            team_spent, team_reserved = on_disk[("team", "crash")]
            if LIMITS[("team", "crash")] * MICROS - team_spent - team_reserved < 30_000:
                status = request(processes.port, "POST", "/v1/generations", KEYS["k2"], {"model": "krea-2-medium", "prompt": "x"})[0]
                if status == 202:
                    now_total = team_total(state_dir)
                    check("round %d: a 202 on the exhausted team budget only after a release since the restart" % round_number,
                          now_total - 30_000 < team_spent + team_reserved and now_total <= LIMITS[("team", "crash")] * MICROS,
                          "at the kill %d, now %d with this job" % (team_spent + team_reserved, now_total))
                else:
                    check("round %d: the exhausted team budget refuses right after the restart" % round_number, status == 402, str(status))
                exhausted_rounds += 1
            # Through the API: every acknowledged job is there for its owner.
            sample = rng.sample(sorted(acknowledged), min(25, len(acknowledged)))
            lost = [j for j in sample if request(processes.port, "GET", "/v1/generations/" + j, KEYS[acknowledged[j][0]])[0] != 200]
            check("round %d: acknowledged jobs answer GET after the restart" % round_number, not lost, str(lost))
            with load.lock:
                before = load.refused_by_budget
            load.running.set()
            time.sleep(0.1)
            with load.lock:
                budget_refusals_after_restart += load.refused_by_budget - before

        # Drain: stop the load, let every job end and every webhook arrive.
        load.running.clear()
        load.stop()
        with load.lock:
            acknowledged = dict(load.acknowledged)
            refused = load.refused_by_budget
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            jobs, _, deliveries = read_database(state_dir)
            open_jobs = [j for j, job in jobs.items() if job["status"] not in ("completed", "failed", "cancelled")]
            pending = [d for d, state in deliveries.items() if state == "pending"]
            if not open_jobs and not pending:
                break
            time.sleep(0.5)
        # Budgets still refuse what no longer fits: the team's 4 USD ran out during the rounds.
        status, _, body = request(processes.port, "POST", "/v1/generations", KEYS["k2"], {"model": "krea-2-medium", "prompt": "x"})
        check("after %d restarts the exhausted team budget still refuses (402)" % rounds, status == 402, "%s %s" % (status, body))
        check("budget refusals happened during the rounds", refused > 0, "none: the load never reached the budget")
        check("the team budget ran out during the rounds and was checked after restarts", exhausted_rounds > 0)
        check("exit 0 on SIGTERM", processes.stop_gateway() == 0)
        jobs, _ = check_database("final, after SIGTERM", state_dir, acknowledged, final=True)

        # Every event with a webhook_url reached the receiver, signed, with its stable id.
        wanted = {"msg_" + j for j, job in jobs.items() if job["webhook_url"]}
        with receiver.lock:
            delivered = dict(receiver.delivered)
            bad = list(receiver.bad_signatures)
            retried = sum(1 for count in receiver.attempts.values() if count > 1)
            variants = [m for m, bodies in receiver.bodies.items() if len(bodies) > 1]
        missing = sorted(wanted - set(delivered))
        check("every webhook arrived (same webhook-id across restarts)", not missing, "%d missing, e.g. %s" % (len(missing), missing[:3]))
        check("every webhook signature verifies (standardwebhooks)", not bad, str(bad[:3]))
        check("some deliveries were retried (refused first attempts)", retried > 0)
        check("one event per job: every attempt under an id carries the same body", not variants, str(variants[:3]))
        mismatched = [m for m, (_, body) in delivered.items() if json.loads(body)["data"]["id"] != m[len("msg_"):]]
        check("each event carries its own job", not mismatched, str(mismatched[:3]))
        print("%d rounds, %d jobs acknowledged, %d on disk, %d budget refusals (%d right after restarts), %d webhooks, %.1f s"
              % (rounds, len(acknowledged), len(jobs), refused, budget_refusals_after_restart, len(delivered), time.monotonic() - started))
    finally:
        if load:
            load.stop()
        processes.stop_all()
        receiver.server.shutdown()
        if results["failed"]:
            print("gateway log: " + processes.log_path + " (kept)")
            shutil.copy(processes.log_path, os.path.join(tempfile.gettempdir(), "kgw-crash-gateway.log"))
        shutil.rmtree(workspace, ignore_errors=True)
        print("%d passed, %d failed" % (results["passed"], results["failed"]))
    sys.exit(1 if results["failed"] else 0)


if __name__ == "__main__":
    main()
