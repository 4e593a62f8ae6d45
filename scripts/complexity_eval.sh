#!/usr/bin/env bash
# Reproduces the table of docs/complexity.md with the mecrouter binary:
#   5 random 30% held-out splits (seeds 1..5) and 5 MMLU subject hold-out partitions (folds 0..4).
# For each: write the split's id files, train on the training ids (hyperparameters by
# cross-validation inside them), evaluate on the held-out ids against the baselines fitted on the
# same training ids. Results: $OUT/*.json and a summary table on stdout (needs jq).
#
#   MECROUTER_BIN=build/release/mecrouter scripts/complexity_eval.sh [OUT_DIR]
# Environment: MECROUTER_BIN (binary), MECROUTER_DATA (data dir, default ../shared/data),
# TRAIN_FLAGS (extra `complexity train` flags; default: those of the committed default model),
# JOBS (parallel trainings, default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${MECROUTER_BIN:-build/release/mecrouter}
DATA=${MECROUTER_DATA:-../shared/data}
OUT=${1:-build/complexity-eval}
JOBS=${JOBS:-1}
# The default model's flags; keep in sync with models/README.md.
TRAIN_FLAGS=${TRAIN_FLAGS:---char-ngrams 9,1 --max-weights 20000 --max-iterations 100 --l2-grid 0.001,0.003,0.01 --subject-smoothing 0,0.5 --stack --stack-targets label,gain --stack-depths 2,3 --stack-trees 0,50,100,200,400}
LABELS=$DATA/router_eval/routellm_mmlu_gsm8k_correctness.csv
PROMPTS=$DATA/router_eval/routellm_prompts.jsonl
mkdir -p "$OUT"

run_one() {  # name scheme-args...
  local name=$1; shift
  "$BIN" complexity split --labels "$LABELS" "$@" --train "$OUT/$name.train" --test "$OUT/$name.test" 2>"$OUT/$name.split.log"
  # shellcheck disable=SC2086
  "$BIN" complexity train --labels "$LABELS" --prompts "$PROMPTS" --ids "$OUT/$name.train" --out "$OUT/$name.model" \
      $TRAIN_FLAGS 2>"$OUT/$name.train.log"
  "$BIN" complexity eval --model "$OUT/$name.model" --labels "$LABELS" --prompts "$PROMPTS" --ids "$OUT/$name.test" \
      --train-ids "$OUT/$name.train" --json >"$OUT/$name.json"
  echo "done $name" >&2
}

runs=()
for s in 1 2 3 4 5; do runs+=("random$s --scheme random --seed $s"); done
for f in 0 1 2 3 4; do runs+=("subject$f --scheme subject --fold $f"); done
i=0
for r in "${runs[@]}"; do
  # shellcheck disable=SC2086
  run_one $r &
  i=$((i + 1))
  if [ $((i % JOBS)) -eq 0 ]; then wait; fi
done
wait

pct() { jq -r "$1 * 100 | . * 10 | round / 10" "$2"; }
row() {  # file benchmark
  local f=$1 b=$2
  printf "%-10s %-6s %5s | %6s %6s %6s %6s | %6s %6s | %6s %6s\n" "$(basename "$f" .json)" "$b" \
    "$(jq -r ".benchmarks.$b.n" "$f")" \
    "$(pct ".benchmarks.$b.model.calls_saved" "$f")" "$(pct ".benchmarks.$b.subject_length.calls_saved" "$f")" \
    "$(pct ".benchmarks.$b.length.calls_saved" "$f")" "$(pct ".benchmarks.$b.random.calls_saved" "$f")" \
    "$(jq -r ".benchmarks.$b.model.apgr * 1000 | round / 1000" "$f")" "$(jq -r ".benchmarks.$b.subject_length.apgr * 1000 | round / 1000" "$f")" \
    "$(jq -r ".benchmarks.$b.model.auc * 1000 | round / 1000" "$f")" "$(jq -r ".benchmarks.$b.subject_length.auc * 1000 | round / 1000" "$f")"
}
echo "calls saved at 95% of strong-only accuracy (%), APGR and AUC; baselines fitted on the same training ids"
printf "%-10s %-6s %5s | %6s %6s %6s %6s | %6s %6s | %6s %6s\n" split bench n model subj+l length random \
  "APGR" "s+l" "AUC" "s+l"
for s in 1 2 3 4 5; do row "$OUT/random$s.json" mmlu; done
for s in 1 2 3 4 5; do row "$OUT/random$s.json" gsm8k; done
for f in 0 1 2 3 4; do row "$OUT/subject$f.json" mmlu; done

# The ceiling and the noise: subject gain (a router knowing the subject only, fitted on the training
# ids), the subject oracle (the same with the held-out labels' own subject means: no subject-only
# router saves more), the AUC within subjects, and the bootstrap sd of model - baseline on the split.
ref_row() {  # file benchmark baseline
  local f=$1 b=$2 r=$3
  printf "%-10s %-6s | %6s %6s | %6s %6s | %+6s %5s\n" "$(basename "$f" .json)" "$b" \
    "$(pct ".benchmarks.$b.subject_gain.calls_saved" "$f")" "$(pct ".benchmarks.$b.subject_oracle.calls_saved" "$f")" \
    "$(jq -r ".benchmarks.$b.model.within_subject_auc * 1000 | round / 1000" "$f")" \
    "$(jq -r ".benchmarks.$b.length.within_subject_auc * 1000 | round / 1000" "$f")" \
    "$(pct ".benchmarks.$b.bootstrap.model_minus_$r.observed" "$f")" "$(pct ".benchmarks.$b.bootstrap.model_minus_$r.bootstrap_sd" "$f")"
}
echo
printf "%-10s %-6s | %6s %6s | %6s %6s | %6s %5s\n" split bench "s.gain" "oracle" "AUCin" "lenAUCin" "m-base" "sd"
for s in 1 2 3 4 5; do ref_row "$OUT/random$s.json" mmlu subject_length; done
for s in 1 2 3 4 5; do ref_row "$OUT/random$s.json" gsm8k length; done
for f in 0 1 2 3 4; do ref_row "$OUT/subject$f.json" mmlu length; done

summary() {  # label benchmark router files...
  local label=$1 b=$2 r=$3; shift 3
  jq -s -r --arg b "$b" --arg r "$r" --arg lab "$label" '
    [.[] | .benchmarks[$b][$r].calls_saved * 100] as $v
    | ($v | add / length) as $m
    | "\($lab) \($b) \($r): mean \($m * 10 | round / 10)  min \($v | min * 10 | round / 10)  max \($v | max * 10 | round / 10)  sd \(($v | map((. - $m) * (. - $m)) | add / (length - 1)) | sqrt * 10 | round / 10)"' "$@"
}
echo
for r in model subject_length subject_gain subject_oracle length random; do summary random mmlu $r "$OUT"/random?.json; done
for r in model length random; do summary random gsm8k $r "$OUT"/random?.json; done
for r in model length subject_length random; do summary subject-holdout mmlu $r "$OUT"/subject?.json; done

# Paired differences (model minus a baseline, same split), in points of calls saved.
diff_summary() {  # label benchmark baseline files...
  local label=$1 b=$2 r=$3; shift 3
  jq -s -r --arg b "$b" --arg r "$r" --arg lab "$label" '
    [.[] | (.benchmarks[$b].model.calls_saved - .benchmarks[$b][$r].calls_saved) * 100] as $v
    | ($v | add / length) as $m
    | "\($lab) \($b) model - \($r): mean \($m * 10 | round / 10)  per split \($v | map(. * 10 | round / 10))"' "$@"
}
echo
diff_summary random mmlu subject_length "$OUT"/random?.json
diff_summary random mmlu subject_gain "$OUT"/random?.json
diff_summary random gsm8k length "$OUT"/random?.json
diff_summary subject-holdout mmlu length "$OUT"/subject?.json
# Standard error of a 5-split mean difference if the splits were independent: sqrt(sum sd^2) / 5
# (they overlap, so this understates it somewhat).
mean_se() {  # label benchmark baseline files...
  local label=$1 b=$2 r=$3; shift 3
  jq -s -r --arg b "$b" --arg r "$r" --arg lab "$label" '
    [.[] | .benchmarks[$b].bootstrap["model_minus_" + $r].bootstrap_sd * 100] as $v
    | "\($lab) \($b) model - \($r): bootstrap sd per split \($v | map(. * 10 | round / 10)), of the mean ~\(($v | map(. * .) | add | sqrt) / ($v | length) * 10 | round / 10)"' "$@"
}
mean_se random mmlu subject_length "$OUT"/random?.json
mean_se random gsm8k length "$OUT"/random?.json
mean_se subject-holdout mmlu length "$OUT"/subject?.json
