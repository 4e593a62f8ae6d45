// The gateway's own limits (issue 17, "Graceful limits"): server.max_connections and
// server.max_in_flight answer 503 with Retry-After instead of queueing without bound, and the panic
// threshold keeps a tier whose backends were all ejected in service rather than failing everything.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { BIN, Stack, backend, closedPort, postJson, getJson, request, rawExchange, sleep, waitFor, guardedTest } from './lib.mjs';

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

// The open-file limit (cli/open_file_limit.h): serve raises its soft limit to the hard one, and when
// descriptors run out anyway, accepting backs off (a connection left in the backlog would otherwise
// make every accept fail at once, in a loop that takes a core) and resumes once some close.
describe('the open-file limit', () => {
  const children = [];
  after(() => { for (const p of children) p.kill('SIGKILL'); });

  // Starts `sh -c '<ulimit>; exec mecrouter serve ...'` (exec keeps the pid) and waits for its port.
  async function serveUnder(ulimit) {
    const p = spawn('sh', ['-c', `${ulimit} && exec "$0" serve --listen 127.0.0.1:0`, BIN], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(p);
    const s = { p, out: '', err: '', port: 0 };
    p.stdout.on('data', (d) => { s.out += d; });
    p.stderr.on('data', (d) => { s.err += d; });
    await waitFor(() => /listening on http:\/\/127\.0\.0\.1:(\d+)/.test(s.out) || p.exitCode !== null, { timeoutMs: 20000, intervalMs: 20 });
    assert.equal(p.exitCode, null, s.err);
    s.port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(s.out)[1]);
    return s;
  }
  const limits = (pid) => /Max open files\s+(\d+)\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/limits`, 'utf8')).slice(1).map(Number);
  const cpuTicks = (pid) => fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ').slice(11, 13).reduce((a, b) => a + Number(b), 0);

  test('serve raises its soft limit to the hard one', async () => {
    const s = await serveUnder('ulimit -Sn 256');
    const [soft, hard] = limits(s.p.pid);
    assert.equal(soft, hard, `soft ${soft}, hard ${hard}`);
    assert.ok(soft > 256);
    s.p.kill('SIGTERM');
  });

  test('out of descriptors: a warning at start, no busy loop, and service resumes once connections close', async () => {
    const s = await serveUnder('ulimit -n 64');  // soft = hard = 64: nothing to raise
    assert.deepEqual(limits(s.p.pid), [64, 64]);
    assert.match(s.err, /warning: the open-file limit is 64 \(hard limit 64\), below server\.max_connections \(10000\)/);
    // Warm first: the health checks done and a request answered. (Under the sanitizers, UBSan's
    // first check of a type needs a pipe; with no descriptor left it reports a bad vptr and stops
    // the process. Types already checked are cached.)
    await waitFor(() => (s.err.match(/health check passed/g) || []).length >= 3, { timeoutMs: 10000, intervalMs: 50 });
    const warm = await postJson(`http://127.0.0.1:${s.port}/v1/chat/completions`, chat, { timeoutMs: 10000 });
    assert.equal(warm.status, 200);
    await sleep(500);
    const held = [];
    for (let i = 0; i < 100; ++i) {
      const c = net.connect(s.port, '127.0.0.1');
      c.on('error', () => {});
      held.push(c);
    }
    await waitFor(() => /cannot accept a connection: Too many open files; retrying every 50 ms/.test(s.err), { timeoutMs: 5000, intervalMs: 50 });
    const t0 = cpuTicks(s.p.pid);
    await sleep(2000);
    const ticks = cpuTicks(s.p.pid) - t0;  // clock ticks, 100 per second: a spinning accept loop takes ~200
    assert.ok(ticks < 100, `the gateway used ${ticks} ticks in 2 s while out of descriptors`);
    for (const c of held) c.destroy();
    await waitFor(async () => {
      try { return (await getJson(`http://127.0.0.1:${s.port}/healthz`, { timeoutMs: 2000 })).status === 200; } catch { return false; }
    }, { timeoutMs: 10000, intervalMs: 200 });
    assert.equal(s.p.exitCode, null);
    s.p.kill('SIGTERM');
  });
});
