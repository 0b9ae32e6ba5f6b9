-- wrk summary as one machine-readable line for tests/bench/run.sh.
-- Loaded with `wrk -s report.lua`, or by dofile() from another wrk script.
-- Latencies in microseconds, MB = 10^6 bytes.

function done(summary, latency, requests)
   local e = summary.errors
   local secs = summary.duration / 1e6
   io.write(string.format(
      "BENCH requests=%d seconds=%.3f rps=%.1f bytes=%d mbps=%.3f " ..
      "p50_us=%.0f p99_us=%.0f sock_errors=%d status_errors=%d\n",
      summary.requests, secs, summary.requests / secs, summary.bytes,
      summary.bytes / secs / 1e6, latency:percentile(50), latency:percentile(99),
      e.connect + e.read + e.write + e.timeout, e.status))
end
