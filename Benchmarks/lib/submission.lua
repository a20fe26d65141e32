-- wrk script of Benchmarks/submission.sh: one fixed POST, set at load time so wrk keeps its fast
-- static-request path (no request()/response() hooks). The token and body come from the
-- environment (SUB_TOKEN, SUB_BODY), the path from the URL. Prints the same BENCH_SUMMARY line as
-- summary.lua.
wrk.method = "POST"
wrk.body = os.getenv("SUB_BODY") or ""
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("SUB_TOKEN") or "")

done = function(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "BENCH_SUMMARY {\"requests\":%d,\"duration_us\":%d,\"bytes\":%d," ..
      "\"p50_us\":%d,\"p90_us\":%d,\"p99_us\":%d,\"max_us\":%d,\"mean_us\":%.1f," ..
      "\"err_connect\":%d,\"err_read\":%d,\"err_write\":%d,\"err_status\":%d,\"err_timeout\":%d}\n",
      summary.requests, summary.duration, summary.bytes,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
      e.connect, e.read, e.write, e.status, e.timeout))
end
