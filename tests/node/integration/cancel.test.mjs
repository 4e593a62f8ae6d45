// A client that goes away cancels the upstream request at once: mid-stream, while waiting for the
// first token, and while waiting for a whole non-streamed answer.

import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, backend, postJson, waitFor, readSse, guardedTest, sleep, rawExchange, streamChat, words } from './lib.mjs';

const stack = new Stack();
let slow, late, gw;
const gtest = guardedTest(test, () => stack);

before(async () => {
  [slow, late] = await Promise.all([
    // Custom profiles, because these tests need requests that would otherwise last long:
    // the shipped edge tier decoding at 5 tok/s (100 tokens = 20 s) ...
    stack.emulator({ base: 'edge', name: 'slow-decode', decode_tokens_per_s: 5, mean_output_tokens: 400, ttft_jitter_sigma: 0 }),
    // ... and the shipped edge tier with a 20 s time to first token.
    stack.emulator({ base: 'edge', name: 'long-ttft', base_ms: 20000, ttft_jitter_sigma: 0 }),
  ]);
});
// A gateway per test, so that one test's crash cannot fail the others.
beforeEach(async () => {
  gw = await stack.gateway({
    server: { threads: 2 },
    backends: [
      backend('edge-slow', 'edge', slow, { models: ['slow'] }),
      backend('edge-late', 'edge', late, { models: ['late'] }),
    ],
  });
});
afterEach(() => gw.kill('SIGKILL'));
after(() => stack.close());

const body = (model, extra = {}) => ({ model, messages: [{ role: 'user', content: 'Tell me a long story.' }], max_tokens: 100, ...extra });

// Waits until the emulator shows one more cancellation and nothing active; returns the ms it took.
async function upstreamCancelled(emu, before, t0) {
  const s = await waitFor(async () => {
    const st = await emu.stats();
    return st.cancelled === before.cancelled + 1 && st.active === 0 ? st : null;
  }, { timeoutMs: 3000, intervalMs: 10 });
  const ms = Date.now() - t0;
  assert.ok(s, `upstream not cancelled 3 s after the client left: ${JSON.stringify(await emu.stats())}`);
  assert.equal(s.served, before.served, 'the upstream request was not completed');
  return ms;
}

async function gatewayCounted(g0) {
  const s = await waitFor(async () => {
    const st = await gw.stats();
    return st.client_cancelled === g0.client_cancelled + 1 ? st : null;
  }, { timeoutMs: 2000 });
  assert.ok(s, `gateway did not count client_cancelled: ${JSON.stringify(await gw.stats())}`);
  assert.equal(s.completed, g0.completed);
  assert.equal(s.failed, g0.failed);
  assert.equal(s.midstream_cuts, g0.midstream_cuts);
}

gtest('a client leaving mid-stream cancels the upstream stream within ~1 s', async () => {
  const e0 = await slow.stats();
  const g0 = await gw.stats();
  const ac = new AbortController();
  const hard = AbortSignal.timeout(15000);
  const res = await fetch(`${gw.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body('slow', { stream: true })),
    signal: AbortSignal.any([ac.signal, hard]),
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-mec-backend'), 'edge-slow');
  let tAbort;
  let tokens = 0;
  const sse = await readSse(res, {
    onEvent: (ev) => {
      // Two tokens in: the stream is under way (it would last ~20 s more).
      if (ev.data !== '[DONE]' && !tAbort && JSON.parse(ev.data).choices?.[0]?.delta?.content !== undefined) {
        if (++tokens >= 2) {
          tAbort = Date.now();
          ac.abort();
        }
      }
    },
  }).catch((e) => ({ error: e }));
  assert.ok(tAbort, `aborted after tokens (events: ${sse.events?.length})`);
  assert.ok(!hard.aborted, 'the stream was not cut by the test timeout');
  assert.equal((await slow.stats()).active <= 1, true);
  const ms = await upstreamCancelled(slow, e0, tAbort);
  assert.ok(ms < 1000, `upstream cancelled ${ms} ms after the client left`);
  await gatewayCounted(g0);
});

gtest('a client leaving while waiting for the first token cancels upstream (stream)', async () => {
  const e0 = await late.stats();
  const g0 = await gw.stats();
  const ac = new AbortController();
  const p = fetch(`${gw.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body('late', { stream: true })),
    signal: ac.signal,
  }).then(() => 'answered', (e) => e.name);
  // The request is waiting upstream (20 s TTFT).
  assert.ok(await waitFor(async () => (await late.stats()).active === 1, { timeoutMs: 3000 }), 'request reached the emulator');
  await sleep(300);
  const tAbort = Date.now();
  ac.abort();
  assert.equal(await p, 'AbortError');
  const ms = await upstreamCancelled(late, e0, tAbort);
  assert.ok(ms < 1000, `upstream cancelled ${ms} ms after the client left`);
  await gatewayCounted(g0);
});

gtest('a client leaving while waiting for a non-streamed answer cancels upstream', async () => {
  for (const [emu, model] of [[late, 'late'], [slow, 'slow']]) {
    const e0 = await emu.stats();
    const g0 = await gw.stats();
    const ac = new AbortController();
    const p = fetch(`${gw.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body(model)),
      signal: ac.signal,
    }).then(() => 'answered', (e) => e.name);
    assert.ok(await waitFor(async () => (await emu.stats()).active === 1, { timeoutMs: 3000 }), `request reached ${model}`);
    await sleep(500);
    const tAbort = Date.now();
    ac.abort();
    assert.equal(await p, 'AbortError');
    const ms = await upstreamCancelled(emu, e0, tAbort);
    assert.ok(ms < 1000, `${model}: upstream cancelled ${ms} ms after the client left`);
    await gatewayCounted(g0);
  }
});

gtest('the gateway keeps serving after cancellations', async () => {
  const ac = new AbortController();
  const p = fetch(`${gw.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body('slow', { stream: true })), signal: ac.signal })
    .then(async (res) => { for await (const c of res.body) { ac.abort(); break; } }).catch(() => {});
  await p;
  const r = await postJson(`${gw.url}/chat/completions`, body('slow', { max_tokens: 2 }));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.usage.completion_tokens, 2);
});

// The disconnect watcher reads what the client sends while its request is served: a request
// pipelined behind it is kept for the next read, not taken for the client leaving, whether it
// arrives with the first (one write) or while the first is being answered.
gtest('requests pipelined behind one in flight are kept and answered in order', async () => {
  const e0 = await slow.stats();
  const g0 = await gw.stats();
  const req = (maxTokens, close = false) => {
    const b = JSON.stringify(body('slow', { max_tokens: maxTokens }));
    return `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${b.length}\r\n${close ? 'Connection: close\r\n' : ''}\r\n${b}`;
  };
  // 3 tokens at 5 tok/s: the first answer takes ~0.6 s; the third request comes 300 ms into it.
  const r = await rawExchange(gw.port, [req(3) + req(1), req(2, true)], { gapMs: 300, timeoutMs: 15000 });
  assert.equal(r.why === 'end' || r.why === 'close', true, `the exchange ended by ${r.why}`);
  const answers = [...r.raw.matchAll(/"completion_tokens":(\d+)/g)].map((m) => Number(m[1]));
  assert.deepEqual(answers, [3, 1, 2], `three answers in order: ${r.raw.slice(0, 400)}`);
  assert.equal((r.raw.match(/HTTP\/1\.1 200 /g) || []).length, 3);
  const g1 = await gw.stats();
  assert.equal(g1.client_cancelled, g0.client_cancelled, 'no request was taken for a client leaving');
  assert.equal((await slow.stats()).served, e0.served + 3);
});

// The upstream's deadlines while a stream is under way (timeouts.idle_ms between two reads,
// timeouts.total_ms for the whole attempt): one timer per upstream connection, re-armed lazily
// (net/upstream_client.cc). The slow emulator sends a token every 200 ms.
gtest('an upstream stream silent past idle_ms, or past total_ms, is cut and its request cancelled', async () => {
  const g = await stack.gateway({
    backends: [
      backend('edge-idle', 'edge', slow, { models: ['slow-idle'], timeouts: { idle_ms: 80 } }),
      backend('edge-total', 'edge', slow, { models: ['slow-total'], timeouts: { total_ms: 900 } }),
    ],
  });
  try {
    for (const [model, why, minMs, maxMs] of [['slow-idle', 'no data for 80 ms', 0, 3000], ['slow-total', 'total timeout (900 ms)', 850, 3000]]) {
      const e0 = await slow.stats();
      const t0 = Date.now();
      const s = await streamChat(g.base, body(model, { max_tokens: 40 }));
      const ms = Date.now() - t0;
      assert.equal(s.status, 200, `${model}: ${s.text}`);
      assert.ok(s.errorEvent, `${model}: an error event ends the stream`);
      const e = JSON.parse(s.errorEvent.data).error;
      assert.equal(e.code, 'midstream_failure');
      assert.ok(e.message.includes(why), `${model}: ${e.message}`);
      assert.ok(ms >= minMs && ms < maxMs, `${model}: cut after ${ms} ms`);
      assert.ok(words(s.text) < 40, `${model}: not the whole answer`);
      await upstreamCancelled(slow, e0, Date.now());
    }
  } finally {
    g.kill('SIGKILL');
  }
});
