#!/usr/bin/env bash
# The headline comparison of issue 5: `mixed` on 5 fixed seeds, with and without the outages,
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
    gain = (a["utility"] - c["utility"]) / (o["utility"] - c["utility"])
    rows.append(dict(run=f.split("/")[-1][:-5],
        tc_p95=a["time_critical"]["e2e_ms"]["p95"] / c["time_critical"]["e2e_ms"]["p95"] - 1,
        tc_att=a["time_critical"]["deadline_attainment"] - o["time_critical"]["deadline_attainment"],
        cost=a["cost_usd"] / c["cost_usd"] - 1, mean=a["e2e_ms"]["mean"] / c["e2e_ms"]["mean"] - 1,
        avail=a["availability"], acc=a["quality"] / c["quality"],
        u_ll=a["utility"] - p["least-latency"]["utility"], u_cf=a["utility"] - p["cost-first"]["utility"],
        u_st=a["utility"] - p["static"]["utility"], gain=gain, U=a["utility"], Uo=o["utility"], Uc=c["utility"]))
print("\n%-26s %8s %8s %8s %8s %8s %7s %7s %7s %7s %7s" % ("run", "TC p95", "TC att", "cost", "mean", "avail", "acc", "U-ll", "U-cf", "U-st", "gain"))
for r in rows:
    print("%-26s %+7.1f%% %+7.1fp %+7.1f%% %+7.1f%% %7.3f%% %6.1f%% %+7.3f %+7.3f %+7.3f %6.1f%%" % (r["run"], 100*r["tc_p95"], 100*r["tc_att"], 100*r["cost"],
          100*r["mean"], 100*r["avail"], 100*r["acc"], r["u_ll"], r["u_cf"], r["u_st"], 100*r["gain"]))
w = lambda k, f: f(r[k] for r in rows)
print("%-26s %+7.1f%% %+7.1fp %+7.1f%% %+7.1f%% %7.3f%% %6.1f%% %+7.3f %+7.3f %+7.3f %6.1f%%" % ("worst", 100*w("tc_p95", max), 100*w("tc_att", min),
      100*w("cost", max), 100*w("mean", max), 100*w("avail", min), 100*w("acc", min), w("u_ll", min), w("u_cf", min), w("u_st", min), 100*w("gain", min)))
print("targets:                   <= -40%   >= -2p   <= -25%   <= +5%  >=99.9%  >= 90%     > 0     > 0     > 0  >= 60%")
PY
