/**
 * @module What the process runtime records on disk and how it reads it back:
 * sandbox and container records, the shim's stamp files, /proc checks, and
 * the CRI statuses made from the records.
 */
import { createHash, randomBytes } from "node:crypto";
import { accessSync, constants, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import type { ContainerConfig, ContainerState, ContainerStatus, PodSandboxConfig, PodSandboxStatus } from "../../core/runtime/adapter.ts";
import type { PodFiles } from "./pod-files.ts";

/** A sandbox as recorded on disk: its config's identity fields plus what the runtime set up. */
export interface SandboxRecord
  extends Pick<PodSandboxConfig, "uid" | "name" | "namespace" | "attempt" | "hostname" | "hostNetwork" | "labels" | "annotations"> {
  id: string;
  createdAt: number;
  state: "ready" | "notready";
  ip?: string;
  netns?: string;
  veth?: string;
  /** The pod's own resolv.conf and hosts (pod-files.ts), when isolated. */
  files?: PodFiles;
}

export interface ContainerRecord {
  id: string;
  sandboxId: string;
  name: string;
  attempt: number;
  image: string;
  imageRef: string;
  logPath: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  createdAt: number;
  argv: string[];
  env: { name: string; value: string }[];
  workingDir: string;
  mounts: { containerPath: string; hostPath: string; readOnly: boolean }[];
  /** The sandbox's resolv.conf/hosts bind-mounted over the host's (isolated containers only). */
  podFiles?: { containerPath: string; hostPath: string }[];
  resources: ContainerConfig["resources"];
  state: ContainerState;
  startedAt?: number;
  pid?: number;
  /** /proc/<pid>/stat start time, to tell our process from a recycled pid. */
  pidStart?: string;
  /** The shim's pid and start time: while it lives, the exit status is still to come. */
  shimPid?: number;
  shimStart?: string;
  finishedAt?: number;
  exitCode?: number;
  reason?: string;
  message?: string;
  /** Created with private mount/UTS namespaces, cgroups. */
  isolated: boolean;
  cgroups: boolean;
}

export function newId(): string {
  return randomBytes(8).toString("hex");
}

export function writeJson(path: string, value: unknown): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(value));
  renameSync(tmp, path);
}

export function readJson<T>(path: string): T | null {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch {
    return null;
  }
}

/** `<first> <epoch seconds with fraction>` → [first, unix ms]. */
export function readStamp(path: string): [number, number] | null {
  try {
    const [a, b] = readFileSync(path, "utf8").trim().split(" ");
    const n = Number(a);
    const t = Math.round(Number(b) * 1000);
    return Number.isFinite(n) && Number.isFinite(t) ? [n, t] : null;
  } catch {
    return null;
  }
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or null when gone. */
export function procStart(pid: number): string | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const rest = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return rest[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether `pid` is still the process that had start time `start`. */
export function alive(pid: number | undefined, start: string | undefined): boolean {
  if (pid === undefined) return false;
  const now = procStart(pid);
  return now !== null && (start === undefined || now === start);
}

export function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export function imageRef(image: string): string {
  return `sha256:${createHash("sha256").update(image).digest("hex")}`;
}

export function sandboxStatus(rec: SandboxRecord): PodSandboxStatus {
  return {
    id: rec.id,
    config: { uid: rec.uid, name: rec.name, namespace: rec.namespace, attempt: rec.attempt },
    state: rec.state,
    createdAt: rec.createdAt,
    ...(rec.ip && rec.state === "ready" ? { ip: rec.ip, ips: [rec.ip] } : {}),
    labels: { ...rec.labels },
    annotations: { ...rec.annotations },
  };
}

export function containerStatus(rec: ContainerRecord): ContainerStatus {
  return {
    id: rec.id,
    podSandboxId: rec.sandboxId,
    name: rec.name,
    attempt: rec.attempt,
    state: rec.state,
    createdAt: rec.createdAt,
    ...(rec.startedAt !== undefined ? { startedAt: rec.startedAt } : {}),
    ...(rec.finishedAt !== undefined ? { finishedAt: rec.finishedAt } : {}),
    ...(rec.exitCode !== undefined ? { exitCode: rec.exitCode } : {}),
    ...(rec.reason !== undefined ? { reason: rec.reason } : {}),
    ...(rec.message !== undefined ? { message: rec.message } : {}),
    image: rec.image,
    imageRef: rec.imageRef,
    logPath: rec.logPath,
    labels: { ...rec.labels },
    annotations: { ...rec.annotations },
    ...(rec.pid !== undefined ? { info: { pid: String(rec.pid) } } : {}),
  };
}

/** Resolves true if `p` settles within `ms`. */
export async function within(p: Promise<void>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([p.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}
