-- wrk script: Aldeamo webhook payloads with unique ids, a share of redeliveries.
-- Every 10th request repeats the previous body (a provider redelivery); 30 % are
-- inbound messages, the rest statuses. done() prints how many distinct bodies went out.
local threads = {}
local counter = 0
local distinct = 0
local last_body = nil
tid = 0  -- global: setup() sets it per thread with thread:set("tid", …)

function setup(thread)
  tid = tid + 1
  thread:set("tid", tid)
  table.insert(threads, thread)
end

local statuses = {"sent", "delivered", "read"}

local function status_body(n)
  return string.format(
    '{"contacts":null,"messages":null,"statuses":[{"id":"gBEGbench%s-%d","timestamp":"%d","errors":null,"recipient_id":"573130000000","status":"%s","conversation":{"expiration_timestamp":1645303920,"id":"916e1719bcf72051838b9076864c5c9d","origin":{"type":"business_initiated"}},"pricing":{"billable":true,"category":"business_initiated","pricing_model":"CBP"}}],"origin_number":"573245550101"}',
    tid, n, 1636642666 + n, statuses[(n % 3) + 1])
end

local function inbound_body(n)
  return string.format(
    '{"contacts":[{"profile":{"name":"Bench %d"},"wa_id":"5731300%05d"}],"messages":[{"context":null,"from":"5731300%05d","id":"ABEGbench%s-%d","timestamp":"%d","type":"text","text":{"body":"hola %d"}}],"statuses":null,"origin_number":"573245550101"}',
    n, n % 100000, n % 100000, tid, n, 1636642800 + n, n)
end

function request()
  counter = counter + 1
  local body
  if counter % 10 == 0 and last_body ~= nil then
    body = last_body
  else
    distinct = distinct + 1
    if counter % 10 < 3 then body = inbound_body(counter) else body = status_body(counter) end
  end
  last_body = body
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end

function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do
    total = total + (t:get("distinct") or 0)
  end
  io.write(string.format("DISTINCT %d\n", total))
end

function response(status, headers, body)
  wrk.thread:set("distinct", distinct)
end
