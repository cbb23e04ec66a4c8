#!/usr/bin/env bash
# Stops a dockerd started by start-dockerd.sh DIR and removes everything it
# left: its containers, its bridge networks (and their Linux bridges), its
# containerd, mounts under DIR, its cgroups, and DIR itself. Safe to run
# twice, or after a failed start.
#
#   stop-dockerd.sh DIR
set -uo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
[ -d "$1" ] || exit 0
D=$(cd "$1" && pwd)
SOCK=$D/docker.sock
api() { curl -sf --max-time 30 --unix-socket "$SOCK" "$@"; }

bridges=""
if [ -S "$SOCK" ] && api http://docker/_ping > /dev/null; then
  for id in $(api 'http://docker/containers/json?all=1' | grep -o '"Id":"[0-9a-f]*"' | cut -d'"' -f4); do
    api -X DELETE "http://docker/containers/$id?force=1&v=1" > /dev/null
  done
  for id in $(api 'http://docker/networks?filters=%7B%22driver%22%3A%7B%22bridge%22%3Atrue%7D%7D' | grep -o '"Id":"[0-9a-f]*"' | cut -d'"' -f4); do
    net=$(api "http://docker/networks/$id")
    name=$(printf '%s' "$net" | grep -o '"com.docker.network.bridge.name":"[^"]*"' | cut -d'"' -f4)
    [ -n "$name" ] || name=br-${id:0:12}
    bridges="$bridges $name"
    api -X DELETE "http://docker/networks/$id" > /dev/null
  done
fi

stop_pid() { # PIDFILE: SIGTERM, then SIGKILL after 15 s
  [ -f "$1" ] || return 0
  local p
  p=$(cat "$1")
  kill "$p" 2>/dev/null || return 0
  for _ in $(seq 1 150); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$p" 2>/dev/null
  sleep 0.2
}
stop_pid "$D/dockerd.spid"
# Shims of containers that outlived dockerd (normally none: removed above).
for f in "$D"/containerd/state/io.containerd.runtime.v2.task/*/*/init.pid; do
  [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
done
stop_pid "$D/containerd.spid"
pkill_shims() {
  local p
  for p in $(pgrep -f "containerd-shim-runc-v2 .*-address $D/containerd/containerd.sock" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
}
pkill_shims

for b in $bridges; do ip link del "$b" 2>/dev/null; done
grep -o " $D/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
if [ -f "$D/cgroup-parent" ]; then
  cg=$(cat "$D/cgroup-parent")
  for c in /sys/fs/cgroup/*/"$cg" /sys/fs/cgroup/"$cg"; do
    [ -d "$c" ] || continue
    find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
fi
rm -rf "$D"
exit 0
