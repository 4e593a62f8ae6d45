// Bad requests get the right 4xx (or 503) in OpenAI's error format, and the gateway keeps serving.

import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, backend, MODELS, request, postJson, rawExchange, expectOpenAIError, guardedTest, chatBody } from './lib.mjs';

const stack = new Stack();
let edge, cloud, gw;
const gtest = guardedTest(test, () => stack);

const LIMITS = {
  max_body_bytes: 2048,
  max_header_bytes: 2048,
  max_header_count: 20,
  header_timeout_ms: 500,
  body_timeout_ms: 500,
};

before(async () => {
  [edge, cloud] = await Promise.all([stack.emulator('edge'), stack.emulator('cloud')]);
});
// A gateway per test, so that one test's crash cannot fail the others.
beforeEach(async () => {
  gw = await stack.gateway({
    server: { threads: 2, ...LIMITS },
    routing: { auto_order: ['edge', 'cloud'] },
    backends: [
      backend('edge-mec', 'edge', edge, { models: [MODELS.edge] }),
      backend('cloud-api', 'cloud', cloud, { models: [MODELS.cloud] }),
    ],
  });
});
afterEach(() => gw.kill('SIGKILL'));
after(() => stack.close());

const chatUrl = () => `${gw.url}/chat/completions`;

async function stillServing() {
  const r = await postJson(chatUrl(), chatBody({ model: 'edge', max_tokens: 2 }));
  assert.equal(r.status, 200, `a normal request after the bad one: ${r.status} ${r.text}`);
  assert.equal(r.json.usage.completion_tokens, 2);
}

async function expectError(r, status, expected) {
  assert.equal(r.status, status, r.text);
  assert.match(r.headers.get?.('content-type') ?? r.headers['content-type'], /^application\/json/);
  const e = expectOpenAIError(assert, r.json, status, expected);
  await stillServing();
  return e;
}

gtest('malformed JSON: 400', async () => {
  const r = await request(chatUrl(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model": "auto", "messages": [' });
  await expectError(r, 400, { type: 'invalid_request_error', code: 'invalid_json' });
  assert.ok(r.headers.get('x-mec-decision-id'), 'rejections carry a decision id');
  const arr = await postJson(chatUrl(), [1, 2]);
  await expectError(arr, 400, { type: 'invalid_request_error' });
});

gtest('wrong types: 400 naming the parameter', async () => {
  let e = await expectError(await postJson(chatUrl(), chatBody({ stream: 'yes' })), 400, { param: 'stream', code: 'invalid_type' });
  assert.match(e.message, /stream/);
  e = await expectError(await postJson(chatUrl(), { model: 'auto', messages: 'hi' }), 400, { param: 'messages', code: 'invalid_type' });
  assert.match(e.message, /messages/);
  await expectError(await postJson(chatUrl(), chatBody({ model: 7 })), 400, { param: 'model' });
  await expectError(await postJson(chatUrl(), chatBody({ max_tokens: 'ten' })), 400, { param: 'max_tokens' });
  await expectError(await postJson(chatUrl(), chatBody({ max_tokens: 0 })), 400, { param: 'max_tokens' });
  await expectError(await postJson(chatUrl(), chatBody({ stream_options: { include_usage: 'yes' } })), 400, { param: 'stream_options.include_usage' });
  await expectError(await postJson(chatUrl(), { model: 'auto', messages: [{ role: 'robot', content: 'x' }] }), 400, { param: 'messages' });
  // Seven rejections, seven normal requests in between; nothing else reached upstream.
  const s = await gw.stats();
  assert.equal(s.requests, 14, JSON.stringify(s));
  assert.equal(s.rejected, 7, JSON.stringify(s));
  assert.equal(s.completed, 7, JSON.stringify(s));
  assert.equal(s.upstream_attempts, 7, JSON.stringify(s));
  assert.equal(s.failed, 0);
});

gtest('missing messages, missing model, empty messages: 400', async () => {
  await expectError(await postJson(chatUrl(), { model: 'auto' }), 400, { param: 'messages', code: 'missing_required_parameter' });
  await expectError(await postJson(chatUrl(), { messages: [{ role: 'user', content: 'x' }] }), 400, { param: 'model', code: 'missing_required_parameter' });
  await expectError(await postJson(chatUrl(), { model: 'auto', messages: [] }), 400, { param: 'messages' });
  await expectError(await postJson(`${gw.url}/completions`, { model: 'auto' }), 400, { param: 'prompt' });
});

gtest('unknown model: 404', async () => {
  const e = await expectError(await postJson(chatUrl(), chatBody({ model: 'no-such-model' })), 404, { param: 'model', code: 'model_not_found' });
  assert.match(e.message, /no-such-model/);
});

gtest('body over max_body_bytes: 413', async () => {
  const big = chatBody({ messages: [{ role: 'user', content: 'x'.repeat(4000) }] });
  await expectError(await postJson(chatUrl(), big), 413, { code: 'request_too_large' });
  // Same with a chunked body (no Content-Length up front).
  const payload = JSON.stringify(big);
  const chunked = [
    `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
    `${payload.length.toString(16)}\r\n${payload}\r\n0\r\n\r\n`,
  ];
  const r = await rawExchange(gw.port, chunked);
  assert.equal(r.status, 413, r.raw);
  expectOpenAIError(assert, r.json, 413, { code: 'request_too_large' });
  await stillServing();
});

gtest('too many header fields: 431', async () => {
  const headers = { 'content-type': 'application/json' };
  for (let i = 0; i < 25; i++) headers[`x-filler-${i}`] = 'a';
  const r = await request(chatUrl(), { method: 'POST', headers, body: JSON.stringify(chatBody()) });
  await expectError(r, 431, { code: 'too_many_headers' });
  // Just under the limit is fine: fetch sends 8 headers of its own plus these.
  const ok = {};
  for (let i = 0; i < 8; i++) ok[`x-filler-${i}`] = 'a';
  const r2 = await request(chatUrl(), { method: 'POST', headers: { 'content-type': 'application/json', ...ok }, body: JSON.stringify(chatBody({ max_tokens: 2 })) });
  assert.equal(r2.status, 200, r2.text);
});

gtest('header block larger than max_header_bytes: 431', async () => {
  const r = await request(chatUrl(), { method: 'POST', headers: { 'content-type': 'application/json', 'x-big': 'b'.repeat(3000) }, body: JSON.stringify(chatBody()) });
  await expectError(r, 431, { code: 'headers_too_large' });
});

gtest('a client sending its headers too slowly: 408 after header_timeout_ms', async () => {
  const head = 'POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Slow: yes\r\n\r\n';
  // One byte every 100 ms: the whole head would take ~8 s.
  const r = await rawExchange(gw.port, head.split(''), { gapMs: 100, timeoutMs: 8000 });
  assert.equal(r.status, 408, `got ${JSON.stringify(r.raw)} after ${r.elapsedMs} ms (${r.why})`);
  expectOpenAIError(assert, r.json, 408, { code: 'request_timeout' });
  assert.ok(r.firstByteMs >= 450 && r.firstByteMs < 2000, `408 after ${r.firstByteMs} ms; header_timeout_ms is 500`);
  assert.equal(r.headers.connection, 'close');
  await stillServing();
});

gtest('a client sending its body too slowly: 408 after body_timeout_ms', async () => {
  const payload = JSON.stringify(chatBody());
  const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${payload.length}\r\n\r\n`;
  const r = await rawExchange(gw.port, [head, payload.slice(0, 10)], { timeoutMs: 5000 });
  assert.equal(r.status, 408, `got ${JSON.stringify(r.raw)} after ${r.elapsedMs} ms (${r.why})`);
  expectOpenAIError(assert, r.json, 408, { code: 'request_timeout' });
  assert.ok(r.firstByteMs >= 450 && r.firstByteMs < 2000, `408 after ${r.firstByteMs} ms; body_timeout_ms is 500`);
  await stillServing();
});

gtest('an idle connection that never sends a byte is closed without a response', async () => {
  const r = await rawExchange(gw.port, [], { timeoutMs: 3000 });
  assert.notEqual(r.why, 'timeout', 'the server closed the idle connection');
  assert.equal(r.raw, '');
  assert.ok(r.elapsedMs >= 450, `closed after ${r.elapsedMs} ms`);
});

gtest('malformed hint header: 400 naming the header', async () => {
  const r = await postJson(chatUrl(), chatBody(), { headers: { 'X-MEC-Deadline-Ms': 'soon' } });
  const e = await expectError(r, 400, { param: 'X-MEC-Deadline-Ms', code: 'invalid_hint' });
  assert.match(e.message, /X-MEC-Deadline-Ms/);
  await expectError(await postJson(chatUrl(), chatBody(), { headers: { 'X-MEC-Privacy': 'nowhere' } }), 400, { param: 'X-MEC-Privacy' });
  await expectError(await postJson(chatUrl(), chatBody(), { headers: { 'X-MEC-Min-Quality': '1.5' } }), 400, { param: 'X-MEC-Min-Quality' });
  await expectError(await postJson(chatUrl(), chatBody({ mec: { deadline_ms: 'soon' } })), 400, { param: 'mec.deadline_ms' });
});

gtest('unknown path: 404; GET on /v1/chat/completions: 405', async () => {
  await expectError(await request(`${gw.base}/v2/nothing`), 404, { code: 'unknown_url' });
  await expectError(await request(`${gw.base}/v2/nothing`, { method: 'POST', body: '{}' }), 404, { code: 'unknown_url' });
  await expectError(await request(chatUrl()), 405, { code: 'method_not_allowed' });
  await expectError(await request(`${gw.url}/embeddings`, { method: 'PUT', body: '{}' }), 405, { code: 'method_not_allowed' });
});

gtest('X-MEC-Privacy: device with model cloud: 503 without reaching the cloud emulator', async () => {
  const c0 = await cloud.stats();
  const e0 = await edge.stats();
  const r = await postJson(chatUrl(), chatBody({ model: 'cloud' }), { headers: { 'X-MEC-Privacy': 'device' } });
  const e = await expectError(r, 503, { type: 'service_unavailable' });
  assert.match(e.message, /privacy/i);
  const auto = await postJson(chatUrl(), chatBody({ model: 'auto', stream: true }), { headers: { 'X-MEC-Privacy': 'device' } });
  await expectError(auto, 503, { type: 'service_unavailable' });
  // Body form of the hint, same outcome.
  await expectError(await postJson(chatUrl(), chatBody({ model: 'cloud', mec: { privacy: 'device' } })), 503, { type: 'service_unavailable' });
  const c1 = await cloud.stats();
  assert.equal(c1.served, c0.served, 'cloud served nothing');
  assert.equal(c1.rejected + c1.errors + c1.cancelled, c0.rejected + c0.errors + c0.cancelled, 'cloud saw nothing');
  // stillServing() used edge three times.
  assert.equal((await edge.stats()).served - e0.served, 3);
  // X-MEC-Privacy: edge keeps auto off the cloud but allows edge.
  const edgeOnly = await postJson(chatUrl(), chatBody({ model: 'auto', max_tokens: 2 }), { headers: { 'X-MEC-Privacy': 'edge' } });
  assert.equal(edgeOnly.status, 200);
  assert.equal(edgeOnly.headers.get('x-mec-tier'), 'edge');
});
