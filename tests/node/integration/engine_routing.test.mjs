// Routing on what serving engines say (docs/engines.md, "Routing on what the engines say"): two
// edge replicas that declare `engine: vllm` and a cloud without an engine. Each replica is a Node
// front that answers vLLM's GET /metrics from a state the test sets, and forwards everything else
// to an edge emulator. The gateway polls /metrics at the url's origin, skips a saturated replica,
// overflows to the cloud when both are saturated (saying so in X-MEC-Reason), and returns when
// they drain. The same for a replica whose /metrics stops answering (stale = saturated).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Stack, backend, postJson, getJson, waitFor, MODELS } from './lib.mjs';

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
