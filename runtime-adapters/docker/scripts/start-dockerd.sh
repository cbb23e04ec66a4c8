#!/usr/bin/env bash
# Starts a private dockerd for Skiff's docker runtime (tests, CI, trying it
# out) next to whatever else runs on the machine: its own containerd, data
# root, exec root, pidfiles, unix sockets and cgroup parent, all under DIR;
# no default bridge (the adapter creates its own bridge network) and no
# iptables rules. Stop it with stop-dockerd.sh DIR.
#
#   start-dockerd.sh DIR        # prints one line: DIR/docker.sock
#
# DIR must be short: unix socket paths are limited to 107 bytes.
#
# dockerd 20.10 uses /run/containerd/containerd.sock when it exists (someone
# else's containerd) and otherwise starts one it manages; to never share a
# containerd we always start our own on DIR/containerd/containerd.sock and
# pass it with --containerd.
#
# Needs: dockerd and containerd (Debian: docker.io), runc, curl; root.
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
mkdir -p "$1"
D=$(cd "$1" && pwd)
SOCK=$D/docker.sock
CTD=$D/containerd
if [ ${#CTD} -gt 80 ]; then
  echo "start-dockerd: $D is too long for unix socket paths" >&2
  exit 2
fi
if [ -f "$D/dockerd.spid" ] && kill -0 "$(cat "$D/dockerd.spid")" 2>/dev/null; then
  echo "start-dockerd: a dockerd already runs for $D (pid $(cat "$D/dockerd.spid"))" >&2
  exit 1
fi
# A name unique to DIR for the cgroup parent (removed by stop-dockerd.sh).
TAG=$(printf '%s' "$D" | sha256sum | cut -c1-8)
echo "skiff-dockerd-$TAG" > "$D/cgroup-parent"
mkdir -p "$CTD"
cat > "$CTD/config.toml" <<TOML
version = 2
root = "$CTD/root"
state = "$CTD/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CTD/containerd.sock"
[ttrpc]
  address = "$CTD/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
TOML
echo '{}' > "$D/daemon.json"

wait_for() { # WHAT CMD...: up to 15 s
  local what=$1
  shift
  for _ in $(seq 1 150); do "$@" > /dev/null 2>&1 && return 0; sleep 0.1; done
  echo "start-dockerd: $what did not come up; see $D/*.log" >&2
  return 1
}

setsid containerd --config "$CTD/config.toml" > "$D/containerd.log" 2>&1 < /dev/null &
echo $! > "$D/containerd.spid"
wait_for containerd test -S "$CTD/containerd.sock"

setsid dockerd \
  --config-file "$D/daemon.json" \
  --data-root "$D/root" \
  --exec-root "$D/exec" \
  --pidfile "$D/dockerd.pid" \
  -H "unix://$SOCK" \
  --containerd "$CTD/containerd.sock" \
  --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
  --storage-driver=overlay2 \
  --cgroup-parent "skiff-dockerd-$TAG" \
  > "$D/dockerd.log" 2>&1 < /dev/null &
echo $! > "$D/dockerd.spid"
wait_for dockerd curl -sf --unix-socket "$SOCK" http://docker/_ping
echo "$SOCK"
