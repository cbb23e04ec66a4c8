/**
 * @module The per-container shim and launch script of the process runtime.
 *
 * The shim (`bash shim.sh <container dir>`, started detached in its own
 * session) is what lets containers outlive the agent, like containerd-shim:
 * it starts the container, turns its stdout/stderr into CRI log records
 * (timestamps from bash's `$EPOCHREALTIME`, no fork per line), writes `pid`
 * (`<pid> <epoch seconds>`) once the container runs and `exit`
 * (`<code> <epoch seconds>`, 128+n for signal n) when it ends. Both files are
 * written to a temporary name and renamed, so a reader never sees half a line.
 *
 * The launch script, generated per container, runs as the container's
 * process (so its pid is the container's): it joins the container's cgroups,
 * sets the pod's hostname, binds the pod's resolv.conf and hosts over the
 * host's (pod-files.ts) and bind-mounts the volumes (inside a private
 * mount and UTS namespace, entered after the pod's network namespace, when
 * root), changes directory, creates `launched` (what `startContainer`
 * waits for), then execs `setsid env -i <env> <command>`
 * (with `nsenter --net` first when there is a netns but no private mount
 * namespace): the command
 * keeps that pid and leads its own process group, which `stopContainer`
 * signals as a whole.
 */

export const SHIM_SCRIPT = `# skiff process-runtime shim (generated; do not edit)
set -u
dir=$1
log=$(<"$dir/logpath")
mkdir -p "\${log%/*}"
crilog() {
  local stream=$1 line t ts
  while IFS= read -r line || [[ -n $line ]]; do
    while (( \${#line} > 16384 )); do
      t=$EPOCHREALTIME
      printf -v ts '%(%Y-%m-%dT%H:%M:%S)T' "\${t%.*}"
      printf '%s.%s000Z %s P %s\\n' "$ts" "\${t#*.}" "$stream" "\${line:0:16384}" >>"$log"
      line=\${line:16384}
    done
    t=$EPOCHREALTIME
    printf -v ts '%(%Y-%m-%dT%H:%M:%S)T' "\${t%.*}"
    printf '%s.%s000Z %s F %s\\n' "$ts" "\${t#*.}" "$stream" "$line" >>"$log"
  done
}
exec 3> >(crilog stdout)
out=$!
exec 4> >(crilog stderr)
err=$!
if [[ -e $dir/unshare && -s $dir/netns ]]; then
  nsenter --net="/run/netns/$(<"$dir/netns")" -- unshare --mount --uts --propagation private -- bash "$dir/launch.sh" </dev/null >&3 2>&4 &
elif [[ -e $dir/unshare ]]; then
  unshare --mount --uts --propagation private -- bash "$dir/launch.sh" </dev/null >&3 2>&4 &
else
  bash "$dir/launch.sh" </dev/null >&3 2>&4 &
fi
pid=$!
exec 3>&- 4>&-
printf '%s %s\\n' "$pid" "$EPOCHREALTIME" >"$dir/pid.tmp" && mv -f "$dir/pid.tmp" "$dir/pid"
wait "$pid"
code=$?
printf '%s %s\\n' "$code" "$EPOCHREALTIME" >"$dir/exit.tmp" && mv -f "$dir/exit.tmp" "$dir/exit"
wait "$out" "$err" 2>/dev/null
`;

/** Single-quotes a string for bash. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface LaunchSpec {
  argv: string[];
  env: { name: string; value: string }[];
  workingDir: string;
  /** `cgroup.procs` files to join. */
  cgroupProcs: string[];
  /** Set when running in a private UTS namespace. */
  hostname?: string;
  /** Bind mounts, applied only in a private mount namespace. */
  mounts: { containerPath: string; hostPath: string; readOnly: boolean }[];
  /**
   * The pod's own files (resolv.conf, hosts) bound over existing host files,
   * before the volumes, in a private mount namespace. Never created on the
   * host: a missing target (or a failed mount) leaves the host's file and
   * says so on stderr, without failing the container.
   */
  podFiles?: { containerPath: string; hostPath: string }[];
  /** The pod's network namespace name (`ip netns`) to enter at the end; unset when the shim entered it already. */
  netns?: string;
  /**
   * Running in a private mount namespace: the copies of every pod's
   * `/run/netns/*` mount in it are unmounted first, or this container would
   * keep other pods' network namespaces alive after they were deleted.
   */
  privateMounts?: boolean;
  /**
   * A file created once the namespaces, mounts and working directory are in
   * place, just before the command is exec'd: until then an exec entering
   * the container's namespaces could still see the host's mounts.
   */
  launchedMarker?: string;
}

export function launchScript(s: LaunchSpec): string {
  const lines = ["# skiff process-runtime launch script (generated; do not edit)"];
  // `ip netns` makes /run/netns a mount point: one lazy unmount detaches it with every namespace under it.
  if (s.privateMounts) lines.push("umount -l /run/netns 2>/dev/null || umount -l /run/netns/* 2>/dev/null");
  for (const f of s.cgroupProcs) lines.push(`printf '%s\\n' $$ >${shq(f)} 2>/dev/null`);
  if (s.hostname !== undefined) lines.push(`hostname ${shq(s.hostname)} 2>/dev/null`);
  for (const f of s.podFiles ?? []) {
    const t = shq(f.containerPath);
    const clean = f.containerPath.replace(/["$`\\]/g, "");
    lines.push(`{ [[ -f ${t} ]] && mount --bind ${shq(f.hostPath)} ${t}; } 2>/dev/null || echo "skiff: cannot put the pod's ${clean} in place; the host's is used" >&2`);
  }
  for (const m of s.mounts) {
    const t = shq(m.containerPath);
    const src = shq(m.hostPath);
    lines.push(`{ [[ -d ${src} ]] && mkdir -p ${t} || { mkdir -p "$(dirname ${t})" && { [[ -e ${t} ]] || : >${t}; }; }; } 2>/dev/null`);
    lines.push(`mount --bind ${src} ${t} || { echo "skiff: cannot mount ${m.hostPath.replace(/["$`\\]/g, "")} at ${m.containerPath.replace(/["$`\\]/g, "")}" >&2; exit 128; }`);
    if (m.readOnly) lines.push(`mount -o remount,bind,ro ${t} 2>/dev/null`);
  }
  lines.push(`cd ${shq(s.workingDir)} || exit 128`);
  if (s.launchedMarker !== undefined) lines.push(`: >${shq(s.launchedMarker)}`);
  const netns = s.netns !== undefined ? `nsenter --net=/run/netns/${shq(s.netns)} -- ` : "";
  const env = s.env.map((e) => shq(`${e.name}=${e.value}`)).join(" ");
  lines.push(`exec setsid ${netns}env -i ${env} ${s.argv.map(shq).join(" ")}`);
  return lines.join("\n") + "\n";
}
