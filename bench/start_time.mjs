// Start-to-ready time and idle memory of a gateway: spawns BIN with its arguments, polls
// GET /readyz on PORT every 2 ms until it answers 200, then reads the process's RSS.
// Prints "ready_ms N rss_kb N". Usage: node start_time.mjs PORT BIN ARGS...
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';

const [port, bin, ...args] = process.argv.slice(2);
const t0 = process.hrtime.bigint();
const child = spawn(bin, args, { stdio: 'ignore' });
const ready = () => new Promise((resolve) => {
  const req = http.get({ host: '127.0.0.1', port: Number(port), path: '/readyz', agent: false }, (res) => {
    res.resume();
    resolve(res.statusCode === 200);
  });
  req.on('error', () => resolve(false));
});
let ok = false;
for (let i = 0; i < 5000 && !ok; i++) {
  ok = await ready();
  if (!ok) await new Promise((r) => setTimeout(r, 2));
}
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
await new Promise((r) => setTimeout(r, 200));  // settle: what it holds once idle
const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1];
child.kill('SIGTERM');
console.log(ok ? `ready_ms ${ms.toFixed(1)} rss_kb ${rss}` : 'ready_ms never rss_kb 0');
