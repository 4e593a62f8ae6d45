#!/usr/bin/env bash
# The assumption sweeps of docs/simulator.md: `mixed` (seed 1, with the outages) with one
# assumption changed at a time, adaptive against cloud-only, the oracle and the baselines the
# targets name; prints one markdown row per variant. Each variant is scenarios/mixed.yaml with a
# textual substitution (listed below), written to OUT/NAME.yaml so it can be rerun by hand.
# Usage: scripts/sim_sweeps.sh [BUILD_DIR] [OUT_DIR]   (a Release build; ~5 s per variant)
set -euo pipefail
BUILD=${1:-build/release}
OUT=${2:-build/sim-sweeps}
mkdir -p "$OUT"
python3 - "$BUILD" "$OUT" <<'PY'
import json, re, subprocess, sys
build, out = sys.argv[1], sys.argv[2]
base = open("scenarios/mixed.yaml").read()

def sub(pattern, repl, count=0):
    def f(text):
        new, n = re.subn(pattern, repl, text, count=count, flags=re.M)
        if n == 0:
            sys.exit(f"sweep: pattern {pattern!r} not found in scenarios/mixed.yaml")
        return new
    return f

def chain(*fs):
    def f(text):
        for g in fs:
            text = g(text)
        return text
    return f

def routing(line):  # one more line in the scenario's `routing:` block
    return sub(r"^  priors: profile", f"  {line}\n  priors: profile")

def scale_rtts(text, k):
    return re.sub(r"rtt_(edge|cloud)_ms: (\d+)", lambda m: f"rtt_{m.group(1)}_ms: {int(m.group(2)) * k}", text)

variants = [
    ("`mixed` as shipped", lambda t: t),
    ("placement: static (GPUs move only for a cold request)", sub(r"policy: demand", "policy: static")),
    ("GPUs start [game, drive, drive, city], static", chain(sub(r"models: \[city-8b, city-8b, game-8b, drive-8b\]", "models: [game-8b, drive-8b, drive-8b, city-8b]"),
                                                            sub(r"policy: demand", "policy: static"))),
    ("GPUs start [game, drive, drive, city], demand", sub(r"models: \[city-8b, city-8b, game-8b, drive-8b\]", "models: [game-8b, drive-8b, drive-8b, city-8b]")),
    ("cold start 5 s", sub(r"cold_start_s: 30", "cold_start_s: 5")),
    ("cold start 120 s", sub(r"cold_start_s: 30", "cold_start_s: 120")),
    ("one shared edge model (no placement)", chain(sub(r"^edge_models:.*\n", ""), sub(r"^    models: \[.*\n", ""),
                                                    sub(r", edge_model: [a-z0-9-]+\}", "}"))),
    ("`min_quality_per: request`", routing("min_quality_per: request")),
    ("`quality_margin: 0.1`", routing("quality_margin: 0.1")),
    ("`quality_margin: 0.5`", routing("quality_margin: 0.5")),
    ("no coverage gaps", sub(r"gap_interval_s: 600", "gap_interval_s: 0")),
    ("priors: tier-defaults", sub(r"priors: profile", "priors: tier-defaults")),
    ("hedging off", sub(r"hedge: true", "hedge: false")),
    ("edge RTT = cloud RTT (row 63)", lambda t: re.sub(r"rtt_edge_ms: \d+, rtt_cloud_ms: (\d+)", r"rtt_edge_ms: \1, rtt_cloud_ms: \1", t)),
    ("all RTTs x 2", lambda t: scale_rtts(t, 2)),
    ("deadline target 0.8", sub(r"deadline_target: 0.9", "deadline_target: 0.8")),
    ("feedback from 10% of users", routing("feedback_rate: 0.1")),
    ("feedback from every user", routing("feedback_rate: 1.0")),
    ("laptop = M4 Mac mini (rows 25-26)", sub(r"decode_tokens_per_s: 50.6, prefill_tokens_per_s: 565", "decode_tokens_per_s: 20.87, prefill_tokens_per_s: 224.81")),
    ("edge prefill 2,000 tok/s", sub(r"profile: \{base: edge, rtt_ms: 0\}", "profile: {base: edge, rtt_ms: 0, prefill_tokens_per_s: 2000}")),
    ("electricity $0.60/kWh", sub(r"usd_per_kwh: 0.15", "usd_per_kwh: 0.60")),
    ("first-byte timeout 3 s", sub(r"first_byte_ms: 10000", "first_byte_ms: 3000")),
    ("other edge site +40 ms", sub(r"other_site_extra_rtt_ms: 15", "other_site_extra_rtt_ms: 40")),
]

print("| variant | TC p95 vs cloud | TC att. (oracle) | cost vs cloud | mean e2e | avail. | accuracy / cloud | U (cost-first, oracle) | oracle gain | GPU loads |")
print("|---|---|---|---|---|---|---|---|---|---|")
for i, (name, f) in enumerate(variants):
    path = f"{out}/variant{i:02d}.yaml"
    open(path, "w").write(f(base))
    js = f"{out}/variant{i:02d}.json"
    subprocess.run([f"{build}/mecrouter", "simulate", "--scenario", path, "--seed", "1", "--json", js,
                    "--policy", "adaptive,cloud-only,oracle,least-latency,cost-first,static"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    p = json.load(open(js))["policies"]
    a, c, o = p["adaptive"], p["cloud-only"], p["oracle"]
    gain = (a["utility"] - c["utility"]) / (o["utility"] - c["utility"])
    print(f"| {name} | {100 * (a['time_critical']['e2e_ms']['p95'] / c['time_critical']['e2e_ms']['p95'] - 1):+.1f}% "
          f"| {100 * a['time_critical']['deadline_attainment']:.1f}% ({100 * o['time_critical']['deadline_attainment']:.1f}%) "
          f"| {100 * (a['cost_usd'] / c['cost_usd'] - 1):+.1f}% | {100 * (a['e2e_ms']['mean'] / c['e2e_ms']['mean'] - 1):+.1f}% "
          f"| {100 * a['availability']:.3f}% | {100 * a['quality'] / c['quality']:.1f}% "
          f"| {a['utility']:.3f} ({p['cost-first']['utility']:.3f}, {o['utility']:.3f}) | {100 * gain:.1f}% | {a.get('model_loads', 0)} |",
          flush=True)
PY
