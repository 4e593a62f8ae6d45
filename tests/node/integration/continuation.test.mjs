// Mid-stream continuation (docs/continuation.md): an emulator cuts every stream at a chosen token
// (fault `cut_at_token`), and the gateway continues the same SSE stream on another backend that
// declares `capabilities: [continue]`. Both emulators run the same profile, so the answer the
// client reassembles must be, word for word, the one an uncut stream gives. Peers' traps are
// tested too: no made-up continuation prompt (LiteLLM #18229), a target that refuses the prefill
// with a 400 (#27967: the next one is asked), tool-call streams are not continued as prose (#31067).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import OpenAI from 'openai';
import { Stack, backend, streamChat, postJson, request, guardedTest } from './lib.mjs';

const PROFILE = { base: 'edge', name: 'fast-edge', decode_tokens_per_s: 400, ttft_jitter_sigma: 0 };
const MODEL = 'llama-3.1-8b-instruct';
const messages = [{ role: 'system', content: 'You are brief.' }, { role: 'user', content: 'Describe the road ahead for the convoy.' }];
const MAX = 16;

// A stub upstream: `handler(req, body, res)` answers every POST.
async function stub(stack, handler) {
  const seen = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ url: req.url, body });
      handler(req, body, res);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  stack.servers.push(server);
  return { url: `http://127.0.0.1:${server.address().port}/v1`, seen };
}

function ids(events) {
  return new Set(events.filter((e) => e.data !== '[DONE]' && !e.data.startsWith('{"error"')).map((e) => JSON.parse(e.data).id));
}

async function metric(gw, name) {
  const r = await request(`${gw.base}/metrics`);
  let sum = 0;
  for (const line of r.text.split('\n')) if (line.startsWith(name)) sum += Number(line.split(' ').pop());
  return sum;
}

describe('continuing a cut stream on another backend', () => {
  const stack = new Stack();
  const gtest = guardedTest(test, () => stack);
  let cutter, helper, helperTap, refuser, gw, reference, full;
  // What the helper was asked (its tap also sees the engine poller's GET /metrics: engine vllm).
  const asks = () => helperTap.seen.filter((r) => r.method === 'POST');

  before(async () => {
    [cutter, helper] = await Promise.all([stack.emulator(PROFILE), stack.emulator(PROFILE)]);
    helperTap = await stack.tap(helper);
    // A target that takes no prefill: it refuses any continuation with a 400.
    refuser = await stub(stack, (req, body, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'The final message must be a user message.', type: 'invalid_request_error', param: 'messages', code: null } }));
    });
    gw = await stack.gateway({
      server: { threads: 2 },
      routing: { auto_order: ['edge', 'cloud', 'device'] },
      backends: [
        backend('edge-cutter', 'edge', cutter, { models: [MODEL] }),
        backend('cloud-refuser', 'cloud', refuser.url, { models: [MODEL], capabilities: ['continue'] }),
        backend('device-helper', 'device', helperTap.url, { models: [MODEL], capabilities: ['continue'], engine: 'vllm' }),
      ],
    });
    // The uncut answer, from the helper directly (same profile, same seed: the same words).
    const r = await postJson(`${helper.url}/chat/completions`, { model: MODEL, messages, max_tokens: MAX });
    assert.equal(r.status, 200, r.text);
    reference = r.json.choices[0].message.content;
    assert.equal(r.json.usage.completion_tokens, MAX, 'the reference answer runs to max_tokens');
    const f = await postJson(`${helper.url}/chat/completions`, { model: MODEL, messages });
    assert.equal(f.status, 200, f.text);
    full = { text: f.json.choices[0].message.content, tokens: f.json.usage.completion_tokens };
    assert.ok(full.tokens > MAX, `the whole answer (${full.tokens} tokens) is longer than max_tokens`);
  });
  after(() => stack.close());

  // [label, cut_at_token, max_tokens or undefined]. Without max_tokens the last token is the
  // answer's own last: the continuation adds nothing but the finish.
  const cases = [['the first', () => 1, MAX], ['a middle', () => 7, MAX], ['the last', () => full.tokens, undefined]];
  for (const [label, cutAt, maxTokens] of cases) {
    gtest(`cut after ${label} token: one stream, the same id, the whole text, one [DONE], summed usage`, async () => {
      const cut = cutAt();
      const want = maxTokens ? { text: reference, tokens: MAX } : full;
      await cutter.fault({ cut_at_token: cut });
      const tapped = asks().length;
      const refused = refuser.seen.length;
      const before = (await gw.stats()).continuations;
      const body = { model: 'auto', messages, stream_options: { include_usage: true } };
      if (maxTokens) body.max_tokens = maxTokens;
      const s = await streamChat(gw.base, body);
      assert.equal(s.status, 200);
      assert.equal(s.headers.get('x-mec-backend'), 'edge-cutter');
      assert.equal(s.errorEvent, undefined, s.raw);
      assert.equal(s.doneCount, 1, s.raw);
      assert.ok(s.done);
      assert.equal(s.text, want.text, 'no word lost or repeated across the seam');
      assert.equal(ids(s.events).size, 1, 'every event carries the first upstream id');
      assert.match(s.raw, /\n: mecrouter continued this answer on device-helper after \d+ events from edge-cutter/);
      assert.equal(s.usage.completion_tokens, want.tokens);
      assert.equal(s.usage.total_tokens, s.usage.prompt_tokens + want.tokens);
      // The refuser was asked first (the decision's order) and said 400; the helper continued.
      assert.equal(refuser.seen.length, refused + 1);
      assert.equal(asks().length, tapped + 1);
      const asked = JSON.parse(asks().at(-1).body);
      assert.equal(asked.continue_final_message, true);
      assert.equal(asked.add_generation_prompt, false);
      // The original messages and the partial answer, nothing invented (no "please continue").
      assert.deepEqual(asked.messages.slice(0, messages.length), messages);
      assert.equal(asked.messages.length, messages.length + 1);
      assert.equal(asked.messages.at(-1).role, 'assistant');
      assert.ok(want.text.startsWith(asked.messages.at(-1).content));
      assert.equal(asked.messages.at(-1).content.split(' ').length, cut);
      assert.equal(asked.max_tokens, maxTokens ? maxTokens - cut : undefined);
      assert.equal((await gw.stats()).continuations, before + 1);
    });
  }

  gtest('cut after the last token max_tokens allows: finished here, nobody is asked to continue', async () => {
    await cutter.fault({ cut_at_token: MAX });
    const tapped = asks().length;
    const refused = refuser.seen.length;
    const s = await streamChat(gw.base, { model: 'auto', messages, max_tokens: MAX, stream_options: { include_usage: true } });
    assert.equal(s.errorEvent, undefined, s.raw);
    assert.equal(s.doneCount, 1);
    assert.equal(s.text, reference);
    const finish = s.events.filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data)).find((j) => j.choices?.[0]?.finish_reason);
    assert.equal(finish.choices[0].finish_reason, 'length');
    assert.equal(s.usage.completion_tokens, MAX);
    assert.equal(asks().length, tapped);
    assert.equal(refuser.seen.length, refused);
  });

  gtest('the openai client reads one clean stream across the seam', async () => {
    await cutter.fault({ cut_at_token: 5 });
    const client = new OpenAI({ baseURL: gw.url, apiKey: 'unused', maxRetries: 0, timeout: 20000 });
    const stream = await client.chat.completions.create({ model: 'auto', messages, max_tokens: MAX, stream: true });
    let text = '';
    const seen = new Set();
    for await (const chunk of stream) {
      seen.add(chunk.id);
      text += chunk.choices[0]?.delta?.content ?? '';
    }
    assert.equal(text, reference);
    assert.equal(seen.size, 1);
    assert.ok((await metric(gw, 'mecrouter_continued_streams_total{result="ok"}')) >= 1);
  });

  gtest('X-MEC-Continue: off ends a cut stream with an error event, as before', async () => {
    await cutter.fault({ cut_at_token: 4 });
    const tapped = asks().length;
    const s = await streamChat(gw.base, { model: 'auto', messages, max_tokens: MAX }, { headers: { 'X-MEC-Continue': 'off' } });
    assert.equal(s.status, 200);
    assert.ok(s.errorEvent, s.raw);
    assert.equal(JSON.parse(s.errorEvent.data).error.code, 'midstream_failure');
    assert.equal(s.doneCount, 0);
    assert.equal(asks().length, tapped);
    const bad = await postJson(`${gw.url}/chat/completions`, { model: 'auto', messages, stream: true }, { headers: { 'X-MEC-Continue': 'maybe' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.param, 'X-MEC-Continue');
  });
});

describe('a tool-call stream is not continued as prose', () => {
  const stack = new Stack();
  const gtest = guardedTest(test, () => stack);
  let gw, helperTap;

  before(async () => {
    // Streams one tool-call delta, then breaks the connection.
    const tools = await stub(stack, (req, body, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = { id: 'chatcmpl-tools', object: 'chat.completion.chunk', created: 1, model: MODEL,
        choices: [{ index: 0, delta: { role: 'assistant', tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'brake', arguments: '{"force":' } }] }, finish_reason: null }] };
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
      setTimeout(() => res.socket.destroy(), 20);
    });
    const helper = await stack.emulator(PROFILE);
    helperTap = await stack.tap(helper);
    gw = await stack.gateway({
      routing: { auto_order: ['edge', 'device'] },
      backends: [
        backend('edge-tools', 'edge', tools.url, { models: [MODEL], capabilities: ['tools'] }),
        backend('device-helper', 'device', helperTap.url, { models: [MODEL], capabilities: ['continue', 'tools'] }),
      ],
    });
  });
  after(() => stack.close());

  gtest('the stream ends with an error event and nobody is asked to continue it', async () => {
    const s = await streamChat(gw.base, {
      model: 'auto', messages,
      tools: [{ type: 'function', function: { name: 'brake', parameters: { type: 'object', properties: { force: { type: 'number' } } } } }],
    });
    assert.equal(s.status, 200);
    assert.ok(s.errorEvent, s.raw);
    assert.equal(s.doneCount, 0);
    assert.equal(helperTap.seen.length, 0);
  });
});
