// The response cache (issue "Monitor and cache agents"): repeatable requests (temperature 0 or a
// seed) are answered again from memory — whole or as a proper SSE stream, whichever way the answer
// was first given — with X-MEC-Cache: hit and no upstream call; Cache-Control: no-cache bypasses it; a cached answer is not reused for a
// request whose minimum quality its tier cannot meet.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, postJson, threeTierStack, streamChat } from './lib.mjs';

describe('response cache', () => {
  const stack = new Stack();
  let s;
  const served = async () => {
    const [d, e, c] = await Promise.all([s.device.stats(), s.edge.stats(), s.cloud.stats()]);
    return d.served + e.served + c.served;
  };
  before(async () => { s = await threeTierStack(stack, { routing: { auto_order: ['device', 'edge', 'cloud'] } }); });
  after(() => stack.close());

  const body = (content, extra = {}) => ({ model: 'auto', temperature: 0, max_tokens: 6, messages: [{ role: 'user', content }], ...extra });
  // The device answers first (preference order); a minimum quality the device meets lets its
  // answers be reused.
  const LOW_Q = { 'X-MEC-Min-Quality': '0.3' };
  const chat = (b, headers = {}) => postJson(`${s.gw.url}/chat/completions`, b, { headers: { ...LOW_Q, ...headers } });

  test('a repeated temperature-0 request is answered from the cache, byte for byte, without an upstream call', async () => {
    const first = await chat(body('What is the capital of France?'));
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('x-mec-cache'), 'miss');
    const n0 = await served();
    const again = await chat(body('What is the capital of France?', { stream: false }));
    assert.equal(again.status, 200);
    assert.equal(again.headers.get('x-mec-cache'), 'hit');
    assert.equal(again.text, first.text);
    assert.equal(again.headers.get('x-mec-backend'), first.headers.get('x-mec-backend'));
    assert.equal(again.headers.get('x-mec-attempts'), '0');
    assert.ok(again.headers.get('x-mec-decision-id'));
    assert.equal(await served(), n0, 'the hit reached no emulator');
    // A different question, or other sampling, is not the same answer.
    const other = await chat(body('What is the capital of Spain?'));
    assert.equal(other.headers.get('x-mec-cache'), 'miss');
    const seeded = await chat(body('What is the capital of France?', { temperature: 0.8, seed: 42 }));
    assert.equal(seeded.headers.get('x-mec-cache'), 'miss');
    const seededAgain = await chat(body('What is the capital of France?', { temperature: 0.8, seed: 42 }));
    assert.equal(seededAgain.headers.get('x-mec-cache'), 'hit');
    assert.equal(seededAgain.text, seeded.text);
    // Sampling without a seed is never cached.
    const random = await chat(body('What is the capital of France?', { temperature: 0.8 }));
    assert.equal(random.headers.get('x-mec-cache'), null);
    const st = await s.gw.stats();
    assert.equal(st.cache_hits, 2, JSON.stringify(st));
  });

  test('a streamed hit is a proper SSE stream, with usage when asked', async () => {
    const b = body('Name three primary colors.', { stream: true });
    let h1, h2, h3;
    const first = await streamChat(s.gw.base, b, { headers: LOW_Q, onHeaders: (r) => { h1 = r.headers; } });
    assert.equal(first.done, true);
    assert.equal(h1.get('x-mec-cache'), 'miss');
    const n0 = await served();
    const again = await streamChat(s.gw.base, b, { headers: LOW_Q, onHeaders: (r) => { h2 = r.headers; } });
    assert.equal(h2.get('x-mec-cache'), 'hit');
    assert.equal(h2.get('content-type'), 'text/event-stream');
    assert.equal(again.done, true);
    assert.equal(again.doneCount, 1);
    assert.equal(again.errorEvent, undefined);
    assert.equal(again.text, first.text);
    assert.ok(again.text.length > 0);
    assert.equal(again.usage, undefined, 'no usage chunk unless asked');
    const withUsage = await streamChat(s.gw.base, { ...b, stream_options: { include_usage: true } }, { headers: LOW_Q, onHeaders: (r) => { h3 = r.headers; } });
    assert.equal(h3.get('x-mec-cache'), 'hit');
    assert.equal(withUsage.text, first.text);
    assert.equal(withUsage.usage.completion_tokens, 6);
    assert.equal(await served(), n0);
  });

  test('an answer given whole is reused for a streamed request, and a streamed one for a whole request', async () => {
    const w = body('Which planet is largest?');
    const whole = await chat(w);
    assert.equal(whole.headers.get('x-mec-cache'), 'miss');
    const n0 = await served();
    let h1, h2;
    const asStream = await streamChat(s.gw.base, { ...w, stream: true }, { headers: LOW_Q, onHeaders: (r) => { h1 = r.headers; } });
    assert.equal(h1.get('x-mec-cache'), 'hit');
    assert.equal(h1.get('content-type'), 'text/event-stream');
    assert.equal(asStream.done, true);
    assert.equal(asStream.doneCount, 1);
    assert.equal(asStream.text, whole.json.choices[0].message.content);
    assert.equal(asStream.usage, undefined, 'no usage chunk unless asked');
    const withUsage = await streamChat(s.gw.base, { ...w, stream: true, stream_options: { include_usage: true } }, { headers: LOW_Q, onHeaders: (r) => { h2 = r.headers; } });
    assert.equal(h2.get('x-mec-cache'), 'hit');
    assert.deepEqual(withUsage.usage.completion_tokens, whole.json.usage.completion_tokens);

    const sb = body('Which planet is smallest?', { stream: true });
    const streamed = await streamChat(s.gw.base, sb, { headers: LOW_Q });
    assert.equal(streamed.done, true);
    const n1 = await served();
    const asWhole = await chat({ ...sb, stream: false });
    assert.equal(asWhole.status, 200, asWhole.text);
    assert.equal(asWhole.headers.get('x-mec-cache'), 'hit');
    assert.match(asWhole.headers.get('content-type'), /^application\/json/);
    assert.equal(asWhole.json.object, 'chat.completion');
    assert.equal(asWhole.json.choices[0].message.role, 'assistant');
    assert.equal(asWhole.json.choices[0].message.content, streamed.text);
    assert.equal(asWhole.json.usage.completion_tokens, 6);
    assert.equal(await served(), n1, 'no backend answered the converted hits');
    assert.equal(n1, n0 + 1, 'only the streamed original reached a backend');
  });

  test('Cache-Control: no-cache bypasses the cache; a tier below the minimum quality is not reused', async () => {
    const b = body('Is the road ahead clear?');
    const first = await chat(b);
    assert.equal(first.headers.get('x-mec-tier'), 'device');
    const n0 = await served();
    const bypass = await chat(b, { 'Cache-Control': 'no-cache' });
    assert.equal(bypass.status, 200);
    assert.equal(bypass.headers.get('x-mec-cache'), 'bypass');
    assert.equal(await served(), n0 + 1);
    // The device's answer is not good enough for a request that needs near-cloud quality.
    const picky = await chat(b, { 'X-MEC-Min-Quality': '0.99' });
    assert.equal(picky.status, 200);
    assert.equal(picky.headers.get('x-mec-cache'), 'miss');
    assert.equal(await served(), n0 + 2);
    // A tier pin is the client's choice: its answers are reused whatever the minimum quality.
    const pinned = await chat({ ...b, model: 'device' }, { 'X-MEC-Min-Quality': '0.99' });
    assert.equal(pinned.headers.get('x-mec-cache'), 'miss');
    const pinnedAgain = await chat({ ...b, model: 'device' }, { 'X-MEC-Min-Quality': '0.99' });
    assert.equal(pinnedAgain.headers.get('x-mec-cache'), 'hit');
    assert.equal(pinnedAgain.text, pinned.text);
  });
});
