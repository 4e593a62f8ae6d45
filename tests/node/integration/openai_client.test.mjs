// The official `openai` npm client against the gateway in front of the shipped device/edge/cloud
// emulators. The edge backend is reached through a recording proxy (lib.mjs `tap`) so the tests
// can see what the gateway sends upstream.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { Stack, backend, MODELS, words, getJson, guardedTest } from './lib.mjs';

const stack = new Stack();
const gtest = guardedTest(test, () => stack);
let gw, device, edge, cloud, edgeTap, client;

before(async () => {
  [device, edge, cloud] = await Promise.all([stack.emulator('device'), stack.emulator('edge'), stack.emulator('cloud')]);
  edgeTap = await stack.tap(edge);
  gw = await stack.gateway({
    server: { threads: 2 },
    routing: { auto_order: ['edge', 'cloud', 'device'] },
    backends: [
      backend('device-phone', 'device', device, { models: [MODELS.device] }),
      backend('edge-mec', 'edge', edgeTap.url, { models: [MODELS.edge] }),
      backend('cloud-api', 'cloud', cloud, { models: [MODELS.cloud], embedding_models: ['text-embedding-3-small'] }),
    ],
  });
  client = new OpenAI({ baseURL: gw.url, apiKey: 'unused', maxRetries: 0, timeout: 20000 });
});

after(() => stack.close());

const messages = [{ role: 'user', content: 'Summarise the traffic ahead in one sentence.' }];

function mecHeaders(response) {
  const h = {};
  for (const k of ['x-mec-tier', 'x-mec-backend', 'x-mec-model', 'x-mec-decision-id', 'x-mec-attempts', 'x-mec-reason'])
    h[k] = response.headers.get(k);
  return h;
}

gtest('non-streaming chat completion: content, usage consistent with the words, X-MEC headers', async () => {
  const { data, response } = await client.chat.completions.create({ model: 'auto', messages, max_tokens: 24 }).withResponse();
  assert.equal(response.status, 200);
  assert.equal(data.object, 'chat.completion');
  const content = data.choices[0].message.content;
  assert.equal(typeof content, 'string');
  assert.ok(content.length > 0, 'content is empty');
  assert.equal(data.choices[0].message.role, 'assistant');
  // The emulator emits one word per token.
  assert.equal(data.usage.completion_tokens, words(content));
  assert.ok(data.usage.completion_tokens <= 24);
  assert.ok(data.usage.prompt_tokens > 0);
  assert.equal(data.usage.total_tokens, data.usage.prompt_tokens + data.usage.completion_tokens);
  assert.ok(['stop', 'length'].includes(data.choices[0].finish_reason));

  const h = mecHeaders(response);
  for (const [k, v] of Object.entries(h)) assert.ok(v && v.length > 0, `header ${k} missing`);
  assert.equal(h['x-mec-tier'], 'edge', 'auto order starts with edge');
  assert.equal(h['x-mec-backend'], 'edge-mec');
  assert.equal(h['x-mec-model'], MODELS.edge);
  assert.equal(h['x-mec-attempts'], '1');
  assert.match(h['x-mec-decision-id'], /^dec-[0-9a-f]+$/);
  // The upstream got the backend's model name instead of "auto".
  const last = edgeTap.seen[edgeTap.seen.length - 1];
  assert.equal(last.url, '/v1/chat/completions');
  assert.equal(JSON.parse(last.body).model, MODELS.edge);
});

gtest('decision ids differ between requests', async () => {
  const a = await client.chat.completions.create({ model: 'auto', messages, max_tokens: 2 }).withResponse();
  const b = await client.chat.completions.create({ model: 'auto', messages, max_tokens: 2 }).withResponse();
  assert.notEqual(a.response.headers.get('x-mec-decision-id'), b.response.headers.get('x-mec-decision-id'));
});

gtest('pinning model "device" answers from the device tier', async () => {
  const { data, response } = await client.chat.completions.create({ model: 'device', messages, max_tokens: 8 }).withResponse();
  assert.equal(response.headers.get('x-mec-tier'), 'device');
  assert.equal(response.headers.get('x-mec-backend'), 'device-phone');
  assert.equal(response.headers.get('x-mec-model'), MODELS.device);
  assert.ok(data.choices[0].message.content.length > 0);
  const cloudPinned = await client.chat.completions.create({ model: 'cloud', messages, max_tokens: 4 }).withResponse();
  assert.equal(cloudPinned.response.headers.get('x-mec-tier'), 'cloud');
  assert.equal(cloudPinned.response.headers.get('x-mec-backend'), 'cloud-api');
});

gtest('pinning a concrete model name routes to the backend serving it', async () => {
  const { data, response } = await client.chat.completions.create({ model: MODELS.cloud, messages, max_tokens: 4 }).withResponse();
  assert.equal(response.headers.get('x-mec-backend'), 'cloud-api');
  assert.equal(data.model, MODELS.cloud);
});

gtest('streaming with include_usage: chunks, final usage chunk matches the deltas', async () => {
  const before = edgeTap.seen.length;
  const { data: stream, response } = await client.chat.completions
    .create({ model: 'auto', messages, max_tokens: 20, stream: true, stream_options: { include_usage: true } })
    .withResponse();
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type'), /^text\/event-stream/);
  assert.equal(response.headers.get('x-mec-tier'), 'edge');
  assert.ok(response.headers.get('x-mec-decision-id'));
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  assert.ok(chunks.length >= 3, `only ${chunks.length} chunks`);
  const last = chunks[chunks.length - 1];
  assert.ok(last.usage, 'last chunk carries usage');
  assert.deepEqual(last.choices, []);
  assert.equal(chunks.filter((c) => c.usage).length, 1, 'exactly one usage chunk');
  const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
  assert.ok(text.length > 0);
  assert.equal(last.usage.completion_tokens, words(text));
  assert.equal(last.usage.total_tokens, last.usage.prompt_tokens + last.usage.completion_tokens);
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  const finish = chunks.filter((c) => c.choices[0]?.finish_reason);
  assert.equal(finish.length, 1);
  // Upstream was asked for usage exactly as the client asked.
  const up = JSON.parse(edgeTap.seen[before].body);
  assert.equal(up.stream, true);
  assert.deepEqual(up.stream_options, { include_usage: true });
});

gtest('streaming without include_usage: the gateway asks upstream for usage but no usage chunk reaches the client', async () => {
  const before = edgeTap.seen.length;
  const stream = await client.chat.completions.create({ model: 'auto', messages, max_tokens: 12, stream: true });
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  assert.ok(chunks.length >= 2);
  for (const c of chunks) {
    assert.ok(!c.usage, `unexpected usage chunk ${JSON.stringify(c)}`);
    assert.equal(c.choices.length, 1, `chunk with ${c.choices.length} choices: ${JSON.stringify(c)}`);
  }
  const text = chunks.map((c) => c.choices[0].delta?.content ?? '').join('');
  assert.ok(words(text) >= 1 && words(text) <= 12);
  assert.equal(edgeTap.seen.length, before + 1);
  const up = JSON.parse(edgeTap.seen[before].body);
  assert.deepEqual(up.stream_options, { include_usage: true }, 'gateway injects include_usage upstream');
});

gtest('legacy completions.create', async () => {
  const { data, response } = await client.completions
    .create({ model: 'auto', prompt: 'Vehicle status report:', max_tokens: 10 })
    .withResponse();
  assert.equal(response.status, 200);
  assert.equal(data.object, 'text_completion');
  assert.equal(typeof data.choices[0].text, 'string');
  assert.ok(data.choices[0].text.length > 0);
  assert.equal(data.usage.completion_tokens, words(data.choices[0].text));
  assert.equal(response.headers.get('x-mec-tier'), 'edge');
  assert.equal(edgeTap.seen[edgeTap.seen.length - 1].url, '/v1/completions');
});

gtest('streaming legacy completions', async () => {
  const stream = await client.completions.create({ model: 'cloud', prompt: 'Status:', max_tokens: 6, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let usage;
  for await (const c of stream) {
    if (c.usage) usage = c.usage;
    for (const ch of c.choices) text += ch.text;
  }
  assert.ok(usage);
  assert.equal(usage.completion_tokens, words(text));
});

gtest('embeddings.create goes to the backend that declares embedding models', async () => {
  const { data, response } = await client.embeddings
    .create({ model: 'auto', input: 'road sign', encoding_format: 'float' })
    .withResponse();
  assert.equal(response.status, 200);
  // edge-mec declares no embedding model, so the auto order skips it.
  assert.equal(response.headers.get('x-mec-backend'), 'cloud-api');
  assert.equal(response.headers.get('x-mec-model'), 'text-embedding-3-small');
  assert.equal(data.data.length, 1);
  const v = data.data[0].embedding;
  assert.ok(Array.isArray(v) && v.length > 0);
  for (const x of v) assert.equal(typeof x, 'number');
  assert.ok(data.usage.prompt_tokens > 0);

  const byName = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'], encoding_format: 'float' }).withResponse();
  assert.equal(byName.response.headers.get('x-mec-backend'), 'cloud-api');
});

gtest("embeddings.create with the client's default encoding (base64) decodes to floats", async () => {
  // The openai client asks for encoding_format "base64" when none is given and decodes the
  // string itself. A server that ignores encoding_format and returns a JSON array breaks that.
  const res = await client.embeddings.create({ model: 'auto', input: 'road sign' });
  const v = res.data[0].embedding;
  assert.ok(Array.isArray(v), 'embedding is an array');
  assert.ok(v.length > 0, `embedding has ${v.length} elements`);
  for (const x of v) assert.ok(Number.isFinite(x), `element ${x} is not a finite number`);
});

gtest('models.list includes the aliases and every backend model', async () => {
  const list = await client.models.list();
  const ids = [];
  for await (const m of list) ids.push(m.id);
  for (const id of ['auto', 'device', 'edge', 'cloud', MODELS.device, MODELS.edge, MODELS.cloud, 'text-embedding-3-small'])
    assert.ok(ids.includes(id), `${id} missing from ${ids.join(', ')}`);
});

gtest('a streamed answer arrives incrementally (shipped device profile, ~50 tok/s)', async () => {
  const t0 = Date.now();
  const stream = await client.chat.completions.create({ model: 'device', messages, max_tokens: 40, stream: true });
  const times = [];
  let text = '';
  for await (const c of stream) {
    times.push(Date.now() - t0);
    text += c.choices[0]?.delta?.content ?? '';
  }
  const n = words(text);
  assert.ok(n >= 10, `only ${n} tokens: too short to measure`);
  const first = times[0];
  const last = times[times.length - 1];
  assert.ok(times.length >= n, `${times.length} chunks for ${n} tokens`);
  // n tokens at ~50 tok/s take ~20 ms each after the first.
  assert.ok(last - first >= (n - 1) * 20 * 0.6, `stream took ${last - first} ms for ${n} tokens`);
  assert.ok(first < 0.7 * last, `first chunk at ${first} ms, last at ${last} ms`);
});

gtest('health endpoints', async () => {
  assert.equal((await getJson(`${gw.base}/healthz`)).json.status, 'ok');
  assert.equal((await getJson(`${gw.base}/readyz`)).json.status, 'ready');
  const s = await gw.stats();
  for (const k of ['requests', 'in_flight', 'rejected', 'completed', 'failed', 'midstream_cuts', 'client_cancelled', 'failovers', 'upstream_attempts'])
    assert.equal(typeof s[k], 'number', `stats.${k}`);
  assert.ok(s.completed >= 5);
  assert.equal(s.failed, 0);
  assert.equal(s.in_flight, 0);
  // Every request ended in exactly one outcome.
  assert.equal(s.requests, s.rejected + s.completed + s.failed + s.midstream_cuts + s.client_cancelled + s.shed);
});
