#!/usr/bin/env bash
# The headline comparison of issues 5 and 14: `mixed` on 5 fixed seeds, with and without the outages,
# every policy; writes one JSON per run (and an HTML report for seed 1 with the outages) and prints
# the issue's targets per run and the worst case.
# Usage: scripts/sim_headline.sh [BUILD_DIR] [OUT_DIR]   (a Release build; ~15 s per run on one core)
set -euo pipefail
BUILD=${1:-build/release}
OUT=${2:-build/sim-headline}
mkdir -p "$OUT"
for seed in 1 2 3 4 5; do
  for variant in outages no-outages; do
    flag=""; [ "$variant" = no-outages ] && flag="--no-outages"
    [ "$seed$variant" = 1outages ] && flag="--report $OUT/mixed_outages_s1.html"
    "$BUILD/mecrouter" simulate --scenario mixed --seed "$seed" $flag --json "$OUT/mixed_${variant}_s${seed}.json" \
      > "$OUT/mixed_${variant}_s${seed}.txt" 2> "$OUT/mixed_${variant}_s${seed}.log"
    echo "seed $seed $variant: $(grep -c '^  MISS' "$OUT/mixed_${variant}_s${seed}.txt") target(s) missed"
  done
done
python3 - "$OUT" <<'PY'
import glob, json, sys
out = sys.argv[1]
rows = []
for f in sorted(glob.glob(out + "/mixed_*_s*.json")):
    d = json.load(open(f)); p = d["policies"]; a, c, o = p["adaptive"], p["cloud-only"], p["oracle"]
    kept = [v["utility"] for k, v in p.items() if k not in ("adaptive", "oracle") and v["contract_kept"]]
    rows.append(dict(run=f.split("/")[-1][:-5],
        ttft=a["time_critical"]["ttft_ms"]["p95"] / c["time_critical"]["ttft_ms"]["p95"],
        tc_att=a["time_critical"]["deadline_attainment"] - o["time_critical"]["deadline_attainment"],
        cost=a["cost_usd"] / c["cost_usd"], kept=a["contract_kept"], okept=o["contract_kept"],
        u_best=a["utility"] - max(kept), avail=a["availability"],
        gain=(a["utility"] - c["utility"]) / (o["utility"] - c["utility"])))
print("\n%-26s %8s %8s %7s %6s %6s %8s %9s %7s" % ("run", "TTFT95x", "TC att", "cost x", "kept", "okept", "U-best", "avail", "gain"))
for r in rows:
    print("%-26s %7.2fx %+7.1fp %6.2fx %6s %6s %+8.3f %8.3f%% %6.1f%%" % (r["run"], r["ttft"], 100*r["tc_att"], r["cost"], r["kept"], r["okept"],
          r["u_best"], 100*r["avail"], 100*r["gain"]))
w = lambda k, f: f(r[k] for r in rows)
print("%-26s %7.2fx %+7.1fp %6.2fx %6s %6s %+8.3f %8.3f%% %6.1f%%" % ("worst", w("ttft", max), 100*w("tc_att", min), w("cost", max),
      all(r["kept"] for r in rows), all(r["okept"] for r in rows), w("u_best", min), 100*w("avail", min), 100*w("gain", min)))
print("targets (issue 14):         <= 0.6x   >= -1p  <= 0.6x   True   True      > 0  >= 99.95%  >= 70%")
PY
