#!/usr/bin/env bash
# Runs the Node.js the tests use: the `node` on PATH when it is 20 or newer, otherwise the one
# scripts/setup.sh installed into .node/ (see README, "Node.js"). Arguments go to node unchanged.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if command -v node >/dev/null 2>&1 && [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ]; then
  exec node "$@"
fi
for local_node in "$root"/.node/node_modules/node-linux-*/bin/node; do
  [ -x "$local_node" ] && exec "$local_node" "$@"
done
echo "scripts/node.sh: no Node >= 20 (node on PATH: $(node --version 2>/dev/null || echo none)); run scripts/setup.sh" >&2
exit 1
