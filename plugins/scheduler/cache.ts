/**
 * @module The scheduler's cache: every node with the pods bound to it, plus
 * *assumed* pods — pods the scheduler has placed but whose binding has not
 * come back through the informer yet. Assuming makes the next scheduling
 * cycle see the resources as taken, so binding runs asynchronously while the
 * scheduler moves on (upstream's assume/confirm/forget).
 *
 * The cache is also the Snapshot plugins read: scheduling cycles are
 * synchronous on one thread and informer events are applied between them, so
 * a cycle always sees one consistent state without copying.
 */
import type { ClusterEvent, NodeInfo, Snapshot } from "../../core/plugin/scheduler-framework.ts";
import type { KubeObject } from "../../core/api/meta.ts";
import { NodeInfoImpl } from "./framework/node-info.ts";
import type { PodInfoImpl } from "./framework/pod-info.ts";
import type { Labels } from "./framework/selectors.ts";

const ZONE_LABEL = "topology.kubernetes.io/zone";
const REGION_LABEL = "topology.kubernetes.io/region";

interface PodState {
  info: PodInfoImpl;
  node: string;
  assumed: boolean;
}

export class SchedulerCache implements Snapshot {
  readonly #nodes = new Map<string, NodeInfoImpl>();
  readonly #pods = new Map<string, PodState>();
  readonly #namespaces = new Map<string, Labels>();
  /** Unscheduled pods nominated to a node by preemption: node → uid → pod. */
  readonly #nominated = new Map<string, Map<string, PodInfoImpl>>();
  readonly #nominatedNode = new Map<string, string>();
  #list: NodeInfoImpl[] = [];
  #listDirty = false;
  #withAffinity: NodeInfoImpl[] = [];
  #withAntiAffinity: NodeInfoImpl[] = [];
  #affinityDirty = false;

  // ---- nodes ----

  /** Adds or replaces a node; returns what changed (for requeueing). */
  setNode(node: KubeObject): ClusterEvent[] {
    const name = node.metadata.name ?? "";
    let ni = this.#nodes.get(name);
    if (!ni) {
      ni = new NodeInfoImpl(name);
      this.#nodes.set(name, ni);
    }
    if (!ni.hasNode) {
      ni.setNode(node);
      this.#listDirty = true;
      this.#affinityDirty = true;
      return ["NodeAdd"];
    }
    const before = { labels: ni.labels, taints: ni.taints, unschedulable: ni.unschedulable, alloc: ni.allocatable };
    ni.setNode(node);
    const events: ClusterEvent[] = [];
    if (!sameRecord(before.labels, ni.labels)) {
      events.push("NodeLabelChange");
      this.#listDirty = true;
    }
    if (JSON.stringify(before.taints) !== JSON.stringify(ni.taints)) events.push("NodeTaintChange");
    if (before.unschedulable !== ni.unschedulable) events.push("NodeUnschedulableChange");
    if (!sameResources(before.alloc, ni.allocatable)) events.push("NodeAllocatableChange");
    return events;
  }

  removeNode(name: string): void {
    const ni = this.#nodes.get(name);
    if (!ni) return;
    if (ni.pods.length > 0) ni.clearNode();
    else this.#nodes.delete(name);
    this.#listDirty = true;
    this.#affinityDirty = true;
  }

  nodeCount(): number {
    return this.list().length;
  }

  // ---- pods ----

  /**
   * A bound pod seen by the informer: confirms an assumed pod (replacing its
   * info with the bound object), moves a pod whose node changed, or adds it.
   */
  addPod(info: PodInfoImpl): void {
    const cur = this.#pods.get(info.uid);
    if (cur) this.#removeFromNode(cur);
    this.#addToNode(info, info.nodeName);
    this.#pods.set(info.uid, { info, node: info.nodeName, assumed: false });
  }

  removePod(uid: string): void {
    const cur = this.#pods.get(uid);
    if (!cur) return;
    this.#removeFromNode(cur);
    this.#pods.delete(uid);
  }

  /** Places a pod on a node before its binding is confirmed. */
  assumePod(info: PodInfoImpl, node: string): void {
    const cur = this.#pods.get(info.uid);
    if (cur) this.#removeFromNode(cur);
    this.#addToNode(info, node);
    this.#pods.set(info.uid, { info, node, assumed: true });
  }

  /** Undoes `assumePod` (binding failed). A pod confirmed meanwhile is kept. */
  forgetPod(uid: string): void {
    const cur = this.#pods.get(uid);
    if (!cur || !cur.assumed) return;
    this.#removeFromNode(cur);
    this.#pods.delete(uid);
  }

  /** The cached (assumed or bound) pod. */
  podInfo(uid: string): PodInfoImpl | undefined {
    return this.#pods.get(uid)?.info;
  }

  isAssumed(uid: string): boolean {
    return this.#pods.get(uid)?.assumed === true;
  }

  /** Whether the cache holds the pod (assumed or bound). */
  hasPod(uid: string): boolean {
    return this.#pods.has(uid);
  }

  podCount(): number {
    return this.#pods.size;
  }

  #addToNode(info: PodInfoImpl, node: string): void {
    let ni = this.#nodes.get(node);
    if (!ni) {
      ni = new NodeInfoImpl(node);
      this.#nodes.set(node, ni);
    }
    ni.addPod(info);
    if (info.hasAffinity) this.#affinityDirty = true;
  }

  #removeFromNode(st: PodState): void {
    const ni = this.#nodes.get(st.node);
    if (!ni) return;
    ni.removePod(st.info);
    if (st.info.hasAffinity) this.#affinityDirty = true;
    if (!ni.hasNode && ni.pods.length === 0) this.#nodes.delete(st.node);
  }

  // ---- nominated pods ----

  /** Records (or with node "" clears) the node a pending pod was nominated to. */
  setNominated(info: PodInfoImpl, node: string): void {
    this.clearNominated(info.uid);
    if (!node) return;
    let m = this.#nominated.get(node);
    if (!m) this.#nominated.set(node, (m = new Map()));
    m.set(info.uid, info);
    this.#nominatedNode.set(info.uid, node);
  }

  clearNominated(uid: string): void {
    const prev = this.#nominatedNode.get(uid);
    if (prev === undefined) return;
    const m = this.#nominated.get(prev);
    m?.delete(uid);
    if (m?.size === 0) this.#nominated.delete(prev);
    this.#nominatedNode.delete(uid);
  }

  nominatedPods(node: string): Iterable<PodInfoImpl> | undefined {
    return this.#nominated.get(node)?.values();
  }

  hasNominatedPods(): boolean {
    return this.#nominated.size > 0;
  }

  // ---- namespaces ----

  setNamespace(name: string, labels: Labels | undefined): void {
    if (labels === undefined) this.#namespaces.delete(name);
    else this.#namespaces.set(name, labels);
  }

  // ---- Snapshot ----

  list(): readonly NodeInfo[] {
    if (this.#listDirty) this.#rebuildList();
    return this.#list;
  }

  get(name: string): NodeInfoImpl | undefined {
    const ni = this.#nodes.get(name);
    return ni?.hasNode ? ni : undefined;
  }

  havePodsWithAffinity(): readonly NodeInfo[] {
    if (this.#affinityDirty) this.#rebuildAffinity();
    return this.#withAffinity;
  }

  havePodsWithRequiredAntiAffinity(): readonly NodeInfo[] {
    if (this.#affinityDirty) this.#rebuildAffinity();
    return this.#withAntiAffinity;
  }

  namespaceLabels(namespace: string): Labels | undefined {
    return this.#namespaces.get(namespace);
  }

  /** Nodes interleaved by zone (as upstream's node tree) so sampling spreads over zones. */
  #rebuildList(): void {
    const zones = new Map<string, NodeInfoImpl[]>();
    for (const ni of this.#nodes.values()) {
      if (!ni.hasNode) continue;
      const z = `${ni.labels[REGION_LABEL] ?? ""}:\u0000:${ni.labels[ZONE_LABEL] ?? ""}`;
      let l = zones.get(z);
      if (!l) zones.set(z, (l = []));
      l.push(ni);
    }
    const lists = [...zones.values()];
    let longest = 0;
    for (const l of lists) longest = Math.max(longest, l.length);
    const out: NodeInfoImpl[] = [];
    for (let i = 0; i < longest; i++) for (const l of lists) if (i < l.length) out.push(l[i]!);
    this.#list = out;
    this.#listDirty = false;
  }

  #rebuildAffinity(): void {
    this.#withAffinity = [];
    this.#withAntiAffinity = [];
    for (const ni of this.#nodes.values()) {
      if (!ni.hasNode) continue;
      if (ni.podsWithAffinity.length > 0) this.#withAffinity.push(ni);
      if (ni.podsWithRequiredAntiAffinity.length > 0) this.#withAntiAffinity.push(ni);
    }
    this.#affinityDirty = false;
  }
}

function sameRecord(a: Labels, b: Labels): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k]) return false;
  return true;
}

function sameResources(a: NodeInfoImpl["allocatable"], b: NodeInfoImpl["allocatable"]): boolean {
  if (a.milliCPU !== b.milliCPU || a.memory !== b.memory || a.ephemeralStorage !== b.ephemeralStorage || a.pods !== b.pods) return false;
  if (a.scalar.size !== b.scalar.size) return false;
  for (const [k, v] of a.scalar) if (b.scalar.get(k) !== v) return false;
  return true;
}
