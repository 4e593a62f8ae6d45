#!/usr/bin/env bash
# Checks the systemd unit: `make install PREFIX=<scratch directory>`, then `systemd-analyze
# verify` on the installed unit (whose paths name the installed binary and configuration) and
# `systemd-analyze security` for its exposure score. Installs systemd's tools when missing
# (only here: nothing else needs them). BIN: the binary to install (default: the release build;
# without one, a placeholder executable stands in, which verify accepts: it checks the path).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if ! command -v systemd-analyze >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" != 0 ] && SUDO=sudo
  $SUDO apt-get install -y -q --no-install-recommends systemd
fi
dest="$(mktemp -d)"
trap 'rm -rf "$dest"' EXIT
bin="${BIN:-$root/build/release/mecrouter}"
if [ ! -x "$bin" ]; then
  echo "unit-check: no binary at $bin; a placeholder stands in for it"
  bin="$dest/placeholder-mecrouter"
  printf '#!/bin/sh\nexit 0\n' > "$bin"; chmod +x "$bin"
fi
prefix="$dest/prefix"
make -C "$root" --no-print-directory install PREFIX="$prefix" BIN="$bin" >/dev/null
unit="$prefix/lib/systemd/system/mecrouter.service"
systemd-analyze verify "$unit"
echo "unit-check: systemd-analyze verify $unit: ok"
systemd-analyze security --offline=true "$unit" | tail -n 1
if [ -n "${BIN:-}" ] || [ -x "$root/build/release/mecrouter" ]; then
  "$bin" config check "$prefix/etc/mecrouter/config.yaml" >/dev/null
  echo "unit-check: the installed default configuration passes mecrouter config check"
fi
