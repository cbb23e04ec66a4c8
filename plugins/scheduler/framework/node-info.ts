/**
 * @module NodeInfo: one node's parsed facts (labels, taints, allocatable)
 * and the running totals of the pods on it (requests, host ports, pods with
 * affinity), updated incrementally as pods come and go.
 */
import type { KubeObject } from "../../../core/api/meta.ts";
import type { HostPort, MutableNodeInfo, PodInfo, Taint } from "../../../core/plugin/scheduler-framework.ts";
import type { PodInfoImpl } from "./pod-info.ts";
import { MutableResources, nodeAllocatable } from "./resources.ts";
import type { Labels } from "./selectors.ts";

const NO_TAINTS: readonly Taint[] = Object.freeze([]);
const EMPTY_NODE: KubeObject = Object.freeze({ metadata: {} }) as KubeObject;

function parseTaints(node: KubeObject): readonly Taint[] {
  const raw = (node.spec as { taints?: { key?: string; value?: string; effect?: string }[] } | undefined)?.taints;
  if (!raw || raw.length === 0) return NO_TAINTS;
  return raw.map((t) => ({ key: t.key ?? "", value: t.value ?? "", effect: (t.effect ?? "NoSchedule") as Taint["effect"] }));
}

export class NodeInfoImpl implements MutableNodeInfo {
  node: KubeObject = EMPTY_NODE;
  labels: Labels = {};
  taints: readonly Taint[] = NO_TAINTS;
  unschedulable = false;
  allocatable = new MutableResources();
  requested = new MutableResources();
  nonZeroRequested = { milliCPU: 0, memory: 0 };
  pods: PodInfoImpl[] = [];
  podsWithAffinity: PodInfoImpl[] = [];
  podsWithRequiredAntiAffinity: PodInfoImpl[] = [];
  /** `protocol/port` → host IPs bound (a list: an IP may repeat while a pod is both assumed and confirmed). */
  readonly usedPorts = new Map<string, string[]>();
  generation = 0;
  /** False for a placeholder that holds pods of a node not (yet) known. */
  hasNode = false;

  constructor(readonly name: string) {}

  setNode(node: KubeObject): void {
    this.node = node;
    this.hasNode = true;
    this.labels = node.metadata.labels ?? {};
    this.taints = parseTaints(node);
    this.unschedulable = (node.spec as { unschedulable?: boolean } | undefined)?.unschedulable === true;
    this.allocatable = nodeAllocatable(node);
    this.generation++;
  }

  clearNode(): void {
    this.node = EMPTY_NODE;
    this.hasNode = false;
    this.generation++;
  }

  portInUse(p: HostPort): boolean {
    const ips = this.usedPorts.get(`${p.protocol}/${p.port}`);
    if (!ips || ips.length === 0) return false;
    if (p.hostIP === "0.0.0.0") return true;
    return ips.includes(p.hostIP) || ips.includes("0.0.0.0");
  }

  addPod(pod: PodInfo): void {
    const p = pod as PodInfoImpl;
    this.pods.push(p);
    this.requested.add(p.requests);
    this.nonZeroRequested.milliCPU += p.nonZeroRequests.milliCPU;
    this.nonZeroRequested.memory += p.nonZeroRequests.memory;
    if (p.hasAffinity) this.podsWithAffinity.push(p);
    if (p.hasRequiredAntiAffinity) this.podsWithRequiredAntiAffinity.push(p);
    for (const hp of p.hostPorts) {
      const k = `${hp.protocol}/${hp.port}`;
      const list = this.usedPorts.get(k);
      if (list) list.push(hp.hostIP);
      else this.usedPorts.set(k, [hp.hostIP]);
    }
    this.generation++;
  }

  removePod(pod: PodInfo): boolean {
    const i = indexOfUid(this.pods, pod.uid);
    if (i < 0) return false;
    const p = this.pods[i]!;
    this.pods.splice(i, 1);
    this.requested.add(p.requests, -1);
    this.nonZeroRequested.milliCPU -= p.nonZeroRequests.milliCPU;
    this.nonZeroRequested.memory -= p.nonZeroRequests.memory;
    if (p.hasAffinity) removeUid(this.podsWithAffinity, p.uid);
    if (p.hasRequiredAntiAffinity) removeUid(this.podsWithRequiredAntiAffinity, p.uid);
    for (const hp of p.hostPorts) {
      const k = `${hp.protocol}/${hp.port}`;
      const list = this.usedPorts.get(k);
      if (!list) continue;
      const j = list.indexOf(hp.hostIP);
      if (j >= 0) list.splice(j, 1);
      if (list.length === 0) this.usedPorts.delete(k);
    }
    this.generation++;
    return true;
  }

  clone(): NodeInfoImpl {
    const c = new NodeInfoImpl(this.name);
    c.node = this.node;
    c.hasNode = this.hasNode;
    c.labels = this.labels;
    c.taints = this.taints;
    c.unschedulable = this.unschedulable;
    c.allocatable = this.allocatable;
    c.requested = MutableResources.from(this.requested);
    c.nonZeroRequested = { ...this.nonZeroRequested };
    c.pods = [...this.pods];
    c.podsWithAffinity = [...this.podsWithAffinity];
    c.podsWithRequiredAntiAffinity = [...this.podsWithRequiredAntiAffinity];
    for (const [k, v] of this.usedPorts) c.usedPorts.set(k, [...v]);
    c.generation = this.generation;
    return c;
  }
}

function indexOfUid(list: readonly PodInfo[], uid: string): number {
  for (let i = 0; i < list.length; i++) if (list[i]!.uid === uid) return i;
  return -1;
}

function removeUid(list: PodInfo[], uid: string): void {
  const i = indexOfUid(list, uid);
  if (i >= 0) list.splice(i, 1);
}
