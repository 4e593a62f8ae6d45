// Graceful shutdown: SIGTERM stops accepting, lets in-flight requests finish within
// shutdown_grace_ms, and exits 0.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, backend, streamChat, tryConnect, sleep, guardedTest, words } from './lib.mjs';
import net from 'node:net';

const stack = new Stack();
let steady, slow;
const gtest = guardedTest(test, () => stack);

before(async () => {
  [steady, slow] = await Promise.all([
    // Custom profiles, because these tests need streams of a known, long-enough length: the
    // shipped edge tier decoding at 20 tok/s (40 tokens = 2 s) ...
    stack.emulator({ base: 'edge', name: 'steady', decode_tokens_per_s: 20, mean_output_tokens: 400, ttft_jitter_sigma: 0 }),
    // ... and at 4 tok/s (40 tokens = 10 s, longer than the grace period below).
    stack.emulator({ base: 'edge', name: 'slow', decode_tokens_per_s: 4, mean_output_tokens: 400, ttft_jitter_sigma: 0 }),
  ]);
});
after(() => stack.close());

const gateway = (grace) => stack.gateway({
  server: { threads: 2, shutdown_grace_ms: grace },
  backends: [
    backend('edge-steady', 'edge', steady, { models: ['steady'] }),
    backend('edge-slow', 'edge', slow, { models: ['slow'] }),
  ],
});

const body = (model) => ({ model, messages: [{ role: 'user', content: 'Describe the route.' }], max_tokens: 40 });

gtest('SIGTERM during a stream: the stream completes, new connections are refused, exit 0', async () => {
  const GRACE = 5000;
  const gw = await gateway(GRACE);
  let tSig;
  let probe;
  const s = await streamChat(gw.base, body('steady'), {
    timeoutMs: 15000,
    onEvent: () => {
      if (tSig) return;
      tSig = Date.now();
      gw.kill('SIGTERM');
      probe = (async () => {
        await sleep(300); // the stream has ~1.7 s to go
        return { conn: await tryConnect(gw.port), alive: gw.alive, at: Date.now() };
      })();
    },
  });
  const tEnd = Date.now();
  assert.ok(tSig, 'SIGTERM was sent during the stream');
  assert.equal(s.status, 200);
  assert.equal(s.errorEvent, undefined, 'no error event');
  assert.equal(s.done, true, 'the in-flight stream got [DONE]');
  assert.equal(words(s.text), 40);
  assert.ok(tEnd - tSig >= 1000, `stream ended ${tEnd - tSig} ms after SIGTERM: it was not in flight long`);
  const p = await probe;
  assert.ok(p.at < tEnd, 'the probe ran while the stream was in flight');
  assert.equal(p.alive, true, 'the gateway was still draining');
  assert.equal(p.conn, 'refused', 'a new connection during the drain is refused');
  const exit = await gw.waitExit(GRACE + 3000);
  const tExit = Date.now();
  assert.ok(exit, `did not exit within the grace period: ${gw.describe()}`);
  assert.deepEqual(exit, { code: 0, signal: null }, gw.describe());
  assert.ok(tExit - tSig < GRACE, `exit ${tExit - tSig} ms after SIGTERM, grace ${GRACE} ms`);
  assert.ok(tExit - tEnd < 1500, `exit ${tExit - tEnd} ms after the last stream ended`);
  assert.match(gw.out, /SIGTERM received, draining/);
  assert.match(gw.out, /mecrouter: stopped/);
});

gtest('SIGTERM with a stream longer than the grace period: exit 0 when the grace ends', async () => {
  const GRACE = 1000;
  const gw = await gateway(GRACE);
  let tSig;
  const streamDone = streamChat(gw.base, body('slow'), {
    timeoutMs: 20000,
    onEvent: () => {
      if (tSig) return;
      tSig = Date.now();
      gw.kill('SIGTERM');
    },
  }).catch((e) => ({ exception: e }));
  const exit = await (async () => {
    while (!tSig) await sleep(10);
    return gw.waitExit(GRACE + 4000);
  })();
  const tExit = Date.now();
  assert.ok(exit, `did not exit: ${gw.describe()}`);
  assert.deepEqual(exit, { code: 0, signal: null }, gw.describe());
  assert.ok(tExit - tSig >= GRACE - 100, `exit ${tExit - tSig} ms after SIGTERM, before the ${GRACE} ms grace`);
  assert.ok(tExit - tSig < GRACE + 2000, `exit ${tExit - tSig} ms after SIGTERM, grace ${GRACE} ms`);
  const s = await streamDone;
  // The 10 s stream was cut by the exit: never a [DONE].
  assert.ok(!s.done, 'the stream did not complete');
  assert.ok(Date.now() - tSig < GRACE + 3000);
});

gtest('SIGTERM closes idle keep-alive connections and exits at once', async () => {
  const GRACE = 5000;
  const gw = await gateway(GRACE);
  // An idle keep-alive connection, after one request on it.
  const sock = net.connect(gw.port, '127.0.0.1');
  let data = '';
  const closed = new Promise((res) => sock.on('close', () => res(Date.now())));
  sock.on('error', () => {});
  sock.setEncoding('latin1');
  sock.on('data', (d) => { data += d; });
  await new Promise((res) => sock.on('connect', res));
  sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  for (let i = 0; i < 200 && !data.includes('"ok"'); i++) await sleep(10);
  assert.match(data, /^HTTP\/1\.1 200/);
  assert.equal(sock.destroyed, false, 'keep-alive connection still open');

  const tSig = Date.now();
  gw.kill('SIGTERM');
  const exit = await gw.waitExit(GRACE + 3000);
  const tExit = Date.now();
  assert.deepEqual(exit, { code: 0, signal: null }, gw.describe());
  assert.ok(tExit - tSig < 2000, `exit ${tExit - tSig} ms after SIGTERM with nothing in flight`);
  let timer;
  const tClosed = await Promise.race([closed, new Promise((r) => { timer = setTimeout(() => r(null), 2000); })]);
  clearTimeout(timer);
  sock.destroy();
  assert.ok(tClosed, 'the idle connection was closed');
  assert.equal(await tryConnect(gw.port), 'refused');
  // Nothing answered on it after the shutdown began.
  assert.equal((data.match(/HTTP\/1\.1/g) || []).length, 1);
});
