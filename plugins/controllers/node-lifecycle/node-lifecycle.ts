/**
 * @module The node lifecycle controller (kube-controller-manager's
 * nodelifecycle): notices nodes that stopped heartbeating and moves their
 * pods away.
 *
 * - Health: a node's *probe time* is when this controller last saw its Lease
 *   renewed or its Ready heartbeat move (the local clock, never the node's).
 *   When it is older than the grace period (50 s), the node's conditions
 *   become Unknown (`NodeStatusUnknown`, "Kubelet stopped posting node
 *   status.") and its pods' Ready condition False.
 * - Taints: NoSchedule taints follow the conditions (not-ready, unreachable,
 *   pressure, unschedulable); a NotReady node gets `not-ready:NoExecute`, an
 *   Unknown one `unreachable:NoExecute`, added at `evictionRate` nodes per
 *   second (0.1; 0.01 when over 55 % of a large zone is unhealthy; none in a
 *   small zone in that state).
 * - Full disruption: when every node of a zone is unhealthy — a stalled
 *   store or a partitioned control plane rather than dead machines — no
 *   NoExecute taint is added there and existing ones are removed, so nothing
 *   is evicted; when it ends, every node gets a fresh grace period.
 * - Eviction (the NoExecute taint manager): a pod on a node with NoExecute
 *   taints is deleted once a taint is not tolerated, or when its toleration
 *   runs out (`timeAdded + tolerationSeconds`). Pods without a toleration
 *   for not-ready/unreachable get the default one (300 s) here too, as the
 *   DefaultTolerationSeconds admission step would have added it.
 *
 * Hidden state (probe times, the rate limiter) is rebuilt after a restart
 * by starting every grace period afresh, as upstream does.
 */
import { isApiError } from "../../../core/api/errors.ts";
import type { KubeObject } from "../../../core/api/meta.ts";
import type { Client, Informer, Reconciler, ReconcileResult } from "../../../core/client/types.ts";
import type { Logger } from "../../../core/log.ts";
import type { EventSink } from "../../../core/plugin/types.ts";
import { conditionTaints, defaultTolerations, evictionTime, readinessTaint, reconcileTaints, type Taint, type Toleration } from "./taints.ts";

export const NODES = { group: "", version: "v1", resource: "nodes", namespaced: false } as const;
export const PODS = { group: "", version: "v1", resource: "pods" } as const;
export const LEASES = { group: "coordination.k8s.io", version: "v1", resource: "leases" } as const;
export const NODE_LEASE_NAMESPACE = "kube-node-lease";
export const ZONE_LABEL = "topology.kubernetes.io/zone";

export interface NodeCondition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
}

export interface Node extends KubeObject {
  spec?: { taints?: Taint[]; unschedulable?: boolean };
  status?: { conditions?: NodeCondition[] };
}

export interface Pod extends KubeObject {
  spec?: { nodeName?: string; tolerations?: Toleration[] };
  status?: { phase?: string; conditions?: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string; lastProbeTime?: string | null }[] };
}

export interface Lease extends KubeObject {
  spec?: { renewTime?: string; holderIdentity?: string };
}

export interface NodeLifecycleOptions {
  gracePeriodMs: number;
  /** Extra grace for a node that has never reported Ready. */
  startupGracePeriodMs: number;
  evictionRate: number;
  secondaryEvictionRate: number;
  largeClusterThreshold: number;
  unhealthyZoneThreshold: number;
  defaultTolerationSeconds: number;
  /**
   * How long a node stays Unknown before it is tainted `unreachable:NoExecute`
   * (default 10 s, one lease renewal interval). Leases renew at different
   * moments, so after a store stall the nodes cross the grace period up to
   * one interval apart; waiting that long lets the zone show as fully
   * disrupted before any of them is tainted. Upstream taints at once.
   */
  noExecuteDelayMs: number;
}

export const DEFAULT_OPTIONS: NodeLifecycleOptions = {
  gracePeriodMs: 50_000,
  startupGracePeriodMs: 60_000,
  evictionRate: 0.1,
  secondaryEvictionRate: 0.01,
  largeClusterThreshold: 50,
  unhealthyZoneThreshold: 0.55,
  defaultTolerationSeconds: 300,
  noExecuteDelayMs: 10_000,
};

interface Health {
  probe: number;
  /** When this controller first saw the node Unknown (cleared when it is not). */
  unknownSince?: number;
  renewTime?: string;
  heartbeat?: string;
}

type Ready = "True" | "False" | "Unknown" | undefined;

function apiTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function readyOf(n: Node): Ready {
  return n.status?.conditions?.find((c) => c.type === "Ready")?.status;
}

/** A token bucket for adding NoExecute taints (nodes per second). */
class RateLimiter {
  #tokens = 1;
  #at = Date.now();
  take(rate: number): boolean {
    const now = Date.now();
    this.#tokens = Math.min(1, this.#tokens + ((now - this.#at) / 1000) * rate);
    this.#at = now;
    if (rate <= 0 || this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

export interface MonitorDeps {
  client: Client;
  log: Logger;
  events: EventSink;
  nodes: Informer<Node>;
  leases: Informer<Lease>;
  pods: Informer<Pod>;
  opts: NodeLifecycleOptions;
  /** Re-examine a pod for eviction. */
  enqueuePod(key: string): void;
  now?: () => number;
}

export const NODE_NAME_INDEX = "node-lifecycle/node-name";

/** The monitor: node health, conditions, taints; run every nodeMonitorPeriod. */
export class NodeMonitor {
  readonly #health = new Map<string, Health>();
  readonly #limiters = new Map<string, RateLimiter>();
  readonly #fullyDisrupted = new Set<string>();

  constructor(private readonly d: MonitorDeps) {}

  #now(): number {
    return this.d.now?.() ?? Date.now();
  }

  /** One pass over every node. */
  async monitor(): Promise<void> {
    const now = this.#now();
    const nodes = this.d.nodes.list();
    const seen = new Set<string>();
    const state = new Map<string, Ready>();
    for (const n of nodes) {
      const name = n.metadata.name!;
      seen.add(name);
      let ready = readyOf(n);
      const h = this.#observe(n, now);
      const never = !n.status?.conditions?.some((c) => c.type === "Ready" && c.lastHeartbeatTime);
      const grace = never ? this.d.opts.startupGracePeriodMs : this.d.opts.gracePeriodMs;
      if (now - h.probe > grace && ready !== "Unknown") {
        await this.#markUnknown(n, never, now);
        ready = "Unknown";
      }
      state.set(name, ready);
      if (ready === "Unknown") h.unknownSince ??= now;
      else delete h.unknownSince;
    }
    for (const k of this.#health.keys()) if (!seen.has(k)) this.#health.delete(k);

    // Zones: full disruption stops evictions there; its end restarts every grace period.
    const zones = new Map<string, { ready: number; unhealthy: number }>();
    for (const n of nodes) {
      const z = n.metadata.labels?.[ZONE_LABEL] ?? "";
      const s = zones.get(z) ?? { ready: 0, unhealthy: 0 };
      if (state.get(n.metadata.name!) === "True") s.ready++;
      else s.unhealthy++;
      zones.set(z, s);
    }
    for (const [z, s] of zones) {
      const full = s.ready === 0 && s.unhealthy > 0;
      if (full && !this.#fullyDisrupted.has(z)) {
        this.#fullyDisrupted.add(z);
        this.d.log.warn({ zone: z || "(none)", nodes: s.unhealthy }, "every node in the zone is unhealthy: assuming a control-plane problem, evictions stop");
      } else if (!full && this.#fullyDisrupted.has(z)) {
        this.#fullyDisrupted.delete(z);
        this.d.log.info({ zone: z || "(none)" }, "zone is no longer fully disrupted: every node gets a fresh grace period");
        for (const n of nodes) if ((n.metadata.labels?.[ZONE_LABEL] ?? "") === z) this.#health.set(n.metadata.name!, { ...this.#health.get(n.metadata.name!)!, probe: now });
      }
    }

    for (const n of nodes) {
      const z = n.metadata.labels?.[ZONE_LABEL] ?? "";
      const s = zones.get(z)!;
      const rate = this.#rate(s);
      await this.#taint(n, state.get(n.metadata.name!), this.#fullyDisrupted.has(z), rate, now);
    }
  }

  #rate(s: { ready: number; unhealthy: number }): number {
    const total = s.ready + s.unhealthy;
    if (total === 0 || s.unhealthy / total < this.d.opts.unhealthyZoneThreshold) return this.d.opts.evictionRate;
    return total > this.d.opts.largeClusterThreshold ? this.d.opts.secondaryEvictionRate : 0;
  }

  /** Updates the probe time from the node's Lease and Ready heartbeat. */
  #observe(n: Node, now: number): Health {
    const name = n.metadata.name!;
    const renewTime = this.d.leases.get(name, NODE_LEASE_NAMESPACE)?.spec?.renewTime;
    const heartbeat = n.status?.conditions?.find((c) => c.type === "Ready")?.lastHeartbeatTime;
    const h = this.#health.get(name);
    if (!h) {
      const fresh = { probe: now, ...(renewTime ? { renewTime } : {}), ...(heartbeat ? { heartbeat } : {}) };
      this.#health.set(name, fresh);
      return fresh;
    }
    if ((renewTime && renewTime !== h.renewTime) || (heartbeat && heartbeat !== h.heartbeat)) {
      h.probe = now;
      if (renewTime) h.renewTime = renewTime;
      if (heartbeat) h.heartbeat = heartbeat;
    }
    return h;
  }

  async #markUnknown(n: Node, never: boolean, now: number): Promise<void> {
    const name = n.metadata.name!;
    const t = apiTime(now);
    const reason = never ? "NodeStatusNeverUpdated" : "NodeStatusUnknown";
    const message = never ? "Kubelet never posted node status." : "Kubelet stopped posting node status.";
    const types = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];
    const conditions = [...(n.status?.conditions ?? [])];
    for (const type of types) {
      const i = conditions.findIndex((c) => c.type === type);
      const prev = i >= 0 ? conditions[i]! : undefined;
      const next: NodeCondition = { type, status: "Unknown", reason, message, lastHeartbeatTime: prev?.lastHeartbeatTime ?? t, lastTransitionTime: prev?.status === "Unknown" ? (prev.lastTransitionTime ?? t) : t };
      if (i >= 0) conditions[i] = next;
      else conditions.push(next);
    }
    try {
      await this.d.client.patch(NODES, name, "merge", { status: { conditions } }, { subresource: "status" });
      this.d.log.info({ node: name }, "node stopped posting status: conditions set to Unknown");
      this.d.events.record(n, "Normal", "NodeNotReady", `Node ${name} status is now: NodeNotReady`);
    } catch (e) {
      if (!isApiError(e, "NotFound")) this.d.log.warn({ node: name, err: (e as Error).message }, "marking the node Unknown failed");
      return;
    }
    await this.#markPodsNotReady(name, now);
  }

  /** The kubelet cannot say any more: its pods' Ready condition turns False (endpoints drop them). */
  async #markPodsNotReady(node: string, now: number): Promise<void> {
    for (const p of this.d.pods.byIndex(NODE_NAME_INDEX, node)) {
      const conds = p.status?.conditions ?? [];
      const ready = conds.find((c) => c.type === "Ready");
      if (!ready || ready.status === "False") continue;
      const conditions = conds.map((c) => (c.type === "Ready" ? { ...c, status: "False", lastTransitionTime: apiTime(now) } : c));
      await this.d.client
        .patch(PODS, p.metadata.name!, "merge", { status: { conditions } }, { namespace: p.metadata.namespace!, subresource: "status" })
        .catch((e) => this.d.log.debug({ pod: p.metadata.name, err: (e as Error).message }, "marking a pod not ready failed"));
    }
  }

  async #taint(n: Node, ready: Ready, fullyDisrupted: boolean, rate: number, now: number): Promise<void> {
    const name = n.metadata.name!;
    const conds: Record<string, string> = {};
    for (const c of n.status?.conditions ?? []) conds[c.type] = c.status;
    const want = conditionTaints(ready, conds, n.spec?.unschedulable === true);
    const current = n.spec?.taints ?? [];
    let noExecute = fullyDisrupted ? undefined : readinessTaint(ready);
    const since = this.#health.get(name)?.unknownSince;
    const settled = ready !== "Unknown" || (since !== undefined && now - since >= this.d.opts.noExecuteDelayMs);
    if (noExecute && !settled && !current.some((t) => t.key === noExecute!.key && t.effect === "NoExecute")) noExecute = undefined;
    if (noExecute) {
      const has = current.some((t) => t.key === noExecute.key && t.effect === "NoExecute");
      if (has) want.push(noExecute);
      else {
        let limiter = this.#limiters.get(n.metadata.labels?.[ZONE_LABEL] ?? "");
        if (!limiter) this.#limiters.set(n.metadata.labels?.[ZONE_LABEL] ?? "", (limiter = new RateLimiter()));
        if (limiter.take(rate)) want.push(noExecute);
      }
    }
    const next = reconcileTaints(current, want, apiTime(now));
    if (!next) return;
    try {
      await this.d.client.patch(NODES, name, "merge", { spec: { taints: next } });
      const added = next.filter((t) => t.effect === "NoExecute" && !current.some((c) => c.key === t.key && c.effect === "NoExecute"));
      if (added.length > 0) this.d.log.info({ node: name, taints: added.map((t) => t.key) }, "node tainted NoExecute");
      // Pods on the node are re-examined for eviction (or stop being scheduled for it).
      for (const p of this.d.pods.byIndex(NODE_NAME_INDEX, name)) this.d.enqueuePod(`${p.metadata.namespace}/${p.metadata.name}`);
    } catch (e) {
      if (!isApiError(e, "NotFound")) this.d.log.warn({ node: name, err: (e as Error).message }, "updating node taints failed");
    }
  }
}

/** The NoExecute taint manager: deletes pods whose node's NoExecute taints they no longer tolerate. */
export class TaintEvictionReconciler implements Reconciler {
  readonly name = "node-lifecycle-taint-eviction";

  constructor(
    private readonly d: Pick<MonitorDeps, "client" | "log" | "events" | "nodes" | "pods" | "opts" | "now">,
  ) {}

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const [ns, name] = key.split("/") as [string, string];
    const pod = this.d.pods.get(name, ns);
    if (!pod || pod.metadata.deletionTimestamp || !pod.spec?.nodeName) return;
    const node = this.d.nodes.get(pod.spec.nodeName);
    if (!node) return;
    const taints = (node.spec?.taints ?? []).filter((t) => t.effect === "NoExecute");
    if (taints.length === 0) return;
    const now = this.d.now?.() ?? Date.now();
    const tolerations = defaultTolerations(pod.spec.tolerations ?? [], this.d.opts.defaultTolerationSeconds);
    const at = evictionTime(taints, tolerations, now);
    if (at === null) return;
    if (at > now) return { requeueAfter: at - now };
    this.d.events.record(pod, "Normal", "TaintManagerEviction", `Marking for deletion Pod ${ns}/${name}`);
    const conditions = [
      ...(pod.status?.conditions ?? []).filter((c) => c.type !== "DisruptionTarget"),
      { type: "DisruptionTarget", status: "True", reason: "DeletionByTaintManager", message: "Taint manager: deleting due to NoExecute taint", lastTransitionTime: apiTime(now) },
    ];
    try {
      await this.d.client.patch(PODS, name, "merge", { status: { conditions } }, { namespace: ns, subresource: "status" });
      await this.d.client.delete(PODS, name, { namespace: ns, preconditions: { uid: pod.metadata.uid! } });
      this.d.log.info({ pod: key, node: pod.spec.nodeName }, "evicted a pod from a tainted node");
    } catch (e) {
      if (isApiError(e, "NotFound") || isApiError(e, "Conflict")) return;
      throw e;
    }
  }
}
