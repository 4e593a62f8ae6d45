// `mecrouter demo` through the real binary: it prints a dashboard URL that answers while the run
// goes on, exits 0, every request it sent ends in one answer or one error, its counts agree with
// the gateway's, and the edge outage mid-way makes requests fail over away from the edge.
// Also the emulator's `ignore_eos` (what the demo uses to give answers their use case's length).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, Child, Stack, getJson, postJson, waitFor } from './lib.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

function num(text, re, what) {
  const m = re.exec(text);
  assert.ok(m, `no ${what} in the output:\n${text}`);
  return m.slice(1).map(Number);
}

test('demo: dashboard URL at start, a summary whose counts add up, failovers away from the edge during its outage', { timeout: 180000 }, async () => {
  const proc = spawn(BIN, ['demo', '--duration', '6', '--rate', '10', '--seed', '1', '--listen', '127.0.0.1:0'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const child = new Child(proc, 'demo');
  try {
    // The URL comes first, before any request is sent, and serves the page during the run.
    const url = await waitFor(() => /^mecrouter demo: dashboard (http:\/\/127\.0\.0\.1:\d+\/dashboard)$/m.exec(child.out)?.[1]
      || (!child.alive && 'exited'), { timeoutMs: 30000 });
    assert.ok(url && url !== 'exited', `no dashboard URL: ${child.describe()}`);
    assert.ok(child.out.startsWith(`mecrouter demo: dashboard ${url}\n`), `the URL is the first line: ${child.out.slice(0, 300)}`);
    const page = await getJson(url);
    assert.equal(page.status, 200);
    assert.match(page.text, /<html/i);
    const live = await waitFor(async () => {
      const r = await getJson(url.replace('/dashboard', '/api/dashboard'));
      return r.json?.stats?.requests > 0 && r.json;
    }, { timeoutMs: 20000, intervalMs: 200 });
    assert.ok(live, 'the gateway behind the URL receives the demo\'s requests');

    const exit = await child.waitExit(150000);
    assert.deepEqual(exit, { code: 0, signal: null }, child.describe());
    const out = child.out;

    const [sent, answered, errors] = num(out, /^requests: sent (\d+), answered (\d+), errors (\d+)$/m, 'request counts');
    assert.equal(answered + errors, sent, out);
    assert.ok(sent >= 35 && sent <= 90, `about 60 requests in 6 s at 10/s, got ${sent}`);
    assert.ok(answered > 0, out);
    // Answers by tier add up to the answers.
    const tierLine = /^answered by tier:(.*)$/m.exec(out)[1];
    const tierAnswers = [...tierLine.matchAll(/(device|edge|cloud|none) (\d+) \(/g)].reduce((s, m) => s + Number(m[2]), 0);
    assert.equal(tierAnswers, answered, tierLine);
    // Use-case rows add up to what was sent.
    const rows = [...out.matchAll(/^([a-z]+\.[a-z-]+)\s+(\d+)\s+(\d+)\s+(\d+)\s/gm)];
    assert.ok(rows.length >= 5, out);
    assert.equal(rows.reduce((s, m) => s + Number(m[2]), 0), sent);
    for (const m of rows) assert.equal(Number(m[3]) + Number(m[4]), Number(m[2]), m[0]);
    const [met] = num(out, /^deadline attainment: (\d+) of \d+/m, 'deadline attainment');
    assert.ok(met <= answered);
    const [cost, cloudOnly] = num(out, /^cost: \$([\d.]+) against \$([\d.]+) cloud-only/m, 'cost');
    assert.ok(cost > 0 && cloudOnly > 0, out);

    // The outage: requests sent in it were answered elsewhere after a failed attempt, none by edge.
    const [away] = num(out, /^failovers away from edge during the outage: (\d+)$/m, 'failovers');
    assert.ok(away > 0, out);
    const [inWindow, elsewhere, byEdge] = num(out, /^edge outage [\d.]+-[\d.]+ s: (\d+) requests sent, (\d+) answered elsewhere after a failed attempt, (\d+) answered by edge/m, 'outage line');
    assert.ok(inWindow > 0 && elsewhere === away, out);
    assert.equal(byEdge, 0, out);

    // The gateway counted the same requests.
    const stats = JSON.parse(/^gateway: (\{.*\})$/m.exec(out)[1]);
    assert.equal(stats.requests, sent);
    assert.equal(stats.completed, answered);
    assert.equal(stats.in_flight, 0);
    assert.ok(stats.failovers >= away, JSON.stringify(stats));
    assert.match(out, new RegExp(`^dashboard: ${url.replace(/[.]/g, '\\.')}$`, 'm'), 'the URL again at the end');
  } finally {
    child.kill('SIGKILL');
  }
});

test('demo: bad flags are a usage error', async () => {
  const e = await promisify(execFile)(BIN, ['demo', '--rate', '0'], { cwd: ROOT, timeout: 30000 }).then(() => null, (err) => err);
  assert.ok(e, 'exit 0 for --rate 0');
  assert.equal(e.code, 2, String(e));
  assert.match(e.stderr, /usage: mecrouter demo/);
});

const stack = new Stack();
after(() => stack.close());

test('emulator: "ignore_eos": true makes the answer exactly max_tokens long', async () => {
  const em = await stack.emulator('zero');
  const ask = async (extra) => (await postJson(`${em.url}/chat/completions`,
    { model: 'x', messages: [{ role: 'user', content: 'count to many' }], max_tokens: 300, ...extra })).json;
  const full = await ask({ ignore_eos: true });
  assert.equal(full.usage.completion_tokens, 300);
  assert.equal(full.choices[0].finish_reason, 'length');
  const drawn = await ask({});
  assert.ok(drawn.usage.completion_tokens <= 300);
  assert.notEqual(drawn.usage.completion_tokens, 300);
});
