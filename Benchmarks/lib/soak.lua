-- wrk script of Benchmarks/soak.sh: the same POST over and over until each thread has had
-- SOAK_PER_THREAD answers, then the thread stops (the script then stops wrk with SIGINT, which
-- prints the summary). Each request carries `Prefer: wait`, so a connection sends its next
-- submission once the last job has finished. Counts answers other than SOAK_EXPECT (default 200).
-- Token and body from SOAK_TOKEN / SOAK_BODY.
wrk.method = "POST"
wrk.body = os.getenv("SOAK_BODY") or ""
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("SOAK_TOKEN") or "")
wrk.headers["Prefer"] = "wait=60"

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   answers = 0
   refused = 0
   limit = tonumber(os.getenv("SOAK_PER_THREAD") or "1000")
   expect = tonumber(os.getenv("SOAK_EXPECT") or "200")
end

function response(status, headers, body)
   answers = answers + 1
   if status ~= expect then
      refused = refused + 1
   end
   if answers >= limit then
      wrk.thread:stop()
   end
end

function done(summary, latency, requests)
   local total, bad = 0, 0
   for _, thread in ipairs(threads) do
      total = total + thread:get("answers")
      bad = bad + thread:get("refused")
   end
   local e = summary.errors
   io.write(string.format(
      "SOAK_SUMMARY {\"answers\":%d,\"unexpected\":%d,\"requests\":%d,\"duration_us\":%d," ..
      "\"p50_us\":%d,\"p99_us\":%d,\"max_us\":%d,\"err_connect\":%d,\"err_read\":%d,\"err_write\":%d,\"err_timeout\":%d}\n",
      total, bad, summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
      e.connect, e.read, e.write, e.timeout))
end
