/**
 * @module The Node object an agent registers and keeps current: capacity and
 * allocatable read from the machine (or given by a simulated node), the
 * addresses, nodeInfo with the runtime's version, the standard labels and
 * the four kubelet conditions (Ready, MemoryPressure, DiskPressure,
 * PIDPressure). Conditions keep their lastTransitionTime while unchanged;
 * their lastHeartbeatTime moves with each report.
 */
import { existsSync, readFileSync, statfsSync } from "node:fs";
import { arch, availableParallelism, cpus, hostname, networkInterfaces, release, totalmem } from "node:os";
import type { SimulatedNode } from "../../core/runtime/adapter.ts";
import { quantityOf } from "../../core/types/quantity.ts";
import { apiTime, KUBELET_VERSION, type Node, type NodeCondition, type NodeTaint } from "./types.ts";

/** What one node the agent acts for looks like. */
export interface NodeIdentity {
  name: string;
  capacity: Record<string, string>;
  allocatable: Record<string, string>;
  addresses: { type: string; address: string }[];
  hostIPs: string[];
  labels: Record<string, string>;
  nodeInfo: Record<string, string>;
}

/** Memory the kubelet keeps back by default (eviction-hard memory.available<100Mi). */
const EVICTION_MEMORY = 100 * 1024 * 1024;

function goArch(): string {
  const a = arch();
  return a === "x64" ? "amd64" : a === "ia32" ? "386" : a;
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return "";
  }
}

function osImage(): string {
  const text = readText("/etc/os-release");
  const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text);
  return m?.[1] ?? `${process.platform}`;
}

/** The first IPv4 address that is not loopback (the node's InternalIP), or 127.0.0.1. */
export function defaultNodeIP(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return "127.0.0.1";
}

export interface LocalNodeOptions {
  maxPods: number;
  nodeIP?: string;
  runtimeVersion: string;
  labels?: Record<string, string>;
  /** Where ephemeral storage is measured (the agent's root dir). */
  storagePath: string;
}

function standardLabels(name: string): Record<string, string> {
  const a = goArch();
  return {
    "beta.kubernetes.io/arch": a,
    "beta.kubernetes.io/os": "linux",
    "kubernetes.io/arch": a,
    "kubernetes.io/hostname": name,
    "kubernetes.io/os": "linux",
  };
}

/** This machine as a node. */
export function localNode(name: string, o: LocalNodeOptions): NodeIdentity {
  const cpu = typeof availableParallelism === "function" ? availableParallelism() : cpus().length;
  const mem = totalmem();
  let storage = 0;
  try {
    const s = statfsSync(existsSync(o.storagePath) ? o.storagePath : "/");
    storage = Number(s.blocks) * Number(s.bsize);
  } catch {
    /* unknown */
  }
  const ip = o.nodeIP ?? defaultNodeIP();
  const capacity = {
    cpu: String(cpu),
    "ephemeral-storage": `${Math.floor(storage / 1024)}Ki`,
    "hugepages-1Gi": "0",
    "hugepages-2Mi": "0",
    memory: `${Math.floor(mem / 1024)}Ki`,
    pods: String(o.maxPods),
  };
  const allocatable = {
    ...capacity,
    "ephemeral-storage": String(Math.floor(storage * 0.9)),
    memory: `${Math.floor(Math.max(0, mem - EVICTION_MEMORY) / 1024)}Ki`,
  };
  const machineId = readText("/etc/machine-id");
  return {
    name,
    capacity,
    allocatable,
    addresses: [
      { type: "InternalIP", address: ip },
      { type: "Hostname", address: hostname() },
    ],
    hostIPs: [ip],
    labels: { ...standardLabels(name), ...o.labels },
    nodeInfo: {
      architecture: goArch(),
      bootID: readText("/proc/sys/kernel/random/boot_id"),
      containerRuntimeVersion: o.runtimeVersion,
      kernelVersion: release(),
      kubeProxyVersion: "",
      kubeletVersion: KUBELET_VERSION,
      machineID: machineId,
      operatingSystem: "linux",
      osImage: osImage(),
      systemUUID: readText("/sys/class/dmi/id/product_uuid") || machineId,
    },
  };
}

/** A node the runtime simulates (fake nodes: capacity as given, allocatable the same). */
export function simulatedNode(s: SimulatedNode, runtimeVersion: string): NodeIdentity {
  return {
    name: s.name,
    capacity: { ...s.capacity },
    allocatable: { ...s.capacity },
    addresses: [
      { type: "InternalIP", address: s.address },
      { type: "Hostname", address: s.name },
    ],
    hostIPs: [s.address],
    labels: { ...standardLabels(s.name), ...s.labels },
    nodeInfo: {
      architecture: goArch(),
      bootID: "",
      containerRuntimeVersion: runtimeVersion,
      kernelVersion: "simulated",
      kubeProxyVersion: "",
      kubeletVersion: KUBELET_VERSION,
      machineID: "",
      operatingSystem: "linux",
      osImage: "simulated",
      systemUUID: "",
    },
  };
}

/** Allocatable as numbers for resourceFieldRef defaults (quantities as given). */
export function allocatableOf(id: NodeIdentity): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(id.allocatable)) if (quantityOf(v)) out[k] = v;
  return out;
}

const READY: Omit<NodeCondition, "lastHeartbeatTime" | "lastTransitionTime">[] = [
  { type: "MemoryPressure", status: "False", reason: "KubeletHasSufficientMemory", message: "kubelet has sufficient memory available" },
  { type: "DiskPressure", status: "False", reason: "KubeletHasNoDiskPressure", message: "kubelet has no disk pressure" },
  { type: "PIDPressure", status: "False", reason: "KubeletHasSufficientPID", message: "kubelet has sufficient PID available" },
  { type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status" },
];

export interface NodeStatusOptions {
  now: number;
  /** The agent endpoint's port (`daemonEndpoints`). */
  port: number;
  /**
   * What keeps the node from running pods, in the kubelet's words
   * (`container runtime is down`, `PLEG is not healthy: …`); any → Ready=False
   * with reason KubeletNotReady.
   */
  notReady?: readonly string[];
}

/** The Ready condition's message for several problems, as the kubelet's error aggregate prints it. */
function aggregate(problems: readonly string[]): string {
  return problems.length === 1 ? problems[0]! : `[${problems.join(", ")}]`;
}

/** The status this agent reports for `id`, given the node as the API holds it now. */
export function nodeStatus(id: NodeIdentity, current: Node | undefined, o: NodeStatusOptions): NonNullable<Node["status"]> {
  const { now, port } = o;
  const t = apiTime(now);
  const before = new Map((current?.status?.conditions ?? []).map((c) => [c.type, c]));
  const problems = o.notReady ?? [];
  const wanted = problems.length === 0 ? READY : READY.map((c) => (c.type === "Ready" ? { type: "Ready", status: "False" as const, reason: "KubeletNotReady", message: aggregate(problems) } : c));
  const conditions = wanted.map((c) => {
    const prev = before.get(c.type);
    return { ...c, lastHeartbeatTime: t, lastTransitionTime: prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : t };
  });
  return {
    capacity: { ...id.capacity },
    allocatable: { ...id.allocatable },
    conditions,
    addresses: id.addresses.map((a) => ({ ...a })),
    daemonEndpoints: { kubeletEndpoint: { Port: port } },
    nodeInfo: { ...id.nodeInfo },
  };
}

/** Whether a report would change anything but heartbeat times. */
export function nodeStatusDiffers(current: Node | undefined, next: NonNullable<Node["status"]>): boolean {
  const strip = (s: Node["status"] | undefined) =>
    JSON.stringify({
      capacity: s?.capacity,
      allocatable: s?.allocatable,
      addresses: s?.addresses,
      daemonEndpoints: s?.daemonEndpoints,
      nodeInfo: s?.nodeInfo,
      conditions: [...(s?.conditions ?? [])]
        .map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message }))
        .sort((a, b) => (a.type < b.type ? -1 : 1)),
    });
  return strip(current?.status) !== strip(next);
}

/** The Node to create at registration. */
export function nodeObject(id: NodeIdentity, port: number, taints: NodeTaint[], now: number): Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: id.name,
      labels: { ...id.labels },
      annotations: { "node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true" },
    },
    spec: taints.length > 0 ? { taints: taints.map((t) => ({ ...t })) } : {},
    status: nodeStatus(id, undefined, { now, port }),
  };
}
