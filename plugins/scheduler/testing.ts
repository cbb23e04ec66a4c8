/**
 * @module Test fixtures for the scheduler (not used at run time): pod and
 * node builders, a cache built from them, a runner for one plugin's
 * PreFilter+Filter or PreScore+Score+NormalizeScore over a few nodes, and
 * `FakeCluster`, an in-memory stand-in for the API server that feeds a
 * Scheduler the events an informer would.
 */
import type { KubeObject } from "../../core/api/meta.ts";
import type { Client, ResourceRef } from "../../core/client/types.ts";
import type { Status } from "../../core/plugin/scheduler-framework.ts";
import type { EventSink } from "../../core/plugin/types.ts";
import { SchedulerCache } from "./cache.ts";
import { resolveConfig, type SchedulerConfig } from "./config.ts";
import { CycleState } from "./framework/cycle-state.ts";
import { PodInfoImpl } from "./framework/pod-info.ts";
import { Framework } from "./framework/runtime.ts";
import { HandleProxy } from "./handle.ts";
import { type AnyPlugin, defaultPlugins, pluginSet } from "./plugins/index.ts";
import { Scheduler } from "./scheduler.ts";

let uidSeq = 0;

export interface NodeSpec {
  cpu?: string;
  memory?: string;
  pods?: number;
  labels?: Record<string, string>;
  taints?: { key: string; value?: string; effect: string }[];
  unschedulable?: boolean;
  /** Extra allocatable resources (`example.com/gpu: "2"`). */
  extra?: Record<string, string>;
}

export function makeNode(name: string, o: NodeSpec = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, uid: `node-${name}`, labels: { "kubernetes.io/hostname": name, ...o.labels } },
    spec: { ...(o.taints ? { taints: o.taints } : {}), ...(o.unschedulable ? { unschedulable: true } : {}) },
    status: { allocatable: { cpu: o.cpu ?? "4", memory: o.memory ?? "8Gi", pods: String(o.pods ?? 110), ...o.extra } },
  };
}

export interface PodSpec {
  ns?: string;
  uid?: string;
  cpu?: string;
  memory?: string;
  /** Extra requests (`example.com/gpu: "1"`). */
  extra?: Record<string, string>;
  labels?: Record<string, string>;
  nodeName?: string;
  priority?: number;
  priorityClassName?: string;
  schedulerName?: string;
  tolerations?: unknown[];
  nodeSelector?: Record<string, string>;
  affinity?: unknown;
  hostPorts?: number[];
  topologySpreadConstraints?: unknown[];
  initContainers?: unknown[];
  containers?: unknown[];
  overhead?: Record<string, string>;
  preemptionPolicy?: string;
  nominatedNodeName?: string;
  phase?: string;
  deleting?: boolean;
  creationTimestamp?: string;
}

export function makePod(name: string, o: PodSpec = {}): KubeObject {
  const requests: Record<string, string> = { ...o.extra };
  if (o.cpu) requests.cpu = o.cpu;
  if (o.memory) requests.memory = o.memory;
  const container = {
    name: "c",
    image: "img",
    resources: Object.keys(requests).length > 0 ? { requests } : {},
    ...(o.hostPorts ? { ports: o.hostPorts.map((p) => ({ containerPort: p, hostPort: p, protocol: "TCP" })) } : {}),
  };
  const spec: Record<string, unknown> = { containers: o.containers ?? [container], schedulerName: o.schedulerName ?? "default-scheduler" };
  if (o.nodeName) spec.nodeName = o.nodeName;
  if (o.priority !== undefined) spec.priority = o.priority;
  if (o.priorityClassName) spec.priorityClassName = o.priorityClassName;
  if (o.tolerations) spec.tolerations = o.tolerations;
  if (o.nodeSelector) spec.nodeSelector = o.nodeSelector;
  if (o.affinity) spec.affinity = o.affinity;
  if (o.topologySpreadConstraints) spec.topologySpreadConstraints = o.topologySpreadConstraints;
  if (o.initContainers) spec.initContainers = o.initContainers;
  if (o.overhead) spec.overhead = o.overhead;
  if (o.preemptionPolicy) spec.preemptionPolicy = o.preemptionPolicy;
  const status: Record<string, unknown> = { phase: o.phase ?? "Pending" };
  if (o.nominatedNodeName) status.nominatedNodeName = o.nominatedNodeName;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: o.ns ?? "default",
      uid: o.uid ?? `uid-${name}-${++uidSeq}`,
      labels: o.labels ?? {},
      creationTimestamp: o.creationTimestamp ?? "2024-01-01T00:00:00Z",
      ...(o.deleting ? { deletionTimestamp: "2024-01-01T00:00:01Z" } : {}),
    },
    spec,
    status,
  };
}

export function info(pod: KubeObject): PodInfoImpl {
  return new PodInfoImpl(pod);
}

/** A cache holding `nodes` and the bound `pods` (each pod needs spec.nodeName). */
export function cluster(nodes: KubeObject[], pods: KubeObject[] = [], namespaces: Record<string, Record<string, string>> = {}): SchedulerCache {
  const c = new SchedulerCache();
  for (const n of nodes) c.setNode(n);
  for (const p of pods) c.addPod(info(p));
  for (const [ns, labels] of Object.entries(namespaces)) c.setNamespace(ns, labels);
  return c;
}

/** PreFilter + Filter of `plugins` for `pod` on every node: node name → status (undefined = fits). */
export function filterAll(plugins: AnyPlugin[], pod: KubeObject, c: SchedulerCache): Record<string, Status | undefined> {
  const fw = new Framework(pluginSet(plugins));
  const state = new CycleState();
  const p = info(pod);
  const pre = fw.runPreFilter(state, p, c);
  const out: Record<string, Status | undefined> = {};
  for (const n of c.list()) {
    if (pre.status.code !== "Success") out[n.name] = pre.status;
    else if (pre.nodeNames && !pre.nodeNames.has(n.name)) out[n.name] = { code: "UnschedulableAndUnresolvable", reasons: ["not in PreFilter result"] };
    else {
      const s = fw.runFilters(state, p, n);
      out[n.name] = s.code === "Success" ? undefined : { code: s.code, reasons: s.reasons ?? [] };
    }
  }
  return out;
}

/** PreScore + Score + NormalizeScore of one plugin over every node (weight 1): node name → score. */
export function scoreAll(plugin: AnyPlugin, pod: KubeObject, c: SchedulerCache, nodes = c.list()): Record<string, number> {
  const fw = new Framework(pluginSet([plugin]), { weights: { [plugin.name]: 1 } });
  const state = new CycleState();
  const p = info(pod);
  fw.runPreFilter(state, p, c);
  const ps = fw.runPreScore(state, p, nodes, c);
  if (ps.code !== "Success") throw new Error(`preScore: ${ps.code} ${ps.reasons?.join(", ")}`);
  const totals = fw.runScore(state, p, nodes);
  if (!(totals instanceof Float64Array)) throw new Error(`score: ${totals.code} ${totals.reasons?.join(", ")}`);
  return Object.fromEntries(nodes.map((n, i) => [n.name, totals[i]!]));
}

export interface RecordedEvent {
  name: string;
  namespace?: string;
  type: string;
  reason: string;
  message: string;
}

const PODS_RESOURCE = "pods";

/**
 * An in-memory cluster for scheduler tests: keeps pods and nodes, answers
 * the client calls the scheduler makes (binding, status patch, delete) and
 * delivers the resulting events to the scheduler synchronously, like an
 * informer would (after the call resolves).
 */
export class FakeCluster {
  readonly pods = new Map<string, KubeObject>();
  readonly nodes = new Map<string, KubeObject>();
  readonly events: RecordedEvent[] = [];
  readonly bindings: { pod: string; node: string }[] = [];
  /** Answer bindings with this error (once per entry). */
  failBindings: Error[] = [];
  scheduler!: Scheduler;
  #rv = 0;

  readonly sink: EventSink = {
    record: (involved, type, reason, message) => {
      const o = involved as { name?: string; namespace?: string; metadata?: { name?: string; namespace?: string } };
      const ns = o.metadata?.namespace ?? o.namespace;
      this.events.push({ name: o.metadata?.name ?? o.name ?? "", ...(ns !== undefined ? { namespace: ns } : {}), type, reason, message });
    },
  };

  readonly client = {
    createSubresource: async (ref: ResourceRef, name: string, sub: string, body: KubeObject, opts?: { namespace?: string }) => {
      await Promise.resolve();
      if (ref.resource !== PODS_RESOURCE || sub !== "binding") throw new Error(`unexpected ${ref.resource}/${sub}`);
      const err = this.failBindings.shift();
      if (err) throw err;
      const key = `${opts?.namespace ?? "default"}/${name}`;
      const cur = this.pods.get(key);
      if (!cur) throw new Error(`pods "${name}" not found`);
      const node = (body.target as { name: string }).name;
      if ((cur.spec as { nodeName?: string }).nodeName) throw new Error(`pod ${name} is already assigned`);
      this.bindings.push({ pod: key, node });
      const next = structuredClone(cur);
      (next.spec as { nodeName?: string }).nodeName = node;
      this.#set(next, cur);
      return {} as KubeObject;
    },
    patch: async (ref: ResourceRef, name: string, _type: string, patch: unknown, opts?: { namespace?: string; subresource?: string }) => {
      await Promise.resolve();
      const key = `${opts?.namespace ?? "default"}/${name}`;
      const cur = this.pods.get(key);
      if (ref.resource !== PODS_RESOURCE || !cur) throw new Error(`not found: ${key}`);
      const next = structuredClone(cur);
      const st = (next.status ??= {}) as { conditions?: { type: string }[]; nominatedNodeName?: string };
      const p = (patch as { status?: { conditions?: { type: string }[]; nominatedNodeName?: string | null } }).status ?? {};
      for (const c of p.conditions ?? []) {
        st.conditions = [...(st.conditions ?? []).filter((x) => x.type !== c.type), c];
      }
      if (p.nominatedNodeName === null) delete st.nominatedNodeName;
      else if (p.nominatedNodeName !== undefined) st.nominatedNodeName = p.nominatedNodeName;
      this.#set(next, cur);
      return next;
    },
    delete: async (ref: ResourceRef, name: string, opts?: { namespace?: string }) => {
      await Promise.resolve();
      const key = `${opts?.namespace ?? "default"}/${name}`;
      const cur = this.pods.get(key);
      if (ref.resource !== PODS_RESOURCE || !cur) throw new Error(`not found: ${key}`);
      this.deletePod(key);
      return cur;
    },
  } as unknown as Client;

  /** A scheduler wired to this cluster with the default plugins (plus `extra`). */
  start(config: Partial<SchedulerConfig> = {}, extra: AnyPlugin[] = [], random?: () => number): Scheduler {
    const cfg = resolveConfig({ podInitialBackoffSeconds: 0.01, podMaxBackoffSeconds: 0.05, ...config });
    const handle = new HandleProxy();
    const plugins = [...defaultPlugins(cfg, handle), ...extra];
    const fw = new Framework(pluginSet(plugins), { weights: cfg.scoreWeights, disabled: cfg.disabledPlugins });
    this.scheduler = new Scheduler({
      client: this.client,
      events: this.sink,
      log: silentLogger(),
      config: cfg,
      framework: fw,
      ...(random ? { random } : {}),
    });
    handle.target = this.scheduler;
    for (const n of this.nodes.values()) this.scheduler.onNodeAdd(n);
    for (const p of this.pods.values()) this.scheduler.onPodAdd(p);
    return this.scheduler;
  }

  addNode(node: KubeObject): void {
    this.nodes.set(node.metadata.name!, node);
    this.scheduler?.onNodeAdd(node);
  }

  addPod(pod: KubeObject): void {
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    pod.metadata.resourceVersion = String(++this.#rv);
    this.pods.set(key, pod);
    this.scheduler?.onPodAdd(pod);
  }

  deletePod(key: string): void {
    const cur = this.pods.get(key);
    if (!cur) return;
    this.pods.delete(key);
    this.scheduler?.onPodDelete(cur);
  }

  #set(next: KubeObject, prev: KubeObject): void {
    next.metadata.resourceVersion = String(++this.#rv);
    this.pods.set(`${next.metadata.namespace}/${next.metadata.name}`, next);
    this.scheduler?.onPodUpdate(prev, next);
  }

  nodeOf(key: string): string | undefined {
    return (this.pods.get(key)?.spec as { nodeName?: string } | undefined)?.nodeName;
  }

  condition(key: string): { status?: string; reason?: string; message?: string } | undefined {
    const st = this.pods.get(key)?.status as { conditions?: { type: string; status?: string; reason?: string; message?: string }[] } | undefined;
    return st?.conditions?.find((c) => c.type === "PodScheduled");
  }

  /** Starts the scheduling loop; `until` waits for a condition, `stop` ends the loop. */
  run(): { until(done: () => boolean, timeoutMs?: number): Promise<void>; stop(): Promise<void> } {
    const ac = new AbortController();
    const loop = this.scheduler.run(ac.signal);
    return {
      until: async (done, timeoutMs = 3000) => {
        const deadline = Date.now() + timeoutMs;
        while (!done()) {
          if (Date.now() > deadline) throw new Error("condition not reached in time");
          await new Promise((r) => setTimeout(r, 2));
        }
      },
      stop: async () => {
        ac.abort();
        await loop;
      },
    };
  }

  /** Runs the scheduler until `done()` holds (or fails after `timeoutMs`), then stops it. */
  async runUntil(done: () => boolean, timeoutMs = 3000): Promise<void> {
    const r = this.run();
    try {
      await r.until(done, timeoutMs);
    } finally {
      await r.stop();
    }
  }
}

export function silentLogger(): import("../../core/log.ts").Logger {
  const noop = () => undefined;
  const l: Record<string, unknown> = { debug: noop, info: noop, warn: noop, error: noop, trace: noop, fatal: noop };
  l.child = () => l;
  return l as unknown as import("../../core/log.ts").Logger;
}
