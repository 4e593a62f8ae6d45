// Routing on what serving engines say (docs/engines.md, "Routing on what the engines say"): two
// edge replicas that declare `engine: vllm` and a cloud without an engine. Each replica is a Node
// front that answers vLLM's GET /metrics from a state the test sets, and forwards everything else
// to an edge emulator. The gateway polls /metrics at the url's origin, skips a saturated replica,
// overflows to the cloud when both are saturated (saying so in X-MEC-Reason), and returns when
// they drain. The same for a replica whose /metrics stops answering (stale = saturated). Then per
// emulator flavor: a vllm or llamacpp replica busy with other clients' work is skipped and chosen
// again once it drains; a cold Ollama model is not waited for under a tight deadline.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Stack, backend, postJson, getJson, waitFor, sleep, MODELS } from './lib.mjs';

// vLLM's exposition for the gauges the poller reads (names: docs/engines.md, Sources).
function vllmMetrics({ waiting, running, kv }) {
  const label = `{engine="0",model_name="${MODELS.edge}"}`;
  return [
    '# HELP vllm:num_requests_running Number of requests in model execution batches.',
    '# TYPE vllm:num_requests_running gauge',
    `vllm:num_requests_running${label} ${running.toFixed(1)}`,
    '# HELP vllm:num_requests_waiting Number of requests waiting to be processed.',
    '# TYPE vllm:num_requests_waiting gauge',
    `vllm:num_requests_waiting${label} ${waiting.toFixed(1)}`,
    '# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.',
    '# TYPE vllm:kv_cache_usage_perc gauge',
    `vllm:kv_cache_usage_perc${label} ${kv}`,
    '',
  ].join('\n');
}

// A vLLM replica: /metrics from `state` (or a 500 while state.broken), the rest to `target`.
async function fakeVllm(stack, target) {
  const state = { waiting: 0, running: 1, kv: 0.2, broken: false, polls: 0, chats: 0 };
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/metrics') {
      state.polls++;
      if (state.broken) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end('engine dead\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(vllmMetrics(state));
      return;
    }
    if (req.url.startsWith('/v1/chat')) state.chats++;
    const up = http.request({ host: '127.0.0.1', port: target.port, method: req.method, path: req.url, headers: req.headers }, (ur) => {
      res.writeHead(ur.statusCode, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  stack.servers.push(server);
  return { state, url: `http://127.0.0.1:${server.address().port}/v1` };
}

async function ask(gw, policy) {
  const r = await postJson(`${gw.url}/chat/completions`, { model: 'auto', max_tokens: 4, messages: [{ role: 'user', content: 'Say hello.' }] },
    { headers: { 'X-MEC-Policy': policy, 'X-MEC-Min-Quality': '0.3' } });
  assert.equal(r.status, 200, r.text);
  return { backend: r.headers.get('x-mec-backend'), reason: r.headers.get('x-mec-reason') || '' };
}

describe('routing on engine signals (vLLM /metrics)', () => {
  const stack = new Stack();
  let a, b, gw;
  before(async () => {
    const [edge, cloud] = await Promise.all([stack.emulator('edge'), stack.emulator('cloud')]);
    [a, b] = await Promise.all([fakeVllm(stack, edge), fakeVllm(stack, edge)]);
    const engine = { engine: 'vllm', engine_poll_ms: 50, engine_stale_ms: 400 };
    const edgePrice = { gpu_per_hour: 1.006, gpu_tokens_per_second: 495 };
    gw = await stack.gateway({
      server: { threads: 2 },
      routing: { policy: 'cost-first' },
      backends: [
        backend('edge-a', 'edge', a.url, { models: [MODELS.edge], max_concurrency: 8, price: edgePrice, ...engine }),
        backend('edge-b', 'edge', b.url, { models: [MODELS.edge], max_concurrency: 8, price: edgePrice, ...engine }),
        backend('cloud-api', 'cloud', cloud, { models: [MODELS.cloud], price: { input_per_1m: 2.5, output_per_1m: 10 } }),
      ],
    });
    // Both engines read once: the edge serves.
    await waitFor(async () => (await ask(gw, 'cost-first')).backend === 'edge-a', { timeoutMs: 5000, intervalMs: 50 });
  });
  after(() => stack.close());

  // Waits until `policy` routes to `backend` (engine readings reach routing within poll + publish).
  const until = (backendName, policy = 'cost-first') =>
    waitFor(async () => {
      const r = await ask(gw, policy);
      return r.backend === backendName ? r : null;
    }, { timeoutMs: 5000, intervalMs: 50 });

  test('a saturated replica is skipped for its sibling, and the reason says why', async () => {
    a.state.waiting = 9;
    a.state.running = 8;
    const r = await until('edge-b');
    assert.match(r.reason, /skipped saturated edge-a: 9 waiting > 5/);
    const adaptive = await ask(gw, 'adaptive');
    assert.equal(adaptive.backend, 'edge-b', adaptive.reason);
    // /metrics shows what the engine said, and the dashboard why routing skips it.
    const m = await getJson(`${gw.base}/metrics`);
    assert.match(m.text, /mecrouter_backend_queue_waiting\{backend="edge-a"\} 9/);
    const d = (await getJson(`${gw.base}/api/dashboard`)).json;
    const ea = d.backends.find((x) => x.name === 'edge-a');
    assert.equal(ea.engine.kind, 'vllm');
    assert.equal(ea.engine.waiting, 9);
    assert.equal(ea.engine.saturated, true);
    assert.equal(ea.engine.saturation, '9 waiting > 5');
    assert.equal(d.backends.find((x) => x.name === 'cloud-api').engine, null);
  });

  test('every edge replica saturated: overflow to the cloud, said in X-MEC-Reason; back when they drain', async () => {
    a.state.waiting = 9;
    b.state.kv = 0.95;
    const r = await until('cloud-api');
    assert.match(r.reason, /overflow: every edge replica saturated \(edge-a: 9 waiting > 5, edge-b: KV cache 0\.95 >= 0\.80\)/);
    const adaptive = await ask(gw, 'adaptive');
    assert.equal(adaptive.backend, 'cloud-api', adaptive.reason);
    assert.match(adaptive.reason, /overflow: every edge replica saturated/);
    a.state.waiting = 0;
    a.state.running = 1;
    b.state.kv = 0.2;
    const back = await until('edge-a');
    assert.doesNotMatch(back.reason, /saturated/);
  });

  test('a replica whose /metrics stops answering is skipped once its reading is stale', async () => {
    const before = a.state.chats;
    a.state.broken = true;
    const r = await until('edge-b');
    assert.match(r.reason, /skipped saturated edge-a: engine reading \d+\.\ds old/);
    for (let i = 0; i < 5; i++) assert.equal((await ask(gw, 'cost-first')).backend, 'edge-b');
    const m = await getJson(`${gw.base}/metrics`);
    assert.match(m.text, /mecrouter_backend_engine_stale\{backend="edge-a"\} 1/);
    a.state.broken = false;
    await until('edge-a');
    assert.ok(a.state.chats > before);
    assert.ok(a.state.polls > 10, `polled ${a.state.polls} times`);
  });
});

// The same against the emulator's engine flavors (docs/engines.md, "The emulator's flavors"): the
// load comes straight to one replica from elsewhere (other clients), the gateway only reads it.
const PROFILE = {
  name: 'flavor-route', model: 'flavor-model', rtt_ms: 0, base_ms: 5, prefill_tokens_per_s: 20000,
  decode_tokens_per_s: 50, max_concurrency: 2, max_queue: 64, kv_capacity_tokens: 100000,
  context_window: 16384, load_ms: 0, mean_output_tokens: 20,
};
const direct = (emu, n) => Promise.all(Array.from({ length: n }, (_, i) => postJson(`${emu.url}/chat/completions`,
  { model: PROFILE.model, max_tokens: 30, ignore_eos: true, messages: [{ role: 'user', content: `other client #${i}` }] })));

async function askModel(gw, headers = {}) {
  const r = await postJson(`${gw.url}/chat/completions`, { model: 'auto', max_tokens: 4, messages: [{ role: 'user', content: 'Say hello.' }] },
    { headers: { 'X-MEC-Min-Quality': '0.3', ...headers } });
  assert.equal(r.status, 200, r.text);
  return { backend: r.headers.get('x-mec-backend'), reason: r.headers.get('x-mec-reason') || '' };
}

for (const flavor of ['vllm', 'llamacpp']) {
  describe(`routing on the ${flavor} flavor`, () => {
    const stack = new Stack();
    after(() => stack.close());
    test(`a ${flavor} replica busy with other clients' work is skipped, and chosen again once it drains`, async () => {
      const [a, b] = await Promise.all([stack.emulator(PROFILE, { flavor }), stack.emulator(PROFILE, { flavor })]);
      const engine = { engine: flavor, engine_poll_ms: 50, engine_max_waiting: 1 };
      const gw = await stack.gateway({
        server: { threads: 2 },
        routing: { policy: 'cost-first' },
        backends: [
          backend('edge-a', 'edge', a, { models: [PROFILE.model], ...engine }),
          backend('edge-b', 'edge', b, { models: [PROFILE.model], ...engine }),
        ],
      });
      // Both engines read, neither saturated: the first in pool order serves.
      const fresh = await waitFor(async () => {
        const d = (await getJson(`${gw.base}/api/dashboard`)).json.backends;
        return d.every((x) => x.engine.age_s !== null && !x.engine.saturated);
      }, { timeoutMs: 5000, intervalMs: 50 });
      assert.ok(fresh, 'the gateway never read both engines');
      assert.equal((await askModel(gw)).backend, 'edge-a');
      // 8 answers of 0.6 s on 2 slots: about 2.4 s of queue at edge-a.
      const load = direct(a, 8);
      // Once routing's snapshot holds the queue (the dashboard reads the same snapshot), a request
      // goes to edge-b at once rather than queue behind the others at edge-a.
      const seen = await waitFor(async () => {
        const d = (await getJson(`${gw.base}/api/dashboard`)).json.backends.find((x) => x.name === 'edge-a');
        return d.engine.saturated ? d.engine : null;
      }, { timeoutMs: 2000, intervalMs: 20 });
      assert.ok(seen, 'the gateway never saw edge-a saturated');
      assert.ok(seen.waiting > 1, JSON.stringify(seen));
      const away = await askModel(gw);
      assert.equal(away.backend, 'edge-b', away.reason);
      assert.match(away.reason, /skipped saturated edge-a: \d+ waiting > 1/);
      const statuses = (await load).map((r) => r.status);
      assert.deepEqual(statuses, Array(8).fill(200));
      const back = await waitFor(async () => {
        const r = await askModel(gw);
        return r.backend === 'edge-a' ? r : null;
      }, { timeoutMs: 3000, intervalMs: 50 });
      assert.doesNotMatch(back.reason, /saturated/);
    });
  });
}

describe('routing on the ollama flavor', () => {
  const stack = new Stack();
  after(() => stack.close());
  test('a tight deadline does not wait for a cold Ollama model; once loaded, the cheap device serves', async () => {
    const [phone, edge] = await Promise.all([
      stack.emulator({ ...PROFILE, name: 'phone', load_ms: 300, keep_alive_s: 300 }, { flavor: 'ollama' }),
      stack.emulator('edge'),
    ]);
    const gw = await stack.gateway({
      server: { threads: 2 },
      routing: { policy: 'adaptive' },
      backends: [
        backend('phone', 'device', phone, { models: [PROFILE.model], max_concurrency: 1, engine: 'ollama', engine_poll_ms: 50,
          engine_cold_load_ms: 3000, price: { watts: 5, usd_per_kwh: 0.15 } }),
        backend('edge-mec', 'edge', edge, { models: [MODELS.edge], price: { gpu_per_hour: 1.006, gpu_tokens_per_second: 495 } }),
      ],
    });
    const tight = { 'X-MEC-Deadline-Ms': '1500' };
    // The phone holds nothing yet (GET /api/ps is empty): loading would take 3 s.
    const cold = await waitFor(async () => {
      const d = (await getJson(`${gw.base}/api/dashboard`)).json.backends.find((x) => x.name === 'phone');
      return d.engine.age_s !== null ? askModel(gw, tight) : null;
    }, { timeoutMs: 5000, intervalMs: 50 });
    assert.equal(cold.backend, 'edge-mec', cold.reason);
    // Without a deadline the cheap phone is worth the wait, and the reason says it will load.
    const patient = await askModel(gw);
    assert.equal(patient.backend, 'phone', patient.reason);
    assert.match(patient.reason, /phone is cold \(its engine loads the model, ~3\.0s\)/);
    // That request loaded the model: once /api/ps lists it, the tight deadline takes the phone too.
    const warm = await waitFor(async () => {
      const r = await askModel(gw, tight);
      return r.backend === 'phone' ? r : null;
    }, { timeoutMs: 5000, intervalMs: 50 });
    assert.doesNotMatch(warm.reason, /cold/);
    await sleep(10);
  });
});
