// Prefix affinity (docs/engines.md, "Prefix affinity"): the gateway remembers which prompt blocks
// it sent to each replica, predicts that their prefill is skipped there, and so sends the next
// turn of a conversation to the replica that holds its KV cache. Two edge replicas run the
// emulator's vllm flavor, whose prefix cache counts hits in vllm:prefix_cache_hits_total exactly
// as vLLM's does (tokens of the prompt found cached).
//
// The first turn of each conversation is spread by round-robin (edge-a, edge-b, edge-a, ...);
// every later turn is routed by `adaptive`, which without affinity sends it to whichever replica
// it then predicts faster (the two are alike: their measured latencies decide), whatever the
// conversation. With affinity, each conversation stays where it began, the reason line says why,
// and the engines count the hits.

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, backend, postJson, request } from './lib.mjs';

const PROFILE = {
  name: 'prefix-route', model: 'prefix-model', rtt_ms: 0, base_ms: 5, prefill_tokens_per_s: 20000,
  decode_tokens_per_s: 200, max_concurrency: 4, max_queue: 64, kv_capacity_tokens: 200000,
  context_window: 32768, load_ms: 0, mean_output_tokens: 8,
};

// A system prompt of its own per conversation (~4 KB, about 1000 tokens), so conversations share
// no block.
const system = (c) => `Conversation ${c}. ` + Array.from({ length: 120 }, (_, i) => `rule ${c}.${i}: answer briefly;`).join(' ');

async function turn(gw, messages, policy) {
  const r = await postJson(`${gw.url}/chat/completions`, { model: 'auto', max_tokens: 6, messages },
    { headers: { 'X-MEC-Policy': policy, 'X-MEC-Min-Quality': '0.3' } });
  assert.equal(r.status, 200, r.text);
  return { backend: r.headers.get('x-mec-backend'), reason: r.headers.get('x-mec-reason') || '', answer: r.json.choices[0].message.content };
}

async function prefixHits(emu) {
  const m = await request(`${emu.base}/metrics`);
  const hits = /^vllm:prefix_cache_hits_total\{[^}]*\} (\S+)$/m.exec(m.text);
  assert.ok(hits, m.text);
  return Number(hits[1]);
}

// Four conversations of four turns; returns where each turn went.
async function converse(gw) {
  const where = [];
  const convs = [0, 1, 2, 3].map((c) => [{ role: 'system', content: system(c) }]);
  for (let t = 0; t < 4; t++) {
    for (let c = 0; c < convs.length; c++) {
      convs[c].push({ role: 'user', content: `Turn ${t} of conversation ${c}: what next?` });
      const r = await turn(gw, convs[c], t === 0 ? 'round-robin' : 'adaptive');
      convs[c].push({ role: 'assistant', content: r.answer });
      (where[c] ||= []).push(r);
    }
  }
  return where;
}

describe('prefix affinity on the vllm flavor', () => {
  const stack = new Stack();
  after(() => stack.close());
  let hitsWithAffinity = 0;

  for (const on of [true, false]) {
    test(on ? 'each conversation stays on the replica that holds its prefix, and the engines count the hits'
      : 'with prefix_max_blocks 0 (and spread 0) conversations move between the replicas, and the hits are fewer', async () => {
      const [a, b] = await Promise.all([stack.emulator(PROFILE, { flavor: 'vllm' }), stack.emulator(PROFILE, { flavor: 'vllm' })]);
      const gw = await stack.gateway({
        server: { threads: 2 },
        // Off: no affinity and no random spread over the alike replicas (routing.spread).
        routing: { policy: 'adaptive', ...(on ? {} : { prefix_max_blocks: 0, spread: 0 }) },
        backends: [
          backend('edge-a', 'edge', a, { models: [PROFILE.model], engine: 'vllm' }),
          backend('edge-b', 'edge', b, { models: [PROFILE.model], engine: 'vllm' }),
        ],
      });
      const where = await converse(gw);
      const first = where.map((turns) => turns[0].backend);
      assert.deepEqual([...new Set(first)].sort(), ['edge-a', 'edge-b'], 'round-robin spread the first turns');
      const hits = (await prefixHits(a)) + (await prefixHits(b));
      if (on) {
        for (const turns of where) {
          for (const r of turns.slice(1)) {
            assert.equal(r.backend, turns[0].backend, r.reason);
            assert.match(r.reason, new RegExp(`${turns[0].backend} holds ~\\d+ of \\d+ prompt tokens \\(prefix cache\\)`));
          }
        }
        // 12 later turns, each finding at least its system prompt (~830 tokens by the emulator's
        // count) cached.
        assert.ok(hits >= 12 * 800, `hits ${hits}`);
        hitsWithAffinity = hits;
      } else {
        let moved = 0;
        for (const turns of where) {
          for (const r of turns.slice(1)) {
            moved += r.backend !== turns[0].backend;
            assert.doesNotMatch(r.reason, /prefix cache/);
          }
        }
        // Every later turn goes to the replica adaptive then prefers, the same for all four
        // conversations, which began on both: some turns leave their conversation's replica.
        assert.ok(moved > 0, JSON.stringify(where.map((turns) => turns.map((r) => r.backend))));
        // The conversations that move lose their cache there.
        assert.ok(hitsWithAffinity > hits, `with affinity ${hitsWithAffinity}, without ${hits}`);
      }
    });
  }
});
