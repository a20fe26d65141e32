#!/usr/bin/env python3
"""Markdown report of Benchmarks/soak.sh from the sampler's JSON lines and the run's facts.

Warm-up: the samples taken before WARMUP_FRACTION of the submissions were admitted. Growth is
the trend, not one sample: the median RSS of the last minute of load (six samples at 10 s) over
the median of the first minute after the warm-up; the target is at most +5 %. The highest single
sample and a least-squares slope over the whole window are reported beside it.

    soak_report.py SAMPLES FACTS_JSON
"""
import json
import sys


def mib(kb: int) -> str:
    return f"{kb / 1024:.1f}"


def main() -> None:
    samples = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    facts = json.load(open(sys.argv[2]))
    total = facts["submissions"]
    warmup_jobs = int(total * facts["warmup_fraction"])
    for sample in samples:
        sample["admitted"] = sum(sample.get("jobs", {}).values()) if "jobs" in sample else None
    after = [s for s in samples if s["admitted"] is not None and s["admitted"] >= warmup_jobs]
    if not after:
        print("**No sample after the warm-up**: the run was too short to judge.")
        sys.exit(1)
    load = [s for s in after if s["admitted"] < facts["admitted"]] or after  # samples while the load ran
    window = max(1, min(6, len(load) // 4))
    def median(values):
        ordered = sorted(values)
        return ordered[len(ordered) // 2]
    baseline = median([s["rss_kb"] for s in load[:window]])
    end = median([s["rss_kb"] for s in load[-window:]])
    peak_sample = max(after, key=lambda s: s["rss_kb"])
    peak = peak_sample["rss_kb"]
    growth = (end - baseline) / baseline * 100
    met = growth <= 5.0
    xs = [s["admitted"] for s in load]
    ys = [s["rss_kb"] for s in load]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / spread if spread else 0.0  # kB per job

    print(f"- Submissions: {facts['answers']:,} answered by wrk ({facts['unexpected']:,} other than `200` with the finished job), "
          f"{facts['admitted']:,} jobs admitted in all by the end (`/admin/spend`), "
          f"{facts['completed']:,} completed; {facts['duration_s']:.0f} s of load, "
          f"{facts['answers'] / facts['duration_s']:,.0f} finished submissions/s; latency (submission to finished job) p50 {facts['p50_us'] / 1000:.2f} ms, "
          f"p99 {facts['p99_us'] / 1000:.2f} ms")
    print(f"- RSS: {mib(samples[0]['rss_kb'])} MiB at the start. After the warm-up (first {warmup_jobs:,} submissions): "
          f"{mib(baseline)} MiB (median of its first {window} samples), {mib(end)} MiB at the end of the load (median of the last "
          f"{window}): growth **{growth:+.1f} %** (target ≤ 5 %: **{'met' if met else 'missed'}**). Slope over the window: "
          f"{slope * 100_000 / 1024:+.2f} MiB per 100,000 jobs. Highest single sample: {mib(peak)} MiB "
          f"({(peak - baseline) / baseline * 100:+.1f} %, at {peak_sample['t']:.0f} s)")
    print(f"- State on disk at the end: {facts['state_mib']:.0f} MiB (`gateway.sqlite` with its WAL) for "
          f"{facts['admitted']:,} jobs")
    print(f"- Restart on that state (SIGTERM, then `serve` again): healthy after {facts['restart_s']:.2f} s, "
          f"RSS {mib(facts['restart_rss_kb'])} MiB, {facts['restart_in_memory']:,} jobs in memory; "
          f"the first job submitted (long out of memory) read back: {facts['first_job_status']}")
    print()
    print("| t (s) | jobs admitted | open in memory | finished in memory | RSS (MiB) |")
    print("|---:|---:|---:|---:|---:|")
    for s in samples:
        memory = s.get("in_memory", {})
        admitted = f"{s['admitted']:,}" if s["admitted"] is not None else "(scrape timed out)"
        mark = " (first after warm-up)" if s is after[0] else ""
        print(f"| {s['t']:.0f} | {admitted} | {memory.get('open', '')} | {memory.get('finished', '')} | {mib(s['rss_kb'])}{mark} |")
    # The verdict is in the report; a miss is a result, not a failure of the script.


if __name__ == "__main__":
    main()
