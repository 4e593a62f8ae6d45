// HTTPS on the listener (issue 18, docs/tls.md): certificates made by `openssl` here; curl with
// --cacert and the official `openai` client (in a child Node that trusts the test CA through
// NODE_EXTRA_CA_CERTS, which Node's fetch honours) get answers, whole and streamed; plain HTTP on
// the TLS port gets none; with client_ca a client needs a certificate the CA signed; SIGHUP
// re-reads the files: a connection opened before keeps working, a new one sees the new certificate.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFileSync, readFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import https from 'node:https';
import tls from 'node:tls';
import { Stack, BIN, backend, MODELS, waitFor, sleep } from './lib.mjs';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const CHAT = JSON.stringify({ model: 'auto', max_tokens: 4, messages: [{ role: 'user', content: 'Say hi.' }] });

function openssl(dir, ...args) {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

// A CA, a server certificate for 127.0.0.1 and localhost (`name`.pem/.key), and a client one.
function makeCerts(dir) {
  openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=mecrouter test CA');
  serverCert(dir, 'server');
  openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=test client');
  openssl(dir, 'x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.pem', '-days', '2');
}
function serverCert(dir, name) {
  execFileSync('sh', ['-c', "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext"], { cwd: dir });
  openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', '/CN=localhost');
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', 'san.ext');
}

// `mecrouter serve` with `config`; resolves once it prints its https:// address.
async function serve(stack, config) {
  const path = stack.file('tls-gateway.yaml', JSON.stringify(config));
  const p = spawn(BIN, ['serve', '--config', path, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const g = { proc: p, out: '', err: '' };
  p.stdout.on('data', (d) => { g.out += d; });
  p.stderr.on('data', (d) => { g.err += d; });
  const m = await waitFor(() => /listening on https:\/\/127\.0\.0\.1:(\d+) /.exec(g.out) || p.exitCode !== null, { timeoutMs: 15000, intervalMs: 20 });
  assert.ok(m && m !== true && m[1], `the gateway did not start with TLS: ${g.out} ${g.err}`);
  g.port = Number(m[1]);
  g.base = `https://127.0.0.1:${g.port}`;
  return g;
}

const curl = (args) => run('curl', ['-s', '-m', '10', ...args]).then((r) => ({ code: 0, out: r.stdout }), (e) => ({ code: e.code, out: e.stdout || '' }));

// The serial number of the certificate a new TLS connection is shown.
function peerSerial(port, ca) {
  return new Promise((res, rej) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      const serial = s.getPeerCertificate().serialNumber;
      s.end();
      res(serial);
    });
    s.on('error', rej);
  });
}

describe('HTTPS on the listener', () => {
  const stack = new Stack();
  const gateways = [];
  let dir, edge;
  before(async () => {
    dir = stack.dir;
    makeCerts(dir);
    edge = await stack.emulator('edge');
  });
  after(() => {
    for (const g of gateways) g.proc.kill('SIGKILL');
    return stack.close();
  });
  const config = (tlsOpts) => ({
    server: { threads: 2, tls: tlsOpts },
    backends: [backend('edge-mec', 'edge', edge, { models: [MODELS.edge], health_check: { enabled: false } })],
  });

  test('curl --cacert and the openai client are answered over HTTPS; plain HTTP on the port is not', { timeout: 60000 }, async () => {
    const g = await serve(stack, config({ cert: join(dir, 'server.pem'), key: join(dir, 'server.key') }));
    gateways.push(g);
    const ok = await curl(['--cacert', join(dir, 'ca.pem'), `${g.base}/v1/chat/completions`, '-H', 'Content-Type: application/json', '-d', CHAT]);
    assert.equal(ok.code, 0);
    assert.equal(JSON.parse(ok.out).object, 'chat.completion');
    const untrusted = await curl([`${g.base}/healthz`]);  // the system store does not know the test CA
    assert.notEqual(untrusted.code, 0);
    const plain = await curl([`http://127.0.0.1:${g.port}/healthz`]);
    assert.notEqual(plain.code, 0);
    assert.ok(!plain.out.includes('"ok"'));
    // The official client, whole and streamed, in a Node that trusts the test CA.
    const script = `
      import OpenAI from 'openai';
      const c = new OpenAI({ baseURL: '${g.base}/v1', apiKey: 'unused', maxRetries: 0, timeout: 20000 });
      const whole = await c.chat.completions.create({ model: 'auto', max_tokens: 4, messages: [{ role: 'user', content: 'hi' }] });
      let chunks = 0;
      for await (const ch of await c.chat.completions.create({ model: 'auto', max_tokens: 4, stream: true, messages: [{ role: 'user', content: 'hi' }] })) chunks++;
      console.log(JSON.stringify({ content: whole.choices[0].message.content, chunks }));`;
    const file = join(resolve(here, '..'), `.tls-client-${process.pid}.mjs`);  // under tests/node: resolves 'openai'
    (await import('node:fs')).writeFileSync(file, script);
    try {
      const r = await run(process.execPath, [file], { env: { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') }, timeout: 30000 });
      const got = JSON.parse(r.stdout.trim().split('\n').pop());
      assert.ok(got.content.length > 0);
      assert.ok(got.chunks >= 2, `chunks ${got.chunks}`);
    } finally {
      (await import('node:fs')).rmSync(file, { force: true });
    }
    assert.equal(g.proc.exitCode, null, 'the gateway died');
  });

  // The client side of TLS: a gateway whose backend is https:// (here another gateway's TLS
  // listener). The CA store is loaded only for https backends, once per process (net/upstream_client.cc).
  test('an https:// backend is reached and verified with ca_file; without the CA it is refused', { timeout: 60000 }, async () => {
    const upstream = await serve(stack, config({ cert: join(dir, 'server.pem'), key: join(dir, 'server.key') }));
    gateways.push(upstream);
    const viaTls = (extra) => backend('tls-edge', 'edge', `${upstream.base}/v1`, { models: [MODELS.edge], ...extra });
    const trusted = await stack.gateway({ backends: [viaTls({ ca_file: join(dir, 'ca.pem') })] });
    const whole = await curl([`${trusted.base}/v1/chat/completions`, '-H', 'Content-Type: application/json', '-d', CHAT]);
    assert.equal(whole.code, 0);
    assert.equal(JSON.parse(whole.out).object, 'chat.completion', whole.out);
    const streamed = await curl(['-N', `${trusted.base}/v1/chat/completions`, '-H', 'Content-Type: application/json',
      '-d', JSON.stringify({ ...JSON.parse(CHAT), stream: true })]);
    assert.match(streamed.out, /data: \[DONE\]/);
    // The system store does not know the test CA: the handshake fails and the request gets an error.
    const untrusted = await stack.gateway({ backends: [viaTls({})] });
    const refused = await curl([`${untrusted.base}/v1/chat/completions`, '-H', 'Content-Type: application/json', '-d', CHAT]);
    assert.equal(refused.code, 0);
    const err = JSON.parse(refused.out);
    assert.ok(err.error, refused.out);
    assert.match(err.error.message, /TLS|certificate|handshake/i, refused.out);
  });

  test('with client_ca a client needs a certificate the CA signed', { timeout: 30000 }, async () => {
    const g = await serve(stack, config({ cert: join(dir, 'server.pem'), key: join(dir, 'server.key'), client_ca: join(dir, 'ca.pem') }));
    gateways.push(g);
    const without = await curl(['--cacert', join(dir, 'ca.pem'), `${g.base}/healthz`]);
    assert.notEqual(without.code, 0);
    const withCert = await curl(['--cacert', join(dir, 'ca.pem'), '--cert', join(dir, 'client.pem'), '--key', join(dir, 'client.key'), `${g.base}/healthz`]);
    assert.equal(withCert.code, 0);
    assert.match(withCert.out, /"ok"/);
    assert.equal(g.proc.exitCode, null);
  });

  test('SIGHUP re-reads the certificate: an open connection keeps working, a new one sees the new certificate', { timeout: 30000 }, async () => {
    copyFileSync(join(dir, 'server.pem'), join(dir, 'live.pem'));
    copyFileSync(join(dir, 'server.key'), join(dir, 'live.key'));
    const g = await serve(stack, config({ cert: join(dir, 'live.pem'), key: join(dir, 'live.key') }));
    gateways.push(g);
    const ca = readFileSync(join(dir, 'ca.pem'));
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca });
    const get = () => new Promise((res, rej) => {
      const req = https.get(`${g.base}/healthz`, { agent }, (r) => {
        const serial = r.socket.getPeerCertificate().serialNumber;  // before the socket goes back to the agent
        let body = '';
        r.on('data', (d) => { body += d; });
        r.on('end', () => res({ status: r.statusCode, body, reused: req.reusedSocket, serial }));
      });
      req.on('error', rej);
    });
    const first = await get();
    assert.equal(first.status, 200);
    const before = await peerSerial(g.port, ca);
    assert.equal(before, first.serial);
    serverCert(dir, 'next');
    copyFileSync(join(dir, 'next.pem'), join(dir, 'live.pem'));
    copyFileSync(join(dir, 'next.key'), join(dir, 'live.key'));
    g.proc.kill('SIGHUP');
    assert.ok(await waitFor(() => /TLS certificates reloaded/.test(g.out), { timeoutMs: 5000 }), g.out + g.err);
    const again = await get();  // the connection opened before the reload
    assert.equal(again.status, 200);
    assert.equal(again.reused, true);
    assert.equal(again.serial, before);
    const after = await peerSerial(g.port, ca);
    assert.notEqual(after, before);
    // A broken file on reload keeps the current certificate and says so.
    (await import('node:fs')).writeFileSync(join(dir, 'live.pem'), 'not a certificate');
    g.proc.kill('SIGHUP');
    assert.ok(await waitFor(() => /TLS reload failed/.test(g.err), { timeoutMs: 5000 }), g.err);
    assert.equal(await peerSerial(g.port, ca), after);
    agent.destroy();
    await sleep(50);
    assert.equal(g.proc.exitCode, null);
  });
});
