-- One wrk script for every run of bench/run.sh, configured by environment:
--   BENCH_METHOD, BENCH_BODY, BENCH_CONTENT_TYPE, BENCH_AUTH  the request
--   BENCH_HEADER    one more header, "Name: value" (an API key); BENCH_HEADER2 another
--   BENCH_POOL      refresh grant: "<prefix>" of per-thread files <prefix>.<n>,
--                   one unused refresh token a line; each 200 response puts
--                   the rotated token back, so no token is ever presented twice
--   BENCH_DELAY_MS  pause before each request (a light, paced client)
-- done() prints one line `BENCH_JSON {...}` that run.sh parses.

local method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
local content_type = os.getenv("BENCH_CONTENT_TYPE")
local auth = os.getenv("BENCH_AUTH")
local extra_header = os.getenv("BENCH_HEADER")
local extra_header2 = os.getenv("BENCH_HEADER2")
local pool_prefix = os.getenv("BENCH_POOL")
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "")

wrk.method = method
if body then wrk.body = body end
if content_type then wrk.headers["Content-Type"] = content_type end
if auth then wrk.headers["Authorization"] = auth end
for _, h in ipairs({ extra_header or "", extra_header2 or "" }) do
   local name, value = h:match("^([^:]+):%s*(.*)$")
   if name then wrk.headers[name] = value end
end

-- Per-thread counters, read back by done() through thread:get.
non2xx = 0
pool_empty = 0
no_token_in_body = 0

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   threads[#threads + 1] = thread
end

if delay_ms then
   function delay()
      return delay_ms
   end
end

if pool_prefix then
   local pool, top = {}, 0

   local function push(token)
      top = top + 1
      pool[top] = token
   end

   function init(args)
      for line in io.lines(pool_prefix .. "." .. id) do
         if #line > 0 then push(line) end
      end
   end

   function request()
      local token = ""
      if top > 0 then
         token = pool[top]
         pool[top] = nil
         top = top - 1
      else
         -- Sent without a token: the server answers 400 and it counts as an error.
         pool_empty = pool_empty + 1
      end
      return wrk.format(nil, nil, nil, "grant_type=refresh_token&refresh_token=" .. token)
   end

   function response(status, headers, response_body)
      if status ~= 200 then
         non2xx = non2xx + 1
         return
      end
      local token = response_body:match('"refresh_token"%s*:%s*"([^"]+)"')
      if token then
         push(token)
      else
         no_token_in_body = no_token_in_body + 1
      end
   end
end

function done(summary, latency, requests)
   local extra = { non2xx = 0, pool_empty = 0, no_token_in_body = 0 }
   for _, t in ipairs(threads) do
      for k, _ in pairs(extra) do
         extra[k] = extra[k] + (tonumber(t:get(k)) or 0)
      end
   end
   local e = summary.errors
   local seconds = summary.duration / 1e6
   io.write(string.format(
      'BENCH_JSON {"requests":%d,"seconds":%.3f,"rps":%.1f,' ..
      '"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,' ..
      '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,"status_errors":%d,' ..
      '"lua_non2xx":%d,"pool_empty":%d,"no_token_in_body":%d}\n',
      summary.requests, seconds, summary.requests / seconds,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000,
      latency:percentile(99) / 1000, latency.max / 1000,
      e.connect, e.read, e.write, e.timeout, e.status,
      extra.non2xx, extra.pool_empty, extra.no_token_in_body))
end
