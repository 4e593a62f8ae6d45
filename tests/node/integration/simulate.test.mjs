// `mecrouter simulate` through the real binary: the built-in scenario is found from the repository
// root, the JSON has the shape, and the same seed gives the same bytes (golden).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN } from './lib.mjs';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

async function simulate(dir, name, seed, extra = []) {
  const out = join(dir, name);
  const { stdout } = await run(BIN, ['simulate', '--scenario', 'mixed', '--requests', '1500', '--seed', String(seed),
    '--policy', 'adaptive,cloud-only,oracle', '--json', out, ...extra], { cwd: ROOT, maxBuffer: 1 << 22, timeout: 120000 });
  return { stdout, json: await readFile(out, 'utf8') };
}

test('simulate: the issue JSON, byte for byte the same for the same seed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mec-sim-'));
  try {
    const a = await simulate(dir, 'a.json', 7);
    const b = await simulate(dir, 'b.json', 7);
    const c = await simulate(dir, 'c.json', 8);
    assert.equal(a.json, b.json);
    assert.notEqual(a.json, c.json);
    assert.match(a.stdout, /adaptive/);
    const j = JSON.parse(a.json);
    assert.equal(j.scenario, 'mixed');
    assert.equal(j.seed, 7);
    assert.ok(['data', 'fallback'].includes(j.mode));
    for (const p of ['adaptive', 'cloud-only', 'oracle']) {
      const m = j.policies[p];
      assert.equal(m.requests, 1500);
      assert.equal(m.completed + m.failed, 1500);
      for (const k of ['mean', 'p50', 'p95', 'p99']) assert.equal(typeof m.e2e_ms[k], 'number');
      assert.equal(typeof m.time_critical.deadline_attainment, 'number');
      assert.ok(Math.abs(m.tier_share.device + m.tier_share.edge + m.tier_share.cloud - 1) < 1e-9);
      assert.equal(Object.keys(m.use_cases).length, 9);
    }
    assert.equal(j.policies['cloud-only'].tier_share.cloud, 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('simulate: without the data directory it runs on the shipped fallback', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mec-sim-'));
  try {
    const out = join(dir, 'f.json');
    await run(BIN, ['simulate', '--scenario', 'mixed', '--requests', '500', '--policy', 'adaptive', '--json', out],
      { cwd: ROOT, env: { ...process.env, MECROUTER_DATA: join(dir, 'absent') }, timeout: 120000 });
    assert.equal(JSON.parse(await readFile(out, 'utf8')).mode, 'fallback');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('simulate --learning on: the online loop judges answers, refits and reports per quarter; bad values are errors', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mec-sim-'));
  try {
    const out = join(dir, 'l.json');
    const { stdout } = await run(BIN, ['simulate', '--scenario', 'mixed', '--requests', '1500', '--seed', '3', '--policy', 'adaptive',
      '--learning-rate', '0.2', '--json', out], { cwd: ROOT, maxBuffer: 1 << 22, timeout: 240000 });
    assert.match(stdout, /^learning adaptive: \d+ verdicts; U by quarter/m);
    const j = JSON.parse(await readFile(out, 'utf8'));
    const l = j.policies.adaptive.learning;
    assert.ok(l.verdicts > 100, JSON.stringify(l));
    assert.equal(j.policies.adaptive.utility_by_quarter.length, 4);
    assert.deepEqual(Object.keys(l.learners).sort(), ['iot-gateway', 'laptop', 'phone', 'vehicle']);
    for (const c of Object.values(l.learners)) assert.ok(c.retrains >= 1 && c.promotions <= c.retrains, JSON.stringify(c));
    assert.equal(j.policies['cloud-only'].learning, undefined, 'cloud-only answers are never judged');
    for (const bad of [['--learning', 'maybe'], ['--learning-rate', '0'], ['--learning-rate', 'x']]) {
      await assert.rejects(run(BIN, ['simulate', '--scenario', 'mixed', '--requests', '10', ...bad], { cwd: ROOT, timeout: 60000 }),
        (e) => e.code === 2 && /--learning/.test(e.stderr));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
