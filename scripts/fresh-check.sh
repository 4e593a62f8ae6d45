#!/usr/bin/env bash
# Rehearses the newcomer's path: a minimal Debian 12 root file system (debootstrap, variant
# minbase) with only git, make and CA certificates added, a clean clone of the committed tree
# (HEAD), then `make test` and a `make run` smoke test (start, one chat, stop) inside it.
# Prints how long each step took. Not part of `make test`: it takes about 25 minutes on 2
# cores. Run it before resolving any work that touches the build, scripts/setup.sh or a
# dependency (CONTRIBUTING.md).
#
#   scripts/fresh-check.sh [--root DIR] [--keep] [--mirror URL]
#
# Needs root (or sudo) for debootstrap, chroot and mounts. The machine's own extra CA
# certificates (/usr/local/share/ca-certificates) are copied in, so registries behind a
# TLS-intercepting proxy work; nothing else of the host is. ../shared beside the checkout is
# mounted read-only at the same relative place, as CI lays it out. The smoke test runs in a
# network namespace of its own, so the demo's fixed ports never meet the host's.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
root=/var/tmp/mecrouter-fresh
keep=0
mirror="${FRESH_MIRROR:-http://deb.debian.org/debian}"
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    --mirror) mirror="$2"; shift 2 ;;
    -h | --help) sed -n 2,16p "$0"; exit 0 ;;
    *) echo "fresh-check: unknown argument $1" >&2; exit 2 ;;
  esac
done

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
shared="$(cd "$repo/.." && pwd)/shared"
[ -d "$shared/data" ] || { echo "fresh-check: $shared/data not found" >&2; exit 1; }
[ -z "$(git -C "$repo" status --porcelain --untracked-files=no)" ] ||
  echo "fresh-check: note: uncommitted changes are NOT checked; only the committed HEAD is cloned"

declare -a timings=()
now() { date +%s; }
stamp() { timings+=("$(printf '%-34s %5d s  (%s)' "$1" "$2" "$(date -u -d "@$2" +%Mm%Ss)")"); }

umount_all() {
  for m in work/shared dev/shm dev/pts dev sys proc; do
    if mountpoint -q "$root/$m" 2>/dev/null; then $SUDO umount -l "$root/$m" || true; fi
  done
}
cleanup() {
  umount_all
  if [ "$keep" = 0 ] && [ -d "$root" ]; then $SUDO rm -rf --one-file-system "$root"; fi
}
trap cleanup EXIT

if ! command -v debootstrap >/dev/null 2>&1; then
  echo "fresh-check: installing debootstrap"
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap
fi

umount_all
$SUDO rm -rf --one-file-system "$root"
$SUDO mkdir -p "$root"

t0=$(now)
echo "fresh-check: debootstrap --variant=minbase bookworm into $root (mirror $mirror)"
$SUDO debootstrap --variant=minbase --include=git,make,ca-certificates bookworm "$root" "$mirror" \
  >"$root.debootstrap.log" 2>&1 || { tail -30 "$root.debootstrap.log"; exit 1; }
stamp "debootstrap (minbase + git, make)" $(($(now) - t0))

# What a fresh Debian 12 image lists: the release, its updates and security.
$SUDO tee "$root/etc/apt/sources.list" >/dev/null <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb ${mirror%/debian}/debian-security bookworm-security main
EOF
extra_ca=0
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  extra_ca=1
  $SUDO mkdir -p "$root/usr/local/share/ca-certificates"
  $SUDO cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  $SUDO chroot "$root" update-ca-certificates >/dev/null
fi
$SUDO cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
# debootstrap writes no /etc/hosts, which every installed system (Debian's installer) and every
# container (the runtime) has: without it `localhost` does not resolve (redis_tls_test connects
# by that name to check the certificate's host). Debian's default lines, nothing of the host's.
if [ ! -e "$root/etc/hosts" ]; then
  printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' | $SUDO tee "$root/etc/hosts" >/dev/null
fi

# The clone: the committed tree only, as CI takes it.
$SUDO mkdir -p "$root/work/shared"
$SUDO git clone -q --no-local "$repo" "$root/work/main"
echo "fresh-check: cloned $(git -C "$repo" rev-parse --short HEAD) ($(git -C "$repo" log -1 --format=%s | cut -c1-70))"

$SUDO mount -t proc proc "$root/proc"
$SUDO mount --rbind /sys "$root/sys"
$SUDO mount --bind /dev "$root/dev"
$SUDO mount -t devpts devpts "$root/dev/pts" -o newinstance,ptmxmode=0666 || true
$SUDO mount -t tmpfs -o size=1g tmpfs "$root/dev/shm"
$SUDO mount --bind "$shared" "$root/work/shared"
$SUDO mount -o remount,bind,ro "$root/work/shared"

# A clean environment: what a new user's shell has, plus the extra CA file for Node when the
# machine needs one (Node reads its own CA list, not the system's).
envs=(HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=dumb)
[ "$extra_ca" = 1 ] && envs+=(NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt)
in_root() { $SUDO chroot "$root" /usr/bin/env -i "${envs[@]}" /bin/bash -c "$1"; }

echo "fresh-check: make test (log: $root.make-test.log)"
t0=$(now)
status=0
in_root 'cd /work/main && make test' >"$root.make-test.log" 2>&1 || status=$?
stamp "make test (apt, npm, build, tests)" $(($(now) - t0))
grep -E '^# (tests|pass|fail|skipped)|tests passed|tests failed' "$root.make-test.log" | tail -8 || true
if [ "$status" != 0 ]; then
  tail -60 "$root.make-test.log"
  printf '%s\n' "${timings[@]}"
  echo "fresh-check: FAILED: make test exited $status"
  exit 1
fi

echo "fresh-check: make run smoke test (log: $root.make-run.log)"
t0=$(now)
status=0
$SUDO tee "$root/tmp/smoke.sh" >/dev/null <<'EOF'
set -u
cd /work/main
setsid make run >/tmp/make-run.out 2>&1 &
pid=$!
up=0
for _ in $(seq 1 1800); do   # the release build comes first: allow 30 minutes
  if curl -sf http://127.0.0.1:8080/healthz >/dev/null 2>&1; then up=1; break; fi
  kill -0 $pid 2>/dev/null || break
  sleep 1
done
[ $up = 1 ] || { echo "gateway did not come up"; cat /tmp/make-run.out; exit 1; }
echo "started after $SECONDS s"
body=$(curl -s -D /tmp/headers http://127.0.0.1:8080/v1/chat/completions -H "Content-Type: application/json" \
  -d '{"model":"auto","messages":[{"role":"user","content":"Hello!"}]}')
cat /tmp/headers; echo "$body"
kill -INT -- -$pid
for _ in $(seq 1 30); do kill -0 $pid 2>/dev/null || break; sleep 1; done
if kill -0 $pid 2>/dev/null; then echo "make run did not stop on SIGINT"; kill -KILL -- -$pid; exit 1; fi
echo "$body" | grep -q '"choices"' || { echo "no answer"; exit 1; }
grep -qi '^x-mec-tier:' /tmp/headers || { echo "no X-MEC-Tier header"; exit 1; }
echo "stopped"
EOF
# A network namespace of its own (loopback only) when iproute2 is here to bring its lo up.
netns=()
command -v ip >/dev/null 2>&1 && netns=(unshare --net /bin/sh -c 'ip link set lo up && exec "$@"' sh)
$SUDO "${netns[@]}" chroot "$root" /usr/bin/env -i "${envs[@]}" /bin/bash /tmp/smoke.sh \
  >"$root.make-run.log" 2>&1 || status=$?
stamp "make run (build, start, chat, stop)" $(($(now) - t0))
tail -25 "$root.make-run.log"

echo
echo "fresh-check: timings"
printf '  %s\n' "${timings[@]}"
if [ "$status" != 0 ]; then echo "fresh-check: FAILED: make run smoke test"; exit 1; fi
echo "fresh-check: PASSED ($(git -C "$repo" rev-parse --short HEAD)): make test and make run on a minimal Debian 12"
