/**
 * @module From a pod's container spec to what the runtime runs: the
 * environment (`env` with `valueFrom` fieldRef / resourceFieldRef /
 * configMapKeyRef / secretKeyRef, `envFrom`, `$(VAR)` expansion as the
 * kubelet does it), the command with `$(VAR)` expanded, resource limits in
 * canonical units, the CRI labels and annotations the agent finds containers
 * by after a restart, and the spec hash that says when a running container
 * no longer matches its spec.
 */
import { createHash } from "node:crypto";
import type { ContainerSecurityContext } from "../../core/runtime/adapter.ts";
import { quantityOf } from "../../core/types/quantity.ts";
import type { Container, EnvVar, Pod } from "./types.ts";

/** A problem with the pod's configuration: the container waits with this reason (CreateContainerConfigError). */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly reason = "CreateContainerConfigError",
  ) {
    super(message);
  }
}

export const LABEL_POD_NAME = "io.kubernetes.pod.name";
export const LABEL_POD_NAMESPACE = "io.kubernetes.pod.namespace";
export const LABEL_POD_UID = "io.kubernetes.pod.uid";
export const LABEL_CONTAINER_NAME = "io.kubernetes.container.name";
export const ANNOTATION_HASH = "io.kubernetes.container.hash";
export const ANNOTATION_RESTART_COUNT = "io.kubernetes.container.restartCount";
export const ANNOTATION_TERMINATION_PATH = "io.kubernetes.container.terminationMessagePath";
export const ANNOTATION_TERMINATION_POLICY = "io.kubernetes.container.terminationMessagePolicy";
export const ANNOTATION_GRACE = "io.kubernetes.pod.terminationGracePeriod";

/** Reads ConfigMaps and Secrets (data decoded to text); null when absent. */
export interface EnvSources {
  configMap(namespace: string, name: string): Promise<Record<string, string> | null>;
  secret(namespace: string, name: string): Promise<Record<string, string> | null>;
}

export interface PodRuntimeInfo {
  podIPs: string[];
  hostIPs: string[];
  /** The node's allocatable resources: what `limits.*` means when no limit is set. */
  allocatable: Record<string, string>;
}

/** The spec fields whose change means the container must be restarted (as the kubelet's hash). */
export function containerHash(c: Container): string {
  const { name, image, command, args, workingDir, ports, env, envFrom, volumeMounts, resources, stdin, tty } = c;
  const s = JSON.stringify({ name, image, command, args, workingDir, ports, env, envFrom, volumeMounts, limits: resources?.limits, stdin, tty });
  return createHash("sha256").update(s).digest("hex").slice(0, 8);
}

/**
 * `$(VAR)` expansion (kubernetes third_party/forked/golang/expansion):
 * `$(NAME)` becomes the value when NAME is defined, stays as is otherwise;
 * `$$` is an escaped `$`.
 */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = "";
  for (let i = 0; i < input.length; i++) {
    const ch = input[i]!;
    if (ch !== "$" || i + 1 >= input.length) {
      out += ch;
      continue;
    }
    const next = input[i + 1]!;
    if (next === "$") {
      out += "$";
      i++;
    } else if (next === "(") {
      const end = input.indexOf(")", i + 2);
      if (end < 0) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, end);
      const v = lookup(name);
      out += v ?? `$(${name})`;
      i = end;
    } else {
      out += ch;
    }
  }
  return out;
}

/** A fieldRef's value (for env and the downward API volume). */
export function fieldValue(pod: Pod, path: string, info: Pick<PodRuntimeInfo, "podIPs" | "hostIPs">): string {
  const m = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path);
  if (m) {
    const map = (m[1] === "labels" ? pod.metadata.labels : pod.metadata.annotations) ?? {};
    return map[m[2]!] ?? "";
  }
  switch (path) {
    case "metadata.name":
      return pod.metadata.name ?? "";
    case "metadata.namespace":
      return pod.metadata.namespace ?? "";
    case "metadata.uid":
      return pod.metadata.uid ?? "";
    case "metadata.labels":
    case "metadata.annotations": {
      const map = (path === "metadata.labels" ? pod.metadata.labels : pod.metadata.annotations) ?? {};
      return Object.keys(map)
        .sort()
        .map((k) => `${k}=${JSON.stringify(map[k])}`)
        .join("\n");
    }
    case "spec.nodeName":
      return pod.spec.nodeName ?? "";
    case "spec.serviceAccountName":
      return pod.spec.serviceAccountName ?? "";
    case "status.hostIP":
      return info.hostIPs[0] ?? "";
    case "status.hostIPs":
      return info.hostIPs.join(",");
    case "status.podIP":
      return info.podIPs[0] ?? "";
    case "status.podIPs":
      return info.podIPs.join(",");
  }
  throw new ConfigError(`unsupported fieldRef fieldPath ${JSON.stringify(path)}`);
}

/** A resourceFieldRef's value: ceil(quantity / divisor); limits default to the node's allocatable. */
export function resourceValue(pod: Pod, ref: { containerName?: string; resource: string; divisor?: string | number }, self: string, allocatable: Record<string, string>): string {
  const name = ref.containerName || self;
  const c = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].find((x) => x.name === name);
  if (!c) throw new ConfigError(`resourceFieldRef: container ${JSON.stringify(name)} not found`);
  const [kind, resource] = ref.resource.split(/\.(.*)/s) as [string, string];
  let raw: string | number | undefined;
  if (kind === "limits") raw = c.resources?.limits?.[resource] ?? allocatable[resource];
  else if (kind === "requests") raw = c.resources?.requests?.[resource] ?? c.resources?.limits?.[resource] ?? "0";
  else throw new ConfigError(`unsupported resourceFieldRef resource ${JSON.stringify(ref.resource)}`);
  const q = quantityOf(raw ?? "0");
  const divisorRaw = ref.divisor === undefined || ref.divisor === "0" || ref.divisor === 0 ? "1" : ref.divisor;
  const d = quantityOf(divisorRaw);
  if (!q || !d || d.nanos === 0n) throw new ConfigError(`invalid resourceFieldRef for ${ref.resource}`);
  const v = (q.nanos + d.nanos - 1n) / d.nanos;
  return String(v < 0n ? 0n : v);
}

/** The container's environment, in the kubelet's order: envFrom sources, then env (each may refer to earlier ones). */
export async function containerEnv(pod: Pod, c: Container, info: PodRuntimeInfo, sources: EnvSources): Promise<{ name: string; value: string }[]> {
  const ns = pod.metadata.namespace ?? "default";
  const vars = new Map<string, string>();
  for (const from of c.envFrom ?? []) {
    const prefix = from.prefix ?? "";
    let data: Record<string, string> | null = null;
    if (from.configMapRef) {
      data = await sources.configMap(ns, from.configMapRef.name ?? "");
      if (data === null && !from.configMapRef.optional) throw new ConfigError(`configmap "${from.configMapRef.name}" not found`);
    } else if (from.secretRef) {
      data = await sources.secret(ns, from.secretRef.name ?? "");
      if (data === null && !from.secretRef.optional) throw new ConfigError(`secret "${from.secretRef.name}" not found`);
    }
    for (const [k, v] of Object.entries(data ?? {})) {
      const name = prefix + k;
      if (/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(name)) vars.set(name, v);
    }
  }
  for (const e of c.env ?? []) vars.set(e.name, await envValue(pod, c, e, vars, info, sources));
  return [...vars].map(([name, value]) => ({ name, value }));
}

async function envValue(pod: Pod, c: Container, e: EnvVar, vars: Map<string, string>, info: PodRuntimeInfo, sources: EnvSources): Promise<string> {
  const ns = pod.metadata.namespace ?? "default";
  const from = e.valueFrom;
  if (!from) return expand(e.value ?? "", (n) => vars.get(n));
  if (from.fieldRef) return fieldValue(pod, from.fieldRef.fieldPath, info);
  if (from.resourceFieldRef) return resourceValue(pod, from.resourceFieldRef, c.name, info.allocatable);
  if (from.configMapKeyRef) {
    const ref = from.configMapKeyRef;
    const data = await sources.configMap(ns, ref.name ?? "");
    if (data === null) {
      if (ref.optional) return "";
      throw new ConfigError(`configmap "${ref.name}" not found`);
    }
    if (!(ref.key in data)) {
      if (ref.optional) return "";
      throw new ConfigError(`couldn't find key ${ref.key} in ConfigMap ${ns}/${ref.name}`);
    }
    return data[ref.key]!;
  }
  if (from.secretKeyRef) {
    const ref = from.secretKeyRef;
    const data = await sources.secret(ns, ref.name ?? "");
    if (data === null) {
      if (ref.optional) return "";
      throw new ConfigError(`secret "${ref.name}" not found`);
    }
    if (!(ref.key in data)) {
      if (ref.optional) return "";
      throw new ConfigError(`couldn't find key ${ref.key} in Secret ${ns}/${ref.name}`);
    }
    return data[ref.key]!;
  }
  return "";
}

/** The container's command and args with `$(VAR)` expanded from its environment. */
export function expandCommand(c: Container, env: { name: string; value: string }[]): { command: string[]; args: string[] } {
  const vars = new Map(env.map((e) => [e.name, e.value]));
  const look = (n: string) => vars.get(n);
  return { command: (c.command ?? []).map((s) => expand(s, look)), args: (c.args ?? []).map((s) => expand(s, look)) };
}

/** Limits and requests in the runtime's units. */
export function containerResources(c: Container): { cpuMillis?: number; memoryBytes?: number; cpuRequestMillis?: number } {
  const out: { cpuMillis?: number; memoryBytes?: number; cpuRequestMillis?: number } = {};
  const cpu = quantityOf(c.resources?.limits?.cpu);
  const mem = quantityOf(c.resources?.limits?.memory);
  const req = quantityOf(c.resources?.requests?.cpu);
  if (cpu) out.cpuMillis = Number((cpu.nanos + 999_999n) / 1_000_000n);
  if (mem) out.memoryBytes = Number((mem.nanos + 999_999_999n) / 1_000_000_000n);
  if (req) out.cpuRequestMillis = Number((req.nanos + 999_999n) / 1_000_000n);
  return out;
}

/** Decodes a Secret's `data` (base64) into text. */
export function secretData(secret: { data?: Record<string, string>; stringData?: Record<string, string> }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(secret.data ?? {})) out[k] = Buffer.from(v, "base64").toString("utf8");
  for (const [k, v] of Object.entries(secret.stringData ?? {})) out[k] = v;
  return out;
}

/** Raw bytes of a Secret's or ConfigMap's entries, for volumes. */
export function binaryEntries(obj: { data?: Record<string, string>; binaryData?: Record<string, string> }, base64Data: boolean): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(obj.data ?? {})) out.set(k, base64Data ? Buffer.from(v, "base64") : Buffer.from(v, "utf8"));
  for (const [k, v] of Object.entries(obj.binaryData ?? {})) out.set(k, Buffer.from(v, "base64"));
  return out;
}

interface SecurityContextSpec {
  runAsUser?: number;
  runAsGroup?: number;
  readOnlyRootFilesystem?: boolean;
  privileged?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
}

/**
 * The container's effective security context for the runtime: the
 * container's `securityContext`, `runAsUser` / `runAsGroup` falling back to
 * the pod's (as the kubelet's determineEffectiveSecurityContext). Empty when
 * neither sets anything.
 */
export function containerSecurityContext(pod: { spec: object }, c: object): { securityContext?: ContainerSecurityContext } {
  const podSc = (pod.spec as { securityContext?: { runAsUser?: number; runAsGroup?: number } }).securityContext ?? {};
  const sc = (c as { securityContext?: SecurityContextSpec }).securityContext ?? {};
  const out: ContainerSecurityContext = {};
  const runAsUser = sc.runAsUser ?? podSc.runAsUser;
  const runAsGroup = sc.runAsGroup ?? podSc.runAsGroup;
  if (runAsUser !== undefined) out.runAsUser = runAsUser;
  if (runAsGroup !== undefined) out.runAsGroup = runAsGroup;
  if (sc.readOnlyRootFilesystem !== undefined) out.readOnlyRootFilesystem = sc.readOnlyRootFilesystem;
  if (sc.privileged !== undefined) out.privileged = sc.privileged;
  if (sc.capabilities) out.capabilities = { add: [...(sc.capabilities.add ?? [])], drop: [...(sc.capabilities.drop ?? [])] };
  return Object.keys(out).length ? { securityContext: out } : {};
}
