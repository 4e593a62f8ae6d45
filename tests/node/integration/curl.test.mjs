// Plain and streaming requests with the real `curl` binary against the gateway in front of the
// shipped device/edge/cloud emulators.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Stack, threeTierStack, words, MODELS, guardedTest } from './lib.mjs';

const stack = new Stack();
const gtest = guardedTest(test, () => stack);
let gw;

before(async () => {
  ({ gw } = await threeTierStack(stack));
});
after(() => stack.close());

// Runs curl with a hard time limit; resolves {code, stdout, stderr}.
function curl(args, { timeoutMs = 20000 } = {}) {
  return new Promise((res) => {
    execFile('curl', ['--max-time', String(timeoutMs / 1000), ...args], { timeout: timeoutMs + 2000, maxBuffer: 8 << 20 },
      (err, stdout, stderr) => res({ code: err ? err.code ?? 1 : 0, stdout, stderr }));
  });
}

// Splits `curl -D -` output into status line, headers (lower-cased) and body.
function split(out) {
  const i = out.indexOf('\r\n\r\n');
  assert.ok(i > 0, `no header block in curl output: ${out.slice(0, 300)}`);
  const [statusLine, ...lines] = out.slice(0, i).split('\r\n');
  const headers = {};
  for (const l of lines) {
    const c = l.indexOf(':');
    headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim();
  }
  return { statusLine, headers, body: out.slice(i + 4) };
}

const chat = (extra) => JSON.stringify({ model: 'auto', messages: [{ role: 'user', content: 'Hello!' }], max_tokens: 12, ...extra });

function checkMecHeaders(h, tier) {
  for (const k of ['x-mec-tier', 'x-mec-backend', 'x-mec-model', 'x-mec-decision-id', 'x-mec-attempts', 'x-mec-reason'])
    assert.ok(h[k], `header ${k} missing: ${JSON.stringify(h)}`);
  assert.equal(h['x-mec-tier'], tier);
  assert.equal(h['x-mec-attempts'], '1');
}

gtest('curl: plain chat completion', async () => {
  const r = await curl(['-sN', '-D', '-', `${gw.url}/chat/completions`, '-H', 'Content-Type: application/json', '-d', chat()]);
  assert.equal(r.code, 0, r.stderr);
  const { statusLine, headers, body } = split(r.stdout);
  assert.match(statusLine, /^HTTP\/1\.1 200 OK$/);
  assert.match(headers['content-type'], /^application\/json/);
  checkMecHeaders(headers, 'edge');
  assert.equal(Number(headers['content-length']), Buffer.byteLength(body));
  const j = JSON.parse(body);
  assert.ok(j.choices[0].message.content.length > 0);
  assert.equal(j.usage.completion_tokens, words(j.choices[0].message.content));
});

gtest('curl: streaming chat completion ends with data: [DONE]', async () => {
  const r = await curl(['-sN', '-D', '-', `${gw.url}/chat/completions`, '-H', 'Content-Type: application/json',
    '-d', chat({ stream: true, model: 'device', stream_options: { include_usage: true } })]);
  assert.equal(r.code, 0, r.stderr);
  const { statusLine, headers, body } = split(r.stdout);
  assert.match(statusLine, /^HTTP\/1\.1 200 OK$/);
  assert.match(headers['content-type'], /^text\/event-stream/);
  assert.equal(headers['transfer-encoding'], 'chunked');
  checkMecHeaders(headers, 'device');
  assert.equal(headers['x-mec-model'], MODELS.device);
  assert.ok(body.endsWith('data: [DONE]\n\n'), `stream tail: ${JSON.stringify(body.slice(-80))}`);
  const events = body.split('\n\n').filter(Boolean);
  assert.equal(events.filter((e) => e === 'data: [DONE]').length, 1);
  for (const e of events) assert.ok(e.startsWith('data: '), `not an SSE data event: ${e}`);
  const payloads = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)));
  const text = payloads.map((p) => p.choices[0]?.delta?.content ?? '').join('');
  const usage = payloads[payloads.length - 1].usage;
  assert.ok(usage);
  assert.equal(usage.completion_tokens, words(text));
});

gtest('curl: legacy completions and an error in OpenAI format', async () => {
  const r = await curl(['-s', '-D', '-', `${gw.url}/completions`, '-H', 'Content-Type: application/json',
    '-d', JSON.stringify({ model: 'cloud', prompt: 'Hi', max_tokens: 3 })]);
  const { statusLine, headers, body } = split(r.stdout);
  assert.match(statusLine, /^HTTP\/1\.1 200/);
  assert.equal(headers['x-mec-tier'], 'cloud');
  assert.equal(JSON.parse(body).object, 'text_completion');

  const bad = await curl(['-s', '-D', '-', `${gw.url}/chat/completions`, '-H', 'Content-Type: application/json', '-d', '{"model":']);
  const b = split(bad.stdout);
  assert.match(b.statusLine, /^HTTP\/1\.1 400/);
  const e = JSON.parse(b.body).error;
  assert.equal(e.type, 'invalid_request_error');
  assert.equal(e.code, 'invalid_json');
});

gtest('curl: keep-alive reuses one connection for two requests', async () => {
  const url = `${gw.url}/chat/completions`;
  const r = await curl(['-sv', '-o', '/dev/null', '-o', '/dev/null', url, '-H', 'Content-Type: application/json', '-d', chat({ max_tokens: 2 }), url]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Re-using existing connection|Reusing existing/i, r.stderr.slice(-1500));
});
