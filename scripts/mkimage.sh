#!/usr/bin/env bash
# Builds a small image offline from the host's statically linked busybox
# (Debian: busybox-static), as ONE tar archive that is both an OCI image
# layout (index.json: containerd, `ctr images import`, `skiff images import`)
# and a docker-save archive (manifest.json: `docker load` on Docker 20.10,
# which cannot load OCI-only archives).
#
#   scripts/mkimage.sh OUT.tar NAME:TAG [CMD [ARGS...]]
#   scripts/mkimage.sh /tmp/pause.tar skiff.local/pause:1 /bin/sleep 2147483647
#
# The image holds busybox and its applets in /bin, /etc/passwd and /etc/group
# (root, and nobody as 65534), /tmp, and /www/index.html ("hello from skiff").
# Builds are reproducible: the same arguments give the same digests.
# Prints one line: OUT.tar FULL-NAME manifest=DIGEST config=DIGEST.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 OUT.tar NAME:TAG [CMD [ARGS...]]" >&2
  exit 2
fi
out=$1
ref=$2
shift 2
[ $# -gt 0 ] || set -- /bin/sh
busybox=${BUSYBOX:-$(command -v busybox || true)}
if [ -z "$busybox" ] || ! { ldd "$busybox" 2>&1 || true; } | grep -q "not a dynamic"; then
  echo "mkimage: a statically linked busybox is needed (apt-get install busybox-static)" >&2
  exit 1
fi
case "$ref" in
  *:*) name=${ref%:*} tag=${ref##*:} ;;
  *) name=$ref tag=latest ;;
esac
# The fully qualified name containerd records (docker.io/library/x for bare names).
first=${name%%/*}
if [[ "$name" == */* && ( "$first" == *.* || "$first" == *:* || "$first" == localhost ) ]]; then
  full=$name
elif [[ "$name" == */* ]]; then
  full=docker.io/$name
else
  full=docker.io/library/$name
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/www" "$work/oci/blobs/sha256"
chmod 1777 "$root/tmp"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
echo "hello from skiff" >"$root/www/index.html"

reproducible=(--sort=name --owner=0 --group=0 --numeric-owner --mtime=@0)
tar "${reproducible[@]}" -C "$root" -cf "$work/layer.tar" .

# Moves a file into the blob store under its digest; prints the hex digest.
blob() {
  local d
  d=$(sha256sum "$1" | cut -d' ' -f1)
  mv "$1" "$work/oci/blobs/sha256/$d"
  echo "$d"
}
size() { stat -c%s "$1"; }

layer_size=$(size "$work/layer.tar")
layer=$(blob "$work/layer.tar")
cmd_json=$(node -e 'process.stdout.write(JSON.stringify(process.argv.slice(1)))' -- "$@")
cat >"$work/config.json" <<EOF
{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z","config":{"Env":["PATH=/bin"],"Cmd":$cmd_json,"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:$layer"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"skiff scripts/mkimage.sh"}]}
EOF
config_size=$(size "$work/config.json")
config=$(blob "$work/config.json")
cat >"$work/manifest.json" <<EOF
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:$config","size":$config_size},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:$layer","size":$layer_size}]}
EOF
manifest_size=$(size "$work/manifest.json")
manifest=$(blob "$work/manifest.json")
cat >"$work/oci/index.json" <<EOF
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:$manifest","size":$manifest_size,"annotations":{"io.containerd.image.name":"$full:$tag","org.opencontainers.image.ref.name":"$tag"}}]}
EOF
echo '{"imageLayoutVersion":"1.0.0"}' >"$work/oci/oci-layout"
# docker-save's manifest.json, pointing into the same blobs.
cat >"$work/oci/manifest.json" <<EOF
[{"Config":"blobs/sha256/$config","RepoTags":["$name:$tag"],"Layers":["blobs/sha256/$layer"]}]
EOF
mkdir -p "$(dirname "$out")"
tar "${reproducible[@]}" -C "$work/oci" -cf "$out" .
echo "$out $full:$tag manifest=sha256:$manifest config=sha256:$config"
