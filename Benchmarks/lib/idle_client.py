#!/usr/bin/env python3
"""Load client for idle-connections.sh: N idle keep-alive connections, then RSS and latency.

1. baseline: server RSS, and one fresh keep-alive connection doing --probe-requests sequential
   GET /healthz (latency of each, send to last byte of the answer);
2. opens --connections connections (at most --open-concurrency opening at once), sends one
   GET /healthz on each, reads the whole answer, and keeps the connection open;
3. holds them --hold seconds, then samples the server's RSS (VmRSS of the process and its children,
   from /proc/PID/status) and its open fd count;
4. with all of them still open: the same sequential probe on a fresh connection, and
   --fresh-connects new connections each doing connect + one request + close;
5. checks how many idle connections the server still holds by sending a second request on each;
6. closes everything and writes a JSON summary.

Only ever connects to 127.0.0.1. The whole run is bounded by --timeout seconds; on expiry it
writes what it has, marks the run incomplete and exits 2.
"""
import argparse
import asyncio
import json
import os
import resource
import socket
import sys
import time

REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: krea-bench-idle\r\n\r\n"
HOST = "127.0.0.1"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ server-side readings

def child_pids(pid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[1]) == pid:
            out.append(int(d))
    return out


def status_field(pid: int, key: str) -> int:
    """First number of a /proc/PID/status line (kB for the Vm* lines)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def server_memory(pid: int) -> dict:
    pids = [pid] + child_pids(pid)
    fds = 0
    for p in pids:
        try:
            fds += len(os.listdir(f"/proc/{p}/fd"))
        except OSError:
            pass
    return {
        "pids": pids,
        "rss_kb": sum(status_field(p, "VmRSS") for p in pids),
        "hwm_kb": sum(status_field(p, "VmHWM") for p in pids),
        "threads": sum(status_field(p, "Threads") for p in pids),
        "fds": fds,
    }


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v[:8]) - idle, sum(v[:8])


# ------------------------------------------------------------------ HTTP answers

def parse_head(head: bytes) -> tuple[int, int]:
    """(status, content-length) of a response head (without the blank line)."""
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return status, length


class BlockingConn:
    """A plain blocking socket speaking keep-alive HTTP/1.1, for latency probes."""

    def __init__(self, port: int, timeout: float):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def request(self) -> int:
        self.sock.sendall(REQUEST)
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        status, length = parse_head(head)
        while len(self.buf) < length:
            self._fill()
        self.buf = self.buf[length:]
        return status

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buf += chunk

    def close(self) -> None:
        self.sock.close()


def pct(sorted_ms: list[float], p: float) -> float:
    if not sorted_ms:
        return float("nan")
    k = min(len(sorted_ms) - 1, max(0, int(round(p / 100 * len(sorted_ms) + 0.5)) - 1))
    return sorted_ms[k]


def summarize(lat_ms: list[float], errors: int) -> dict:
    s = sorted(lat_ms)
    return {
        "count": len(s),
        "errors": errors,
        "p50_ms": pct(s, 50),
        "p90_ms": pct(s, 90),
        "p99_ms": pct(s, 99),
        "max_ms": s[-1] if s else float("nan"),
        "mean_ms": sum(s) / len(s) if s else float("nan"),
    }


def sequential_probe(port: int, n: int, timeout: float) -> dict:
    """One fresh keep-alive connection, n sequential requests."""
    lat, errors = [], 0
    conn = BlockingConn(port, timeout)
    try:
        for _ in range(n):
            t0 = time.perf_counter_ns()
            try:
                status = conn.request()
            except (OSError, ConnectionError, ValueError, IndexError):
                errors += 1
                conn.close()
                conn = BlockingConn(port, timeout)
                continue
            lat.append((time.perf_counter_ns() - t0) / 1e6)
            if status != 200:
                errors += 1
    finally:
        conn.close()
    return summarize(lat, errors)


def fresh_connects(port: int, n: int, timeout: float) -> dict:
    """n times: connect, one request, close (the latency includes the TCP handshake)."""
    lat, errors = [], 0
    for _ in range(n):
        t0 = time.perf_counter_ns()
        try:
            conn = BlockingConn(port, timeout)
            try:
                status = conn.request()
            finally:
                conn.close()
        except (OSError, ConnectionError, ValueError, IndexError):
            errors += 1
            continue
        lat.append((time.perf_counter_ns() - t0) / 1e6)
        if status != 200:
            errors += 1
    return summarize(lat, errors)


# ------------------------------------------------------------------ the idle connections

async def one_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> int:
    writer.write(REQUEST)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status, length = parse_head(head[:-4])
    if length:
        await reader.readexactly(length)
    return status


async def open_idle(port: int, n: int, concurrency: int, op_timeout: float, conns: list, errors: dict) -> None:
    sem = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with sem:
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), op_timeout)
            except (OSError, asyncio.TimeoutError) as e:
                errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
                return
            try:
                status = await asyncio.wait_for(one_request(reader, writer), op_timeout)
                if status != 200:
                    errors[f"status {status}"] = errors.get(f"status {status}", 0) + 1
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as e:
                errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
                writer.close()
                return
            conns.append((reader, writer))

    await asyncio.gather(*(one() for _ in range(n)))


async def recheck(conns: list, concurrency: int, op_timeout: float) -> dict:
    """A second request on every held connection: how many the server still serves."""
    sem = asyncio.Semaphore(concurrency)
    result = {"eof_before": sum(1 for r, _ in conns if r.at_eof()), "ok": 0, "failed": 0}

    async def one(reader, writer) -> None:
        async with sem:
            try:
                if await asyncio.wait_for(one_request(reader, writer), op_timeout) == 200:
                    result["ok"] += 1
                else:
                    result["failed"] += 1
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError):
                result["failed"] += 1

    await asyncio.gather(*(one(r, w) for r, w in conns))
    return result


async def run(args, out: dict) -> None:
    port, pid = args.port, args.pid
    out["baseline"] = {"memory": server_memory(pid)}
    log(f"baseline RSS {out['baseline']['memory']['rss_kb'] / 1024:.1f} MiB; probing {args.probe_requests} sequential requests")
    out["baseline"]["probe"] = sequential_probe(port, args.probe_requests, args.op_timeout)

    conns: list = []
    errors: dict = {}
    log(f"opening {args.connections} keep-alive connections ({args.open_concurrency} at a time)")
    t0 = time.monotonic()
    await open_idle(port, args.connections, args.open_concurrency, args.op_timeout, conns, errors)
    out["open"] = {"wanted": args.connections, "open": len(conns), "errors": errors,
                   "seconds": round(time.monotonic() - t0, 2)}
    log(f"{len(conns)} open in {out['open']['seconds']} s, errors {errors or 'none'}; holding {args.hold} s")
    await asyncio.sleep(args.hold)

    out["idle"] = {"memory": server_memory(pid), "client_eof": sum(1 for r, _ in conns if r.at_eof())}
    log(f"with {len(conns)} idle: RSS {out['idle']['memory']['rss_kb'] / 1024:.1f} MiB, server fds {out['idle']['memory']['fds']}")
    # The blocking probes stall this event loop on purpose: the idle connections need nothing.
    b0, t0m = machine_ticks()
    out["idle"]["probe"] = sequential_probe(port, args.probe_requests, args.op_timeout)
    b1, t1m = machine_ticks()
    # Share of the whole machine (all cores) busy during the probe: this client + server take ~1 core.
    out["idle"]["probe"]["machine_busy_pct"] = round(100 * (b1 - b0) / max(1, t1m - t0m), 1)
    p = out["idle"]["probe"]
    log(f"fresh connection, {p['count']} sequential: p50 {p['p50_ms']:.3f} ms p99 {p['p99_ms']:.3f} ms max {p['max_ms']:.3f} ms")
    out["idle"]["fresh_connects"] = fresh_connects(port, args.fresh_connects, args.op_timeout)
    f = out["idle"]["fresh_connects"]
    log(f"{f['count']} × connect+request+close: p50 {f['p50_ms']:.3f} ms p99 {f['p99_ms']:.3f} ms")
    out["idle"]["memory_after_probes"] = server_memory(pid)

    out["recheck"] = await recheck(conns, args.open_concurrency, args.op_timeout)
    log(f"second request on the held connections: {out['recheck']}")
    for _, w in conns:
        w.close()
    await asyncio.sleep(0.5)
    out["complete"] = True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True, help="server process (children are added for RSS)")
    ap.add_argument("--connections", type=int, default=10000)
    ap.add_argument("--open-concurrency", type=int, default=100)
    ap.add_argument("--hold", type=float, default=3.0)
    ap.add_argument("--probe-requests", type=int, default=1000)
    ap.add_argument("--fresh-connects", type=int, default=200)
    ap.add_argument("--op-timeout", type=float, default=10.0)
    ap.add_argument("--timeout", type=float, default=240.0, help="bound on the whole run")
    ap.add_argument("--json", required=True)
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = args.connections + 1000
    if hard != resource.RLIM_INFINITY and hard < need:
        log(f"open-file hard limit {hard} < {need}")
        return 1
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, need), hard))

    out: dict = {"args": vars(args), "complete": False}
    code = 0
    try:
        asyncio.run(asyncio.wait_for(run(args, out), args.timeout))
    except asyncio.TimeoutError:
        log(f"gave up after {args.timeout} s")
        out["error"] = f"timeout after {args.timeout} s"
        code = 2
    except Exception as e:  # report what we have
        log(f"failed: {e!r}")
        out["error"] = repr(e)
        code = 2
    with open(args.json, "w") as f:
        json.dump(out, f, indent=1)
    return code


if __name__ == "__main__":
    sys.exit(main())
