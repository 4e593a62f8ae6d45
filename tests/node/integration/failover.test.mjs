// Failover: a load test that SIGKILLs the edge emulator mid-run, then one scenario per failure
// kind (5xx, 429, connection refused, first-byte timeout, mid-stream drop, everything failing).

import { describe, test, before, after, beforeEach, afterEach } from 'node:test';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import assert from 'node:assert/strict';
import { Stack, threeTierStack, backend, closedPort, streamChat, postJson, waitFor, expectOpenAIError, words, MODELS, guardedTest, sleep } from './lib.mjs';

describe('killing the edge emulator under load', () => {
  const stack = new Stack();
  let edge, gw;

  before(async () => {
    ({ edge, gw } = await threeTierStack(stack));
  });
  after(() => stack.close());

  test('requests fail over; only streams already under way are cut, and the stats agree', { timeout: 120000 }, async (t) => {
    const TOTAL = 240;
    const CONCURRENCY = 16;
    const KILL_AFTER = 80; // completed requests before the kill may happen
    const base0 = await gw.stats();
    const results = [];
    const midStreamOnEdge = new Set(); // indexes of streams receiving from edge right now
    let killAt = null;
    let completed = 0;
    let next = 0;

    async function one(i) {
      const stream = i % 2 === 1;
      const r = { i, stream, startedAt: Date.now() };
      const body = { model: 'auto', messages: [{ role: 'user', content: `request ${i}: report traffic` }], max_tokens: stream ? 24 : 8 };
      try {
        if (stream) {
          let backendName;
          let chunks = 0;
          const s = await streamChat(gw.base, body, {
            timeoutMs: 30000,
            onHeaders: (res) => { backendName = res.headers.get('x-mec-backend'); },
            onEvent: (ev) => {
              if (ev.data !== '[DONE]' && backendName === 'edge-mec' && ++chunks < 16) midStreamOnEdge.add(i);
              else midStreamOnEdge.delete(i);
            },
          });
          midStreamOnEdge.delete(i);
          Object.assign(r, { status: s.status, backend: s.headers.get('x-mec-backend'), attempts: s.headers.get('x-mec-attempts'),
            done: s.done, doneCount: s.doneCount, errorEvent: s.errorEvent, text: s.text, events: s.events.length, readError: s.readError });
        } else {
          const res = await postJson(`${gw.url}/chat/completions`, body, { timeoutMs: 30000 });
          Object.assign(r, { status: res.status, backend: res.headers.get('x-mec-backend'), attempts: res.headers.get('x-mec-attempts'), json: res.json });
        }
      } catch (e) {
        r.exception = String(e);
      }
      r.endedAt = Date.now();
      results.push(r);
      completed++;
    }

    async function worker() {
      while (next < TOTAL) await one(next++);
    }

    const killer = (async () => {
      await waitFor(() => completed >= KILL_AFTER && midStreamOnEdge.size > 0, { timeoutMs: 60000, intervalMs: 2 });
      assert.ok(midStreamOnEdge.size > 0, 'no stream was mid-way on edge when the kill was due');
      killAt = Date.now();
      edge.kill('SIGKILL');
    })();
    await Promise.all([...Array.from({ length: CONCURRENCY }, worker), killer]);
    assert.ok(killAt, 'edge was killed');
    assert.equal(results.length, TOTAL);
    assert.ok(gw.alive, `the gateway died: ${gw.describe()}`);

    const cut = [];
    for (const r of results) {
      const where = `request ${JSON.stringify({ ...r, json: undefined, events: r.events })}`;
      assert.equal(r.exception, undefined, where);
      assert.equal(r.status, 200, where);
      if (r.stream && r.errorEvent) {
        // Cut mid-way: an error event, no [DONE], and only a stream that was on edge at the kill.
        cut.push(r);
        assert.equal(r.done, false, where);
        assert.equal(r.doneCount, 0, where);
        assert.equal(r.backend, 'edge-mec', where);
        assert.ok(r.startedAt <= killAt, where);
        assert.equal(r.readError, undefined, where);
        const err = JSON.parse(r.errorEvent.data).error;
        assert.equal(err.code, 'midstream_failure', where);
        assert.ok(err.message.includes('edge-mec'), where);
        continue;
      }
      if (r.stream) {
        assert.equal(r.done, true, where);
        assert.equal(r.doneCount, 1, where);
        assert.ok(words(r.text) >= 1 && words(r.text) <= 24, where);
      } else {
        assert.ok(r.json.choices[0].message.content.length > 0, where);
        assert.equal(r.json.usage.completion_tokens, words(r.json.choices[0].message.content), where);
      }
      assert.ok(['edge-mec', 'cloud-api', 'device-phone'].includes(r.backend), where);
      // Anything that started after the kill was answered by cloud or device.
      if (r.startedAt > killAt + 5) assert.notEqual(r.backend, 'edge-mec', where);
      // Anything that finished well after the kill was not answered by edge.
      if (r.endedAt > killAt + 50 && !r.stream) assert.notEqual(r.backend, 'edge-mec', where);
    }
    assert.ok(cut.length >= 1, 'at least the stream that was mid-way on edge was cut');
    const after = results.filter((r) => r.startedAt > killAt + 5);
    assert.ok(after.length >= 50, `${after.length} requests after the kill`);
    assert.ok(after.some((r) => r.attempts === '2'), 'requests after the kill tried edge, then failed over');
    assert.ok(results.filter((r) => r.startedAt < killAt).some((r) => r.backend === 'edge-mec'), 'edge served before the kill');

    const s = await gw.stats();
    const d = (k) => s[k] - base0[k];
    t.diagnostic(`${TOTAL} requests, ${after.length} after the kill, ${cut.length} streams cut; gateway stats ${JSON.stringify(s)}`);
    assert.equal(d('failed'), 0, JSON.stringify(s));
    assert.equal(d('midstream_cuts'), cut.length, `client saw ${cut.length} cut streams; stats ${JSON.stringify(s)}`);
    assert.equal(d('requests'), TOTAL);
    assert.equal(d('completed'), TOTAL - cut.length);
    assert.equal(d('client_cancelled'), 0);
    assert.ok(d('failovers') >= after.length, JSON.stringify(s));
    assert.equal(d('upstream_attempts'), TOTAL + d('failovers'));
  });
});

describe('failure kinds', () => {
  // Shared emulators; every test starts its own gateway, so that one test's crash cannot take
  // the others down with it.
  const stack = new Stack();
  let e5xx, e429, ehang, edrop, elong, cloud, refusedUrl, refusedUrl2, gw;
  const gtest = guardedTest(test, () => stack);

  before(async () => {
    [e5xx, e429, ehang, edrop, elong, cloud] = await Promise.all([
      stack.emulator('edge'),
      // A custom profile: the shipped edge tier behind a rate limit that never has a token
      // (bucket of 0.001 requests), so every request gets 429 with Retry-After 1000.
      stack.emulator({ base: 'edge', name: 'edge-429', rate_limit_rps: 0.001 }),
      stack.emulator('edge'),
      stack.emulator('edge'),
      stack.emulator('edge'),
      stack.emulator('cloud'),
    ]);
    await e5xx.fault({ error_rate: 1 });
    await ehang.fault({ hang_rate: 1 });
    await edrop.fault({ drop_midstream_rate: 1 });
    refusedUrl = `http://127.0.0.1:${await closedPort()}/v1`;
    refusedUrl2 = `http://127.0.0.1:${await closedPort()}/v1`;
  });
  beforeEach(async () => {
    gw = await stack.gateway({
      server: { threads: 2 },
      backends: [
        backend('edge-5xx', 'edge', e5xx, { models: ['m-5xx'] }),
        backend('edge-429', 'edge', e429, { models: ['m-429', 'm-all429'] }),
        backend('edge-refused', 'edge', refusedUrl, { models: ['m-refused', 'm-allfail'], timeouts: { connect_ms: 1000 } }),
        backend('edge-hang', 'edge', ehang, { models: ['m-hang'], timeouts: { first_byte_ms: 400 } }),
        backend('device-refused', 'device', refusedUrl2, { models: ['m-allfail'] }),
        backend('edge-drop', 'edge', edrop, { models: ['m-drop'] }),
        backend('edge-long', 'edge', elong, { models: ['m-long'], timeouts: { first_byte_ms: 300 } }),
        backend('cloud-ok', 'cloud', cloud, { models: [MODELS.cloud, 'm-5xx', 'm-429', 'm-refused', 'm-hang'] }),
      ],
    });
  });
  afterEach(() => gw.kill('SIGKILL'));
  after(() => stack.close());

  const msg = [{ role: 'user', content: 'What is the status?' }];

  async function expectFailover(model, badBackend, { stream = false } = {}) {
    const t0 = Date.now();
    const body = { model, messages: msg, max_tokens: 6 };
    if (stream) {
      const s = await streamChat(gw.base, body);
      assert.equal(s.status, 200, JSON.stringify(s.json));
      assert.equal(s.headers.get('x-mec-backend'), 'cloud-ok');
      assert.equal(s.headers.get('x-mec-tier'), 'cloud');
      assert.equal(s.headers.get('x-mec-attempts'), '2');
      assert.equal(s.done, true);
      assert.equal(s.errorEvent, undefined);
      assert.ok(s.text.length > 0);
    } else {
      const r = await postJson(`${gw.url}/chat/completions`, body);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get('x-mec-backend'), 'cloud-ok', `not failed over from ${badBackend}`);
      assert.equal(r.headers.get('x-mec-attempts'), '2');
      assert.equal(r.json.model, model);
      assert.ok(r.json.choices[0].message.content.length > 0);
    }
    return Date.now() - t0;
  }

  gtest('HTTP 5xx fails over to the next backend', async () => {
    const before = await e5xx.stats();
    await expectFailover('m-5xx', 'edge-5xx');
    await expectFailover('m-5xx', 'edge-5xx', { stream: true });
    const after = await e5xx.stats();
    assert.equal(after.errors - before.errors, 2, 'the 5xx backend was really tried');
    const s = await gw.stats();
    assert.equal(s.failovers, 2);
    assert.equal(s.failed, 0);
  });

  gtest('HTTP 429 fails over to the next backend', async () => {
    const before = await e429.stats();
    await expectFailover('m-429', 'edge-429');
    await expectFailover('m-429', 'edge-429', { stream: true });
    assert.equal((await e429.stats()).rejected - before.rejected, 2);
  });

  gtest('connection refused fails over to the next backend', async () => {
    await expectFailover('m-refused', 'edge-refused');
    await expectFailover('m-refused', 'edge-refused', { stream: true });
    const s = await gw.stats();
    assert.equal(s.failovers, 2);
    assert.equal(s.upstream_attempts, 4);
  });

  gtest('no first byte within timeouts.first_byte_ms fails over, and the hung upstream request is cancelled', async () => {
    const before = await ehang.stats();
    const ms = await expectFailover('m-hang', 'edge-hang');
    assert.ok(ms >= 400, `answered after ${ms} ms, before the 400 ms first-byte timeout`);
    assert.ok(ms < 5000, `answered after ${ms} ms`);
    await expectFailover('m-hang', 'edge-hang', { stream: true });
    const after = await waitFor(async () => {
      const s = await ehang.stats();
      return s.active === 0 && s.cancelled - before.cancelled === 2 ? s : null;
    }, { timeoutMs: 3000 });
    assert.ok(after, `hung requests still open upstream: ${JSON.stringify(await ehang.stats())}`);
    assert.equal(after.hung - before.hung, 2);
  });

  // A whole answer's first byte comes after its last token: a healthy backend generating a long
  // answer must not be taken for a hung one (the wait is first_byte_ms + the generation time).
  gtest('a whole answer that takes longer than first_byte_ms to generate is not a timeout', async () => {
    const t0 = Date.now();
    const r = await postJson(`${gw.url}/chat/completions`, { model: 'm-long', messages: msg, max_tokens: 80, ignore_eos: true });
    const ms = Date.now() - t0;
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('x-mec-backend'), 'edge-long');
    assert.equal(r.headers.get('x-mec-attempts'), '1');
    assert.equal(r.json.usage.completion_tokens, 80);
    assert.ok(ms > 300, `answered after ${ms} ms: not longer than first_byte_ms, the test proves nothing`);
    const s = await elong.stats();
    assert.equal(s.cancelled, 0);
  });

  // Both backends refuse connections (the kinds of failure that do not go through an HTTP exchange).
  gtest('every backend failing gives one clear 503 in OpenAI format', async () => {
    for (const stream of [false, true]) {
      const r = await postJson(`${gw.url}/chat/completions`, { model: 'm-allfail', messages: msg, stream });
      assert.equal(r.status, 503, r.text);
      assert.match(r.headers.get('content-type'), /^application\/json/);
      assert.equal(r.headers.get('x-mec-attempts'), '2');
      const e = expectOpenAIError(assert, r.json, 503, { type: 'service_unavailable' });
      assert.ok(e.message.includes('edge-refused') && e.message.includes('device-refused'), e.message);
    }
    const s = await gw.stats();
    assert.equal(s.failed, 2);
    assert.equal(s.completed, 0);
  });

  gtest('every backend rate limited gives 429 with Retry-After in OpenAI format', async () => {
    const r = await postJson(`${gw.url}/chat/completions`, { model: 'm-all429', messages: msg });
    assert.equal(r.status, 429, r.text);
    assert.equal(r.headers.get('retry-after'), '1000', 'Retry-After of the emulator (1 / 0.001 rps)');
    assert.equal(r.headers.get('x-mec-attempts'), '1');
    expectOpenAIError(assert, r.json, 429, { type: 'rate_limit_error' });
  });

  gtest('a mid-stream drop on the only backend ends with an error event and no [DONE]; counted as a cut, not a failure', async () => {
    const d0 = await edrop.stats();
    const s = await streamChat(gw.base, { model: 'm-drop', messages: msg, max_tokens: 40 });
    assert.equal(s.status, 200);
    assert.equal(s.headers.get('x-mec-backend'), 'edge-drop');
    assert.equal(s.doneCount, 0, 'no [DONE] after a cut');
    assert.ok(s.errorEvent, 'an error event ends the stream');
    assert.equal(s.events[s.events.length - 1], s.errorEvent, 'the error event is the last event');
    assert.equal(s.readError, undefined, 'the chunked stream ends cleanly after the error event');
    expectOpenAIError(assert, JSON.parse(s.errorEvent.data), 502, { code: 'midstream_failure' });
    assert.ok(s.events.length >= 2, 'some tokens came before the cut');
    assert.ok(words(s.text) < 40);
    const st = await gw.stats();
    assert.equal(st.midstream_cuts, 1);
    assert.equal(st.failed, 0);
    assert.equal((await edrop.stats()).dropped - d0.dropped, 1);
    // And the gateway goes on serving.
    const r = await postJson(`${gw.url}/chat/completions`, { model: 'cloud', messages: msg, max_tokens: 3 });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-mec-attempts'), '1');
  });
});

// An ejection outlives a short outage no more (backend/outlier_detector.h): a passing active health
// check ends the ejection's wait, one real request probes the backend, and traffic returns within a
// few health-check intervals of the recovery, not after base_ejection_ms (60 s here).
describe('recovery after an outage', () => {
  const stack = new Stack();
  after(() => stack.close());

  test('a passing health check ends the ejection: the edge serves again within seconds of recovering', async () => {
    const [edge, cloud] = await Promise.all([stack.emulator('edge'), stack.emulator('cloud')]);
    const gw = await stack.gateway({
      routing: { auto_order: ['edge', 'cloud'] },
      backends: [
        backend('edge-mec', 'edge', edge, { models: [MODELS.edge],
          health_check: { interval_ms: 300, timeout_ms: 250, jitter: 0, healthy_threshold: 1, unhealthy_threshold: 100 },
          outlier: { consecutive_local_failures: 3, consecutive_upstream_failures: 3, base_ejection_ms: 60000 } }),
        backend('cloud-api', 'cloud', cloud, { models: [MODELS.cloud] }),
      ],
    });
    const ask = async () => {
      const r = await postJson(`${gw.url}/chat/completions`, { model: 'auto', max_tokens: 4, messages: [{ role: 'user', content: 'status?' }] });
      assert.equal(r.status, 200, r.text);
      return r.headers.get('x-mec-backend');
    };
    assert.equal(await ask(), 'edge-mec');
    await edge.fault({ outage: true });
    // Three 503s in a row eject it (the health checks, at 100 failures to turn unhealthy, do not
    // take it out first: the outlier detector does).
    for (let i = 0; i < 4; i++) assert.equal(await ask(), 'cloud-api');
    const down = (await (await fetch(`${gw.base}/api/dashboard`)).json()).backends.find((b) => b.name === 'edge-mec');
    assert.equal(down.ejected, true, JSON.stringify(down));
    assert.ok(down.ejected_for_s > 50, JSON.stringify(down));
    await edge.fault({ outage: false });
    const recovered = Date.now();
    const back = await waitFor(async () => (await ask()) === 'edge-mec', { timeoutMs: 5000, intervalMs: 100 });
    assert.ok(back, 'the edge served nothing within 5 s of its recovery');
    assert.ok(Date.now() - recovered < 5000);
  });
});

// An upstream that closes each keep-alive connection 50 ms after its answer (a raw server: the
// answer says nothing of closing): the gateway takes a pooled connection the server has closed,
// finds it closed, and sends the request again on a fresh one within the same attempt; the dead
// connection is closed at once (its deadline timer's wait must not keep the socket open).
describe('pooled upstream connections the server has closed', () => {
  const stack = new Stack();
  const sockets = new Set();
  let server;
  after(() => {
    for (const s of sockets) s.destroy();
    server?.close();
    return stack.close();
  });

  test('are retried on a fresh connection within the attempt, and their sockets closed', async () => {
    let connections = 0;
    server = net.createServer((sock) => {
      ++connections;
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
      let buf = '';
      sock.on('data', (d) => {
        buf += d.toString('latin1');
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const len = Number((/content-length:\s*(\d+)/i.exec(buf.slice(0, end)) || [])[1] || 0);
        if (buf.length < end + 4 + len) return;
        buf = '';
        if (sock.writableEnded) return sock.destroy();  // a request on a connection we closed: it gets nothing
        const body = JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } });
        sock.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
        setTimeout(() => sock.end(), 50);
      });
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const gw = await stack.gateway({ backends: [backend('edge', 'edge', `http://127.0.0.1:${server.address().port}/v1`, { models: ['m'] })] });
    const fds = () => readdirSync(`/proc/${gw.pid}/fd`).length;
    const ask = () => postJson(`${gw.url}/chat/completions`, { model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 });
    assert.equal((await ask()).status, 200);
    await sleep(200);
    const fds0 = fds();
    const rounds = 12;
    for (let i = 0; i < rounds; ++i) {
      await sleep(200);  // the upstream closes the pooled connection meanwhile
      const r = await ask();
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get('x-mec-attempts'), '1', 'the stale connection is retried within the attempt');
    }
    await sleep(200);
    assert.equal(connections, rounds + 1, 'a fresh connection for each request');
    assert.ok(fds() - fds0 <= 2, `the gateway holds ${fds() - fds0} more descriptors after ${rounds} stale connections`);
    assert.equal((await gw.stats()).failed, 0);
  });
});
