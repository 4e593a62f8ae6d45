// API keys, limits and secrets (issue 18, docs/security.md), end to end:
//   - the official `openai` client sees the errors it knows: 401 AuthenticationError (no key, an
//     unknown or a revoked key), 403 PermissionDeniedError (a tier, model or privacy the key does
//     not allow), 429 RateLimitError with Retry-After (rpm) and with code `insufficient_quota`
//     (budget); answers carry OpenAI's x-ratelimit-* headers; a request refused for its form (400,
//     415) is charged to no limit;
//   - `mecrouter keys` changes reach a running gateway within 1 s (same file), and /v1/usage;
//   - the admin API needs the operator token (a key holder's key does not open it);
//   - three gateways, one real redis-server, 200 concurrent requests on one key: spend never passes
//     the budget by more than one request's maximum cost, an RPM limit of 60 admits exactly 60, a
//     key revoked through one replica's admin API is refused by the others within 1 s;
//   - nothing leaks: no key, token or upstream credential in any log line, decision-log row, metric
//     or dashboard payload.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import OpenAI from 'openai';
import { Stack, BIN, backend, postJson, getJson, request, waitFor, sleep, MODELS, closedPort, tryConnect, expectOpenAIError } from './lib.mjs';

const TOKEN = 'op-token-7f3a9c1e5b2d4f60';                 // the operator (admin) token
const UPSTREAM_SECRET = 'sk-upstream-4d9b1f7e2a6c8e03';    // a backend's credential
const PROMPT_SECRET = 'zebra-lantern-91735';               // a secret inside a prompt

// `mecrouter keys --db DB ARGS...`: returns the key (alone on the last line) for create/rotate.
function keysCli(db, ...args) {
  const out = execFileSync(BIN, ['keys', '--db', db, ...args], { encoding: 'utf8', env: { ...process.env, USER: 'tester' } });
  return { out, key: out.trim().split('\n').pop() };
}

const cheapCloud = (target, extra = {}) => backend('cloud-api', 'cloud', target, {
  models: [MODELS.cloud], api_key_env: 'MEC_KEYS_TEST_UPSTREAM',
  price: { input_per_1m: 0, output_per_1m: 10000 },  // $0.01 per output token: costs are easy to bound
  ...extra,
});

// Leaves at least `need_s` seconds in the current minute (RPM windows are Unix minutes,
// src/auth/limits.cc).
async function roomInMinute(needS) {
  const left = 60 - (Date.now() / 1000) % 60;
  if (left < needS) await sleep(left * 1000 + 100);
}

describe('one gateway with API keys', () => {
  const stack = new Stack();
  let gw, db, decisions, keys = {};
  const secrets = () => [TOKEN, UPSTREAM_SECRET, PROMPT_SECRET, ...Object.values(keys)];
  const client = (apiKey) => new OpenAI({ baseURL: gw.url, apiKey, maxRetries: 0, timeout: 20000 });
  const ask = (c, extra = {}) => c.chat.completions.create({ model: 'auto', max_tokens: 4, messages: [{ role: 'user', content: `Say hi. ${Math.random()}` }], ...extra });

  before(async () => {
    const [edge, cloud] = await Promise.all([stack.emulator('edge'), stack.emulator('cloud')]);
    db = stack.file('keys.db', '');
    decisions = stack.file('decisions.db', '');
    keys.main = keysCli(db, 'create', '--name', 'main', '--rpm', '1000').key;
    keys.rpm = keysCli(db, 'create', '--name', 'rpm3', '--rpm', '3').key;
    keys.edgeOnly = keysCli(db, 'create', '--name', 'edge-only', '--tiers', 'device,edge', '--privacy', 'edge', '--models', MODELS.edge).key;
    keys.budget = keysCli(db, 'create', '--name', 'tiny-budget', '--budget-usd', '0.05', '--budget-period', '1d').key;
    keys.revoked = keysCli(db, 'create', '--name', 'gone').key;
    keysCli(db, 'revoke', 'gone');
    gw = await stack.gateway({
      server: { threads: 2 },
      routing: { auto_order: ['cloud', 'edge'] },
      auth: { keys_db: db },
      dashboard: { token_env: 'MEC_KEYS_TEST_TOKEN' },
      telemetry: { decision_log: { path: decisions, flush_ms: 50 }, access_log: { path: '-' } },
      backends: [backend('edge-mec', 'edge', edge, { models: [MODELS.edge] }), cheapCloud(cloud)],
    }, { env: { MEC_KEYS_TEST_TOKEN: TOKEN, MEC_KEYS_TEST_UPSTREAM: UPSTREAM_SECRET } });
  });
  after(() => stack.close());

  test('a missing, malformed, unknown or revoked key is a 401 AuthenticationError', async () => {
    for (const apiKey of ['unused', 'mk-' + '0'.repeat(64), keys.revoked]) {
      await assert.rejects(ask(client(apiKey)), (e) => {
        assert.ok(e instanceof OpenAI.AuthenticationError, `${e.constructor.name}: ${e.message}`);
        assert.equal(e.status, 401);
        assert.equal(e.code, 'invalid_api_key');
        assert.ok(!e.message.includes(apiKey), 'the error repeats the key');
        return true;
      });
    }
    const none = await postJson(`${gw.url}/chat/completions`, { model: 'auto', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(none.status, 401);
    expectOpenAIError(assert, none.json, 401, { code: 'invalid_api_key' });
  });

  test('a good key is served, with x-ratelimit headers and the key name in the decision log', async () => {
    const { data, response } = await ask(client(keys.rpm)).withResponse();
    assert.ok(data.choices[0].message.content.length > 0);
    assert.equal(response.headers.get('x-ratelimit-limit-requests'), '3');
    assert.equal(response.headers.get('x-ratelimit-remaining-requests'), '2');
    assert.match(response.headers.get('x-ratelimit-reset-requests'), /^[0-9.]+s$/);
    assert.equal(response.headers.get('x-ratelimit-limit-tokens'), null);  // no token limit: not sent
  });

  test('a tier, model or privacy the key does not allow is a 403 PermissionDeniedError; otherwise the key narrows routing', async () => {
    const c = client(keys.edgeOnly);
    for (const [extra, opts] of [[{ model: 'cloud' }, {}], [{ model: MODELS.cloud }, {}], [{}, { headers: { 'X-MEC-Privacy': 'any' } }]]) {
      await assert.rejects(c.chat.completions.create({ model: 'auto', max_tokens: 4, messages: [{ role: 'user', content: 'x' }], ...extra }, opts), (e) => {
        assert.ok(e instanceof OpenAI.PermissionDeniedError, `${JSON.stringify(extra)} ${JSON.stringify(opts)}: ${e.constructor.name} ${e.message}`);
        assert.equal(e.code, 'permission_denied');
        return true;
      });
    }
    // `auto` with the cloud first in auto_order: the key's tiers keep it on the edge.
    const { response } = await ask(c).withResponse();
    assert.equal(response.headers.get('x-mec-tier'), 'edge');
  });

  test('over the RPM limit is a 429 RateLimitError with Retry-After; refused forms (400, 415) are not charged', async () => {
    const name = 'rpm2';
    const key = keysCli(db, 'create', '--name', name, '--rpm', '2').key;
    keys[name] = key;
    await waitFor(async () => (await getJson(`${gw.url}/usage`, { headers: { Authorization: `Bearer ${key}` } })).status === 200, { timeoutMs: 2000 });
    const auth = { Authorization: `Bearer ${key}` };
    for (let i = 0; i < 3; i++) {
      const bad = await postJson(`${gw.url}/chat/completions`, { model: 'auto', messages: 'not a list' }, { headers: auth });
      assert.equal(bad.status, 400, bad.text);
      const text = await request(`${gw.url}/chat/completions`, { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: '{}' });
      assert.equal(text.status, 415, text.text);
      expectOpenAIError(assert, text.json, 415, { code: 'unsupported_media_type' });
    }
    // The three requests and the usage check must fall in one minute, or the third is rightly
    // served (one run failed here; a minute ending between the requests is the likely cause).
    await roomInMinute(10);
    const c = client(key);
    await ask(c);
    await ask(c);
    await assert.rejects(ask(c), (e) => {
      assert.ok(e instanceof OpenAI.RateLimitError, `${e.constructor.name}: ${e.message}`);
      assert.equal(e.code, 'rate_limit_exceeded');
      const retry = Number(e.headers.get('retry-after'));
      assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
      assert.equal(e.headers.get('x-ratelimit-remaining-requests'), '0');
      return true;
    });
    const usage = await getJson(`${gw.url}/usage`, { headers: auth });
    assert.equal(usage.status, 200);
    assert.equal(usage.json.key, name);
    assert.equal(usage.json.requests_this_minute, 2);
    assert.equal(usage.json.limits.rpm, 2);
    assert.equal(usage.json.in_flight, 0);
  });

  test('a spent budget is a 429 with the code insufficient_quota, and spend stays within one maximum cost of it', async () => {
    const c = client(keys.budget);
    let served = 0;
    let refusal;
    for (let i = 0; i < 20 && !refusal; i++) {
      try {
        await ask(c);
        served++;
      } catch (e) {
        refusal = e;
      }
    }
    assert.ok(refusal, 'the budget never ran out');
    assert.ok(refusal instanceof OpenAI.RateLimitError, refusal.constructor.name);
    assert.equal(refusal.code, 'insufficient_quota');
    assert.equal(refusal.type, 'insufficient_quota');
    assert.ok(served >= 1 && served <= 6, `served ${served}`);  // $0.05 at <= $0.04 each
    const usage = (await getJson(`${gw.url}/usage`, { headers: { Authorization: `Bearer ${keys.budget}` } })).json;
    assert.ok(usage.spend_usd >= 0.05 && usage.spend_usd <= 0.05 + 0.04 + 1e-9, `spend ${usage.spend_usd}`);
    assert.equal(usage.remaining_usd, 0);
  });

  test('a key the CLI creates works within 1 s, one it revokes is refused within 1 s, without a restart', async () => {
    const { key } = keysCli(db, 'create', '--name', 'late');
    keys.late = key;
    const auth = { headers: { Authorization: `Bearer ${key}` } };
    let t0 = Date.now();
    assert.ok(await waitFor(async () => (await getJson(`${gw.url}/usage`, auth)).status === 200, { timeoutMs: 3000, intervalMs: 20 }));
    assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
    keysCli(db, 'revoke', 'late');
    t0 = Date.now();
    assert.ok(await waitFor(async () => (await getJson(`${gw.url}/usage`, auth)).status === 401, { timeoutMs: 3000, intervalMs: 20 }));
    assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
    const audit = keysCli(db, 'audit').out;
    assert.match(audit, /cli:tester\s+revoke\s+late/);
  });

  test('the admin API needs the operator token; a key holder\'s key opens nothing of it', async () => {
    const body = { name: 'from-api', rpm: 10, tiers: ['edge'] };
    for (const headers of [{}, { Authorization: `Bearer ${keys.main}` }]) {
      const r = await postJson(`${gw.base}/admin/keys`, body, { headers });
      assert.equal(r.status, 401, r.text);
      assert.equal((await getJson(`${gw.base}/admin/keys`, { headers })).status, 401);
      assert.equal((await getJson(`${gw.base}/dashboard`, { headers })).status, 401);
    }
    const admin = { Authorization: `Bearer ${TOKEN}` };
    const text = await request(`${gw.base}/admin/keys`, { method: 'POST', headers: { ...admin, 'content-type': 'text/plain' }, body: JSON.stringify(body) });
    assert.equal(text.status, 415);
    const made = await postJson(`${gw.base}/admin/keys`, body, { headers: admin });
    assert.equal(made.status, 201, made.text);
    assert.match(made.json.key, /^mk-[0-9a-f]{64}$/);
    keys.api = made.json.key;
    assert.deepEqual(made.json.tiers, ['edge']);
    const list = await getJson(`${gw.base}/admin/keys`, { headers: admin });
    assert.equal(list.status, 200);
    assert.ok(list.json.data.some((k) => k.name === 'from-api'));
    assert.ok(!list.text.includes(keys.api), 'the list shows a key');
    assert.ok(!/"hash"|"salt"/.test(list.text), 'the list shows a hash');
    const rotated = await postJson(`${gw.base}/admin/keys/from-api/rotate`, {}, { headers: admin });
    assert.equal(rotated.status, 200, rotated.text);
    keys.apiRotated = rotated.json.key;
    assert.ok(await waitFor(async () => (await getJson(`${gw.url}/usage`, { headers: { Authorization: `Bearer ${keys.api}` } })).status === 401, { timeoutMs: 2000 }));
    assert.equal((await getJson(`${gw.url}/usage`, { headers: { Authorization: `Bearer ${keys.apiRotated}` } })).status, 200);
    const audit = await getJson(`${gw.base}/admin/keys-audit`, { headers: admin });
    assert.ok(audit.json.data.some((e) => e.who === 'admin-api' && e.action === 'rotate' && e.name === 'from-api'));
    assert.equal((await getJson(`${gw.base}/admin/keys/nobody`, { headers: admin })).status, 404);
  });

  test('nothing leaks: no key, token, upstream credential or prompt secret in logs, decision log, metrics or dashboard', async () => {
    const c = client(keys.main);
    await c.chat.completions.create({ model: 'auto', max_tokens: 4, messages: [{ role: 'user', content: `My password is ${PROMPT_SECRET}.` }] });
    const stream = await c.chat.completions.create({ model: 'auto', max_tokens: 4, stream: true, messages: [{ role: 'user', content: `Again: ${PROMPT_SECRET}` }] });
    for await (const _ of stream) { /* drain */ }
    // Errors that name what was wrong must not echo a secret either.
    await assert.rejects(ask(client(keys.main.slice(0, -1) + 'x')));
    await postJson(`${gw.url}/chat/completions`, { model: 'nope', messages: [{ role: 'user', content: PROMPT_SECRET }] }, { headers: { Authorization: `Bearer ${keys.main}` } });
    await sleep(300);  // the decision log's batch
    const admin = { headers: { Authorization: `Bearer ${TOKEN}` } };
    const outputs = {
      'gateway stdout': gw.out,
      'gateway stderr (access log)': gw.err,
      metrics: (await getJson(`${gw.base}/metrics`)).text,
      'api/dashboard': (await getJson(`${gw.base}/api/dashboard`, admin)).text,
      'api/decisions': (await getJson(`${gw.base}/api/decisions`, admin)).text,
      'api/stats': (await getJson(`${gw.base}/api/stats`, admin)).text,
      'admin/keys': (await getJson(`${gw.base}/admin/keys`, admin)).text,
      'admin/keys-audit': (await getJson(`${gw.base}/admin/keys-audit`, admin)).text,
      'keys list': keysCli(db, 'list').out,
      'keys audit': keysCli(db, 'audit').out,
    };
    for (const f of [decisions, `${decisions}-wal`, db, `${db}-wal`]) if (existsSync(f)) outputs[f] = readFileSync(f).toString('latin1');
    assert.match(outputs['api/dashboard'], /"keys":\[.*\{"name":"main","requests":[1-9]/);  // spend and requests per key name
    assert.match(outputs.metrics, /mec_key_requests_total\{key="main"\} [1-9]/);
    assert.match(outputs['gateway stderr (access log)'], /"key":"main"/);  // the name is what logs show
    assert.ok(outputs[decisions].includes('main') || (outputs[`${decisions}-wal`] || '').includes('main'), 'the decision log has the key name');
    for (const [where, text] of Object.entries(outputs))
      for (const s of secrets()) assert.ok(!text.includes(s), `${where} contains the secret ${s.slice(0, 6)}…`);
    assert.deepEqual(stack.deaths(), []);
  });
});

describe('three replicas sharing limits through Redis', () => {
  const stack = new Stack();
  let redis, replicas;
  const admin = { Authorization: `Bearer ${TOKEN}` };

  before(async () => {
    const port = await closedPort();
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    assert.ok(await waitFor(async () => (await tryConnect(port, 200)) === 'connected', { timeoutMs: 5000, intervalMs: 50 }), 'redis-server did not start');
    const cloud = await stack.emulator('cloud', { threads: 2 });
    // Each replica its own keys file (no shared disk): keys travel through Redis only.
    // redis_timeout_ms is generous so that every admission here is decided by the shared counts
    // (the exact bounds hold for those; the local-share fallback has its own, looser one).
    replicas = await Promise.all([0, 1, 2].map((i) => stack.gateway({
      server: { threads: 2 },
      auth: { keys_db: stack.file(`keys-${i}.db`, ''), redis_timeout_ms: 2000 },
      state: { url: `redis://127.0.0.1:${port}` },
      cache: { enabled: false },
      dashboard: { token_env: 'MEC_KEYS_TEST_TOKEN' },
      backends: [cheapCloud(cloud)],
    }, { env: { MEC_KEYS_TEST_TOKEN: TOKEN, MEC_KEYS_TEST_UPSTREAM: UPSTREAM_SECRET } })));
  });
  after(() => {
    if (redis.exitCode === null) redis.kill('SIGKILL');
    return stack.close();
  });

  // Creates a key through replica 0's admin API and waits until all three know it.
  async function sharedKey(body) {
    const made = await postJson(`${replicas[0].base}/admin/keys`, body, { headers: admin });
    assert.equal(made.status, 201, made.text);
    const auth = { headers: { Authorization: `Bearer ${made.json.key}` } };
    for (const r of replicas)
      assert.ok(await waitFor(async () => (await getJson(`${r.url}/usage`, auth)).status === 200, { timeoutMs: 2000, intervalMs: 20 }), 'the key did not reach a replica');
    return made.json.key;
  }

  // 200 requests at once, spread over the three replicas; returns the statuses and error codes.
  async function burst(key, n = 200) {
    const one = async (i) => {
      const r = await postJson(`${replicas[i % 3].url}/chat/completions`,
        { model: 'auto', max_tokens: 4, messages: [{ role: 'user', content: `Count to three (${i}).` }] },
        { headers: { Authorization: `Bearer ${key}` }, timeoutMs: 60000 });
      return { status: r.status, code: r.json?.error?.code };
    };
    return Promise.all(Array.from({ length: n }, (_, i) => one(i)));
  }

  test('200 concurrent requests on one budget: spend passes the budget by at most one request\'s maximum cost', { timeout: 120000 }, async (t) => {
    const key = await sharedKey({ name: 'fleet-budget', budget_usd: 0.5, budget_period: '1d' });
    const results = await burst(key);
    const ok = results.filter((r) => r.status === 200).length;
    const quota = results.filter((r) => r.status === 429 && r.code === 'insufficient_quota').length;
    assert.equal(ok + quota, 200, JSON.stringify(results.filter((r) => r.status !== 200 && r.code !== 'insufficient_quota').slice(0, 3)));
    const usage = (await getJson(`${replicas[2].url}/usage`, { headers: { Authorization: `Bearer ${key}` } })).json;
    assert.equal(usage.source, 'shared');
    // One request's maximum cost: 4 output tokens at $0.01.
    assert.ok(usage.spend_usd <= 0.5 + 0.04 + 1e-9, `spend ${usage.spend_usd} with ${ok} answers`);
    assert.ok(usage.spend_usd >= 0.5 - 0.04, `spend ${usage.spend_usd}: the budget was not used`);
    t.diagnostic(`budget $0.50: ${ok} answers, ${quota} insufficient_quota, spend $${usage.spend_usd}`);
    assert.ok(ok >= 13, `answers ${ok}`);  // $0.50 at <= $0.04 each: 12 reservations leave room for a 13th
    // A request settles its reservation after its answer is sent (in Redis): the last one may still
    // be settling when the burst's answers are all in. Nothing may stay in flight.
    const settled = await waitFor(async () => (await getJson(`${replicas[2].url}/usage`, { headers: { Authorization: `Bearer ${key}` } })).json.in_flight === 0,
      { timeoutMs: 2000, intervalMs: 20 });
    assert.ok(settled, 'a reservation stayed in flight');
  });

  test('an RPM limit of 60 admits exactly 60 of 200 across the three replicas', { timeout: 120000 }, async (t) => {
    const key = await sharedKey({ name: 'fleet-rpm', rpm: 60 });
    await roomInMinute(20);  // the burst takes a few seconds
    const results = await burst(key);
    const ok = results.filter((r) => r.status === 200).length;
    const limited = results.filter((r) => r.status === 429 && r.code === 'rate_limit_exceeded').length;
    t.diagnostic(`rpm 60: ${ok} answers, ${limited} rate_limit_exceeded`);
    assert.equal(ok, 60);
    assert.equal(limited, 140);
    for (const r of replicas) {
      const m = (await getJson(`${r.base}/metrics`, { headers: admin })).text;
      assert.match(m, /mec_auth_fallback_total 0\b/, 'an admission fell back to the local share');
    }
  });

  test('a key revoked through one replica\'s admin API is refused by the others within 1 s', async () => {
    const key = await sharedKey({ name: 'fleet-revoke' });
    const t0 = Date.now();
    const r = await postJson(`${replicas[1].base}/admin/keys/fleet-revoke/revoke`, {}, { headers: admin });
    assert.equal(r.status, 200, r.text);
    const auth = { headers: { Authorization: `Bearer ${key}` } };
    for (const gw of [replicas[0], replicas[2]]) {
      assert.ok(await waitFor(async () => (await getJson(`${gw.url}/usage`, auth)).status === 401, { timeoutMs: 3000, intervalMs: 20 }));
    }
    assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
    const refused = await postJson(`${replicas[2].url}/chat/completions`, { model: 'auto', max_tokens: 2, messages: [{ role: 'user', content: 'hi' }] }, auth);
    assert.equal(refused.status, 401);
    assert.deepEqual(stack.deaths(), []);
  });

  test('with Redis gone each replica admits on its local share, says so in /metrics, and nothing hangs', { timeout: 60000 }, async () => {
    const key = await sharedKey({ name: 'fleet-fallback', rpm: 6 });
    redis.kill('SIGKILL');
    await new Promise((r) => (redis.exitCode !== null || redis.signalCode !== null ? r() : redis.once('exit', r)));
    const auth = { headers: { Authorization: `Bearer ${key}` }, timeoutMs: 10000 };
    // Three live replicas were seen: each admits 6 / 3 = 2 requests a minute on its own.
    await roomInMinute(15);
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      const r = await postJson(`${replicas[0].url}/chat/completions`, { model: 'auto', max_tokens: 2, messages: [{ role: 'user', content: `fallback ${i}` }] }, auth);
      assert.ok(Date.now() - t0 < 5000, 'a request hung on the missing Redis');
      statuses.push(r.status);
    }
    assert.deepEqual(statuses, [200, 200, 429]);
    const m = (await getJson(`${replicas[0].base}/metrics`, { headers: admin })).text;
    assert.match(m, /mec_auth_redis_up 0\b/);
    assert.match(m, /mec_auth_fallback_total [3-9]\b/);
    assert.deepEqual(stack.deaths(), []);
  });
});
