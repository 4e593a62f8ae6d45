// Several replicas learning together through a real redis-server (issue "Monitor and cache
// agents"): what one gateway learns about a slow backend changes another's routing; a gateway
// without the shared state does not learn it; killing Redis loses no request.
//
// Emulators with their shipped profiles: the edge answers 4 tokens in ~0.1 s and is cheaper than
// the cloud (~0.5 s); slowed x25 it takes seconds and misses a 1.5 s deadline the cloud meets.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Stack, backend, postJson, getJson, waitFor, sleep, MODELS, closedPort, tryConnect } from './lib.mjs';

const HEADERS = { 'X-MEC-Min-Quality': '0.8', 'X-MEC-Deadline-Ms': '1500', 'X-MEC-Network': 'link=5g; rtt-edge=10; rtt-cloud=60; down-mbps=100' };
const EASY = 'Which of the following is a primary color?\nA. Green\nB. Red\nC. Purple\nD. Orange\nAnswer:';
const SYNC_MS = 200;

describe('replicas sharing state through Redis', () => {
  const stack = new Stack();
  let redis, redisPort, edge, cloud, a, b, c;
  before(async () => {
    redisPort = await closedPort();
    redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    assert.ok(await waitFor(async () => (await tryConnect(redisPort, 200)) === 'connected', { timeoutMs: 5000, intervalMs: 50 }), 'redis-server did not start');
    [edge, cloud] = await Promise.all([stack.emulator('edge'), stack.emulator('cloud')]);
    const config = (state) => ({
      server: { threads: 2 },
      routing: { policy: 'adaptive' },
      ...(state ? { state: { url: `redis://127.0.0.1:${redisPort}`, sync_ms: SYNC_MS } } : {}),
      backends: [
        backend('edge-mec', 'edge', edge, { models: [MODELS.edge], price: { gpu_per_hour: 1.006, gpu_tokens_per_second: 495 }, health_check: { enabled: false } }),
        backend('cloud-api', 'cloud', cloud, { models: [MODELS.cloud], price: { input_per_1m: 2.5, output_per_1m: 10 }, health_check: { enabled: false } }),
      ],
    });
    [a, b, c] = await Promise.all([stack.gateway(config(true)), stack.gateway(config(true)), stack.gateway(config(false))]);
  });
  after(() => {
    if (redis.exitCode === null) redis.kill('SIGKILL');
    return stack.close();
  });

  const ask = async (gw, i) => {
    const r = await postJson(`${gw.url}/chat/completions`, { model: 'auto', max_tokens: 4, messages: [{ role: 'user', content: `${EASY} (${i})` }] }, { headers: HEADERS });
    assert.equal(r.status, 200, r.text);
    return r.headers.get('x-mec-tier');
  };

  test('a slow backend learned by one replica moves the other replica\'s traffic; a lone gateway still sends there', { timeout: 60000 }, async () => {
    for (const gw of [a, b, c]) assert.equal(await ask(gw, 0), 'edge');
    assert.equal((await getJson(`${a.base}/api/state`)).json.redis, 'up');
    await edge.fault({ slowdown: 25 });
    // Only A sees traffic until it has moved away from the edge.
    let i = 1;
    const moved = await waitFor(async () => {
      const tiers = [await ask(a, i++), await ask(a, i++), await ask(a, i++)];
      return tiers.every((t) => t === 'cloud');
    }, { timeoutMs: 30000, intervalMs: 50 });
    assert.ok(moved, 'A never moved away from the slowed edge');
    // Let A's last reports reach B, then B's very first request since the slowdown goes to the cloud.
    assert.ok(await waitFor(async () => (await getJson(`${b.base}/api/state`)).json.reports_applied > 0, { timeoutMs: 5000 }));
    await sleep(3 * SYNC_MS);
    assert.equal(await ask(b, 100), 'cloud', `B did not learn from A: ${JSON.stringify((await getJson(`${b.base}/api/state`)).json)}`);
    // The control: C shares nothing and still believes in the edge.
    assert.equal(await ask(c, 100), 'edge');
    assert.equal((await getJson(`${c.base}/api/state`)).json.redis, 'off');
    await edge.fault({ slowdown: 1 });
  });

  test('killing Redis loses no request; the replicas say Redis is down and keep serving', { timeout: 30000 }, async () => {
    const s0 = [await a.stats(), await b.stats()];
    redis.kill('SIGKILL');
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => ask(i % 2 ? a : b, 200 + i).then(() => 'ok', (e) => String(e))));
    assert.deepEqual(results.filter((r) => r !== 'ok'), []);
    for (const gw of [a, b]) {
      assert.ok(await waitFor(async () => (await getJson(`${gw.base}/api/state`)).json.redis === 'down', { timeoutMs: 5000 }), 'state still says up');
      const st = (await getJson(`${gw.base}/api/state`)).json;
      assert.ok(st.errors > 0 && st.last_error.length > 0, JSON.stringify(st));
    }
    const s1 = [await a.stats(), await b.stats()];
    assert.equal(s1[0].failed - s0[0].failed + s1[1].failed - s0[1].failed, 0);
    assert.equal(s1[0].completed - s0[0].completed + s1[1].completed - s0[1].completed, 20);
    // More traffic while Redis stays down.
    for (let i = 0; i < 4; i++) await ask(i % 2 ? a : b, 300 + i);
    assert.match(a.err, /Redis 127\.0\.0\.1:\d+ unreachable/);
  });
});
