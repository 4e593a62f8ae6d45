// Several replicas learning together through a real redis-server (issue "Monitor and cache
// agents"): what one gateway learns about a slow backend changes another's routing; an answer one
// got is a cache hit on the other (never a private one); a backend one ejects, the other takes
// out; a gateway without the shared state does none of it; killing Redis loses no request.
//
// Emulators with their shipped profiles: the edge answers 4 tokens in ~0.1 s and is cheaper than
// the cloud (~0.5 s); slowed x25 it takes seconds and misses a 1.5 s deadline the cloud meets.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
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

  const served = async () => (await edge.stats()).served + (await cloud.stats()).served;
  const state = async (gw) => (await getJson(`${gw.base}/api/state`)).json;
  const cached = (gw, content, { privacy, model = 'cloud', cacheControl } = {}) => postJson(`${gw.url}/chat/completions`,
    { model, temperature: 0, max_tokens: 4, messages: [{ role: 'user', content }] },
    { headers: { ...(privacy ? { 'X-MEC-Privacy': privacy } : {}), ...(cacheControl ? { 'Cache-Control': cacheControl } : {}) } });
  const redisKeys = (pattern) => new Promise((resolve, reject) => {
    const p = spawn('redis-cli', ['-p', String(redisPort), '--scan', '--pattern', pattern]);
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.on('error', reject);
    p.on('close', () => resolve(out.split('\n').filter((l) => l.length > 0)));
  });

  test('an answer one replica got is a cache hit on the other; a private answer never reaches Redis', { timeout: 30000 }, async () => {
    const q = 'Name a primary color. (shared cache)';
    const first = await cached(a, q);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.headers.get('x-mec-cache'), 'miss');
    assert.ok(await waitFor(async () => (await state(a)).cache.stores >= 1, { timeoutMs: 5000 }), JSON.stringify(await state(a)));
    const n0 = await served();
    const onB = await cached(b, q);
    assert.equal(onB.status, 200, onB.text);
    assert.equal(onB.headers.get('x-mec-cache'), 'hit');
    assert.equal(onB.headers.get('x-mec-attempts'), '0');
    assert.equal(onB.headers.get('x-mec-backend'), 'cloud-api');
    assert.equal(onB.text, first.text, 'byte for byte the answer A got');
    assert.equal(await served(), n0, 'the hit on B reached no backend');
    assert.equal((await state(b)).cache.hits, 1);
    // The gateway without shared state has its own cache only; no-cache bypasses the shared level too.
    assert.equal((await cached(c, q)).headers.get('x-mec-cache'), 'miss');
    assert.equal((await cached(b, q, { cacheControl: 'no-cache' })).headers.get('x-mec-cache'), 'bypass');
    // X-MEC-Privacy: edge (and device) answers stay in the process that served them.
    const keys0 = await redisKeys('mec:cache:*');
    assert.ok(keys0.length >= 1, 'the shared answer is in Redis');
    const stores0 = (await state(a)).cache.stores;
    const p = 'Name a primary color. (private)';
    const priv = await cached(a, p, { privacy: 'edge', model: 'edge' });
    assert.equal(priv.status, 200, priv.text);
    assert.equal((await cached(a, p, { privacy: 'edge', model: 'edge' })).headers.get('x-mec-cache'), 'hit', 'kept in A\'s own cache');
    await sleep(300);
    assert.equal((await state(a)).cache.stores, stores0);
    assert.deepEqual(await redisKeys('mec:cache:*'), keys0);
    assert.equal((await cached(b, p, { privacy: 'edge', model: 'edge' })).headers.get('x-mec-cache'), 'miss');
    // The shared state says so in the metrics as well.
    const m = await fetch(`${a.base}/metrics`).then((r) => r.text());
    assert.match(m, /mecrouter_shared_state_up\{channel="cache"\} 1/);
    assert.match(m, /mecrouter_shared_cache_stores_total [1-9]/);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: m, encoding: 'utf8' });
    assert.ok(!check.error, `promtool not runnable (install the Debian package 'prometheus'): ${check.error}`);
    assert.equal(check.status, 0, `promtool check metrics failed:\n${check.stdout}${check.stderr}`);
  });

  test('a backend one replica ejects is taken out by the other before it fails there; the lone gateway still tries it', { timeout: 60000 }, async () => {
    await edge.fault({ outage: true });
    const dash = async (gw) => (await getJson(`${gw.base}/api/dashboard`)).json.backends.find((x) => x.name === 'edge-mec');
    // Only A sees traffic, pinned to the edge (routing would soon avoid it), until its outlier
    // detector has ejected the edge.
    let i = 400;
    const ejected = await waitFor(async () => {
      await postJson(`${a.url}/chat/completions`, { model: 'edge', max_tokens: 4, messages: [{ role: 'user', content: `${EASY} (${i++})` }] });
      return (await dash(a)).ejected;
    }, { timeoutMs: 20000, intervalMs: 20 });
    assert.ok(ejected, `A never ejected the edge: ${JSON.stringify(await dash(a))}`);
    assert.ok(await waitFor(async () => (await state(b)).ejections_applied >= 1, { timeoutMs: 5000 }), JSON.stringify(await state(b)));
    const onB = await dash(b);
    assert.equal(onB.ejected, true, JSON.stringify(onB));
    assert.equal(onB.ejections, 0, 'not B\'s own ejection');
    assert.equal(onB.peer_ejections, 1);
    // No deadline and a minimum well below the edge's predicted quality for this prompt (~0.85; at
    // 0.8 the class target is 0.85, which a change of complexity model can tip): the cheaper edge is
    // every gateway's first choice unless it is out.
    const CHEAP = { 'X-MEC-Min-Quality': '0.5' };
    const edgeBefore = (await edge.stats()).served + (await edge.stats()).errors;
    const r = await postJson(`${b.url}/chat/completions`, { model: 'auto', max_tokens: 4, messages: [{ role: 'user', content: `${EASY} (500)` }] }, { headers: CHEAP });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('x-mec-tier'), 'cloud');
    assert.equal(r.headers.get('x-mec-attempts'), '1', 'B did not try the edge first');
    // The gateway without shared state still believes in the edge and fails over from it.
    const rc = await postJson(`${c.url}/chat/completions`, { model: 'auto', max_tokens: 4, messages: [{ role: 'user', content: `${EASY} (501)` }] }, { headers: CHEAP });
    assert.equal(rc.status, 200, rc.text);
    assert.equal(rc.headers.get('x-mec-attempts'), '2', JSON.stringify(Object.fromEntries(rc.headers)));
    assert.equal((await state(a)).ejections_applied, 0, 'B did not echo A\'s ejection back');
    assert.ok((await edge.stats()).served + (await edge.stats()).errors > edgeBefore, 'C reached the edge');
    await edge.fault({ outage: false });
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
      assert.ok(await waitFor(async () => (await getJson(`${gw.base}/api/state`)).json.cache.redis === 'down', { timeoutMs: 5000 }), 'the shared cache still says up');
    }
    const s1 = [await a.stats(), await b.stats()];
    assert.equal(s1[0].failed - s0[0].failed + s1[1].failed - s0[1].failed, 0);
    assert.equal(s1[0].completed - s0[0].completed + s1[1].completed - s0[1].completed, 20);
    // More traffic while Redis stays down, cacheable too: served, answered from the local cache.
    for (let i = 0; i < 4; i++) await ask(i % 2 ? a : b, 300 + i);
    const q = 'Name a primary color. (Redis down)';
    assert.equal((await cached(a, q)).headers.get('x-mec-cache'), 'miss');
    assert.equal((await cached(a, q)).headers.get('x-mec-cache'), 'hit');
    assert.match(a.err, /Redis 127\.0\.0\.1:\d+ unreachable/);
  });
});
