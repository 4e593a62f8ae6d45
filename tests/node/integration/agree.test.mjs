// The simulator and the live gateway agree (issue 15, item 5; docs/simulator.md, "The simulator and
// the live gateway"): the same workload — the `mixed` use cases, 5 requests/s for 20 s, seed 1 —
// goes once through `mecrouter demo` (real HTTP through the embedded stack) and once through
// `mecrouter simulate` (the same requests: the same arrivals, use cases, prompts and token counts),
// both without outages. Per use case, the deadline attainment of the two may differ by at most
// TOLERANCE of its requests (at least SLACK requests), and overall by at most OVERALL.
//
// The tolerance is for the differences that stay by design (the simulator's per-client links with
// jittered RTTs, loss and handovers against the emulators' fixed RTT; 1,000 client engines against
// one gateway; the clients' own devices against one phone emulator): at most 16 points (7 requests)
// per use case and 4.4 points overall over 7 runs at 5 and 10 requests/s (docs/simulator.md). What
// it catches: the demo's edge outage left on (vehicle.collision 4 of 13 in time against 12 of 13).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN } from './lib.mjs';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

// The labelled prompts: without them both sides run on the fallback, whose prompts the simulator
// scores from their fitted bins and the gateway from their text, so their routing cannot agree.
const DATA = process.env.MECROUTER_DATA || resolve(ROOT, '../shared/data');
const HAS_DATA = existsSync(join(DATA, 'router_eval'));

const RATE = 5;          // requests/s, as in the issue's `mecrouter demo --duration 20 --rate 5`
const DURATION = 20;     // s
const SEED = 1;
const TOLERANCE = 0.2;   // per use case: share of its requests
const SLACK = 2;         // per use case: requests, for the small ones
const OVERALL = 0.06;    // all requests: share

// Per use case: requests, met (both sides), the demo's answers by tier. Problems: every use case
// whose attainments differ by more than the tolerance, and the overall difference.
export function compare(demo, simOutcomes) {
  const sim = new Map(simOutcomes.map((o) => [o.i, o]));
  const byCase = new Map();
  const problems = [];
  let n = 0, metDemo = 0, metSim = 0;
  for (const d of demo.outcomes) {
    const s = sim.get(d.i);
    if (!s || s.use_case !== d.use_case || s.input_tokens !== d.input_tokens || s.output_tokens !== d.output_tokens) {
      problems.push(`request ${d.i}: not the same request both ways (demo ${JSON.stringify(d)}, simulate ${JSON.stringify(s)})`);
      continue;
    }
    const c = byCase.get(d.use_case) ?? { n: 0, demo: 0, sim: 0, tiers: {}, simTiers: {}, differ: [] };
    byCase.set(d.use_case, c);
    c.n += 1;
    c.demo += d.met ? 1 : 0;
    c.sim += s.met ? 1 : 0;
    c.tiers[d.tier] = (c.tiers[d.tier] ?? 0) + 1;
    c.simTiers[s.tier] = (c.simTiers[s.tier] ?? 0) + 1;
    if (d.met !== s.met) c.differ.push(`#${d.i} demo ${d.met ? 'met' : 'missed'} (${d.tier}, ${Math.round(d.e2e_ms ?? -1)} ms) simulate ${s.met ? 'met' : 'missed'} (${s.tier}, ${Math.round(s.e2e_ms ?? -1)} ms)`);
    n += 1;
    metDemo += d.met ? 1 : 0;
    metSim += s.met ? 1 : 0;
  }
  for (const [uc, c] of byCase) {
    const allowed = Math.max(SLACK, Math.floor(TOLERANCE * c.n));
    if (Math.abs(c.demo - c.sim) > allowed)
      problems.push(`${uc}: demo met ${c.demo} of ${c.n}, simulate ${c.sim} (allowed difference ${allowed}): ${c.differ.join('; ')}`);
  }
  const overall = n ? Math.abs(metDemo - metSim) / n : 0;
  if (n === 0 || overall > OVERALL)
    problems.push(`overall: demo met ${metDemo} of ${n}, simulate ${metSim} (difference ${(100 * overall).toFixed(1)} points, allowed ${100 * OVERALL})`);
  return { byCase, n, metDemo, metSim, problems };
}

function table(r) {
  const pct = (k, n) => `${(100 * k / n).toFixed(0)}%`.padStart(5);
  const tiers = (t) => Object.entries(t).map(([k, v]) => `${k} ${v}`).join(', ');
  const lines = [`${'use case'.padEnd(27)} ${'n'.padStart(4)}  demo   sim  demo tiers / simulate tiers`];
  for (const [uc, c] of [...r.byCase].sort())
    lines.push(`${uc.padEnd(27)} ${String(c.n).padStart(4)} ${pct(c.demo, c.n)} ${pct(c.sim, c.n)}  ${tiers(c.tiers)} / ${tiers(c.simTiers)}`);
  lines.push(`${'all'.padEnd(27)} ${String(r.n).padStart(4)} ${pct(r.metDemo, r.n)} ${pct(r.metSim, r.n)}`);
  return lines.join('\n');
}

test('agree: per use case, the live demo and the simulation of the same requests meet about as many deadlines',
  { timeout: 120000, skip: HAS_DATA ? false : `no labelled prompts at ${DATA}` }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mec-agree-'));
  try {
    const t0 = Date.now();
    const demoJson = join(dir, 'demo.json');
    await run(BIN, ['demo', '--duration', String(DURATION), '--rate', String(RATE), '--seed', String(SEED), '--no-outage',
      '--listen', '127.0.0.1:0', '--json', demoJson], { cwd: ROOT, maxBuffer: 1 << 24, timeout: 100000 });
    const demo = JSON.parse(await readFile(demoJson, 'utf8'));
    assert.equal(demo.scenario, 'mixed');
    assert.equal(demo.outage, false);
    assert.ok(demo.requests >= 60 && demo.requests === demo.outcomes.length, `about 100 requests, got ${demo.requests}`);

    const simJsonl = join(dir, 'sim.jsonl');
    await run(BIN, ['simulate', '--scenario', 'mixed', '--policy', 'adaptive', '--rate', String(RATE), '--requests', String(demo.requests),
      '--seed', String(SEED), '--no-outages', '--outcomes', simJsonl], { cwd: ROOT, maxBuffer: 1 << 24, timeout: 60000 });
    const sim = (await readFile(simJsonl, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l))
      .filter((o) => o.policy === 'adaptive');
    assert.equal(sim.length, demo.requests);
    assert.equal(demo.mode, 'data');

    const r = compare(demo, sim);
    t.diagnostic(`${demo.requests} requests at ${RATE}/s, seed ${SEED}, both ways in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    for (const line of table(r).split('\n')) t.diagnostic(line);
    assert.deepEqual(r.problems, [], table(r));

    // The check can fail: the same demo with its collision answers missed (as the edge outage of the
    // issue's run made them) is out of tolerance.
    const broken = { ...demo, outcomes: demo.outcomes.map((o) => (o.use_case === 'vehicle.collision' ? { ...o, met: false } : o)) };
    assert.ok(compare(broken, sim).problems.some((p) => p.startsWith('vehicle.collision')), 'a broken demo fails the check');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
