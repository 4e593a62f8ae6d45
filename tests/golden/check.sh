#!/usr/bin/env bash
# The `mixed` simulation, byte for byte (issue 15): two runs of `mecrouter simulate` compared with
# the JSON stored beside this script. A change to routing, the request flow or the simulator that
# moves any figure fails here. When the change is intended (a scoreboard or availability issue
# changes `mixed` on purpose), regenerate with `tests/golden/check.sh BIN --update` and say why in
# the commit that updates the files.
# Usage: tests/golden/check.sh path/to/mecrouter [--update]   (run from the repository root)
set -euo pipefail
bin=$1
update=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
data=${MECROUTER_DATA:-../shared/data}
if [ ! -d "$data/router_eval" ]; then
  echo "check.sh: the shared data ($data) is missing; the golden runs need it" >&2
  exit 1
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
run() {  # name, then simulate's arguments
  local name=$1
  shift
  "$bin" simulate --scenario mixed --data "$data" --json "$out/$name.json" "$@" >/dev/null
  if [ "$update" = "--update" ]; then
    cp "$out/$name.json" "$here/$name.json"
    echo "updated $here/$name.json"
  elif ! cmp -s "$out/$name.json" "$here/$name.json"; then
    echo "check.sh: $name differs from the golden file ($*):" >&2
    diff <(tr ',' '\n' <"$here/$name.json") <(tr ',' '\n' <"$out/$name.json") | head -40 >&2
    exit 1
  else
    echo "$name: identical"
  fi
}
run mixed_all_seed3 --requests 20000 --seed 3
run mixed_learning_seed5 --policy adaptive,round-robin --requests 8000 --seed 5 --no-outages --learning on
