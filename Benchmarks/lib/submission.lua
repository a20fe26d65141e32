-- wrk script of Benchmarks/submission.sh: one fixed POST, set at load time so wrk keeps its fast
-- static-request path (no request()/response() hooks). The token and body come from the
-- environment (SUB_TOKEN, SUB_BODY), the path from the URL. Prints the BENCH_SUMMARY line of
-- summary.lua.
wrk.method = "POST"
wrk.body = os.getenv("SUB_BODY") or ""
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("SUB_TOKEN") or "")

-- The done() hook that prints BENCH_SUMMARY is summary.lua's, loaded from beside this script
-- (wrk names a script's chunk "@<path as given>", so this works from any working directory).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or ""
dofile(here .. "summary.lua")
