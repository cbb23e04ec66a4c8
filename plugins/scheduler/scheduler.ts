/**
 * @module The scheduler: pops pods from the queue and runs, for each, a
 * *scheduling cycle* (PreFilter → Filter over a sample of nodes → PostFilter
 * on failure → PreScore → Score → NormalizeScore → pick the best node →
 * assume it in the cache → Reserve → Permit), synchronous and on one
 * consistent snapshot, then starts a *binding cycle* (wait for Permit → Bind)
 * without waiting for it: the next pod is scheduled while earlier bindings
 * are in flight. Failures set `PodScheduled=False` with kube-scheduler's
 * message, record a FailedScheduling Event and requeue the pod.
 *
 * Cluster changes reach it through `on*` methods (wired to informers by
 * `informers.ts`, or called directly by tests).
 */
import { setImmediate } from "node:timers";
import type { KubeObject } from "../../core/api/meta.ts";
import type { Client } from "../../core/client/types.ts";
import type { Logger } from "../../core/log.ts";
import type {
  ClusterEvent,
  CycleState as CycleStateContract,
  NodeInfo,
  PodInfo,
  SchedulerHandle,
  Snapshot,
  Status,
  WaitingPod,
} from "../../core/plugin/scheduler-framework.ts";
import type { EventSink } from "../../core/plugin/types.ts";
import { type Algorithm, filterWithNominated, findNode, numFeasibleNodesToFind, type ScheduleResult } from "./algorithm.ts";
import { SchedulerCache } from "./cache.ts";
import type { SchedulerConfig } from "./config.ts";
import { CycleState } from "./framework/cycle-state.ts";
import { type Diagnosis, FitError } from "./framework/fit-error.ts";
import { PodInfoImpl } from "./framework/pod-info.ts";
import type { Framework } from "./framework/runtime.ts";
import { isRejection, message, SUCCESS } from "./framework/status.ts";
import { type QueuedPod, SchedulingQueue } from "./queue.ts";
import { Reporter } from "./reporter.ts";
import { WaitingPodImpl } from "./waiting-pod.ts";

export interface SchedulerDeps {
  client: Client;
  events: EventSink;
  log: Logger;
  config: SchedulerConfig;
  framework: Framework;
  /** Tie-breaking among equally scored nodes; default Math.random. */
  random?: () => number;
}

/** Yield to the event loop after this much synchronous scheduling work (ms). */
const YIELD_EVERY_MS = 10;

export class Scheduler implements SchedulerHandle {
  readonly cache = new SchedulerCache();
  readonly queue: SchedulingQueue;
  readonly framework: Framework;
  readonly client: Client;
  readonly events: EventSink;
  readonly schedulerName: string;
  readonly #config: SchedulerConfig;
  readonly #log: Logger;
  readonly #random: () => number;
  /** Pending (unassigned) pods this scheduler is responsible for, by uid: the latest object seen. */
  readonly #pending = new Map<string, PodInfoImpl>();
  readonly #waiting = new Map<string, WaitingPodImpl>();
  readonly #priorityClasses = new Map<string, { value: number; globalDefault: boolean }>();
  #inFlight = 0;
  #slotWaiters: (() => void)[] = [];
  #bindings = new Set<Promise<void>>();
  #toBind: (() => void)[] = [];
  /** The loop waits for pods (nothing to schedule). */
  #idle = false;
  #lastYield = 0;
  #stopped = false;
  /** Counters for tests, logs and benchmarks. */
  readonly stats = { attempts: 0, scheduled: 0, bound: 0, unschedulable: 0, errors: 0, preemptions: 0, cycleMs: 0 };
  readonly #report: Reporter;
  readonly #algorithm: Algorithm;

  constructor(deps: SchedulerDeps) {
    this.client = deps.client;
    this.events = deps.events;
    this.#log = deps.log;
    this.#config = deps.config;
    this.framework = deps.framework;
    this.schedulerName = deps.config.schedulerName;
    this.#random = deps.random ?? Math.random;
    this.#algorithm = {
      framework: deps.framework,
      cache: this.cache,
      percentageOfNodesToScore: deps.config.percentageOfNodesToScore,
      random: this.#random,
      nextStartNodeIndex: 0,
    };
    this.#report = new Reporter({
      client: deps.client,
      events: deps.events,
      log: deps.log,
      recordScheduled: deps.config.recordScheduledEvents,
      quiet: () => this.#idle && this.#inFlight === 0,
    });
    this.queue = new SchedulingQueue({
      initialBackoffMs: deps.config.podInitialBackoffSeconds * 1000,
      maxBackoffMs: deps.config.podMaxBackoffSeconds * 1000,
      maxUnschedulableMs: deps.config.podMaxInUnschedulablePodsSeconds * 1000,
      pluginEvents: deps.framework.events,
    });
  }

  // ---- cluster events ----------------------------------------------------------

  podInfo(pod: KubeObject): PodInfoImpl {
    return new PodInfoImpl(pod, (p) => this.#resolvePriority(p));
  }

  #responsible(info: PodInfoImpl): boolean {
    return info.schedulerName === this.schedulerName && !info.terminating && !info.finished;
  }

  onPodAdd(pod: KubeObject): void {
    const info = this.podInfo(pod);
    if (info.nodeName) {
      if (info.finished) return;
      this.cache.addPod(info);
      this.queue.moveOnEvent("AssignedPodAdd");
      return;
    }
    if (!this.#responsible(info)) return;
    this.#pending.set(info.uid, info);
    if (info.nominatedNodeName) this.cache.setNominated(info, info.nominatedNodeName);
    this.queue.add(info);
  }

  onPodUpdate(oldPod: KubeObject, pod: KubeObject): void {
    const wasAssigned = !!(oldPod.spec as { nodeName?: string } | undefined)?.nodeName;
    // A binding (or a status change) leaves what was parsed from the spec as it was.
    const cached = this.cache.podInfo(pod.metadata.uid ?? "");
    const reuse = cached && sameLabels(cached.pod, pod) && sameTolerations(cached.pod, pod) ? cached : undefined;
    const info = new PodInfoImpl(pod, (p) => this.#resolvePriority(p), reuse);
    if (info.nodeName) {
      if (!wasAssigned) {
        // Bound (by us or anyone): it leaves the queue; an assumed pod is confirmed.
        this.#pending.delete(info.uid);
        this.queue.delete(info.uid);
        this.cache.clearNominated(info.uid);
      }
      if (info.finished) {
        this.cache.removePod(info.uid);
        this.queue.moveOnEvent("AssignedPodDelete");
        return;
      }
      this.cache.addPod(info);
      if (wasAssigned && !sameLabels(oldPod, pod)) this.queue.moveOnEvent("AssignedPodUpdate");
      return;
    }
    if (!this.#responsible(info)) {
      this.#pending.delete(info.uid);
      this.queue.delete(info.uid);
      this.cache.clearNominated(info.uid);
      this.#waiting.get(info.uid)?.reject("scheduler", "the pod is no longer pending for this scheduler");
      return;
    }
    this.#pending.set(info.uid, info);
    this.cache.setNominated(info, info.nominatedNodeName);
    // An assumed pod is being bound: its updates (our own status patches) change nothing.
    if (this.cache.isAssumed(info.uid)) return;
    this.queue.update(info, !sameSpec(oldPod, pod));
  }

  onPodDelete(pod: KubeObject): void {
    const uid = pod.metadata.uid ?? "";
    const nodeName = (pod.spec as { nodeName?: string } | undefined)?.nodeName;
    this.#pending.delete(uid);
    this.queue.delete(uid);
    this.#waiting.get(uid)?.reject("scheduler", "the pod was deleted");
    this.cache.clearNominated(uid);
    if (nodeName || this.cache.isAssumed(uid)) {
      this.cache.removePod(uid);
      this.queue.moveOnEvent("AssignedPodDelete");
    }
  }

  onNodeAdd(node: KubeObject): void {
    for (const ev of this.cache.setNode(node)) this.queue.moveOnEvent(ev);
  }

  onNodeUpdate(node: KubeObject): void {
    this.onNodeAdd(node);
  }

  onNodeDelete(node: KubeObject): void {
    this.cache.removeNode(node.metadata.name ?? "");
  }

  onNamespace(ns: KubeObject, deleted = false): void {
    const name = ns.metadata.name ?? "";
    const before = this.cache.namespaceLabels(name);
    this.cache.setNamespace(name, deleted ? undefined : (ns.metadata.labels ?? {}));
    if (before !== undefined && !deleted && !sameRecord(before, ns.metadata.labels ?? {})) this.queue.moveOnEvent("NamespaceChange");
  }

  onPriorityClass(pc: KubeObject, deleted = false): void {
    const name = pc.metadata.name ?? "";
    if (deleted) this.#priorityClasses.delete(name);
    else this.#priorityClasses.set(name, { value: Number(pc.value ?? 0), globalDefault: pc.globalDefault === true });
  }

  #resolvePriority(pod: KubeObject): number {
    const name = (pod.spec as { priorityClassName?: string } | undefined)?.priorityClassName;
    if (name) {
      const pc = this.#priorityClasses.get(name);
      if (pc) return pc.value;
    }
    let def: number | undefined;
    for (const pc of this.#priorityClasses.values()) if (pc.globalDefault && (def === undefined || pc.value < def)) def = pc.value;
    return def ?? 0;
  }

  // ---- the loop ------------------------------------------------------------------

  /** Schedules pods until `signal` aborts; waits for in-flight bindings before returning. */
  async run(signal: AbortSignal): Promise<void> {
    const onAbort = () => this.stop();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      this.#lastYield = performance.now();
      while (!this.#stopped) {
        let qp = this.queue.tryPop();
        if (!qp) {
          this.#startBindings();
          if (this.#inFlight === 0) this.#report.flush();
          this.#idle = true;
          qp = await this.queue.pop();
          this.#idle = false;
        }
        if (!qp || this.#stopped) break;
        const t = performance.now();
        const pending = this.scheduleOne(qp);
        this.stats.cycleMs += performance.now() - t;
        if (pending) {
          this.#startBindings();
          await pending;
        }
        if (performance.now() - this.#lastYield > YIELD_EVERY_MS) {
          this.#startBindings();
          await new Promise<void>((r) => setImmediate(r));
          this.#lastYield = performance.now();
        }
        while (this.#inFlight >= this.#config.maxInFlightBindings && !this.#stopped) {
          this.#startBindings();
          await new Promise<void>((r) => this.#slotWaiters.push(r));
        }
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      this.#startBindings();
      await Promise.allSettled([...this.#bindings]);
      this.#report.flush(true);
    }
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.queue.close();
    for (const w of this.#waiting.values()) w.reject("scheduler", "the scheduler is stopping");
    for (const w of this.#slotWaiters.splice(0)) w();
  }

  /**
   * One scheduling cycle. Synchronous up to Permit; returns a promise only
   * when PostFilter (preemption) runs, and starts the binding cycle without
   * waiting for it.
   */
  scheduleOne(qp: QueuedPod): Promise<void> | undefined {
    const pod = qp.info;
    const cycle = this.queue.schedulingCycle;
    if (this.cache.hasPod(pod.uid) || !this.#responsible(pod) || !this.#pending.has(pod.uid)) {
      this.queue.done(pod.uid);
      return undefined;
    }
    this.stats.attempts++;
    const state = new CycleState();
    const result = this.schedulePod(state, pod);
    if (result instanceof FitError) {
      if (this.framework.postFilter.length === 0 || result.numAllNodes === 0) {
        this.#fail(qp, cycle, result);
        return undefined;
      }
      return this.#postFilter(qp, cycle, state, result);
    }
    if ("code" in result) {
      this.#fail(qp, cycle, result);
      return undefined;
    }
    this.#assumeAndBind(qp, cycle, state, result.node);
    return undefined;
  }

  async #postFilter(qp: QueuedPod, cycle: number, state: CycleState, fit: FitError): Promise<void> {
    const r = await this.framework.runPostFilter(state, qp.info, fit.diagnosis.nodeToStatus, this);
    if (r.status.code === "Error") {
      this.#log.warn({ pod: qp.info.key, err: message(r.status) }, "postFilter failed");
    } else if (r.status.code !== "Success" && r.status.reasons?.length) {
      fit.diagnosis.postFilterMsg = r.status.reasons.join(", ");
    }
    if (r.status.code === "Success" && r.nominatedNodeName) this.stats.preemptions++;
    this.#fail(qp, cycle, fit, r.nominatedNodeName);
  }

  /** Finds the node for `pod` (PreFilter, Filter, PreScore, Score) without changing anything. */
  schedulePod(state: CycleState, pod: PodInfoImpl): ScheduleResult {
    return findNode(this.#algorithm, state, pod);
  }

  numFeasibleNodesToFind(n: number): number {
    return numFeasibleNodesToFind(n, this.#config.percentageOfNodesToScore);
  }

  #assumeAndBind(qp: QueuedPod, cycle: number, state: CycleState, node: string): void {
    const pod = qp.info;
    this.cache.assumePod(pod, node);
    this.cache.clearNominated(pod.uid);
    const reserve = this.framework.runReserve(state, pod, node);
    if (reserve.code !== "Success") {
      this.#undo(state, pod, node);
      this.#fail(qp, cycle, reserve);
      return;
    }
    const permit = this.framework.runPermit(state, pod, node);
    if (permit.status.code !== "Success" && permit.status.code !== "Wait") {
      this.#undo(state, pod, node);
      this.#fail(qp, cycle, isRejection(permit.status) ? this.#permitFit(permit.status) : permit.status);
      return;
    }
    this.stats.scheduled++;
    let waiting: WaitingPodImpl | undefined;
    if (permit.status.code === "Wait") {
      waiting = new WaitingPodImpl(pod, node, permit.waits);
      this.#waiting.set(pod.uid, waiting);
    }
    this.queue.done(pod.uid);
    this.#inFlight++;
    // Started in batches between scheduling cycles (see #startBindings).
    this.#toBind.push(() => {
      const p = this.#bindingCycle(qp.attempts, state, pod, node, waiting).finally(() => {
        this.#inFlight--;
        this.#bindings.delete(p);
        this.#slotWaiters.shift()?.();
        if (this.#inFlight === 0 && this.#idle) this.#report.flush();
      });
      this.#bindings.add(p);
    });
  }

  /**
   * Starts the binding cycles of the pods scheduled since the last call.
   * Scheduling cycles run back to back and the API requests of their
   * bindings start together afterwards: interleaving them would evict the
   * node data the next cycle reads from the CPU caches.
   */
  #startBindings(): void {
    if (this.#toBind.length === 0) return;
    const batch = this.#toBind;
    this.#toBind = [];
    for (const start of batch) start();
  }

  #permitFit(s: Status): FitError {
    const d: Diagnosis = { nodeToStatus: new Map(), unschedulablePlugins: new Set(s.plugin ? [s.plugin] : []) };
    d.preFilterMsg = message(s);
    return new FitError(this.cache.nodeCount(), d);
  }

  #undo(state: CycleState, pod: PodInfoImpl, node: string): void {
    this.framework.runUnreserve(state, pod, node);
    this.cache.forgetPod(pod.uid);
  }

  async #bindingCycle(attempts: number, state: CycleState, pod: PodInfoImpl, node: string, waiting?: WaitingPodImpl): Promise<void> {
    let st: Status = SUCCESS;
    if (waiting) {
      st = await waiting.result;
      this.#waiting.delete(pod.uid);
    }
    if (st.code === "Success") st = await this.framework.runBind(state, pod, node);
    if (st.code === "Success") {
      this.stats.bound++;
      // Events are informational: while the scheduler is busy they wait for a quiet moment.
      this.#report.scheduled(pod, node, !(this.#idle && this.#inFlight <= 1));
      this.#log.debug({ pod: pod.key, node }, "pod bound");
      return;
    }
    // Undo the assumption, let pods that waited for room retry, and retry this one after backoff.
    this.#undo(state, pod, node);
    this.queue.moveOnEvent("AssignedPodDelete");
    const latest = this.#pending.get(pod.uid);
    if (!latest || this.#stopped) return;
    this.stats.errors++;
    const msg = `Binding rejected: ${message(st)}`;
    this.#report.failed(latest, isRejection(st) ? "Unschedulable" : "SchedulerError", msg);
    this.queue.readd(latest, attempts);
  }

  #fail(qp: QueuedPod, cycle: number, err: FitError | Status, nominatedNodeName?: string): void {
    const pod = this.#pending.get(qp.info.uid) ?? qp.info;
    let reason: string;
    let msg: string;
    if (err instanceof FitError) {
      this.stats.unschedulable++;
      reason = "Unschedulable";
      msg = err.numAllNodes === 0 ? "no nodes available to schedule pods" : err.message();
      this.queue.addUnschedulable(qp, cycle, err.diagnosis.unschedulablePlugins);
    } else {
      this.stats.errors++;
      reason = "SchedulerError";
      msg = message(err) || "scheduling failed";
      this.queue.addBackoff(qp);
      this.#log.warn({ pod: pod.key, plugin: err.plugin, err: msg }, "scheduling error");
    }
    if (nominatedNodeName !== undefined) this.cache.setNominated(pod, nominatedNodeName);
    if (!this.#pending.has(pod.uid)) return;
    this.#report.failed(pod, reason, msg, nominatedNodeName);
  }

  // ---- SchedulerHandle -------------------------------------------------------------------

  snapshot(): Snapshot {
    return this.cache;
  }

  nominatedPods(nodeName: string): readonly PodInfo[] {
    return [...(this.cache.nominatedPods(nodeName) ?? [])];
  }

  waitingPod(uid: string): WaitingPod | undefined {
    return this.#waiting.get(uid);
  }

  waitingPods(): WaitingPod[] {
    return [...this.#waiting.values()];
  }

  /** Filters, with the pods nominated to the node (priority ≥ the pod's) counted as if running there. */
  runFilters(state: CycleStateContract, pod: PodInfo, node: NodeInfo): Status {
    return filterWithNominated(this.framework, this.cache, state as CycleState, pod, node);
  }

  runPreFilterAddPod(state: CycleStateContract, pod: PodInfo, podToAdd: PodInfo, node: NodeInfo): Status {
    return this.framework.runPreFilterAddPod(state as CycleState, pod, podToAdd, node);
  }

  runPreFilterRemovePod(state: CycleStateContract, pod: PodInfo, podToRemove: PodInfo, node: NodeInfo): Status {
    return this.framework.runPreFilterRemovePod(state as CycleState, pod, podToRemove, node);
  }

  /** Moves unschedulable pods after an event not coming from the informers (tests, plugins). */
  notify(event: ClusterEvent): void {
    this.queue.moveOnEvent(event);
  }

  get inFlightBindings(): number {
    return this.#inFlight;
  }
}

const NOT_IN_PREFILTER_RESULT: Status = Object.freeze({
  code: "UnschedulableAndUnresolvable",
  reasons: ["node(s) didn't satisfy plugin(s) [PreFilter] result"],
});

function sameRecord(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k]) return false;
  return true;
}

function sameLabels(a: KubeObject, b: KubeObject): boolean {
  return sameRecord(a.metadata.labels ?? {}, b.metadata.labels ?? {});
}

function sameTolerations(a: KubeObject, b: KubeObject): boolean {
  const ta = (a.spec as { tolerations?: unknown[] } | undefined)?.tolerations;
  const tb = (b.spec as { tolerations?: unknown[] } | undefined)?.tolerations;
  return ta === tb || (ta?.length ?? 0) === (tb?.length ?? 0);
}

/** Whether two versions of a pod differ only in status and bookkeeping metadata. */
function sameSpec(a: KubeObject, b: KubeObject): boolean {
  return (
    sameLabels(a, b) &&
    JSON.stringify(a.spec ?? null) === JSON.stringify(b.spec ?? null) &&
    JSON.stringify(a.metadata.annotations ?? null) === JSON.stringify(b.metadata.annotations ?? null)
  );
}
