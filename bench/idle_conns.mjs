// Opens N idle TCP connections to 127.0.0.1:PORT (nothing sent), holds them HOLD_MS, then closes
// them. Prints "open N" once all are connected and "closed" at the end (bench/run.sh reads the
// gateway's memory between the two). Usage: node idle_conns.mjs PORT N HOLD_MS
import net from 'node:net';

const [port, n, holdMs] = process.argv.slice(2).map(Number);
const socks = [];
let failed = 0;
for (let i = 0; i < n; i++) {
  await new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => resolve());
    s.on('error', () => { failed++; resolve(); });
    s.on('data', () => {});
    socks.push(s);
  });
}
console.log(`open ${n - failed}`);
await new Promise((r) => setTimeout(r, holdMs));
for (const s of socks) s.destroy();
console.log('closed');
