// The gateway's own limits (issue 17, "Graceful limits"): server.max_connections and
// server.max_in_flight answer 503 with Retry-After instead of queueing without bound, and the panic
// threshold keeps a tier whose backends were all ejected in service rather than failing everything.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Stack, backend, closedPort, postJson, getJson, request, rawExchange, sleep, waitFor, guardedTest } from './lib.mjs';

const MODEL = 'llama-3.1-8b-instruct';
const chat = { model: 'auto', messages: [{ role: 'user', content: 'Status of the north lane?' }], max_tokens: 8 };

function idle(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

describe('server.max_connections and server.max_in_flight', () => {
  const stack = new Stack();
  const gtest = guardedTest(test, () => stack);
  let gw, slow;

  before(async () => {
    // Slow enough that three requests overlap: each takes about a second.
    slow = await stack.emulator({ base: 'edge', name: 'slow-edge', base_ms: 900, ttft_jitter_sigma: 0 });
    gw = await stack.gateway({
      server: { threads: 2, max_connections: 3, max_in_flight: 2 },
      backends: [backend('edge-slow', 'edge', slow, { models: [MODEL] })],
    });
  });
  after(() => stack.close());

  gtest('a connection beyond max_connections gets 503 with Retry-After, and a freed slot is usable again', async () => {
    const held = [await idle(gw.port), await idle(gw.port), await idle(gw.port)];
    await sleep(100);  // accepted
    const over = await rawExchange(gw.port, ['GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'], { timeoutMs: 5000 });
    assert.equal(over.status, 503, over.raw);
    assert.equal(over.headers['retry-after'], '1');
    assert.equal(over.json.error.code, 'overloaded');
    assert.match(over.json.error.message, /limit of 3 open connections/);
    held[0].destroy();
    await waitFor(async () => (await rawExchange(gw.port, ['GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], { timeoutMs: 3000 })).status === 200,
      { timeoutMs: 3000, intervalMs: 100 });
    for (const s of held) s.destroy();
  });

  gtest('a request beyond max_in_flight gets 503 with Retry-After; health and metrics still answer', async () => {
    await sleep(200);  // the previous test's connections are closed
    const results = await Promise.all([0, 1, 2, 3].map(async (i) => {
      await sleep(i * 50);
      return postJson(`${gw.url}/chat/completions`, chat, { timeoutMs: 20000 });
    }).concat([(async () => {
      await sleep(400);  // while the slow ones run
      return getJson(`${gw.base}/healthz`);
    })()]));
    const health = results.pop();
    assert.equal(health.status, 200);
    const statuses = results.map((r) => r.status).sort();
    assert.ok(statuses.includes(200), JSON.stringify(statuses));
    const refused = results.filter((r) => r.status === 503);
    assert.ok(refused.length >= 1, JSON.stringify(statuses));
    for (const r of refused) {
      assert.equal(r.headers.get('retry-after'), '1');
      assert.equal(r.json.error.code, 'overloaded');
      assert.match(r.json.error.message, /limit of 2 requests in flight/);
    }
    assert.ok(gw.alive);
  });
});

describe('panic: a tier whose backends are all ejected stays in service', () => {
  const stack = new Stack();
  const gtest = guardedTest(test, () => stack);
  let gw, edge;

  before(async () => {
    edge = await stack.emulator({ base: 'edge', name: 'edge-b', base_ms: 5, ttft_jitter_sigma: 0 });
    const dead = await closedPort();
    const outlier = { consecutive_local_failures: 1, consecutive_upstream_failures: 1, base_ejection_ms: 60000 };
    gw = await stack.gateway({
      server: { threads: 1 },
      routing: { policy: 'least-latency' },
      backends: [
        backend('edge-a', 'edge', `http://127.0.0.1:${dead}/v1`, { models: [MODEL], outlier, health_check: { enabled: false } }),
        backend('edge-b', 'edge', edge, { models: [MODEL], outlier, health_check: { enabled: false } }),
      ],
    });
  });
  after(() => stack.close());

  gtest('both edge backends ejected: requests are still tried (and answered once one recovers)', async () => {
    await edge.fault({ outage: true });
    for (let i = 0; i < 4; i++) await postJson(`${gw.url}/chat/completions`, chat, { timeoutMs: 10000 });
    const m = (await request(`${gw.base}/metrics`)).text;
    for (const b of ['edge-a', 'edge-b'])
      assert.match(m, new RegExp(`mecrouter_backend_health_state\\{backend="${b}",state="ejected",tier="edge"\\} 1`), m);
    await edge.fault({ outage: false });
    // Without panic both would stay out for a minute (base_ejection_ms) and every request get 503.
    const r = await postJson(`${gw.url}/chat/completions`, chat, { timeoutMs: 10000 });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('x-mec-backend'), 'edge-b');
  });
});
