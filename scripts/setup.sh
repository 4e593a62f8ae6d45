#!/usr/bin/env bash
# Installs what mecrouter needs on Debian 12, idempotently: Debian packages through apt
# (via sudo when not root), then npm packages for the test clients under tests/node.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  g++ cmake make pkg-config ccache git curl ca-certificates
  libboost1.81-dev libsimdjson-dev libyaml-cpp-dev libspdlog-dev libfmt-dev
  libssl-dev libsqlite3-dev libhiredis-dev prometheus-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  valgrind redis-server nginx-light wrk nghttp2-client prometheus
)

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js: any node >= 18 on PATH will do (Debian 12 ships 18); otherwise take Debian's.
if ! command -v node >/dev/null 2>&1 || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 18 ]; then
  missing+=(nodejs npm)
elif ! command -v npm >/dev/null 2>&1; then
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

# npm packages for the end-to-end tests (versions pinned in tests/node/package.json).
if [ -f tests/node/package.json ]; then
  if [ ! -d tests/node/node_modules ] || [ tests/node/package.json -nt tests/node/node_modules ]; then
    echo "setup: installing npm packages in tests/node"
    (cd tests/node && npm install --no-audit --no-fund --loglevel=error)
    touch tests/node/node_modules
  else
    echo "setup: npm packages present"
  fi
fi
