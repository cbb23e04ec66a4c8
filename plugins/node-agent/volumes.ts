/**
 * @module Pod volumes on the node: emptyDir, configMap, secret, hostPath,
 * downwardAPI and projected (configMap, secret, downwardAPI and
 * serviceAccountToken sources: a token bound to the pod, from the
 * TokenRequest API through service-account-tokens.ts), each
 * a directory under `<pod dir>/volumes/<name>` (hostPath: the host path
 * itself). ConfigMap, secret, downwardAPI and projected contents are written
 * the kubelet's way (AtomicWriter): files are symlinks into `..data`, which
 * points at a timestamped directory and is swapped with one rename, so a
 * running container sees either the old or the new content, never a mix.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import type { Mount } from "../../core/runtime/adapter.ts";
import { binaryEntries, ConfigError, fieldValue, type PodRuntimeInfo, resourceValue } from "./container-spec.ts";
import { MIN_EXPIRATION_SECONDS, type TokenProjection } from "./service-account-tokens.ts";
import type { Container, DownwardItem, KeyToPath, Pod, Volume } from "./types.ts";

export interface VolumeSources {
  configMap(namespace: string, name: string): Promise<{ data?: Record<string, string>; binaryData?: Record<string, string> } | null>;
  secret(namespace: string, name: string): Promise<{ data?: Record<string, string> } | null>;
  /** A ServiceAccount token bound to `pod` (projected `serviceAccountToken` sources); throws when the API refuses. */
  serviceAccountToken?(pod: Pod, projection: TokenProjection): Promise<string>;
}

const SUPPORTED = ["emptyDir", "hostPath", "configMap", "secret", "downwardAPI", "projected"];

/** The file set of an atomically written volume: relative path → content and mode. */
type Payload = Map<string, { data: Buffer; mode: number }>;

function safeRelative(p: string): string {
  const n = normalize(p);
  if (n.startsWith("..") || n.startsWith("/") || n.includes("/../")) throw new ConfigError(`invalid volume item path ${JSON.stringify(p)}`);
  return n;
}

function project(entries: Map<string, Buffer>, items: KeyToPath[] | undefined, mode: number, what: string, out: Payload): void {
  if (!items || items.length === 0) {
    for (const [k, v] of entries) out.set(safeRelative(k), { data: v, mode });
    return;
  }
  for (const it of items) {
    const v = entries.get(it.key);
    if (v === undefined) throw new ConfigError(`configmap references non-existent config key: ${it.key} (${what})`);
    out.set(safeRelative(it.path), { data: v, mode: it.mode ?? mode });
  }
}

function downward(pod: Pod, items: DownwardItem[] | undefined, mode: number, info: PodRuntimeInfo, out: Payload): void {
  for (const it of items ?? []) {
    let value = "";
    if (it.fieldRef) value = fieldValue(pod, it.fieldRef.fieldPath, info);
    else if (it.resourceFieldRef) value = resourceValue(pod, it.resourceFieldRef, it.resourceFieldRef.containerName ?? "", info.allocatable);
    out.set(safeRelative(it.path), { data: Buffer.from(value), mode: it.mode ?? mode });
  }
}

/**
 * Writes `payload` into `dir` atomically: a new `..<time>` directory, then
 * `..data` is switched to it with a rename; top-level names are symlinks
 * through `..data`. Old content and names no longer in the payload go.
 */
export function writeAtomic(dir: string, payload: Payload): void {
  mkdirSync(dir, { recursive: true });
  const stamp = `..${new Date().toISOString().replace(/[-:.]/g, "_")}_${process.hrtime.bigint()}`;
  const target = join(dir, stamp);
  mkdirSync(target);
  for (const [rel, { data, mode }] of payload) {
    const p = join(target, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, data);
    chmodSync(p, mode & 0o777);
  }
  const tmpLink = join(dir, "..data_tmp");
  rmSync(tmpLink, { force: true });
  symlinkSync(stamp, tmpLink);
  renameSync(tmpLink, join(dir, "..data"));
  const top = new Set([...payload.keys()].map((r) => r.split("/")[0]!));
  for (const name of top) {
    const link = join(dir, name);
    if (!existsSync(link)) {
      try {
        lstatSync(link);
        rmSync(link, { force: true }); // a dangling link
      } catch {
        /* nothing there */
      }
      symlinkSync(join("..data", name), link);
    }
  }
  for (const name of readdirSync(dir)) {
    if (name === "..data" || name === stamp) continue;
    // Earlier timestamped directories, and names no longer in the payload.
    if (name.startsWith("..") || !top.has(name)) rmSync(join(dir, name), { recursive: true, force: true });
  }
}

function hostPathCheck(path: string, type: string | undefined): void {
  const exists = existsSync(path);
  switch (type ?? "") {
    case "DirectoryOrCreate":
      if (!exists) mkdirSync(path, { recursive: true, mode: 0o755 });
      return;
    case "FileOrCreate":
      if (!exists) {
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, "", { mode: 0o644 });
      }
      return;
    case "Directory":
      if (!exists || !statSync(path).isDirectory()) throw new ConfigError(`hostPath type check failed: ${path} is not a directory`);
      return;
    case "File":
      if (!exists || !statSync(path).isFile()) throw new ConfigError(`hostPath type check failed: ${path} is not a file`);
      return;
    case "Socket":
      if (!exists || !statSync(path).isSocket()) throw new ConfigError(`hostPath type check failed: ${path} is not a socket file`);
      return;
    case "CharDevice":
      if (!exists || !statSync(path).isCharacterDevice()) throw new ConfigError(`hostPath type check failed: ${path} is not a character device`);
      return;
    case "BlockDevice":
      if (!exists || !statSync(path).isBlockDevice()) throw new ConfigError(`hostPath type check failed: ${path} is not a block device`);
      return;
  }
}

/**
 * Makes every volume of the pod exist on the node (and refreshes the content
 * of configMap, secret, downwardAPI and projected ones). Returns the host
 * path of each volume by name. Throws ConfigError for what cannot be set up.
 */
export async function setUpVolumes(pod: Pod, podDir: string, info: PodRuntimeInfo, sources: VolumeSources, only?: (v: Volume) => boolean): Promise<Map<string, string>> {
  const ns = pod.metadata.namespace ?? "default";
  const out = new Map<string, string>();
  for (const v of pod.spec.volumes ?? []) if (!only || only(v)) out.set(v.name, await setUpVolume(pod, ns, v, podDir, info, sources));
  return out;
}

/** Whether a volume carries a ServiceAccount token (and so is rewritten when the token is refreshed). */
export function hasServiceAccountToken(v: Volume): boolean {
  return (v.projected?.sources ?? []).some((s) => s.serviceAccountToken !== undefined);
}

async function setUpVolume(pod: Pod, ns: string, v: Volume, podDir: string, info: PodRuntimeInfo, sources: VolumeSources): Promise<string> {
  const dir = (kind: string) => join(podDir, "volumes", kind, v.name);
  if (v.hostPath) {
    hostPathCheck(v.hostPath.path, v.hostPath.type);
    return v.hostPath.path;
  }
  if (v.emptyDir) {
    const d = dir("empty-dir");
    mkdirSync(d, { recursive: true, mode: 0o777 });
    return d;
  }
  const payload: Payload = new Map();
  let d: string;
  if (v.configMap) {
    d = dir("configmap");
    const cm = await sources.configMap(ns, v.configMap.name ?? "");
    if (cm === null) {
      if (!v.configMap.optional) throw new ConfigError(`configmap "${v.configMap.name}" not found`);
    } else project(binaryEntries(cm, false), v.configMap.items, v.configMap.defaultMode ?? 0o644, `configmap ${v.configMap.name}`, payload);
  } else if (v.secret) {
    d = dir("secret");
    const s = await sources.secret(ns, v.secret.secretName ?? "");
    if (s === null) {
      if (!v.secret.optional) throw new ConfigError(`secret "${v.secret.secretName}" not found`);
    } else project(binaryEntries(s, true), v.secret.items, v.secret.defaultMode ?? 0o644, `secret ${v.secret.secretName}`, payload);
  } else if (v.downwardAPI) {
    d = dir("downward-api");
    downward(pod, v.downwardAPI.items, v.downwardAPI.defaultMode ?? 0o644, info, payload);
  } else if (v.projected) {
    d = dir("projected");
    const mode = v.projected.defaultMode ?? 0o644;
    for (const src of v.projected.sources ?? []) {
      if (src.configMap) {
        const cm = await sources.configMap(ns, src.configMap.name ?? "");
        if (cm === null && !src.configMap.optional) throw new ConfigError(`configmap "${src.configMap.name}" not found`);
        if (cm) project(binaryEntries(cm, false), src.configMap.items, mode, `configmap ${src.configMap.name}`, payload);
      } else if (src.secret) {
        const s = await sources.secret(ns, src.secret.name ?? "");
        if (s === null && !src.secret.optional) throw new ConfigError(`secret "${src.secret.name}" not found`);
        if (s) project(binaryEntries(s, true), src.secret.items, mode, `secret ${src.secret.name}`, payload);
      } else if (src.downwardAPI) {
        downward(pod, src.downwardAPI.items, mode, info, payload);
      } else if (src.serviceAccountToken) {
        const t = src.serviceAccountToken;
        if (t.expirationSeconds !== undefined && t.expirationSeconds < MIN_EXPIRATION_SECONDS) {
          throw new ConfigError(`volume "${v.name}": serviceAccountToken expirationSeconds must be at least ${MIN_EXPIRATION_SECONDS}`);
        }
        if (!sources.serviceAccountToken) throw new ConfigError(`volume "${v.name}": this node agent cannot issue service account tokens`);
        const sa = pod.spec.serviceAccountName || "default";
        let token: string;
        try {
          token = await sources.serviceAccountToken(pod, { serviceAccount: sa, ...(t.audience ? { audience: t.audience } : {}), ...(t.expirationSeconds !== undefined ? { expirationSeconds: t.expirationSeconds } : {}) });
        } catch (e) {
          throw new ConfigError(`MountVolume.SetUp failed for volume "${v.name}": failed to fetch token: ${(e as Error).message}`);
        }
        payload.set(safeRelative(t.path), { data: Buffer.from(token), mode });
      }
    }
  } else {
    const kind = Object.keys(v).find((k) => k !== "name") ?? "unknown";
    throw new ConfigError(`volume "${v.name}": ${kind} volumes are not supported by this node agent (supported: ${SUPPORTED.join(", ")})`);
  }
  writeAtomic(d, payload);
  return d;
}

/** The runtime mounts of a container from its volumeMounts. */
export function containerMounts(c: Container, volumes: ReadonlyMap<string, string>): Mount[] {
  const out: Mount[] = [];
  for (const vm of c.volumeMounts ?? []) {
    const host = volumes.get(vm.name);
    if (host === undefined) throw new ConfigError(`volume "${vm.name}" of container ${c.name} not found in the pod`);
    out.push({ containerPath: vm.mountPath, hostPath: vm.subPath ? join(host, safeRelative(vm.subPath)) : host, readOnly: vm.readOnly ?? false });
  }
  return out;
}
