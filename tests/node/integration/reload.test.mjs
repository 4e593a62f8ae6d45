// SIGHUP reloads the configuration (docs/reload.md): backends, routing and keys change without a
// failed request or a dropped connection. Requests in flight finish on the configuration they
// started on; later requests, on the same keep-alive connections too, use the new one. A file that
// does not load or build is refused with a clear log line, and the running configuration keeps
// serving.

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Stack, BIN, backend, postJson, getJson, streamChat, waitFor, sleep } from './lib.mjs';

const fast = (name) => ({ base: 'edge', name, rtt_ms: 0, base_ms: 2, decode_tokens_per_s: 400, mean_output_tokens: 12, ttft_jitter_sigma: 0,
  max_concurrency: 64, max_queue: 256 });
const body = (model, extra = {}) => ({ model, messages: [{ role: 'user', content: `Where is the depot? ${Math.random()}` }], max_tokens: 12, ...extra });

// The gateway's configuration as written to its file (the test harness adds nothing on a rewrite).
function config(stack, backends, extra = {}) {
  return {
    server: { threads: 2 },
    routing: { policy: 'preference' },
    telemetry: { decision_log: { path: stack.decisions } },
    backends: backends.map((b) => ({ health_check: { enabled: false }, ...b })),
    ...extra,
  };
}

// Sends whole and streamed requests from `workers` loops until stop() is called; returns what each got.
function load(gw, model, workers = 6) {
  const results = [];
  let running = true;
  const loops = Array.from({ length: workers }, async (_, w) => {
    for (let i = 0; running; i++) {
      const t = Date.now();
      if ((i + w) % 2 === 0) {
        const r = await postJson(`${gw.url}/chat/completions`, body(model)).catch((e) => ({ status: 0, text: String(e), headers: new Headers() }));
        results.push({ t, stream: false, status: r.status, ok: r.status === 200 && !!r.json?.choices?.[0]?.message?.content, backend: r.headers.get('x-mec-backend'), text: r.text });
      } else {
        const r = await streamChat(gw.base, body(model)).catch((e) => ({ status: 0, text: String(e), headers: new Headers() }));
        results.push({ t, stream: true, status: r.status, ok: r.status === 200 && r.done && r.doneCount === 1 && !r.errorEvent && !r.readError && r.text.length > 0,
          backend: r.headers.get('x-mec-backend'), text: r.text || r.raw });
      }
    }
  });
  return { results, stop: async () => { running = false; await Promise.all(loops); } };
}

describe('SIGHUP reloads the configuration', () => {
  const stack = new Stack();
  after(() => stack.close());

  test('under load: the new backends take over, no request fails, a stream in flight ends on the old ones', { timeout: 60000 }, async () => {
    stack.decisions = stack.file('decisions.db', '');
    const [one, two, slow] = await Promise.all([
      stack.emulator(fast('reload-model')), stack.emulator(fast('reload-model')),
      // 40 tokens at 20 tokens/s: a stream of ~2 s that spans the reload
      stack.emulator({ ...fast('reload-model'), decode_tokens_per_s: 20, mean_output_tokens: 400 }),
    ]);
    const first = config(stack, [backend('one', 'edge', one, { models: ['reload-model'] }), backend('slow', 'cloud', slow, { models: ['reload-model'] })]);
    const gw = await stack.gateway(first);
    const long = streamChat(gw.base, body('cloud', { max_tokens: 40, stream_options: { include_usage: true } }));  // pinned to the cloud tier: `slow`
    const traffic = load(gw, 'reload-model');
    await sleep(700);
    gw.rewriteConfig(config(stack, [backend('two', 'edge', two, { models: ['reload-model'] })], { routing: { policy: 'least-latency' } }));
    const tHup = Date.now();
    gw.proc.kill('SIGHUP');
    assert.ok(await waitFor(() => /SIGHUP: configuration 2 loaded from .*: 1 backends \(added two; removed one, slow\), policy least-latency \(was preference\)/.test(gw.out),
      { timeoutMs: 10000 }), gw.out + gw.err);
    const tLoaded = Date.now();  // the line is printed once every worker has swapped
    await sleep(1000);
    await traffic.stop();
    const streamed = await long;

    const failed = traffic.results.filter((r) => !r.ok);
    assert.deepEqual(failed, [], `${failed.length} of ${traffic.results.length} failed`);
    assert.ok(traffic.results.length > 50, `only ${traffic.results.length} requests`);
    const before = traffic.results.filter((r) => r.t < tHup);
    const late = traffic.results.filter((r) => r.t > tLoaded);
    assert.ok(before.length > 10 && late.length > 10, `${before.length} before, ${late.length} late`);
    assert.deepEqual([...new Set(before.map((r) => r.backend))], ['one']);
    assert.deepEqual([...new Set(late.map((r) => r.backend))], ['two']);
    // The stream that began on the first configuration ends whole, on the backend it began on.
    assert.equal(streamed.status, 200);
    assert.equal(streamed.headers.get('x-mec-backend'), 'slow');
    assert.ok(streamed.done && streamed.doneCount === 1 && !streamed.errorEvent, streamed.raw);
    assert.ok(streamed.usage?.completion_tokens >= 30, JSON.stringify(streamed.usage));
    // ... and only then is the first configuration stopped: its decision log's last rows written.
    assert.ok(await waitFor(() => /mecrouter: configuration 1: decision log .*: \d+ rows written/.test(gw.out), { timeoutMs: 5000 }), gw.out);
    const models = (await getJson(`${gw.url}/models`)).json;
    assert.ok(models.data.some((m) => m.id === 'reload-model'), JSON.stringify(models));
    const stats = await getJson(`${gw.base}/api/stats`);
    assert.equal(stats.status, 200);
    assert.equal(gw.proc.exitCode, null);
  });

  test('a broken file is refused and the running configuration keeps serving; keys and the policy change with the file', { timeout: 60000 }, async () => {
    const emu = await stack.emulator(fast('reload-model'));
    stack.decisions = stack.file('decisions2.db', '');
    const plain = config(stack, [backend('edge-a', 'edge', emu, { models: ['reload-model'] })]);
    const gw = await stack.gateway(plain);
    const ok = async (headers = {}) => postJson(`${gw.url}/chat/completions`, body('reload-model'), { headers });
    assert.equal((await ok()).status, 200);

    // Not YAML at all, then valid YAML naming an unknown policy, then a profile that cannot be built:
    // each refused with the reason, the first configuration still answering.
    const broken = [
      ['{ backends: [', /configuration refused, the running one keeps serving: .+/],
      [JSON.stringify({ ...plain, routing: { policy: 'no-such-policy' } }), /configuration refused, the running one keeps serving: .*unknown policy 'no-such-policy'/],
      [JSON.stringify({ ...plain, dashboard: { token_env: 'MEC_RELOAD_TEST_UNSET_TOKEN' } }), /configuration refused, the running one keeps serving: .*MEC_RELOAD_TEST_UNSET_TOKEN/],
    ];
    for (const [text, why] of broken) {
      const errBefore = gw.err.length;
      gw.rewriteConfig(text);
      gw.proc.kill('SIGHUP');
      assert.ok(await waitFor(() => why.test(gw.err.slice(errBefore)), { timeoutMs: 10000 }), gw.err.slice(errBefore));
      const r = await ok();
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get('x-mec-backend'), 'edge-a');
    }
    assert.doesNotMatch(gw.out, /configuration 2 loaded/);

    // Keys: the new file asks for them, so an anonymous request is refused and a key's is served.
    const db = stack.file('keys.db', '');
    const key = execFileSync(BIN, ['keys', '--db', db, 'create', '--name', 'reload'], { encoding: 'utf8', env: { ...process.env, USER: 'tester' } })
      .trim().split('\n').pop();
    gw.rewriteConfig(config(stack, [backend('edge-a', 'edge', emu, { models: ['reload-model'] })], { auth: { keys_db: db } }));
    gw.proc.kill('SIGHUP');
    assert.ok(await waitFor(() => /configuration 2 loaded/.test(gw.out), { timeoutMs: 10000 }), gw.out + gw.err);
    const anonymous = await ok();
    assert.equal(anonymous.status, 401, anonymous.text);
    assert.equal(anonymous.json.error.type, 'invalid_request_error');
    const keyed = await ok({ Authorization: `Bearer ${key}` });
    assert.equal(keyed.status, 200, keyed.text);

    // A change to the server section is noted as needing a restart; the rest applies.
    gw.rewriteConfig(config(stack, [backend('edge-a', 'edge', emu, { models: ['reload-model'] })], { server: { threads: 1 } }));
    gw.proc.kill('SIGHUP');
    assert.ok(await waitFor(() => /configuration 3 loaded/.test(gw.out) && /server: changes to this section take effect at restart/.test(gw.err),
      { timeoutMs: 10000 }), gw.out + gw.err);
    assert.equal((await ok()).status, 200);
    await sleep(50);
    assert.equal(gw.proc.exitCode, null);
  });
  test('the feedback apps sent carries over to the new configuration for backends of the same name and tier', { timeout: 60000 }, async () => {
    const emu = await stack.emulator(fast('reload-model'));
    stack.decisions = stack.file('decisions3.db', '');
    const TOKEN = 'reload-fleet-token-123456';
    const withFleet = (backends, extra = {}) => config(stack, backends, { fleet: { publish: true, token_env: 'MEC_RELOAD_FLEET' }, ...extra });
    const gw = await stack.gateway(withFleet([backend('edge-a', 'edge', emu, { models: ['reload-model'] })]), { env: { MEC_RELOAD_FLEET: TOKEN } });
    for (let k = 0; k < 3; k++) {
      const r = await postJson(`${gw.url}/chat/completions`, body('reload-model'));
      assert.equal(r.status, 200, r.text);
      const fb = await postJson(`${gw.base}/v1/feedback`, { decision_id: r.headers.get('x-mec-decision-id'), score: k === 0 ? 1 : 0 });
      assert.equal(fb.status, 200, fb.text);
    }
    const classes = async () => (await getJson(`${gw.base}/v1/fleet/state`, { headers: { authorization: `Bearer ${TOKEN}` } })).json.quality.classes;
    const before = await classes();
    assert.equal(before.reduce((a, c) => a + c.n, 0), 3, JSON.stringify(before));
    // Same backend, another policy: the feedback stays. The same name on another tier: it does not.
    gw.rewriteConfig(withFleet([backend('edge-a', 'edge', emu, { models: ['reload-model'] })], { routing: { policy: 'least-latency' } }));
    gw.proc.kill('SIGHUP');
    assert.ok(await waitFor(() => /configuration 2 loaded/.test(gw.out), { timeoutMs: 10000 }), gw.out + gw.err);
    assert.deepEqual(await classes(), before);
    gw.rewriteConfig(withFleet([backend('edge-a', 'cloud', emu, { models: ['reload-model'] })]));
    gw.proc.kill('SIGHUP');
    assert.ok(await waitFor(() => /configuration 3 loaded/.test(gw.out), { timeoutMs: 10000 }), gw.out + gw.err);
    assert.deepEqual(await classes(), []);
  });
});
