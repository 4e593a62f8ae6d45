#!/usr/bin/env bash
# `make image`: builds the Dockerfile with Debian's podman and answers a chat through the
# container. No container registry is reachable from our machines, so the Debian 12 base image
# is made here: a debootstrap minbase root file system (from Debian's mirror, like apt),
# imported as localhost/debian:12 and cached. The builder stage compiles the whole binary at
# JOBS (default 1) under nice: about 25 minutes on 2 cores the first time.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
SUDO=""; [ "$(id -u)" != 0 ] && SUDO=sudo
need=()
command -v podman >/dev/null 2>&1 || need+=(podman uidmap fuse-overlayfs slirp4netns containernetworking-plugins)
command -v runc >/dev/null 2>&1 || need+=(runc)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
command -v curl >/dev/null 2>&1 || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  echo "image: installing ${need[*]}"
  $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
fi
BASE=localhost/debian:12
TAG="${IMAGE_TAG:-localhost/mecrouter:dev}"
JOBS="${JOBS:-1}"
PORT="${IMAGE_PORT:-18080}"
# Our machines: cgroup v1 hierarchies beside a cgroup2 mount with a controller enabled ("hybrid"),
# which podman's default runtime (crun) refuses ("cgroups in hybrid mode not supported"); runc
# runs there. The sandbox also forbids raising rlimits: podman's default nofile/nproc limits fail
# with "setrlimit ... Operation not permitted", so containers get explicit, lower ones.
PODMAN=($SUDO podman --runtime runc)
LIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

if ! $SUDO podman image exists "$BASE"; then
  rootfs="${ROOTFS:-/var/tmp/mec-deb12-rootfs}"
  if [ ! -x "$rootfs/usr/bin/apt-get" ]; then
    echo "image: debootstrap --variant=minbase bookworm $rootfs"
    $SUDO nice -n 10 debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian
  fi
  echo "image: importing $rootfs as $BASE"
  $SUDO tar -C "$rootfs" --exclude=./proc/* --exclude=./sys/* --exclude=./dev/* -c . | $SUDO podman import - "$BASE"
fi

echo "image: podman build -t $TAG (JOBS=$JOBS)"
start=$(date +%s)
# --format docker: the OCI image format has no HEALTHCHECK (podman drops it with a warning).
nice -n 10 "${PODMAN[@]}" build --format docker --pull=never --network=host "${LIMITS[@]}" --build-arg BASE="$BASE" --build-arg JOBS="$JOBS" \
  -f "$root/Dockerfile" -t "$TAG" "$root"
echo "image: built in $(( $(date +%s) - start )) s; $($SUDO podman image inspect "$TAG" --format '{{.Size}}') bytes"
$SUDO podman image inspect "$TAG" --format 'image: user {{.Config.User}}, healthcheck {{.Config.Healthcheck.Test}}'

name="mec-image-check-$$"
cleanup() { $SUDO podman rm -f "$name" >/dev/null 2>&1 || true; }
trap cleanup EXIT
"${PODMAN[@]}" run -d --name "$name" --network=host -e MECROUTER_HEALTH_PORT="$PORT" "${LIMITS[@]}" "$TAG" serve --listen "127.0.0.1:$PORT" >/dev/null
for _ in $(seq 1 50); do
  curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
echo "image: the container runs as uid $($SUDO podman exec "$name" sh -c 'id -u')"
# The response head goes to a file, then to stderr: curl -D /dev/stderr would reopen stderr, and a
# log file it is redirected to would be truncated.
head_file="$(mktemp)"
answer="$(curl -sf "http://127.0.0.1:$PORT/v1/chat/completions" -H 'Content-Type: application/json' \
  -d '{"model":"auto","messages":[{"role":"user","content":"Hello from the image check"}]}' -D "$head_file")"
cat "$head_file" >&2
rm -f "$head_file"
echo "$answer" | grep -q '"choices"' || { echo "image: no chat answer: $answer" >&2; exit 1; }
echo "image: chat answered through the container: ${answer:0:160}..."
$SUDO podman healthcheck run "$name" && echo "image: HEALTHCHECK (/readyz) passes"
