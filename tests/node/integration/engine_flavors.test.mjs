// The emulator speaks the serving engines' dialects (issue 16; docs/engines.md, "The emulator's
// flavors"): `mecrouter emulate --flavor vllm|llamacpp|ollama` serves that engine's own endpoints,
// and their numbers move under load as the real engine's would: requests wait when every slot is
// busy and drain after, the KV cache fills with concurrent long prompts, a repeated prefix is a
// cache hit, a llama-server answers 503 while it loads, an Ollama model is listed once loaded, an
// Ollama queue past its limit answers 503. A gateway with `engine: <flavor>` backends exports what
// it polls as mecrouter_backend_queue_waiting{backend="..."}. Routing on these readings is not
// tested here.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, backend, getJson, postJson, request, sleep, waitFor, guardedTest, closedPort } from './lib.mjs';

const stack = new Stack();
const gtest = guardedTest(test, () => stack);
after(() => stack.close());

// Two slots, 50 tokens/s: a 30-token answer holds its slot ~0.6 s.
const PROFILE = {
  name: 'flavor-test',
  model: 'flavor-model',
  rtt_ms: 0,
  base_ms: 5,
  prefill_tokens_per_s: 20000,
  decode_tokens_per_s: 50,
  max_concurrency: 2,
  max_queue: 64,
  kv_capacity_tokens: 4000,
  context_window: 16384,
  load_ms: 0,
  mean_output_tokens: 20,
};

const chat = (content, maxTokens = 30) => ({
  model: PROFILE.model,
  max_tokens: maxTokens,
  ignore_eos: true, // the answer runs to max_tokens: a known slot time
  messages: [{ role: 'user', content }],
});

// A Prometheus sample's value, summed over its label sets (undefined when absent).
function prom(text, name) {
  let total;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([^\s{]+)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && m[1] === name) total = (total ?? 0) + Number(m[3]);
  }
  return total;
}

// Fires n chat requests at once; resolves with their statuses when all are done.
function burst(url, n, content = 'Is the road ahead clear?', maxTokens = 30) {
  return Promise.all(Array.from({ length: n }, (_, i) => postJson(`${url}/chat/completions`, chat(`${content} #${i}`, maxTokens))));
}

// Polls fn() every 20 ms while `work` runs; returns the largest value seen.
async function peakDuring(work, fn) {
  let peak = -Infinity;
  let done = false;
  const watcher = (async () => {
    while (!done) {
      peak = Math.max(peak, await fn());
      await sleep(20);
    }
  })();
  const out = await work;
  done = true;
  await watcher;
  return { peak, out };
}

// About 1,500 prompt tokens of varied words.
const LONG = Array.from({ length: 1200 }, (_, i) => `word${i % 97} item${i}`).join(' ');

gtest('vllm: /metrics waiting rises past the slots under a burst and drains to 0', async () => {
  const emu = await stack.emulator(PROFILE, { flavor: 'vllm' });
  const metrics = async () => (await request(`${emu.base}/metrics`)).text;
  const first = await request(`${emu.base}/metrics`);
  assert.equal(first.status, 200);
  assert.match(first.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  assert.match(first.text, /# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting\{engine="0",model_name="flavor-model"\} 0\.0\n/);
  const { peak, out } = await peakDuring(burst(emu.url, 6), async () => prom(await metrics(), 'vllm:num_requests_waiting'));
  assert.ok(out.every((r) => r.status === 200), out.map((r) => r.status).join(','));
  assert.ok(peak >= 3, `waiting peaked at ${peak} with 6 requests on 2 slots`);
  const after = await metrics();
  assert.equal(prom(after, 'vllm:num_requests_waiting'), 0);
  assert.equal(prom(after, 'vllm:num_requests_running'), 0);
  assert.equal(prom(after, 'vllm:kv_cache_usage_perc'), 0);
  assert.ok(prom(after, 'vllm:generation_tokens_total') >= 6 * 30);
});

gtest('vllm: concurrent long prompts fill the KV cache and wait with a slot free; a repeated prefix is a hit', async () => {
  const emu = await stack.emulator({ ...PROFILE, max_concurrency: 4 }, { flavor: 'vllm' });
  const metrics = async () => (await request(`${emu.base}/metrics`)).text;
  let sawWaitWithFreeSlot = false;
  const { peak } = await peakDuring(burst(emu.url, 4, LONG, 40), async () => {
    const t = await metrics();
    if (prom(t, 'vllm:num_requests_waiting') > 0 && prom(t, 'vllm:num_requests_running') < 4) sawWaitWithFreeSlot = true;
    return prom(t, 'vllm:kv_cache_usage_perc');
  });
  assert.ok(peak > 0.6, `KV use peaked at ${peak}`);
  assert.ok(sawWaitWithFreeSlot, 'a long prompt waited for KV space with a slot free');
  const before = await metrics();
  const hits0 = prom(before, 'vllm:prefix_cache_hits_total');
  const queries0 = prom(before, 'vllm:prefix_cache_queries_total');
  const r = await postJson(`${emu.url}/chat/completions`, chat(`${LONG} #0`, 5));  // the first burst prompt again
  assert.equal(r.status, 200);
  const now = await metrics();
  const hits = prom(now, 'vllm:prefix_cache_hits_total') - hits0;
  const queries = prom(now, 'vllm:prefix_cache_queries_total') - queries0;
  // The cache holds as many 16-token blocks as the KV cache (4000 tokens): most of the prompt.
  assert.ok(queries > 1000 && hits > 0.5 * queries, `hits ${hits} of ${queries} queried tokens`);
});

gtest('vllm: connections are refused while the model loads, then /metrics answers', async () => {
  const port = await closedPort();
  const started = stack.emulator(PROFILE, { flavor: 'vllm', listen: `127.0.0.1:${port}`, args: ['--load-ms', '1500'] });
  await sleep(300);
  await assert.rejects(request(`http://127.0.0.1:${port}/metrics`, { timeoutMs: 1000 }));
  const emu = await started;
  const r = await request(`${emu.base}/metrics`);
  assert.equal(r.status, 200);
  assert.equal(prom(r.text, 'vllm:num_requests_running'), 0);
});

gtest('llamacpp: 503 "Loading model" while loading, then /health, /slots, /props and /metrics move under load', async () => {
  const emu = await stack.emulator(PROFILE, { flavor: 'llamacpp', args: ['--load-ms', '1500'] });
  const health = await request(`${emu.base}/health`);
  assert.equal(health.status, 503);
  assert.deepEqual(health.json, { error: { code: 503, message: 'Loading model', type: 'unavailable_error' } });
  const early = await postJson(`${emu.url}/chat/completions`, chat('hello'));
  assert.equal(early.status, 503);
  assert.equal(early.json.error.message, 'Loading model');
  assert.equal((await getJson(`${emu.url}/models`)).status, 200);  // the model list answers while loading
  await waitFor(async () => (await request(`${emu.base}/health`)).status === 200, { timeoutMs: 5000 });
  assert.deepEqual((await getJson(`${emu.base}/health`)).json, { status: 'ok' });
  assert.equal((await getJson(`${emu.base}/props`)).json.total_slots, 2);
  const slots = await getJson(`${emu.base}/slots`);
  assert.deepEqual(slots.json.map((s) => [s.id, s.is_processing]), [[0, false], [1, false]]);
  let busyPeak = 0;
  const { peak } = await peakDuring(burst(emu.url, 5), async () => {
    const s = (await getJson(`${emu.base}/slots`)).json;
    busyPeak = Math.max(busyPeak, s.filter((x) => x.is_processing).length);
    return prom((await request(`${emu.base}/metrics`)).text, 'llamacpp:requests_deferred');
  });
  assert.equal(busyPeak, 2);
  assert.ok(peak >= 2, `deferred peaked at ${peak} with 5 requests on 2 slots`);
  const m = (await request(`${emu.base}/metrics`)).text;
  assert.equal(prom(m, 'llamacpp:requests_deferred'), 0);
  assert.equal(prom(m, 'llamacpp:requests_processing'), 0);
  assert.equal(prom(m, 'llamacpp:tokens_predicted_total'), 5 * 30);
});

gtest('ollama: /api/ps lists the model once loaded; a full queue answers 503 "server busy"', async () => {
  const emu = await stack.emulator({ ...PROFILE, max_concurrency: 1, max_queue: 2, load_ms: 400, keep_alive_s: 300 }, { flavor: 'ollama' });
  assert.deepEqual((await getJson(`${emu.base}/api/ps`)).json, { models: [] });  // cold
  const first = postJson(`${emu.url}/chat/completions`, chat('warm up', 5));
  await sleep(100);
  assert.deepEqual((await getJson(`${emu.base}/api/ps`)).json.models, []);  // still loading
  assert.equal((await first).status, 200);
  const ps = (await getJson(`${emu.base}/api/ps`)).json.models;
  assert.equal(ps.length, 1);
  assert.equal(ps[0].name, 'flavor-model:latest');
  assert.ok(Date.parse(ps[0].expires_at) > Date.now() + 250e3, ps[0].expires_at);  // ~5 min of keep-alive
  // One slot, a queue of 2: of 5 at once, 1 runs, 2 wait, 2 are turned away.
  const out = await burst(emu.url, 5);
  const statuses = out.map((r) => r.status).sort();
  assert.deepEqual(statuses, [200, 200, 200, 503, 503]);
  const busy = out.find((r) => r.status === 503).json;
  assert.equal(busy.error.message, 'server busy, please try again.  maximum pending requests exceeded');
});

gtest('a gateway polls each flavor and exports mecrouter_backend_queue_waiting that follows it', async () => {
  const emus = {
    vllm: await stack.emulator(PROFILE, { flavor: 'vllm' }),
    llamacpp: await stack.emulator(PROFILE, { flavor: 'llamacpp' }),
    ollama: await stack.emulator(PROFILE, { flavor: 'ollama' }),
  };
  const gw = await stack.gateway({
    backends: Object.entries(emus).map(([flavor, emu]) =>
      backend(`edge-${flavor}`, 'edge', emu, { models: [PROFILE.model], engine: flavor, engine_poll_ms: 50 })),
  });
  // The gateway's latest value of `metric` for backend `name` (undefined when it exports none).
  const gauge = async (metric, name) => {
    const series = `${metric}{backend="${name}"} `;
    const line = (await request(`${gw.base}/metrics`)).text.split('\n').find((l) => l.startsWith(series));
    return line === undefined ? undefined : Number(line.slice(series.length));
  };
  const waiting = (name) => gauge('mecrouter_backend_queue_waiting', name);
  // Every flavor's answers parse: none of the three is stale (Ollama reports no queue, only its models).
  for (const flavor of Object.keys(emus)) {
    const fresh = await waitFor(async () => (await gauge('mecrouter_backend_engine_stale', `edge-${flavor}`)) === 0, { timeoutMs: 5000 });
    assert.equal(fresh, true, `edge-${flavor}'s engine read as fresh`);
  }
  for (const flavor of ['vllm', 'llamacpp']) {
    const name = `edge-${flavor}`;
    assert.equal(await waitFor(async () => (await waiting(name)) === 0, { timeoutMs: 5000 }), true, `${name} read as idle`);
    // The load goes to the engine directly: the gateway only reads it.
    const { peak } = await peakDuring(burst(emus[flavor].url, 6), () => waiting(name));
    assert.ok(peak >= 2, `${name}: the gateway saw ${peak} waiting during a burst of 6 on 2 slots`);
    assert.equal(await waitFor(async () => (await waiting(name)) === 0, { timeoutMs: 5000 }), true, `${name} drained`);
  }
});
