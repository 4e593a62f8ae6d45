// The dashboard through HTTP and a real browser (issue 6): after traffic over three emulated
// tiers, GET /dashboard in Debian's chromium (playwright-core) shows charts with data, a decision
// table with rows and their reasons, every backend's health, and logs no console errors; a
// screenshot goes to tests/node/output/. The JSON behind it counts the traffic. With a token,
// /dashboard, /api/..., /admin/... and /v1/feedback answer 401 without it. Off loopback the gateway refuses to start without API keys
// unless server.allow_anonymous says so (loudly), and closes the operator endpoints without a token.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, existsSync, statSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { Stack, BIN, backend, MODELS, postJson, getJson, request, chatBody, waitFor, sleep, guardedTest, expectOpenAIError } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const OUTPUT = resolve(here, '../output');
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

const stack = new Stack();
const gtest = guardedTest(test, () => stack);
let gw, gwToken, edge, browser;
const TOKEN = 'dash-test-token-7f3a';

before(async () => {
  const [device, e, cloud] = await Promise.all([stack.emulator('device'), stack.emulator('edge'), stack.emulator('cloud')]);
  edge = e;
  const backends = [
    backend('device-phone', 'device', device, { models: [MODELS.device], max_concurrency: 4, price: { watts: 5, usd_per_kwh: 0.15 } }),
    backend('edge-mec', 'edge', edge, { models: [MODELS.edge], price: { gpu_per_hour: 1.006, gpu_tokens_per_second: 495 } }),
    backend('cloud-api', 'cloud', cloud, { models: [MODELS.cloud], price: { input_per_1m: 2.5, output_per_1m: 10 } }),
  ];
  gw = await stack.gateway({ server: { threads: 2 }, routing: { policy: 'adaptive' }, backends });
  process.env.MEC_DASH_TEST_TOKEN = TOKEN;
  gwToken = await stack.gateway({
    server: { threads: 1 },
    routing: { policy: 'adaptive' },
    dashboard: { token_env: 'MEC_DASH_TEST_TOKEN' },
    backends,
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});
after(async () => {
  if (browser) await browser.close();
  await stack.close();
});

// Mixed traffic: every tier pinned, auto with and without hints, and a failure (an unknown use
// case is rejected before routing: tier "none").
async function traffic(base, n, headers = {}) {
  const ids = [];
  for (let i = 0; i < n; i++) {
    const model = ['device', 'edge', 'cloud', 'auto'][i % 4];
    const r = await postJson(`${base}/v1/chat/completions`, chatBody({ model, max_tokens: 8 }), { headers });
    assert.equal(r.status, 200, r.text);
    ids.push(r.headers.get('x-mec-decision-id'));
  }
  const bad = await postJson(`${base}/v1/chat/completions`, chatBody(), { headers: { ...headers, 'X-MEC-Use-Case': 'no.such-case' } });
  assert.equal(bad.status, 400);
  return ids;
}

gtest('GET /api/dashboard counts the traffic per tier, with decisions, percentiles and cost', async () => {
  const ids = await traffic(gw.base, 12);
  // Outcomes are counted as requests end; the series end at the last complete second.
  const d = await waitFor(async () => {
    const r = await getJson(`${gw.base}/api/dashboard`);
    assert.equal(r.status, 200, r.text);
    const sum = (a) => a.reduce((x, y) => x + y, 0);
    const total = ['device', 'edge', 'cloud', 'none'].reduce((s, t) => s + sum(r.json.traffic.requests[t]), 0);
    return total >= 13 ? r.json : null;
  }, { timeoutMs: 5000, intervalMs: 200 });
  assert.ok(d, 'the traffic reached the per-second series within 5 s');
  assert.deepEqual(d.tiers, ['device', 'edge', 'cloud', 'none']);
  assert.deepEqual(d.backends.map((b) => b.name), ['device-phone', 'edge-mec', 'cloud-api']);
  for (const b of d.backends) {
    assert.equal(b.health, 'healthy');
    assert.equal(b.ejected, false);
  }
  const sum = (a) => a.reduce((x, y) => x + y, 0);
  for (const t of ['device', 'edge', 'cloud']) assert.ok(sum(d.traffic.requests[t]) >= 3, `${t}: ${sum(d.traffic.requests[t])}`);
  assert.equal(sum(d.traffic.requests.none), 1);
  assert.equal(d.traffic.t.length, d.window_s);
  // The decisions: newest first, every answered one with its reason and backend.
  const seen = new Set(d.decisions.map((x) => x.id));
  for (const id of ids) assert.ok(seen.has(id), `decision ${id} listed`);
  const answered = d.decisions.filter((x) => x.status === 'ok');
  assert.equal(answered.length, 12);
  for (const x of answered) {
    assert.ok(x.reason.length > 0, JSON.stringify(x));
    assert.ok(['device-phone', 'edge-mec', 'cloud-api'].includes(x.backend));
    assert.ok(x.latency_ms > 0 && x.ttft_ms > 0 && x.ttft_ms <= x.latency_ms, JSON.stringify(x));
  }
  assert.equal(d.decisions[0].status, 'rejected');
  // Percentiles over the last minute and the cloud-only counterfactual.
  assert.ok(d.percentiles.cloud.latency_s.n >= 3);
  assert.ok(d.percentiles.cloud.latency_s.p50 > 0);
  // The gateway's own time per answer (mecrouter_gateway_overhead_seconds), a small share of it.
  assert.ok(d.percentiles.cloud.overhead_s.n >= 3);
  assert.ok(d.percentiles.cloud.overhead_s.p50 > 0 && d.percentiles.cloud.overhead_s.p50 < d.percentiles.cloud.latency_s.p50);
  assert.equal(d.cost.cloud_reference, 'cloud-api');
  assert.ok(d.cost.total_usd > 0);
  assert.ok(d.cost.total_cloud_only_usd > d.cost.total_usd, `cloud-only ${d.cost.total_cloud_only_usd} > actual ${d.cost.total_usd}`);
  assert.equal(d.stats.requests, 13);
  // /api/decisions with a limit.
  const few = await getJson(`${gw.base}/api/decisions?n=3`);
  assert.equal(few.status, 200);
  assert.equal(few.json.decisions.length, 3);
  assert.equal(few.json.decisions[0].id, d.decisions[0].id);
});

gtest('a response-cache hit is listed with the reason the client got (X-MEC-Reason)', async () => {
  const body = chatBody({ model: 'edge', max_tokens: 8, temperature: 0, messages: [{ role: 'user', content: 'Cache me for the dashboard.' }] });
  const first = await postJson(`${gw.base}/v1/chat/completions`, body);
  assert.equal(first.status, 200, first.text);
  const again = await postJson(`${gw.base}/v1/chat/completions`, body);
  assert.equal(again.status, 200, again.text);
  assert.equal(again.headers.get('x-mec-cache'), 'hit');
  const id = again.headers.get('x-mec-decision-id');
  const row = await waitFor(async () => (await getJson(`${gw.base}/api/decisions?n=50`)).json.decisions.find((x) => x.id === id),
    { timeoutMs: 3000, intervalMs: 50 });
  assert.ok(row, 'the cache hit is listed');
  assert.equal(row.status, 'ok');
  assert.equal(row.reason, again.headers.get('x-mec-reason'));
  assert.match(row.reason, /^cache hit/);
  assert.equal(row.tier, 'none');  // no backend was called
  assert.equal(row.cost_usd, 0);
});

gtest('the page in chromium: charts hold data, decisions have rows, no console errors, a screenshot', async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1300 } });
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  const res = await page.goto(`${gw.base}/dashboard`);
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-type'], /text\/html/);
  // Traffic while the page is open: it must update without a reload.
  await traffic(gw.base, 8);
  const want = (await getJson(`${gw.base}/api/decisions?n=50`)).json.decisions.length;
  assert.ok(want >= 9, `decisions kept: ${want}`);
  await page.waitForFunction(() => window.mecDashboard && window.mecDashboard.polls >= 3, null, { timeout: 15000 });
  await page.waitForFunction((n) => document.querySelectorAll('#decisions tbody tr').length >= n, want, { timeout: 10000 });
  await page.waitForFunction(() => {
    const c = window.mecDashboard.charts;
    const has = (u, from) => !!u && u.data.slice(from).some((s) => s.some((v) => v !== null && v > 0));
    return has(c.traffic, 1) && has(c.latency, 1) && has(c.ttft, 1) && has(c.cost, 1);
  }, null, { timeout: 15000 });

  const info = await page.evaluate(() => {
    const c = window.mecDashboard.charts;
    const count = (u) => u.data.slice(1).reduce((n, s) => n + s.filter((v) => v !== null && v > 0).length, 0);
    return {
      charts: Object.fromEntries(Object.entries(c).map(([k, u]) => [k, count(u)])),
      canvases: document.querySelectorAll('.chart canvas').length,
      decisionRows: document.querySelectorAll('#decisions tbody tr').length,
      firstReason: document.querySelector('#decisions tbody tr td.reason')?.textContent ?? '',
      reasons: [...document.querySelectorAll('#decisions tbody td.reason')].map((e) => e.textContent),
      backendRows: [...document.querySelectorAll('#backends tbody tr')].map((tr) => tr.textContent),
      split: document.getElementById('split').textContent,
      cost: document.getElementById('cost-summary').textContent,
      percentileRows: document.querySelectorAll('#percentiles tbody tr').length,
      status: document.getElementById('status').textContent,
      failures: window.mecDashboard.failures,
      url: location.href,
    };
  });
  for (const [k, n] of Object.entries(info.charts)) assert.ok(n > 0, `chart ${k} has points: ${JSON.stringify(info.charts)}`);
  assert.equal(info.canvases, 4);
  assert.ok(info.decisionRows >= want, `decision rows: ${info.decisionRows} of ${want}`);
  assert.ok(info.reasons.filter((r) => r.length > 10).length >= 8, `reasons: ${JSON.stringify(info.reasons.slice(0, 3))}`);
  assert.equal(info.backendRows.length, 3);
  assert.match(info.backendRows.join('\n'), /edge-mec.*healthy/);
  assert.match(info.split, /device (\d+%|–).*edge (\d+%|–).*cloud (\d+%|–)/);
  assert.match(info.cost, /cloud-only/);
  assert.equal(info.percentileRows, 4);
  assert.match(info.status, /updated/);
  assert.equal(info.failures, 0);

  mkdirSync(OUTPUT, { recursive: true });
  const shot = join(OUTPUT, 'dashboard.png');
  await page.screenshot({ path: shot, fullPage: true });
  assert.ok(existsSync(shot) && statSync(shot).size > 10000, 'screenshot written');

  // A simulator report opens from a local file in a sandboxed frame.
  await page.setInputFiles('#report-file', { name: 'report.html', mimeType: 'text/html', buffer: Buffer.from('<!doctype html><title>r</title><h1 id="h">Simulator report</h1><svg width="10" height="10"></svg>') });
  await page.waitForSelector('#report-panel:not([hidden])', { timeout: 5000 });
  const frame = page.frameLocator('#report-frame');
  assert.equal(await frame.locator('#h').textContent({ timeout: 5000 }), 'Simulator report');
  await page.click('#report-close');
  await page.waitForSelector('#report-panel', { state: 'hidden', timeout: 5000 });

  assert.deepEqual(problems, [], 'the page logged no errors');
  await page.close();
});

gtest('an outage shows the edge backend ejected (or unhealthy) in /api/dashboard, with its failed decisions', async () => {
  // Every edge request gets a 503: the outlier detector ejects it after 5 upstream failures in a row
  // (and the active health checks see the outage too).
  await edge.fault({ outage: true });
  try {
    for (let i = 0; i < 6; i++) await postJson(`${gw.base}/v1/chat/completions`, chatBody({ model: 'edge', max_tokens: 4 }));
    const d = await waitFor(async () => {
      const r = await getJson(`${gw.base}/api/dashboard`);
      const b = r.json.backends.find((x) => x.name === 'edge-mec');
      return b.ejected || b.health !== 'healthy' ? r.json : null;
    }, { timeoutMs: 5000, intervalMs: 100 });
    assert.ok(d, 'edge-mec ejected or unhealthy after an outage');
    const b = d.backends.find((x) => x.name === 'edge-mec');
    assert.ok(b.error_rate > 0);
    assert.ok(d.decisions.some((x) => x.backend === 'edge-mec' && x.status !== 'ok'));
    // And on the page: the edge row is no longer "healthy, in service".
    const page = await browser.newPage();
    await page.goto(`${gw.base}/dashboard`);
    await page.waitForFunction(() => window.mecDashboard && window.mecDashboard.polls >= 1, null, { timeout: 10000 });
    const edgeRow = await page.evaluate(() => [...document.querySelectorAll('#backends tbody tr')].map((tr) => tr.textContent).find((t) => t.startsWith('edge-mec')));
    assert.match(edgeRow, /ejected|unhealthy|half-open/, edgeRow);
    await page.close();
  } finally {
    await edge.fault({ outage: false });
  }
});

gtest('with a token: /dashboard, /api, /admin and /v1/feedback need it; the OpenAI endpoints do not', async () => {
  const base = gwToken.base;
  assert.match(gwToken.out, /dashboard: http:\/\/127\.0\.0\.1:\d+\/dashboard\?token=\$MEC_DASH_TEST_TOKEN/);
  assert.ok(!gwToken.out.includes(TOKEN) && !gwToken.err.includes(TOKEN), 'the token itself is never printed');
  const chat = await postJson(`${base}/v1/chat/completions`, chatBody({ model: 'edge', max_tokens: 4 }));
  assert.equal(chat.status, 200, chat.text);
  for (const [method, path, body] of [['GET', '/dashboard'], ['GET', '/api/dashboard'], ['GET', '/api/stats'], ['GET', '/api/decisions'],
    ['GET', '/admin/anything'], ['POST', '/v1/feedback', { decision_id: chat.headers.get('x-mec-decision-id'), score: 1 }]]) {
    for (const auth of [undefined, 'Bearer wrong', `Basic ${TOKEN}`]) {
      const r = await request(`${base}${path}`, { method, body, headers: auth ? { authorization: auth } : {} });
      assert.equal(r.status, 401, `${method} ${path} with ${auth}: ${r.status}`);
      expectOpenAIError(assert, r.json, 401, { code: 'invalid_api_key' });
      assert.match(r.headers.get('www-authenticate') || '', /^Bearer/);
    }
  }
  const ok = { authorization: `Bearer ${TOKEN}` };
  assert.equal((await getJson(`${base}/api/dashboard`, { headers: ok })).status, 200);
  assert.equal((await getJson(`${base}/api/stats`, { headers: ok })).status, 200);
  assert.equal((await getJson(`${base}/dashboard`, { headers: ok })).status, 200);
  assert.equal((await getJson(`${base}/admin/anything`, { headers: ok })).status, 404);
  const fb = await postJson(`${base}/v1/feedback`, { decision_id: chat.headers.get('x-mec-decision-id'), score: 1 }, { headers: ok });
  assert.equal(fb.status, 200, fb.text);
  // The page opens with ?token=, but its data never does.
  assert.equal((await getJson(`${base}/dashboard?token=${TOKEN}`)).status, 200);
  assert.equal((await getJson(`${base}/api/dashboard?token=${TOKEN}`)).status, 401);
  for (const path of ['/healthz', '/readyz', '/v1/models', '/metrics']) assert.equal((await getJson(`${base}${path}`)).status, 200, path);

  // In the browser: opened with ?token=, the page drops it from the address bar and polls with the header.
  const page = await browser.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(`${base}/dashboard?token=${TOKEN}`);
  await page.waitForFunction(() => window.mecDashboard && window.mecDashboard.polls >= 2, null, { timeout: 10000 });
  const state = await page.evaluate(() => ({ url: location.href, failures: window.mecDashboard.failures, rows: document.querySelectorAll('#decisions tbody tr').length }));
  assert.ok(!state.url.includes('token='), state.url);
  assert.equal(state.failures, 0);
  assert.ok(state.rows >= 1);
  assert.deepEqual(problems, []);
  await page.close();
});

gtest('dashboard.enabled: false serves no page and no dashboard JSON; /api/stats stays', async () => {
  const off = await stack.gateway({ dashboard: { enabled: false }, backends: [backend('edge-mec', 'edge', 'http://127.0.0.1:9/v1', { models: ['m'] })] });
  assert.doesNotMatch(off.out, /dashboard:/);
  for (const path of ['/dashboard', '/api/dashboard', '/api/decisions']) {
    const r = await getJson(`${off.base}${path}`);
    assert.equal(r.status, 404, path);
    expectOpenAIError(assert, r.json, 404);
  }
  assert.equal((await getJson(`${off.base}/api/stats`)).status, 200);
});

test('off loopback: no keys refuses to start, allow_anonymous warns loudly, no token closes the operator endpoints', async () => {
  const edge = [backend('edge-mec', 'edge', 'http://127.0.0.1:9/v1', { models: ['m'] })];
  const cfg = stack.file('open.yaml', JSON.stringify({ backends: edge }));
  const refused = await runUntilListening(['serve', '--config', cfg, '--listen', '0.0.0.0:0'], {});
  assert.equal(refused.code, 1);
  assert.match(refused.err, /refusing to listen on 0\.0\.0\.0:0, beyond this machine, without API keys/);
  const anon = stack.file('anon.yaml', JSON.stringify({ server: { allow_anonymous: true }, backends: edge }));
  const warn = await runUntilListening(['serve', '--config', anon, '--listen', '0.0.0.0:0'], {});
  assert.match(warn.err, /WARNING: listening on 0\.0\.0\.0:0, beyond this machine, with NO API KEYS/);
  assert.match(warn.err, /WARNING: listening on 0\.0\.0\.0:0, beyond this machine, with NO TOKEN: .*are closed \(403\)/s);
  const flag = await runUntilListening(['serve', '--config', cfg, '--listen', '0.0.0.0:0', '--allow-anonymous'], {});
  assert.match(flag.err, /with NO API KEYS/);
  const quiet = await runUntilListening(['serve', '--config', cfg, '--listen', '127.0.0.1:0'], {});
  assert.doesNotMatch(quiet.err, /WARNING/);
  const withToken = stack.file('tok.yaml', JSON.stringify({ server: { allow_anonymous: true }, dashboard: { token_env: 'MEC_DASH_TEST_TOKEN' }, backends: edge }));
  const covered = await runUntilListening(['serve', '--config', withToken, '--listen', '0.0.0.0:0'], { MEC_DASH_TEST_TOKEN: 'x' });
  assert.doesNotMatch(covered.err, /NO TOKEN/);
  const unset = await runUntilListening(['serve', '--config', withToken, '--listen', '127.0.0.1:0'], { MEC_DASH_TEST_TOKEN: '' });
  assert.equal(unset.code, 1);
  assert.match(unset.err, /dashboard\.token_env: the environment variable MEC_DASH_TEST_TOKEN is not set or empty/);
});

test('serve --edge-gpus sizes the embedded demo\'s edge site, and is refused with a configuration or out of range', async () => {
  const four = await runUntilListening(['serve', '--listen', '127.0.0.1:0', '--edge-gpus', '4'], {});
  assert.match(four.out, /edge +emulator \([^)]*, 4 GPUs/);
  const one = await runUntilListening(['serve', '--listen', '127.0.0.1:0'], {});
  assert.doesNotMatch(one.out, /GPUs/);
  const edge = [backend('edge-mec', 'edge', 'http://127.0.0.1:9/v1', { models: ['m'] })];
  const cfg = stack.file('gpus.yaml', JSON.stringify({ backends: edge }));
  for (const args of [['--config', cfg, '--edge-gpus', '2'], ['--edge-gpus', '0'], ['--edge-gpus', 'two']]) {
    const r = await runUntilListening(['serve', '--listen', '127.0.0.1:0', ...args], {});
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, /--edge-gpus takes 1\.\.64, and only without --config/);
  }
});

// Starts `mecrouter args`, waits until it listens (or exits), stops it; returns its output.
async function runUntilListening(args, env) {
  const p = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '', err = '', code;
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((r) => p.on('exit', (c) => { code = c; r(); }));
  await waitFor(() => /listening on/.test(out) || code !== undefined, { timeoutMs: 15000, intervalMs: 20 });
  await sleep(50);
  if (code === undefined) p.kill('SIGTERM');
  await exited;
  return { out, err, code };
}
