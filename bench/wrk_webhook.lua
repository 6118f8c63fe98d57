-- wrk script of bench/run.py: one connection per thread (run with -t N -c N).
--
-- Environment:
--   BENCH_OUT         where done() writes the run's figures (JSON)
--   BENCH_DELIVERIES  optional: a file of pre-signed TestShop deliveries, one a
--                     line: event_id TAB topic TAB timestamp TAB signature TAB body.
--                     Thread k of N sends lines k, k+N, k+2N... once each, in order;
--                     without it, wrk sends its plain request (the bare route).
--   BENCH_ACKED       with BENCH_DELIVERIES: done() writes there the event id of
--                     every delivery answered 200 "stored", one a line.
--
-- One connection per thread means request() and response() alternate, so the
-- delivery answered is always the last one sent (a request lost to a socket error
-- gets no response and is simply not acknowledged).

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local deliveries_file = os.getenv("BENCH_DELIVERIES")
local reqs, ids = {}, {}
local current = nil
-- globals: done() reads them from every thread with thread:get()
idx, stored, duplicate, other, exhausted, acked = 0, 0, 0, 0, false, {}

function init(args)
  if not deliveries_file then
    return
  end
  local n = tonumber(args[1])
  local line_no = 0
  for line in io.lines(deliveries_file) do
    if line_no % n == id then
      local event_id, topic, ts, sig, body =
        line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = {
        ["Content-Type"] = "application/json",
        ["X-TestShop-Topic"] = topic,
        ["X-TestShop-Event-Id"] = event_id,
        ["X-TestShop-Timestamp"] = ts,
        ["X-TestShop-Signature"] = sig,
      }
      table.insert(reqs, wrk.format("POST", nil, headers, body))
      table.insert(ids, event_id)
    end
    line_no = line_no + 1
  end
end

if deliveries_file then
  function request()
    idx = idx + 1
    if idx > #reqs then
      -- out of fresh deliveries: stop this thread rather than send duplicates
      exhausted = true
      wrk.thread:stop()
      idx = #reqs
    end
    current = ids[idx]
    return reqs[idx]
  end
end

function response(status, headers, body)
  if status == 200 and (body == "stored" or not deliveries_file) then
    stored = stored + 1
    if current then
      table.insert(acked, current)
    end
  elseif status == 200 and body == "duplicate" then
    duplicate = duplicate + 1
  else
    other = other + 1
  end
  current = nil
end

function done(summary, latency, requests)
  local ok, dup, bad, gone, sent = 0, 0, 0, false, 0
  local ack_file = os.getenv("BENCH_ACKED")
  local f = ack_file and io.open(ack_file, "w")
  for _, thread in ipairs(threads) do
    ok = ok + thread:get("stored")
    dup = dup + thread:get("duplicate")
    bad = bad + thread:get("other")
    sent = sent + thread:get("idx")
    gone = gone or thread:get("exhausted")
    if f then
      for _, event_id in ipairs(thread:get("acked")) do
        f:write(event_id, "\n")
      end
    end
  end
  if f then
    f:close()
  end
  local e = summary.errors
  local out = io.open(os.getenv("BENCH_OUT"), "w")
  out:write(string.format(
    '{"duration_us": %d, "requests": %d, "ok": %d, "duplicate": %d, '
      .. '"other_status": %d, "sent": %d, "exhausted": %s, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, '
      .. '"timeout": %d}, "latency_us": {"p50": %d, "p90": %d, "p99": %d, '
      .. '"max": %d, "mean": %.1f}}\n',
    summary.duration, summary.requests, ok, dup, bad, sent, tostring(gone),
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean
  ))
  out:close()
end
