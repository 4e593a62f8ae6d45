-- wrk: POST the same small chat completion on every request.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"zero","max_tokens":16,"messages":[{"role":"user","content":"Benchmark prompt: how far is the next charging station?"}]}'
