// Fleet state for client-side gateways (issue 16, docs/fleet.md): a regional gateway publishes
// what it has learned of its backends at GET /v1/fleet/state behind a bearer token; a client-side
// gateway pulls it every interval and uses it as priors under its own observations.
//
// Two gateways in front of the same emulators (shipped profiles: the edge answers 4 tokens in
// ~0.1 s and is cheaper than the cloud, ~0.5 s; slowed x25 it takes over a second and misses a
// 1 s deadline the cloud meets). Only the regional gateway sends traffic while the edge is slow; the client-side one moves
// to the cloud after its next pull without a request of its own to the slow edge. Stopping the
// regional gateway never blocks the client: its requests answer at once, and once the last pull is
// stale the configured priors are back.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Stack, backend, postJson, getJson, request, waitFor, sleep, MODELS } from './lib.mjs';

const HEADERS = { 'X-MEC-Min-Quality': '0.8', 'X-MEC-Deadline-Ms': '1000', 'X-MEC-Network': 'link=5g; rtt-edge=10; rtt-cloud=60; down-mbps=100' };
const EASY = 'Which of the following is a primary color?\nA. Green\nB. Red\nC. Purple\nD. Orange\nAnswer:';
const TOKEN = 'fleet-test-token-0123456789';
const INTERVAL_S = 0.5;
const STALE_S = 2;

describe('fleet state: a regional gateway\'s learning as a client-side gateway\'s priors', () => {
  const stack = new Stack();
  let edge, cloud, regional, client, stranger;
  const config = (fleet) => ({
    server: { threads: 2 },
    routing: { policy: 'adaptive' },
    fleet,
    backends: [
      backend('edge-mec', 'edge', edge, { models: [MODELS.edge], price: { gpu_per_hour: 1.006, gpu_tokens_per_second: 495 }, health_check: { enabled: false } }),
      backend('cloud-api', 'cloud', cloud, { models: [MODELS.cloud], price: { input_per_1m: 2.5, output_per_1m: 10 }, health_check: { enabled: false } }),
    ],
  });
  before(async () => {
    [edge, cloud] = await Promise.all([stack.emulator('edge'), stack.emulator('cloud')]);
    regional = await stack.gateway(config({ publish: true, token_env: 'MEC_FLEET_TOKEN' }), { env: { MEC_FLEET_TOKEN: TOKEN } });
    const pull = { url: `${regional.base}/v1/fleet/state`, interval_s: INTERVAL_S, stale_s: STALE_S, token_env: 'MEC_FLEET_TOKEN' };
    [client, stranger] = await Promise.all([
      stack.gateway(config(pull), { env: { MEC_FLEET_TOKEN: TOKEN } }),
      stack.gateway(config(pull), { env: { MEC_FLEET_TOKEN: 'not-the-token' } }),
    ]);
  });
  after(() => stack.close());

  const ask = async (gw, i) => {
    const r = await postJson(`${gw.url}/chat/completions`, { model: 'auto', max_tokens: 4, messages: [{ role: 'user', content: `${EASY} (${i})` }] }, { headers: HEADERS });
    assert.equal(r.status, 200, r.text);
    return r;
  };
  const tier = async (gw, i) => (await ask(gw, i)).headers.get('x-mec-tier');
  const metrics = async (gw) => (await request(`${gw.base}/metrics`)).text;
  const fleet = async (gw) => (await getJson(`${gw.base}/api/fleet`)).json;
  const edgeView = async (gw) => (await getJson(`${gw.base}/api/dashboard`)).json.backends.find((b) => b.name === 'edge-mec');
  const pulled = (m, result) => Number((new RegExp(`mecrouter_fleet_pull_total\\{result="${result}"\\} (\\d+)`).exec(m) || [])[1]);

  test('GET /v1/fleet/state needs the bearer token: 401 in OpenAI\'s format without it; the state, versioned, with it', { timeout: 30000 }, async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: TOKEN }]) {
      const r = await getJson(`${regional.base}/v1/fleet/state`, { headers });
      assert.equal(r.status, 401, r.text);
      assert.equal(r.json.error.code, 'invalid_api_key');
      assert.equal(r.json.error.type, 'invalid_request_error');
      assert.match(r.json.error.message, /fleet\.token_env/);
      assert.match(r.headers.get('www-authenticate'), /^Bearer/);
    }
    const post = await postJson(`${regional.base}/v1/fleet/state`, {}, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(post.status, 405, post.text);
    const r = await getJson(`${regional.base}/v1/fleet/state`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.version, 1);
    assert.ok(Math.abs(r.json.generated_unix_ms - Date.now()) < 60000, r.text);
    assert.deepEqual(r.json.backends.map((b) => b.name), ['edge-mec', 'cloud-api']);
    for (const b of r.json.backends) {
      for (const k of ['ttft', 'tpot', 'rtt']) assert.ok(b[k].median_s > 0 && b[k].sigma > 0 && b[k].weight >= 0, JSON.stringify(b));
      assert.equal(b.health, 'healthy');
      assert.equal(b.ejected_for_s, 0);
    }
    assert.equal(typeof r.json.quality.complexity_model, 'string');
    assert.ok(r.json.quality.complexity_model.length > 0);
    // A gateway that does not publish has no such URL.
    assert.equal((await getJson(`${client.base}/v1/fleet/state`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 404);
    // The client pulls; the one with the wrong token is refused, says so once, and keeps serving.
    assert.ok(await waitFor(async () => pulled(await metrics(client), 'ok') >= 2, { timeoutMs: 5000 }), await metrics(client));
    assert.match(await metrics(client), /mecrouter_fleet_state_fresh 1/);
    assert.ok(await waitFor(async () => pulled(await metrics(stranger), 'refused') >= 3, { timeoutMs: 5000 }), await metrics(stranger));
    const s = await fleet(stranger);
    assert.equal(s.fresh, false);
    assert.match(s.last_error, /HTTP 401/);
    assert.equal(stranger.err.split('\n').filter((l) => /fleet state not applied/.test(l)).length, 1, stranger.err);
    assert.equal(await tier(stranger, 0), 'edge');
    const m = await metrics(regional);
    assert.match(m, /mecrouter_fleet_publish_total\{result="unauthorized"\} [1-9]/);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: await metrics(client), encoding: 'utf8' });
    assert.ok(!check.error, `promtool not runnable (install the Debian package 'prometheus'): ${check.error}`);
    assert.equal(check.status, 0, `promtool check metrics failed:\n${check.stdout}${check.stderr}`);
  });

  test('the client routes away from an edge only the regional gateway saw slow down, after its next pull', { timeout: 60000 }, async () => {
    assert.equal(await tier(regional, 0), 'edge');
    await edge.fault({ slowdown: 25 });
    // Only the regional gateway sees traffic: requests pinned to the edge measure the slowdown
    // (over a second each), and then its own routing moves away from the edge.
    const pinned = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map((k) => postJson(`${regional.url}/chat/completions`,
      { model: 'edge', max_tokens: 4, messages: [{ role: 'user', content: `${EASY} (pinned ${k})` }] })));
    for (const r of pinned) assert.equal(r.headers.get('x-mec-tier'), 'edge', r.text);
    assert.equal(await tier(regional, 1), 'cloud');
    // The client's next pull carries it: its edge estimate is now the fleet's (slow), with no data of its own.
    const since = Date.now();
    assert.ok(await waitFor(async () => (await fleet(client)).generated_unix_ms > since, { timeoutMs: 5000 }), JSON.stringify(await fleet(client)));
    const view = await edgeView(client);
    assert.equal(view.fleet_prior, true, JSON.stringify(view));
    const published = (await getJson(`${regional.base}/v1/fleet/state`, { headers: { authorization: `Bearer ${TOKEN}` } })).json.backends[0];
    assert.equal(view.observations, 0, 'the client has no data of its own on the edge');
    assert.ok(view.ttft_median_s > 0.5, `the client's edge TTFT is the fleet's: ${JSON.stringify(view)} ${JSON.stringify(published)}`);
    const served = (await edge.stats()).served;
    const r = await ask(client, 100);
    assert.equal(r.headers.get('x-mec-tier'), 'cloud', `the client did not learn from the fleet: ${JSON.stringify(view)}`);
    assert.equal(r.headers.get('x-mec-backend'), 'cloud-api');
    assert.match(r.headers.get('x-mec-reason'), /rules out edge/, r.headers.get('x-mec-reason'));
    assert.equal((await edge.stats()).served, served, 'the client sent nothing to the slow edge');
    // The control: the gateway whose pulls are refused never learned it, and still believes in the edge.
    assert.equal(await tier(stranger, 100), 'edge');
  });

  test('the regional gateway\'s feedback per task class reaches the client as quality sums; the refused one gets none', { timeout: 60000 }, async () => {
    // Answers of the edge, each scored 0 by the app (POST /v1/feedback on the regional gateway).
    const answers = await Promise.all([0, 1, 2, 3, 4, 5].map((k) => postJson(`${regional.url}/chat/completions`,
      { model: 'edge', max_tokens: 4, messages: [{ role: 'user', content: `${EASY} (scored ${k})` }] })));
    for (const r of answers) {
      assert.equal(r.headers.get('x-mec-backend'), 'edge-mec', r.text);
      const fb = await postJson(`${regional.base}/v1/feedback`, { decision_id: r.headers.get('x-mec-decision-id'), score: 0 });
      assert.equal(fb.status, 200, fb.text);
    }
    const state = (await getJson(`${regional.base}/v1/fleet/state`, { headers: { authorization: `Bearer ${TOKEN}` } })).json;
    const mine = state.quality.classes.filter((c) => c.backend === 'edge-mec');
    assert.ok(mine.length >= 1, JSON.stringify(state.quality));
    assert.equal(mine.reduce((a, c) => a + c.n, 0), 6, JSON.stringify(mine));
    assert.equal(mine.reduce((a, c) => a + c.score, 0), 0);
    assert.ok(mine.every((c) => c.tier === 'edge'));
    // The client's next pull applies them; the gateway whose pulls are refused has none.
    assert.ok(await waitFor(async () => (await fleet(client)).quality_classes === mine.length, { timeoutMs: 5000 }), JSON.stringify(await fleet(client)));
    assert.match(await metrics(client), new RegExp(`^mecrouter_fleet_quality_classes ${mine.length}$`, 'm'));
    assert.equal((await fleet(stranger)).quality_classes, 0);
  });

  test('stopping the regional gateway does not block the client; its priors lapse when stale', { timeout: 60000 }, async () => {
    await edge.fault({ slowdown: 1 });
    regional.kill('SIGKILL');
    await regional.waitExit(5000);
    // Requests answer at once while pulls fail (the edge still looks slow: the last pull is fresh).
    for (let i = 0; i < 5; ++i) {
      const t0 = Date.now();
      const r = await ask(client, 200 + i);
      assert.ok(Date.now() - t0 < 1500, `a request took ${Date.now() - t0} ms with the regional gateway gone`);
      assert.equal(r.headers.get('x-mec-tier'), 'cloud');
    }
    assert.ok(await waitFor(async () => pulled(await metrics(client), 'unreachable') >= 1, { timeoutMs: 5000 }), await metrics(client));
    // stale_s after the last good pull, the configured priors are back: the edge again, never having been tried.
    assert.ok(await waitFor(async () => (await fleet(client)).fresh === false, { timeoutMs: 2 * STALE_S * 1000 }), JSON.stringify(await fleet(client)));
    assert.ok(await waitFor(async () => (await edgeView(client)).fleet_prior === false, { timeoutMs: 1000 }), JSON.stringify(await edgeView(client)));
    // The fleet's quality sums (the edge's poor scores of the test before) are cleared at the
    // poller's first turn after the state went stale.
    assert.ok(await waitFor(async () => (await fleet(client)).quality_classes === 0, { timeoutMs: 3000 }), JSON.stringify(await fleet(client)));
    assert.match(await metrics(client), /mecrouter_fleet_state_fresh 0/);
    assert.equal(await tier(client, 300), 'edge');
    assert.equal(client.err.split('\n').filter((l) => /fleet state not applied \(unreachable\)/.test(l)).length, 1, client.err);
    assert.deepEqual(stack.deaths().filter((d) => !d.startsWith('gateway (pid ' + regional.pid)), []);
  });
});
