#!/usr/bin/env bash
# Measures learning on the deployment's own traffic (issue 13, docs/complexity.md "Learning on
# the traffic"): for each seed, hold out K whole MMLU subjects (`complexity split --scheme
# subject-random`), train the starting model with the recipe of models/README.md on the rest,
# stream the held-out subjects' items in a random order as judged samples, and evaluate on other
# items of those subjects (`complexity learn`). Prints one row per seed and the mean.
#
#   MECROUTER_BIN=build/release/mecrouter scripts/learn_eval.sh [OUT_DIR]
# Environment: SEEDS (default "1 2 3 4 5"), SAMPLES (default 0,100,250,500,1000,2000),
# HELD_OUT (subjects, default 17), TRAIN_FLAGS (default: the shipped model's), LEARN_FLAGS.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${MECROUTER_BIN:-build/release/mecrouter}
DATA=${MECROUTER_DATA:-../shared/data}
OUT=${1:-build/learn-eval}
SEEDS=${SEEDS:-1 2 3 4 5}
SAMPLES=${SAMPLES:-0,100,250,500,1000,2000}
HELD_OUT=${HELD_OUT:-17}
TRAIN_FLAGS=${TRAIN_FLAGS:---char-ngrams 9,1 --max-weights 20000 --max-iterations 100 --l2-grid 0.001,0.003,0.01 --subject-smoothing 0,0.5 --stack --stack-targets label,gain --stack-depths 2,3 --stack-trees 0,50,100,200,400}
LEARN_FLAGS=${LEARN_FLAGS:-}
LABELS=$DATA/router_eval/routellm_mmlu_gsm8k_correctness.csv
PROMPTS=$DATA/router_eval/routellm_prompts.jsonl
mkdir -p "$OUT"

for s in $SEEDS; do
  p="$OUT/seed$s"
  if [ ! -f "$p.model" ]; then
    "$BIN" complexity split --labels "$LABELS" --scheme subject-random --seed "$s" --held-out-subjects "$HELD_OUT" \
      --train "$p.train" --test "$p.test" --stream "$p.stream" --eval "$p.eval" 2>"$p.split.log"
    # shellcheck disable=SC2086
    "$BIN" complexity train --labels "$LABELS" --prompts "$PROMPTS" --ids "$p.train" --out "$p.model" $TRAIN_FLAGS \
      2>"$p.train.log"
  fi
  # shellcheck disable=SC2086
  "$BIN" complexity learn --model "$p.model" --labels "$LABELS" --prompts "$PROMPTS" --stream-ids "$p.stream" \
    --eval-ids "$p.eval" --samples "$SAMPLES" --json $LEARN_FLAGS >"$p.json" 2>"$p.learn.log"
  echo "done seed $s" >&2
done

# One row per seed: calls saved (%) after each number of samples, then the told-subject bar and length.
header="seed"
for n in ${SAMPLES//,/ }; do header+=$(printf ' %7s' "n=$n"); done
echo "calls saved at 95% of strong-only accuracy (%), on the held-out subjects' eval items"
echo "$header | told-subject at each n | length"
for s in $SEEDS; do
  f="$OUT/seed$s.json"
  printf '%-4s' "$s"
  jq -r '[.curve[].calls_saved * 1000 | round / 10] | map(tostring) | join(" ")' "$f" | xargs printf ' %7s'
  printf ' |'
  jq -r '[.baselines.told_subject[].calls_saved * 1000 | round / 10] | map(tostring) | join(" ")' "$f" | xargs printf ' %5s'
  printf ' | %s\n' "$(jq -r '.baselines.length.calls_saved * 1000 | round / 10' "$f")"
done
printf 'mean'
jq -s -r '[range(0; .[0].curve | length) as $i | (map(.curve[$i].calls_saved) | add / length * 1000 | round / 10)] | map(tostring) | join(" ")' \
  "$OUT"/seed*.json | xargs printf ' %7s'
printf ' |'
jq -s -r '[range(0; .[0].curve | length) as $i | (map(.baselines.told_subject[$i].calls_saved) | add / length * 1000 | round / 10)] | map(tostring) | join(" ")' \
  "$OUT"/seed*.json | xargs printf ' %5s'
printf ' | %s\n' "$(jq -s -r 'map(.baselines.length.calls_saved) | add / length * 1000 | round / 10' "$OUT"/seed*.json)"
