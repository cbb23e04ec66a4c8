#!/bin/bash
# Stops the containerd started by start-containerd.sh STATE_DIR and removes everything it left:
# pods (through CRI when bun is at hand, which also tears down CNI and portmap rules), tasks,
# the daemon, its bridge, mounts under STATE_DIR, its cgroups, the state dir, and portmap's
# global nat chains once no pod on the machine uses them any more.
# usage: stop-containerd.sh STATE_DIR [CGROUP_PARENT]
D=${1:?usage: stop-containerd.sh STATE_DIR [CGROUP_PARENT]}
[ -d "$D" ] || exit 0
D=$(cd "$D" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd); ROOT=$(cd "$HERE/../../.." && pwd)
S="$D/containerd.sock"
BUN=$(command -v bun || echo "$ROOT/node_modules/.bin/bun")
if [ -S "$S" ]; then
  [ -x "$BUN" ] && timeout 60 "$BUN" "$HERE/remove-pods.ts" "$S" > /dev/null 2>&1 || true
  for t in $(ctr -a "$S" -n k8s.io tasks ls -q 2>/dev/null); do ctr -a "$S" -n k8s.io tasks kill -s KILL "$t" 2>/dev/null || true; done
fi
if [ -f "$D/containerd.pid" ]; then
  P=$(cat "$D/containerd.pid"); kill "$P" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$P" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$P" 2>/dev/null || true
fi
# shims that outlived the daemon (their -address names our socket)
for p in $(pgrep -f "containerd-shim-runc-v2 .*-address $S" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
[ -f "$D/bridge" ] && ip link del "$(cat "$D/bridge")" 2>/dev/null
# overlay, shm and netns mounts under $D must be gone before rm -rf
grep -o " $D/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
rm -rf "$D"
if [ -n "${2:-}" ]; then
  for c in /sys/fs/cgroup/*/"${2#/}" /sys/fs/cgroup/"${2#/}"; do
    [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
fi
# portmap leaves global nat chains behind; drop them only when no pod on the machine uses them
if command -v iptables > /dev/null && ! iptables -t nat -S 2>/dev/null | grep -q -- '-N CNI-DN-'; then
  iptables -t nat -D PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT 2>/dev/null
  iptables -t nat -D OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT 2>/dev/null
  iptables -t nat -D POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ 2>/dev/null
  for c in CNI-HOSTPORT-DNAT CNI-HOSTPORT-MASQ CNI-HOSTPORT-SETMARK; do iptables -t nat -F $c 2>/dev/null; iptables -t nat -X $c 2>/dev/null; done
fi
exit 0
