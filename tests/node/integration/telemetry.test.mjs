// The Monitor through HTTP (issue 6, metrics and decision log): GET /metrics after real traffic
// passes `promtool check metrics` and counts what happened; the decision log written by the
// gateway holds every decided request, even those still queued at SIGTERM (flush on shutdown),
// and `mecrouter decisions` reads it back; the access log has one JSON line (+ one EMF line) per
// request.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Stack, BIN, backend, MODELS, postJson, request, streamChat, guardedTest, closedPort } from './lib.mjs';

const stack = new Stack();
const gtest = guardedTest(test, () => stack);
let gw, dbPath, accessPath;

before(async () => {
  const [edge, cloud] = await Promise.all([stack.emulator('edge'), stack.emulator('cloud')]);
  dbPath = join(stack.dir, 'decisions.db');
  accessPath = join(stack.dir, 'access.log');
  gw = await stack.gateway({
    server: { threads: 2 },
    routing: { auto_order: ['edge', 'cloud'] },
    // Neither a full batch nor the flush interval comes during the test: only the SIGTERM flush
    // writes the rows.
    telemetry: { decision_log: { path: dbPath, batch: 1000, flush_ms: 600000 }, access_log: { path: accessPath, emf: true } },
    backends: [
      backend('edge-mec', 'edge', edge, { models: [MODELS.edge], price: { gpu_per_hour: 1.006, gpu_tokens_per_second: 495 } }),
      backend('cloud-api', 'cloud', cloud, { models: [MODELS.cloud], price: { input_per_1m: 2.5, output_per_1m: 10 } }),
    ],
  });
});
after(() => stack.close());

const body = (model, extra = {}) => ({ model, max_tokens: 8, messages: [{ role: 'user', content: 'Is the road ahead clear?' }], ...extra });

function sample(text, series) {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
function sum(text, prefix, filter = () => true) {
  return text.split('\n').filter((l) => l.startsWith(prefix) && filter(l)).reduce((a, l) => a + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}
function mecrouter(...args) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 30000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const ids = [];
let okCount = 0;

gtest('traffic, then GET /metrics counts it and passes promtool', async () => {
  for (let i = 0; i < 4; i++) {
    // The first carries the client's request id and W3C trace context (docs/telemetry.md).
    const headers = i === 0 ? { 'X-Request-Id': 'client-req-1', traceparent: TRACEPARENT } : {};
    const r = await postJson(`${gw.url}/chat/completions`, body('edge'), { headers });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('x-request-id'), i === 0 ? 'client-req-1' : r.headers.get('x-request-id'));
    if (i > 0) assert.match(r.headers.get('x-request-id'), /^[0-9a-f]{32}$/, 'a new id: the new trace id');
    ids.push(r.headers.get('x-mec-decision-id'));
    okCount++;
  }
  for (let i = 0; i < 3; i++) {
    const s = await streamChat(gw.base, body('cloud'), { headers: { 'X-MEC-Policy': 'cloud-only' } });
    assert.equal(s.status, 200);
    assert.ok(s.done, 'stream ended with [DONE]');
    ids.push(s.headers.get('x-mec-decision-id'));
    okCount++;
  }
  const bad = await postJson(`${gw.url}/chat/completions`, { model: 'auto', messages: 'nope' });
  assert.equal(bad.status, 400);
  assert.match(bad.headers.get('x-request-id'), /^[0-9a-f]{32}$/, 'errors carry the request id too');
  const fb = await postJson(`${gw.url}/feedback`, { decision_id: ids[0], score: 0.25 });
  assert.equal(fb.status, 200, fb.text);

  const m = await request(`${gw.base}/metrics`);
  assert.equal(m.status, 200);
  assert.match(m.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const t = m.text;
  const check = spawnSync('promtool', ['check', 'metrics'], { input: t, encoding: 'utf8' });
  assert.ok(!check.error, `promtool not runnable (install the Debian package 'prometheus'): ${check.error}`);
  assert.equal(check.status, 0, `promtool check metrics failed:\n${check.stdout}${check.stderr}`);
  assert.equal((check.stdout + check.stderr).trim(), '', 'promtool lint findings');

  assert.equal(sample(t, 'mecrouter_requests_total{backend="edge-mec",policy="preference",status="ok",tier="edge"}'), 4, t);
  assert.equal(sample(t, 'mecrouter_requests_total{backend="cloud-api",policy="cloud-only",status="ok",tier="cloud"}'), 3, t);
  assert.equal(sum(t, 'mecrouter_requests_total{', (l) => l.includes('status="rejected"')), 1, t);
  assert.equal(sample(t, 'mecrouter_ttft_seconds_count{backend="cloud-api",tier="cloud"}'), 3);
  assert.equal(sample(t, 'mecrouter_request_duration_seconds_count{backend="edge-mec",tier="edge"}'), 4);
  assert.ok(sample(t, 'mecrouter_tokens_total{backend="cloud-api",direction="output",tier="cloud"}') > 0, t);
  assert.ok(sample(t, 'mecrouter_cost_usd_total{backend="cloud-api",tier="cloud"}') > 0, t);
  assert.equal(sample(t, 'mecrouter_backend_routable{backend="edge-mec",tier="edge"}'), 1);
  assert.equal(sample(t, 'mecrouter_feedback_total'), 1);
  assert.equal(sum(t, 'mecrouter_decision_seconds_count{'), okCount);
  // Every proxied answer's own time (docs/telemetry.md), well under the upstream's.
  assert.equal(sample(t, 'mecrouter_gateway_overhead_seconds_count'), okCount, t);
  assert.ok(sample(t, 'mecrouter_gateway_overhead_seconds_sum') < sum(t, 'mecrouter_request_duration_seconds_sum{'), t);
  // Nothing written yet: batch 1000, flush every 10 minutes. The rows wait in the queue.
  assert.equal(sample(t, 'mecrouter_decision_log_rows_written_total'), 0);
  assert.equal(sample(t, 'mecrouter_decision_log_rows_dropped_total'), 0);
});

gtest('SIGTERM flushes the decision log; mecrouter decisions reads it', async () => {
  gw.kill('SIGTERM');
  const exit = await gw.waitExit(15000);
  assert.deepEqual(exit, { code: 0, signal: null }, gw.describe());
  assert.ok(existsSync(dbPath));

  const summary = mecrouter('decisions', '--db', dbPath, 'summary');
  assert.equal(summary.code, 0, summary.err);
  assert.match(summary.out, new RegExp(`^${okCount} decisions from `), summary.out);
  assert.match(summary.out, /requests by tier:\n\s+edge\s+4\s/, summary.out);
  assert.match(summary.out, /requests by policy:[\s\S]*cloud-only\s+3\s/, summary.out);
  assert.match(summary.out, /predicted vs actual latency per backend/);
  assert.match(summary.out, /\n\s+cloud-api\s+cloud\s+3\s+\d+\s+\d+\s+\d+\s+\d+\s+\d+\s+\d+/, summary.out);
  assert.match(summary.out, /\n\s+edge-mec\s+edge\s+4\s.*0\.25\/1\n/, summary.out);

  const tail = mecrouter('decisions', '--db', dbPath, 'tail', '-n', '3');
  assert.equal(tail.code, 0, tail.err);
  const lines = tail.out.trim().split('\n');
  assert.equal(lines.length, 3, tail.out);
  assert.ok(lines[2].includes(ids[ids.length - 1]), tail.out);

  const jsonl = mecrouter('decisions', '--db', dbPath, 'export');
  assert.equal(jsonl.code, 0, jsonl.err);
  const rows = jsonl.out.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(rows.map((r) => r.id), ids);
  const first = rows[0];
  assert.equal(first.feedback, 0.25);
  assert.equal(first.request_id, 'client-req-1');
  assert.equal(first.trace_id, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.ok(rows.slice(1).every((r) => /^[0-9a-f]{32}$/.test(r.request_id) && r.request_id === r.trace_id), jsonl.out);
  assert.equal(first.status, 'ok');
  assert.equal(first.backend, 'edge-mec');
  assert.ok(Array.isArray(first.candidates) && first.candidates.length === 2, JSON.stringify(first));
  assert.ok(first.pred_latency_s > 0 && first.latency_s > 0, JSON.stringify(first));
  assert.ok(rows.slice(4).every((r) => r.stream === 1 && r.ttft_s > 0 && r.policy === 'cloud-only'), jsonl.out);

  const csv = mecrouter('decisions', '--db', dbPath, 'export', '--format', 'csv');
  assert.equal(csv.code, 0, csv.err);
  assert.equal(csv.out.trim().split('\n').length, okCount + 1);

  const bad = mecrouter('decisions', '--db', join(stack.dir, 'missing.db'), 'summary');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /missing\.db/);

  const access = readFileSync(accessPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const plain = access.filter((l) => !l._aws);
  const emf = access.filter((l) => l._aws);
  assert.equal(plain.length, okCount + 1, 'one access line per request, the rejected one included');
  assert.equal(emf.length, okCount + 1);
  assert.deepEqual(plain.filter((l) => l.status === 'ok').map((l) => l.id), ids);
  assert.equal(plain[0].request_id, 'client-req-1');
  assert.equal(plain[0].trace_id, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.ok(plain.filter((l) => l.status === 'ok').every((l) => l.overhead_us > 0), 'the gateway\'s own time per answer');
  assert.equal(emf[0]._aws.CloudWatchMetrics[0].Namespace, 'mecrouter');
});

gtest('a failover shows as a connect failure, a retry and a fallback', async () => {
  const dead = await closedPort();
  const [cloud] = await Promise.all([stack.emulator('cloud')]);
  const gw2 = await stack.gateway({
    server: { threads: 1 },
    routing: { auto_order: ['edge', 'cloud'] },
    backends: [
      backend('edge-dead', 'edge', `http://127.0.0.1:${dead}/v1`, { models: [MODELS.edge] }),
      backend('cloud-api', 'cloud', cloud, { models: [MODELS.cloud] }),
    ],
  });
  const r = await postJson(`${gw2.url}/chat/completions`, body('auto'));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get('x-mec-backend'), 'cloud-api');
  assert.equal(r.headers.get('x-mec-attempts'), '2');
  const t = (await request(`${gw2.base}/metrics`)).text;
  assert.equal(sample(t, 'mecrouter_attempts_total{backend="edge-dead",result="connect",tier="edge"}'), 1, t);
  assert.equal(sample(t, 'mecrouter_attempts_total{backend="cloud-api",result="ok",tier="cloud"}'), 1, t);
  assert.equal(sample(t, 'mecrouter_retries_total'), 1, t);
  assert.equal(sample(t, 'mecrouter_fallbacks_total{backend="cloud-api",tier="cloud"}'), 1, t);
  assert.equal(sample(t, 'mecrouter_requests_total{backend="cloud-api",policy="preference",status="ok",tier="cloud"}'), 1, t);
  const off = await stack.gateway({
    telemetry: { metrics: false },
    backends: [backend('cloud-api', 'cloud', cloud, { models: [MODELS.cloud] })],
  });
  assert.equal((await request(`${off.base}/metrics`)).status, 404, 'metrics: false turns GET /metrics off');
});
