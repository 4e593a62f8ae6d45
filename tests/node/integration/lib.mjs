// Helpers for the end-to-end tests: real mecrouter processes (emulators and the gateway) on
// loopback, configs written to a temp dir, HTTP/SSE/raw-socket clients with bounded timeouts.
//
// Every child process is registered with a Stack; call stack.close() in an `after` hook. As a last
// resort, children still alive when the test process exits are SIGKILLed.

import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import net from 'node:net';

const here = dirname(fileURLToPath(import.meta.url));
export const BIN = process.env.MECROUTER_BIN || resolve(here, '../../../build/asan/mecrouter');

const live = new Set();
process.on('exit', () => {
  for (const p of live) {
    try { p.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn() until it returns a truthy value or timeoutMs passes; returns the last value.
export async function waitFor(fn, { timeoutMs = 5000, intervalMs = 25 } = {}) {
  const end = Date.now() + timeoutMs;
  let v;
  for (;;) {
    v = await fn();
    if (v || Date.now() >= end) return v;
    await sleep(intervalMs);
  }
}

// JSON is a subset of YAML 1.2 and yaml-cpp reads flow style, so configs are written as JSON.
function toYaml(obj) {
  return JSON.stringify(obj, null, 2) + '\n';
}

// A started mecrouter process.
export class Child {
  constructor(proc, name) {
    this.proc = proc;
    this.name = name;
    this.out = '';
    this.err = '';
    this.exitCode = undefined;
    this.signal = undefined;
    this.exited = new Promise((res) => {
      proc.on('exit', (code, signal) => {
        this.exitCode = code;
        this.signal = signal;
        live.delete(proc);
        res({ code, signal });
      });
    });
    proc.stdout.setEncoding('utf8');
    proc.stderr.setEncoding('utf8');
    proc.stdout.on('data', (d) => { this.out += d; });
    proc.stderr.on('data', (d) => { this.err += d; });
  }

  get pid() { return this.proc.pid; }
  get alive() { return this.exitCode === undefined && this.signal === undefined; }

  kill(signal = 'SIGKILL') {
    this.expectedExit = true;
    if (this.alive) {
      try { this.proc.kill(signal); } catch { /* raced with exit */ }
    }
  }

  // Waits for the exit, at most timeoutMs; returns {code, signal} or null on timeout.
  async waitExit(timeoutMs) {
    let timer;
    const t = new Promise((res) => { timer = setTimeout(() => res(null), timeoutMs); });
    const r = await Promise.race([this.exited, t]);
    clearTimeout(timer);
    return r;
  }

  // The lines of a sanitizer report that matter: what happened, and the project's own frames.
  sanitizerReport() {
    const keep = /ERROR: AddressSanitizer|ERROR: LeakSanitizer|SUMMARY:|^(READ|WRITE) of size|^freed by|^previously allocated|^Direct leak|^Indirect leak|^\s+#\d+ \S+ in .*\/src\/(?!.*(boost|libsanitizer))/;
    return this.err.split('\n').filter((l) => keep.test(l)).map((l) => l.replace(/ 0x[0-9a-f]+ in /, ' ')).join('\n');
  }

  describe() {
    const report = this.sanitizerReport();
    const err = report ? `sanitizer report (project frames):\n${report}` : `stderr:\n${this.err.slice(-4000)}`;
    return `${this.name} (pid ${this.pid}, exit ${this.exitCode ?? this.signal ?? 'running'}) stdout:\n${this.out.slice(-600)}\n${err}`;
  }
}

async function startChild(args, readyRe, name, { timeoutMs = 15000, env } = {}) {
  const proc = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  live.add(proc);
  const child = new Child(proc, name);
  const started = Date.now();
  const m = await waitFor(() => (child.alive ? readyRe.exec(child.out) : 'exited'), { timeoutMs, intervalMs: 10 });
  if (!m || m === 'exited') {
    child.kill('SIGKILL');
    throw new Error(`${name} did not start within ${Date.now() - started} ms (exit ${child.exitCode}): ${child.describe()}`);
  }
  child.port = Number(m[1]);
  return child;
}

// Owns a temp dir and every process a test file starts.
export class Stack {
  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'mecrouter-it-'));
    this.children = [];
    this.servers = [];
    this.n = 0;
  }

  file(name, text) {
    const p = join(this.dir, `${this.n++}-${name}`);
    writeFileSync(p, text);
    return p;
  }

  // profile: 'device' | 'edge' | 'cloud' | 'zero' (shipped, unmodified) or an object of TierProfile
  // fields (written to a YAML profile file). flavor: an engine flavor (emulate --flavor); listen:
  // HOST:PORT instead of a free port; args: more command-line arguments.
  async emulator(profile, { threads, flavor, listen = '127.0.0.1:0', args: extra = [] } = {}) {
    const arg = typeof profile === 'string' ? profile : this.file('profile.yaml', toYaml(profile));
    const args = ['emulate', '--profile', arg, '--listen', listen, ...extra];
    if (threads) args.push('--threads', String(threads));
    if (flavor) args.push('--flavor', flavor);
    const c = await startChild(args, /listening on http:\/\/127\.0\.0\.1:(\d+)\/v1/, `emulator ${typeof profile === 'string' ? profile : profile.name || 'custom'}`);
    c.base = `http://127.0.0.1:${c.port}`;
    c.url = `${c.base}/v1`;
    c.stats = async () => (await getJson(`${c.base}/admin/stats`)).json;
    c.fault = async (f) => {
      const r = await postJson(`${c.base}/admin/fault`, f);
      if (r.status !== 200) throw new Error(`POST /admin/fault ${JSON.stringify(f)}: ${r.status} ${r.text}`);
      return r.json;
    };
    this.children.push(c);
    return c;
  }

  // config: {backends, server, routing} as objects (see src/config/loader.cc).
  // Tests of the transport (failover, limits, streaming) pin the `preference` policy so that "auto"
  // follows routing.auto_order; the routing tests set `policy` themselves.
  // They also turn off active health checks and outlier ejection unless a backend sets them, so
  // that every failure they inject reaches the executor's failover.
  async gateway(config, { env } = {}) {
    if (!config.routing?.policy) {
      config = {
        ...config,
        routing: { policy: 'preference', ...(config.routing || {}) },
        backends: (config.backends || []).map((b) => ({
          health_check: { enabled: false },
          outlier: { consecutive_local_failures: 0, consecutive_upstream_failures: 0 },
          ...b,
        })),
      };
    }
    const path = this.file('gateway.yaml', toYaml(config));
    const c = await startChild(['serve', '--config', path, '--listen', '127.0.0.1:0'],
      /mecrouter: listening on http:\/\/127\.0\.0\.1:(\d+) /, 'gateway', { env });
    c.configPath = path;
    // Rewrites the gateway's configuration file (as given, no defaults added) for a SIGHUP reload.
    c.rewriteConfig = (next) => writeFileSync(path, typeof next === 'string' ? next : toYaml(next));
    c.base = `http://127.0.0.1:${c.port}`;
    c.url = `${c.base}/v1`;
    // The outcome of a request is counted just after its last byte is written, so a client
    // can read the stats a moment early: wait (up to 1 s) until nothing is in flight.
    c.rawStats = async () => (await getJson(`${c.base}/api/stats`)).json;
    c.stats = async () => {
      const end = Date.now() + 1000;
      let s = await c.rawStats();
      while (s.in_flight > 0 && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 10));
        s = await c.rawStats();
      }
      return s;
    };
    this.children.push(c);
    return c;
  }

  // A Node HTTP proxy in front of `target` (a Child) that records each request it forwards.
  async tap(target) {
    const seen = [];
    const server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (d) => chunks.push(d));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        const up = http.request({ host: '127.0.0.1', port: target.port, method: req.method, path: req.url, headers: req.headers }, (ur) => {
          res.writeHead(ur.statusCode, ur.headers);
          ur.pipe(res);
        });
        up.on('error', () => res.destroy());
        res.on('close', () => up.destroy());
        up.end(body);
      });
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    this.servers.push(server);
    const port = server.address().port;
    return { port, url: `http://127.0.0.1:${port}/v1`, seen };
  }

  // Children that exited although nobody asked them to (crash, sanitizer abort), with their output.
  deaths() {
    return this.children.filter((c) => !c.alive && !c.expectedExit).map((c) => c.describe());
  }

  async close() {
    for (const d of this.deaths()) console.error(`UNEXPECTED EXIT: ${d}`);
    for (const s of this.servers) {
      s.closeAllConnections?.();
      s.close();
    }
    for (const c of this.children) c.kill('SIGKILL');
    await Promise.all(this.children.map((c) => c.waitExit(5000)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// Backend entry for a gateway config, pointing at an emulator (or any URL).
export function backend(name, tier, target, extra = {}) {
  const url = typeof target === 'string' ? target : target.url;
  return { name, tier, url, ...extra };
}

// The shipped profiles' model names (src/emulate/tier_profile.cc).
export const MODELS = {
  device: 'llama-3.2-1b-instruct-int4',
  edge: 'llama-3.1-8b-instruct',
  cloud: 'gpt-4o',
};

// A port nothing listens on (bound then closed).
export async function closedPort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise((r) => s.close(r));
  return port;
}

// ---- HTTP clients (fetch, bounded) ----

export async function request(url, { method = 'GET', headers = {}, body, timeoutMs = 20000, signal } = {}) {
  const r = await fetch(url, {
    method,
    // Bodies are JSON unless the test says otherwise (the gateway answers 415 to other types).
    headers: body !== undefined && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')
      ? { 'content-type': 'application/json', ...headers } : headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: signal ?? AbortSignal.timeout(timeoutMs),
  });
  const text = await r.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: r.status, headers: r.headers, text, json };
}

export const getJson = (url, opts = {}) => request(url, { ...opts, method: 'GET' });
export const postJson = (url, body, opts = {}) => request(url, { ...opts, method: 'POST', body });

export function chatBody(extra = {}) {
  return { model: 'auto', messages: [{ role: 'user', content: 'Is the road ahead clear?' }], max_tokens: 16, ...extra };
}

// Reads an SSE response body. Returns {events: [{data, event, t}], raw, error} where t is ms since
// `t0`. onEvent(ev) is called as each event arrives. Stops at the end of the body or on an error
// (e.g. abort), which is returned, not thrown.
export async function readSse(response, { t0 = Date.now(), onEvent } = {}) {
  const events = [];
  let raw = '';
  let buf = '';
  const dec = new TextDecoder();
  let error;
  try {
    for await (const chunk of response.body) {
      const s = dec.decode(chunk, { stream: true });
      raw += s;
      buf += s;
      let i;
      while ((i = buf.search(/\r?\n\r?\n/)) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i).replace(/^\r?\n\r?\n/, '');
        const ev = { data: undefined, event: undefined, t: Date.now() - t0 };
        for (const line of block.split(/\r?\n/)) {
          if (line.startsWith('data:')) ev.data = (ev.data === undefined ? '' : ev.data + '\n') + line.slice(5).replace(/^ /, '');
          else if (line.startsWith('event:')) ev.event = line.slice(6).trim();
        }
        if (ev.data === undefined && ev.event === undefined) continue;
        events.push(ev);
        if (onEvent) onEvent(ev);
      }
    }
  } catch (e) {
    error = e;
  }
  return { events, raw, error, rest: buf };
}

// True if the event is an error event: `event: error` or a data payload {"error": {...}}.
export function isErrorEvent(ev) {
  if (ev.event === 'error') return true;
  try { return !!JSON.parse(ev.data).error; } catch { return false; }
}

// Streams a chat completion; returns {status, headers, events, done, errorEvent, text, usage}.
export async function streamChat(base, body, { headers = {}, timeoutMs = 30000, signal, onEvent, onHeaders } = {}) {
  const t0 = Date.now();
  const r = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ ...body, stream: true }),
    signal: signal ?? AbortSignal.timeout(timeoutMs),
  });
  if (onHeaders) onHeaders(r);
  if (r.status !== 200 || !(r.headers.get('content-type') || '').startsWith('text/event-stream')) {
    const text = await r.text();
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: r.status, headers: r.headers, events: [], done: false, text, json };
  }
  const sse = await readSse(r, { t0, onEvent });
  return summarize(r, sse);
}

function summarize(r, sse) {
  const out = { status: r.status, headers: r.headers, events: sse.events, readError: sse.error, raw: sse.raw };
  out.done = sse.events.length > 0 && sse.events[sse.events.length - 1].data === '[DONE]';
  out.doneCount = sse.events.filter((e) => e.data === '[DONE]').length;
  out.errorEvent = sse.events.find(isErrorEvent);
  out.text = '';
  for (const e of sse.events) {
    if (e.data === '[DONE]' || isErrorEvent(e)) continue;
    const j = JSON.parse(e.data);
    if (j.usage) out.usage = j.usage;
    for (const c of j.choices || []) out.text += c.delta?.content ?? c.text ?? '';
  }
  return out;
}

export const words = (s) => s.split(/\s+/).filter(Boolean).length;

// Asserts the OpenAI error format; returns the inner error object.
export function expectOpenAIError(assert, json, status, { code, param, type } = {}) {
  assert.ok(json && typeof json === 'object', `expected a JSON error body (status ${status})`);
  assert.deepEqual(Object.keys(json), ['error']);
  const e = json.error;
  assert.deepEqual(Object.keys(e).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(typeof e.message, 'string');
  assert.ok(e.message.length > 0);
  assert.equal(typeof e.type, 'string');
  assert.ok(e.param === null || typeof e.param === 'string');
  assert.ok(e.code === null || typeof e.code === 'string');
  if (code !== undefined) assert.equal(e.code, code, `code in ${JSON.stringify(e)}`);
  if (param !== undefined) assert.equal(e.param, param, `param in ${JSON.stringify(e)}`);
  if (type !== undefined) assert.equal(e.type, type, `type in ${JSON.stringify(e)}`);
  return e;
}

// ---- raw sockets ----

// Parses a raw HTTP/1.1 response (the first one in `raw`).
export function parseRawResponse(raw) {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: {}, body: '', raw };
  const [statusLine, ...lines] = raw.slice(0, end).split('\r\n');
  const headers = {};
  for (const l of lines) {
    const c = l.indexOf(':');
    headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
  }
  let body = raw.slice(end + 4);
  if (headers['content-length'] !== undefined) body = body.slice(0, Number(headers['content-length']));
  let json;
  try { json = JSON.parse(body); } catch { json = undefined; }
  return { status: Number(statusLine.split(' ')[1]), statusLine, headers, body, json, raw };
}

// Opens a socket, writes `parts` (strings) with `gapMs` between them, and collects everything the
// server sends until it closes (or timeoutMs). Writes after the server closed are ignored.
export function rawExchange(port, parts, { gapMs = 0, timeoutMs = 10000 } = {}) {
  return new Promise((resolveP) => {
    const t0 = Date.now();
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    let closed = false;
    let firstByteAt;
    const timer = setTimeout(() => { sock.destroy(); finish('timeout'); }, timeoutMs);
    function finish(why) {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      resolveP({ ...parseRawResponse(data), why, elapsedMs: Date.now() - t0, firstByteMs: firstByteAt });
    }
    sock.setEncoding('latin1');
    sock.on('data', (d) => { if (firstByteAt === undefined) firstByteAt = Date.now() - t0; data += d; });
    sock.on('end', () => finish('end'));
    sock.on('close', () => finish('close'));
    sock.on('error', () => finish('error'));
    sock.on('connect', async () => {
      for (const p of parts) {
        if (closed || sock.destroyed) return;
        sock.write(p);
        if (gapMs) await sleep(gapMs);
      }
    });
  });
}

// Resolves 'refused' if a TCP connect to port fails with ECONNREFUSED, 'connected' otherwise.
export function tryConnect(port, timeoutMs = 2000) {
  return new Promise((res) => {
    const s = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => { s.destroy(); res('timeout'); }, timeoutMs);
    s.on('connect', () => { clearTimeout(timer); s.destroy(); res('connected'); });
    s.on('error', (e) => { clearTimeout(timer); res(e.code === 'ECONNREFUSED' ? 'refused' : e.code); });
  });
}

// The standard three-tier stack: shipped device/edge/cloud emulators behind one gateway.
export async function threeTierStack(stack, { server = {}, routing = {}, backendExtra = {} } = {}) {
  const [device, edge, cloud] = await Promise.all([stack.emulator('device'), stack.emulator('edge'), stack.emulator('cloud')]);
  const gw = await stack.gateway({
    server: { threads: 2, ...server },
    routing: { auto_order: ['edge', 'cloud', 'device'], ...routing },
    backends: [
      backend('device-phone', 'device', device, { models: [MODELS.device], max_concurrency: 4, ...(backendExtra.device || {}) }),
      backend('edge-mec', 'edge', edge, { models: [MODELS.edge], ...(backendExtra.edge || {}) }),
      backend('cloud-api', 'cloud', cloud, { models: [MODELS.cloud], embedding_models: ['text-embedding-3-small'], ...(backendExtra.cloud || {}) }),
    ],
  });
  return { device, edge, cloud, gw };
}

// If `child` died (or dies within waitMs: a sanitizer report takes a moment), returns an error that
// carries its report; otherwise returns `e` unchanged. Use as: catch (e) { throw await annotate(e, gw) }.
export async function annotate(e, child, waitMs = 3000) {
  if (!crashed(child)) return e;
  if (child.alive) await child.waitExit(waitMs); // let the sanitizer finish its report
  if (child.crashReported) return new Error(`${e?.message ?? e}\n-- ${child.name} had crashed in an earlier test --`, { cause: e });
  child.crashReported = true;
  const err = new Error(`${e?.message ?? e}\n-- ${child.name} crashed --\n${child.describe()}`);
  err.cause = e;
  return err;
}

const crashed = (c) => !c.expectedExit && (!c.alive || /ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|runtime error:/.test(c.err));

// test() whose failure message includes the report of any process from `getChildren()` (a Child,
// an array of them, or a Stack) that crashed; a crash after the test's last request fails it too.
export function guardedTest(testFn, getChildren) {
  const list = () => {
    const c = getChildren();
    if (!c) return [];
    if (c instanceof Stack) return c.children;
    return Array.isArray(c) ? c : [c];
  };
  return (name, opts, fn) => {
    if (typeof opts === 'function') [fn, opts] = [opts, {}];
    return testFn(name, opts, async (t) => {
      try {
        await fn(t);
      } catch (e) {
        let err = e;
        for (const c of list()) err = await annotate(err, c);
        throw err;
      }
      if (list().some((c) => !c.expectedExit)) await sleep(100);
      const dead = list().filter((c) => crashed(c) && !c.crashReported);
      if (dead.length) {
        let err = new Error(`${dead.map((c) => c.name).join(', ')} crashed after the test's requests`);
        for (const c of dead) err = await annotate(err, c);
        throw err;
      }
    });
  };
}
