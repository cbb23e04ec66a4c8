#!/bin/bash
# Starts a private containerd (CRI + CNI) whose every piece lives under one state dir,
# so several instances (tests of several engineers, a user's own containerd) run side by side.
#
# usage: start-containerd.sh STATE_DIR
# env:   CNI_BRIDGE  bridge name (default: skcd + 4 hex digits derived from STATE_DIR; max 15 chars)
#        CNI_SUBNET  pod subnet (default: 10.<160-179>.<0-255>.0/24 derived from STATE_DIR)
#        INSECURE_REGISTRIES  space-separated HOST:PORT served over plain HTTP (hosts.toml under certs.d)
#        SANDBOX_IMAGE  name of the pause image (default localhost/skiff/pause:1), built offline
#                       with scripts/mkimage.sh and imported into namespace k8s.io before first use
# prints: one line `socket=<path> pid=<pid> bridge=<name> subnet=<cidr>`
# Prereq (Debian): containerd runc containernetworking-plugins busybox-static iptables
set -euo pipefail
D=${1:?usage: start-containerd.sh STATE_DIR}
mkdir -p "$D"; D=$(cd "$D" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd); ROOT=$(cd "$HERE/../../.." && pwd)
H=$(printf '%s' "$D" | sha256sum | cut -c1-6)
BR=${CNI_BRIDGE:-skcd${H:0:4}}
SUBNET=${CNI_SUBNET:-10.$((160 + 0x${H:0:2} % 20)).$((0x${H:2:2})).0/24}
PAUSE=${SANDBOX_IMAGE:-localhost/skiff/pause:1}
for bin in containerd ctr runc /usr/lib/cni/bridge /usr/lib/cni/host-local /usr/lib/cni/portmap /usr/lib/cni/loopback; do
  command -v "$bin" > /dev/null || { echo "start-containerd.sh: $bin not found (apt-get install containerd runc containernetworking-plugins)" >&2; exit 1; }
done
[ ${#BR} -le 15 ] || { echo "start-containerd.sh: bridge name $BR is longer than 15 characters" >&2; exit 1; }
mkdir -p "$D/net.d" "$D/certs.d" "$D/img"
cat > "$D/config.toml" <<CONF
version = 2
root = "$D/root"
state = "$D/state"
oom_score = 0
[grpc]
  address = "$D/containerd.sock"
[ttrpc]
  address = "$D/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$D/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  # no CAP_SYS_RESOURCE on such machines: the pause container's oom_score_adj=-998 would be EPERM
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "$D/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$D/net.d"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$D/certs.d"
CONF
cat > "$D/net.d/10-skiff.conflist" <<CONF
{ "cniVersion": "1.0.0", "name": "skiff-$H", "plugins": [
  { "type": "bridge", "bridge": "$BR", "isGateway": true, "ipMasq": false, "hairpinMode": true,
    "ipam": { "type": "host-local", "dataDir": "$D/ipam", "ranges": [[{ "subnet": "$SUBNET" }]], "routes": [{ "dst": "0.0.0.0/0" }] } },
  { "type": "portmap", "capabilities": { "portMappings": true } } ] }
CONF
for r in ${INSECURE_REGISTRIES:-}; do "$HERE/add-insecure-registry.sh" "$D" "$r"; done
echo "$BR" > "$D/bridge"; echo "$SUBNET" > "$D/subnet"
setsid containerd --config "$D/config.toml" > "$D/containerd.log" 2>&1 < /dev/null &
echo $! > "$D/containerd.pid"
for _ in $(seq 1 150); do ctr -a "$D/containerd.sock" version > /dev/null 2>&1 && break; sleep 0.1; done
if ! ctr -a "$D/containerd.sock" version > /dev/null 2>&1; then
  echo "start-containerd.sh: containerd did not come up; last log lines:" >&2; tail -5 "$D/containerd.log" >&2; exit 1
fi
# The sandbox image must be present before the first RunPodSandbox (CRI would try to pull it).
"$ROOT/scripts/mkimage.sh" "$D/img/pause.tar" "$PAUSE" /bin/sleep 2147483647 > /dev/null
ctr -a "$D/containerd.sock" -n k8s.io images import "$D/img/pause.tar" > /dev/null
echo "socket=$D/containerd.sock pid=$(cat "$D/containerd.pid") bridge=$BR subnet=$SUBNET"
