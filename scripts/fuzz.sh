#!/usr/bin/env bash
# `make fuzz`: builds the libFuzzer targets of fuzz/ with clang (AddressSanitizer + UBSan) and runs
# each for FUZZ_SECONDS, one after the other, in-process (one process: no -jobs/-workers, which
# would fork a child logging to fuzz-N.log), under nice. Prints per target the
# executions, exec/s, new corpus units and findings; exits non-zero when anything was found.
#
#   FUZZ_SECONDS=60     seconds per target
#   FUZZ_TARGETS="..."  a subset (default: every fuzz/<name>_fuzz.cc)
#   FUZZ_RUNS=N         stop each target after N executions instead (FUZZ_SECONDS still caps it)
#   FUZZ_BUILD=build/fuzz  the build directory; new corpus units go to $FUZZ_BUILD/corpus/<name>
#                       (the committed seeds in fuzz/corpus/<name> are read, never written) and
#                       findings (crash-*, leak-*, timeout-*, oom-*) to $FUZZ_BUILD/findings/<name>
#   JOBS=N              build parallelism (default: nproc)
# Replay a finding: $FUZZ_BUILD/fuzz_<name> $FUZZ_BUILD/findings/<name>/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${FUZZ_SECONDS:-60}
BUILD=${FUZZ_BUILD:-build/fuzz}
JOBS=${JOBS:-$(nproc)}
if [ -n "${FUZZ_TARGETS:-}" ]; then
  read -r -a targets <<<"$FUZZ_TARGETS"
else
  targets=()
  for f in fuzz/*_fuzz.cc; do n=$(basename "$f" _fuzz.cc); targets+=("$n"); done
fi

command -v clang++ >/dev/null || { echo "fuzz: clang++ not found (bash scripts/setup.sh --fuzz installs it)" >&2; exit 1; }
mkdir -p "$BUILD"
CC=clang CXX=clang++ cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DMEC_FUZZ=ON -DMEC_TESTS=OFF -DMEC_BENCH=OFF >"$BUILD/configure.log" 2>&1 || { cat "$BUILD/configure.log" >&2; exit 1; }
cmake --build "$BUILD" -j "$JOBS" --target "${targets[@]/#/fuzz_}"

# The dictionaries of fuzz/dict/ each target uses (libFuzzer takes one -dict: they are concatenated).
dicts_for() {
  case "$1" in
    request) echo json request ;;
    answer_convert) echo json answer_convert ;;
    engine_json) echo json engine_json ;;
    http_request) echo json request http_request ;;
    learned_model | adapted_model) echo model ;;
    *) [ -f "fuzz/dict/$1.dict" ] && echo "$1" ;;
  esac
}

runs_flag=()
[ -n "${FUZZ_RUNS:-}" ] && runs_flag=("-runs=$FUZZ_RUNS")
summary=()
found=0
for t in "${targets[@]}"; do
  work="$BUILD/corpus/$t" findings="$BUILD/findings/$t" log="$BUILD/logs/$t.log"
  mkdir -p "$work" "$findings" "$(dirname "$log")" "$BUILD/dict"
  dict_flag=()
  names=$(dicts_for "$t" || true)
  if [ -n "$names" ]; then
    for d in $names; do cat "fuzz/dict/$d.dict"; done >"$BUILD/dict/$t.dict"
    dict_flag=("-dict=$BUILD/dict/$t.dict")
  fi
  echo "fuzz: $t for ${SECONDS_PER_TARGET}s (log: $log)"
  start=$(date +%s)
  set +e
  nice -n 10 "$BUILD/fuzz_$t" -max_total_time="$SECONDS_PER_TARGET" "${runs_flag[@]}" "${dict_flag[@]}" -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$findings/" "$work" "fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  set -e
  secs=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  units=$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -1)
  n=$(find "$findings" -type f | wc -l)
  if [ "$rc" != 0 ] || [ "$n" != 0 ]; then
    found=1
    grep -m1 -E "ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|fuzz property failed" "$log" || true
  fi
  summary+=("$(printf '%-16s %6ss %14s %9s %6s %9s' "$t" "$secs" "${execs:-?}" "${rate:-?}" "${units:-?}" "$n")")
done

printf '\n%-16s %7s %14s %9s %6s %9s\n' target time executions exec/s new findings
printf '%s\n' "${summary[@]}"
if [ "$found" != 0 ]; then
  echo "fuzz: findings under $BUILD/findings (replay: $BUILD/fuzz_<name> <file>)" >&2
  exit 1
fi
