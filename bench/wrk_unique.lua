-- wrk: POST a small chat completion whose prompt differs on every request (a counter in the
-- text), so the complexity model's memo (routing.estimate_memo) never answers.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  local body = '{"model":"zero","max_tokens":16,"messages":[{"role":"user","content":"Benchmark prompt ' .. n ..
               ': how far is the next charging station?"}]}'
  return wrk.format(nil, nil, nil, body)
end
