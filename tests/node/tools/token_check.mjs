// Compares `mecrouter tokens` (src/context/token_estimator.h) with the real BPE tables of the npm
// package gpt-tokenizer on a deterministic sample (docs/tokens.md):
//   MMLU   4 prompts per subject (57 subjects), GSM8K 120 prompts, from router_eval/routellm_prompts.jsonl
//   code   chunks of 40 lines of the repository's own src/**/*.{cc,h}
//   docs   chunks of 30 lines of the repository's docs/*.md and README.md (English prose with markup)
// Items at even positions within a category are the "fit" half, odd ones the "check" half: the
// estimator's constants were fitted on the first, the figures to quote come from the second.
//
//   cd tests/node/tools && npm install && node token_check.mjs BIN [--data DIR] [--fit] [--json FILE]
// BIN is the mecrouter binary (e.g. ../../../build/learn/mecrouter). --data is the shared data
// directory (default: $MECROUTER_DATA or ../shared/data beside the repository). --fit prints
// weights fitted on the fit half (weighted least squares on relative error, ridge towards the
// current weights) as a C++ initializer for src/context/token_estimator.cc.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { countTokens as countO200k } from 'gpt-tokenizer/encoding/o200k_base';
import { countTokens as countCl100k } from 'gpt-tokenizer/encoding/cl100k_base';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');

function parseArgs(argv) {
  const a = { bin: null, data: null, fit: false, json: null };
  for (let i = 0; i < argv.length; ++i) {
    const k = argv[i];
    if (k === '--fit') a.fit = true;
    else if (k === '--data') a.data = argv[++i];
    else if (k === '--json') a.json = argv[++i];
    else if (!a.bin) a.bin = k;
    else throw new Error(`unexpected argument ${k}`);
  }
  if (!a.bin) {
    console.error('usage: node token_check.mjs BIN [--data DIR] [--fit] [--json FILE]');
    process.exit(2);
  }
  a.data ??= process.env.MECROUTER_DATA ?? path.resolve(repo, '../shared/data');
  return a;
}

function promptSample(dataDir) {
  const file = path.join(dataDir, 'router_eval/routellm_prompts.jsonl');
  const bySubject = new Map();
  const gsm8k = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line);
    const parts = r.item_id.split('/');
    if (parts[0] === 'mmlu') {
      if (!bySubject.has(parts[1])) bySubject.set(parts[1], []);
      bySubject.get(parts[1]).push(r);
    } else if (parts[0] === 'gsm8k') {
      gsm8k.push(r);
    }
  }
  const items = [];
  for (const subject of [...bySubject.keys()].sort()) {
    const rs = bySubject.get(subject);
    for (let k = 0; k < 4; ++k) {
      const r = rs[Math.floor((k * rs.length) / 4)];
      items.push({ category: 'MMLU', item_id: r.item_id, text: r.prompt });
    }
  }
  const step = Math.max(1, Math.floor(gsm8k.length / 120));
  for (let i = 0; i < gsm8k.length && i / step < 120; i += step) {
    items.push({ category: 'GSM8K', item_id: gsm8k[i].item_id, text: gsm8k[i].prompt });
  }
  return items;
}

function listFiles(dir, exts) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p, exts));
    else if (exts.some((x) => e.name.endsWith(x))) out.push(p);
  }
  return out.sort();
}

// Chunks of `lines` lines of the files, `max` of them spread evenly over all chunks.
function chunkSample(files, lines, max, category) {
  const chunks = [];
  for (const f of files) {
    const ls = fs.readFileSync(f, 'utf8').split('\n');
    for (let i = 0; i < ls.length; i += lines) {
      const text = ls.slice(i, i + lines).join('\n');
      if (text.trim().length >= 80) chunks.push({ category, item_id: `${path.relative(repo, f)}:${i + 1}`, text });
    }
  }
  const step = Math.max(1, chunks.length / max);
  const out = [];
  for (let x = 0; Math.floor(x) < chunks.length && out.length < max; x += step) out.push(chunks[Math.floor(x)]);
  return out;
}

function sample(dataDir) {
  const items = promptSample(dataDir);
  items.push(...chunkSample(listFiles(path.join(repo, 'src'), ['.cc', '.h']), 40, 120, 'code'));
  const docs = listFiles(path.join(repo, 'docs'), ['.md']);
  docs.push(path.join(repo, 'README.md'));
  items.push(...chunkSample(docs.filter((f) => fs.existsSync(f)), 30, 60, 'docs'));
  const seen = new Map();
  for (const it of items) {
    const k = seen.get(it.category) ?? 0;
    it.half = k % 2 === 0 ? 'fit' : 'check';
    seen.set(it.category, k + 1);
  }
  return items;
}

function runEstimator(bin, items) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'token_check-'));
  const file = path.join(dir, 'sample.jsonl');
  fs.writeFileSync(file, items.map((it, i) => JSON.stringify({ item_id: String(i), text: it.text })).join('\n') + '\n');
  const out = execFileSync(bin, ['tokens', '--jsonl', file, '--features', '--bench', '20'], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  fs.rmSync(dir, { recursive: true, force: true });
  const lines = out.trim().split('\n').map((l) => JSON.parse(l));
  const names = lines[0].feature_names;
  for (const r of lines.slice(1)) {
    const it = items[Number(r.item_id)];
    it.estimate = r.estimate;
    it.features = r.features;
  }
  return names;
}

function quantile(sorted, q) {
  if (!sorted.length) return NaN;
  const x = (sorted.length - 1) * q;
  const lo = Math.floor(x);
  const hi = Math.ceil(x);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (x - lo);
}

function stats(errs) {
  const s = [...errs].sort((a, b) => a - b);
  const abs = errs.map(Math.abs).sort((a, b) => a - b);
  return {
    n: errs.length,
    mean: errs.reduce((a, b) => a + b, 0) / Math.max(1, errs.length),
    median: quantile(s, 0.5),
    p5: quantile(s, 0.05),
    p95: quantile(s, 0.95),
    median_abs: quantile(abs, 0.5),
    p95_abs: quantile(abs, 0.95),
    within15: errs.filter((e) => Math.abs(e) <= 0.15).length / Math.max(1, errs.length),
  };
}

const pct = (x) => `${(100 * x).toFixed(1)}%`.padStart(7);
const spct = (x) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`.padStart(7);

function report(items, half, ref) {
  const rows = [];
  const cats = [...new Set(items.map((it) => it.category)), 'all'];
  for (const c of cats) {
    const sel = items.filter((it) => it.half === half && (c === 'all' || it.category === c));
    const errs = sel.map((it) => (it.estimate - it[ref]) / it[ref]);
    const tokens = sel.map((it) => it[ref]).sort((a, b) => a - b);
    rows.push({ category: c, ...stats(errs), median_tokens: quantile(tokens, 0.5) });
  }
  console.log(`\n${half} half, reference ${ref}:`);
  console.log('category    n  tokens(med)  within±15%  mean err  median err  p5 err  p95 err  median|err|  p95|err|');
  for (const r of rows) {
    console.log(
      `${r.category.padEnd(8)} ${String(r.n).padStart(4)}  ${String(Math.round(r.median_tokens)).padStart(11)}  ${pct(r.within15).padStart(10)}  ${spct(r.mean).padStart(8)}  ${spct(r.median).padStart(10)}  ${spct(r.p5)}  ${spct(r.p95)}  ${pct(r.median_abs).padStart(11)}  ${pct(r.p95_abs).padStart(8)}`,
    );
  }
  return rows;
}

// Solves A x = b (A symmetric positive definite) by Gaussian elimination with partial pivoting.
function solve(A, b) {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; ++c) {
    let p = c;
    for (let r = c + 1; r < n; ++r) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = c + 1; r < n; ++r) {
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; ++k) M[r][k] -= f * M[c][k];
    }
  }
  const x = new Array(n).fill(0);
  for (let r = n - 1; r >= 0; --r) {
    let s = M[r][n];
    for (let k = r + 1; k < n; ++k) s -= M[r][k] * x[k];
    x[r] = s / M[r][r];
  }
  return x;
}

// Weighted least squares on relative error over the fit half, each category weighing the same in
// total, with a ridge towards `prior` (the weights the estimator has now).
function fit(items, names, prior, ref, lambda = 0.02) {
  const sel = items.filter((it) => it.half === 'fit');
  const perCat = new Map();
  for (const it of sel) perCat.set(it.category, (perCat.get(it.category) ?? 0) + 1);
  const d = names.length;
  const A = Array.from({ length: d }, () => new Array(d).fill(0));
  const b = new Array(d).fill(0);
  for (const it of sel) {
    const y = it[ref];
    const w = 1 / (y * y) / perCat.get(it.category);
    for (let i = 0; i < d; ++i) {
      b[i] += w * it.features[i] * y;
      for (let j = 0; j < d; ++j) A[i][j] += w * it.features[i] * it.features[j];
    }
  }
  for (let i = 0; i < d; ++i) {
    A[i][i] += lambda;
    b[i] += lambda * prior[i];
  }
  return solve(A, b);
}

function estimateWith(weights, features) {
  const s = features.reduce((acc, f, i) => acc + f * weights[i], 0);
  return Math.max(1, Math.round(s));
}

const args = parseArgs(process.argv.slice(2));
const items = sample(args.data);
for (const it of items) {
  it.o200k = countO200k(it.text);
  it.cl100k = countCl100k(it.text);
}
const names = runEstimator(path.resolve(args.bin), items);
const counts = {};
for (const it of items) counts[it.category] = (counts[it.category] ?? 0) + 1;
console.log(`sample: ${items.length} items ${JSON.stringify(counts)}; reference gpt-tokenizer o200k_base and cl100k_base`);

const result = {
  check_o200k: report(items, 'check', 'o200k'),
  check_cl100k: report(items, 'check', 'cl100k'),
  fit_o200k: report(items, 'fit', 'o200k'),
};

// The worst items of the check half, to see where the estimate fails.
const worst = items
  .filter((it) => it.half === 'check')
  .map((it) => ({ ...it, err: (it.estimate - it.o200k) / it.o200k }))
  .sort((a, b) => Math.abs(b.err) - Math.abs(a.err))
  .slice(0, 8);
console.log('\nworst check items (o200k):');
for (const it of worst) {
  const snippet = JSON.stringify(it.text.slice(0, 70));
  console.log(`  ${spct(it.err)}  ${String(it.estimate).padStart(5)} vs ${String(it.o200k).padStart(5)}  ${it.item_id}  ${snippet}`);
}

if (args.fit) {
  // The current weights, recovered from the binary's own estimates would need its table; ask the
  // user to pass none: start the ridge from a neutral prior of 1 per piece and 0 for modifiers.
  const prior = names.map((n) => (/^(letters_beyond|capitalized|upper_after|glued|punct_extra|digits)/.test(n) ? 0.3 : 1));
  const w = fit(items, names, prior, 'o200k');
  console.log('\nfitted weights (o200k, fit half):');
  names.forEach((n, i) => console.log(`  ${n.padEnd(26)} ${w[i].toFixed(3)}`));
  console.log(`\nC++: {${w.map((x) => x.toFixed(2)).join(', ')}}`);
  for (const it of items) it.estimate = estimateWith(w, it.features);
  result.refit_check_o200k = report(items, 'check', 'o200k');
  report(items, 'check', 'cl100k');
}

if (args.json) fs.writeFileSync(args.json, JSON.stringify(result, null, 2) + '\n');
