#!/usr/bin/env bash
# `make install`: the binary, the systemd unit (deploy/systemd/mecrouter.service.in with this
# install's paths) and a commented default configuration (never overwriting one already there).
# Usage: install.sh DESTDIR PREFIX SYSCONFDIR BINARY
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
destdir="$1" prefix="$2" sysconfdir="$3" bin="$4"
[ -x "$bin" ] || { echo "install: no binary at $bin (make build first, or BIN=...)" >&2; exit 1; }
bindir="$prefix/bin"
confdir="$sysconfdir/mecrouter"
# systemd looks in /usr/local/lib/systemd/system and /usr/lib/systemd/system (and /etc/...).
unitdir="$prefix/lib/systemd/system"
[ "$prefix" = /usr ] && unitdir=/usr/lib/systemd/system
install -d "$destdir$bindir" "$destdir$unitdir" "$destdir$confdir"
install -m 0755 "$bin" "$destdir$bindir/mecrouter"
sed -e "s|@BINDIR@|$bindir|g" -e "s|@CONFDIR@|$confdir|g" "$root/deploy/systemd/mecrouter.service.in" \
  > "$destdir$unitdir/mecrouter.service"
chmod 0644 "$destdir$unitdir/mecrouter.service"
if [ -e "$destdir$confdir/config.yaml" ]; then
  echo "install: keeping $destdir$confdir/config.yaml; the default is $destdir$confdir/config.yaml.default"
  install -m 0644 "$root/deploy/systemd/config.yaml" "$destdir$confdir/config.yaml.default"
else
  install -m 0644 "$root/deploy/systemd/config.yaml" "$destdir$confdir/config.yaml"
fi
echo "install: $destdir$bindir/mecrouter, $destdir$unitdir/mecrouter.service, $destdir$confdir/config.yaml"
echo "install: then: systemctl daemon-reload && systemctl enable --now mecrouter"
