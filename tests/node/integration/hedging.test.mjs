// Hedging through HTTP (issue "The routing engine", Executor): when the primary is unlikely to
// meet the deadline, the gateway starts the first fallback after a short delay, keeps whichever
// produces a token first, cancels the other upstream, and counts what the loser cost.
//
// Emulators with their shipped profiles (src/emulate/tier_profile.cc): edge ~20 ms RTT + 20 ms base
// at 75 tok/s, cloud 0.45 s TTFT at 131 tok/s. Slowing the edge x20 puts its answer at ~1.9 s for
// 4 tokens while the cloud answers in ~0.5 s, so a hedge to the cloud must win; with the cloud
// hanging (never a byte), the hedge must lose to the healthy edge.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, backend, postJson, waitFor, MODELS, streamChat } from './lib.mjs';

const SLOW_EDGE_DEADLINE_MS = 1500;   // the slowed edge (~1.9 s) misses it, the cloud (~0.5 s) makes it
const FAST_EDGE_DEADLINE_MS = 400;    // the healthy edge (~0.32 s for 20 tokens) just makes it

describe('hedged attempts', () => {
  const stack = new Stack();
  let edge, cloud, gw;
  before(async () => {
    [edge, cloud] = await Promise.all([stack.emulator('edge'), stack.emulator('cloud')]);
    gw = await stack.gateway({
      server: { threads: 2 },
      // preference keeps the edge first whatever it predicts, so the hedge is what saves the request.
      routing: { policy: 'preference', hedge: true, hedge_threshold: 1 },
      backends: [
        backend('edge-mec', 'edge', edge, { models: [MODELS.edge], price: { gpu_per_hour: 1.006, gpu_tokens_per_second: 495 } }),
        backend('cloud-api', 'cloud', cloud, { models: [MODELS.cloud], price: { input_per_1m: 2.5, output_per_1m: 10 } }),
      ],
    });
  });
  after(() => stack.close());

  const ask = async (deadline, max_tokens) => {
    const t0 = Date.now();
    const r = await postJson(`${gw.url}/chat/completions`, { model: 'auto', max_tokens, messages: [{ role: 'user', content: 'Is the road ahead clear?' }] },
      { headers: { 'X-MEC-Deadline-Ms': String(deadline) } });
    return { ms: Date.now() - t0, status: r.status, backend: r.headers.get('x-mec-backend'), hedged: r.headers.get('x-mec-hedged'), attempts: r.headers.get('x-mec-attempts'), json: r.json };
  };

  test('a slow primary: the hedge on the next tier answers first and the primary is cancelled upstream', async () => {
    await edge.fault({ slowdown: 20 });
    const s0 = await gw.stats();
    // The first answers teach the estimators that the edge is slow; from then on p(meet) < 1 and
    // every request is hedged. Allow a few requests for that.
    let won;
    for (let i = 0; i < 8 && !won; i++) {
      const r = await ask(SLOW_EDGE_DEADLINE_MS, 4);
      assert.equal(r.status, 200, JSON.stringify(r.json));
      if (r.hedged) won = r;
    }
    assert.ok(won, 'no request was hedged');
    assert.equal(won.hedged, 'won');
    assert.equal(won.backend, 'cloud-api');
    assert.equal(won.attempts, '2');
    assert.ok(won.ms < 1500, `hedged answer took ${won.ms} ms; the slowed edge alone takes ~1.9 s`);
    assert.equal(won.json.usage.completion_tokens, 4);
    // The edge's attempt was cancelled: nothing stays open upstream.
    assert.ok(await waitFor(async () => (await edge.stats()).active === 0, { timeoutMs: 2000 }), `edge still busy: ${JSON.stringify(await edge.stats())}`);

    // Streaming: the first event decides; the client sees one clean stream from the winner.
    let headers;
    const st = await streamChat(gw.base, { model: 'auto', max_tokens: 4, messages: [{ role: 'user', content: 'Is the road ahead clear?' }] },
      { headers: { 'X-MEC-Deadline-Ms': String(SLOW_EDGE_DEADLINE_MS) }, onHeaders: (r) => { headers = r.headers; } });
    assert.equal(st.status, 200);
    assert.equal(st.done, true);
    assert.equal(st.doneCount, 1);
    assert.equal(st.errorEvent, undefined);
    assert.equal(headers.get('x-mec-hedged'), 'won');
    assert.equal(headers.get('x-mec-backend'), 'cloud-api');

    const s1 = await gw.stats();
    assert.ok(s1.hedges - s0.hedges >= 2, JSON.stringify(s1));
    assert.ok(s1.hedge_wins - s0.hedge_wins >= 2, JSON.stringify(s1));
    assert.ok(s1.hedge_cost_usd > s0.hedge_cost_usd, `the cancelled edge attempts cost something: ${JSON.stringify(s1)}`);
    assert.equal(s1.failed, s0.failed);
    assert.equal(s1.failovers, s0.failovers, 'a hedge is not a failover');
    await edge.fault({ slowdown: 1 });
  });

  test('a hedge that loses is cancelled upstream and the primary answers', async () => {
    await cloud.fault({ hang_rate: 1 });
    const s0 = await gw.stats();
    const c0 = await cloud.stats();
    let lost;
    for (let i = 0; i < 10 && !lost; i++) {
      const r = await ask(FAST_EDGE_DEADLINE_MS, 20);
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.equal(r.backend, 'edge-mec');
      if (r.hedged) lost = r;
    }
    assert.ok(lost, 'no request was hedged');
    assert.equal(lost.hedged, 'lost');
    assert.equal(lost.json.usage.completion_tokens, 20);
    // The hung cloud attempts were cancelled, not left waiting for their timeout.
    assert.ok(await waitFor(async () => (await cloud.stats()).active === 0, { timeoutMs: 2000 }), `cloud still holds hedges: ${JSON.stringify(await cloud.stats())}`);
    assert.ok((await cloud.stats()).served >= c0.served);
    const s1 = await gw.stats();
    assert.ok(s1.hedges > s0.hedges);
    assert.equal(s1.hedge_wins, s0.hedge_wins);
    assert.ok(s1.hedge_cost_usd > s0.hedge_cost_usd, 'the cancelled cloud hedges cost their input');
    assert.equal(s1.failed, s0.failed);
    await cloud.fault({ hang_rate: 0 });
  });
});
