/**
 * @module The scheduler framework contract: one small interface per
 * extension point, as kube-scheduler's framework (PreFilter, Filter,
 * PostFilter, PreScore, Score + NormalizeScore, Reserve, Permit, Bind).
 *
 * The scheduler plugin (plugins/scheduler) registers its default plugins
 * into the DI container in its `register`; a third-party plugin adds its own
 * in *its* `register(container, config, tokens)` with
 * `container.register(tokens.SchedulerScore, { useValue })` (one token per
 * extension point, see tokens.ts), and the scheduler resolves them all when
 * it starts. One object may implement several points; register it under
 * each token it implements.
 *
 * Rules for every plugin:
 * - Return a `Status` (or nothing, meaning Success); never throw. A throw is
 *   caught and treated as an `Error` status (the pod is retried with backoff).
 * - PreFilter, Filter, PreScore, Score, NormalizeScore, Reserve and Permit are
 *   synchronous and run inside the scheduling cycle, which sees one consistent
 *   snapshot of the cluster. They must not write through the client and must
 *   not keep per-pod state outside `CycleState`.
 * - `NodeInfo`, `PodInfo` and the objects they hold are shared with the
 *   scheduler's cache: read them, never change them.
 *
 * Everything here is types only (plus MAX_NODE_SCORE), so an out-of-tree
 * package can `import type` it without depending on Skiff at run time.
 */
import type { KubeObject } from "../api/meta.ts";
import type { Client } from "../client/types.ts";
import type { EventSink } from "./types.ts";

// ---- status ------------------------------------------------------------------

/**
 * - `Success`: go on.
 * - `Error`: something broke (not the pod's fault); the pod is retried with backoff.
 * - `Unschedulable`: the node does not fit now; preemption may help.
 * - `UnschedulableAndUnresolvable`: the node does not fit and preempting pods
 *   on it would not change that (wrong label, untolerated taint…).
 * - `Wait`: Permit only — hold the pod until allowed, rejected or timed out.
 * - `Skip`: PreFilter / PreScore: this plugin has nothing to do for this pod,
 *   so its Filter / Score is not called. Bind: let the next bind plugin bind.
 */
export type StatusCode = "Success" | "Error" | "Unschedulable" | "UnschedulableAndUnresolvable" | "Wait" | "Skip";

export interface Status {
  readonly code: StatusCode;
  /**
   * Short, node-independent reasons ("Insufficient cpu"). The scheduler counts
   * them over the nodes for the FailedScheduling message
   * ("0/3 nodes are available: 2 Insufficient cpu, 1 node(s) had untolerated taint {k: v}.").
   */
  readonly reasons?: readonly string[];
  /** Set by the framework: the plugin that returned the status. */
  readonly plugin?: string;
}

/** What most extension points return: a Status, or nothing for Success. */
export type StatusResult = Status | undefined | void;

/** The highest score a Score plugin gives (after NormalizeScore); the lowest is 0. */
export const MAX_NODE_SCORE = 100;

// ---- what plugins see ------------------------------------------------------------

/** Resource amounts in canonical units: cpu in millicores, memory and storage in bytes, others as integers. */
export interface Resources {
  readonly milliCPU: number;
  readonly memory: number;
  readonly ephemeralStorage: number;
  /** Pod count: allocatable `pods` on a node; 1 in a pod's requests. */
  readonly pods: number;
  /** Extended resources (`example.com/gpu`), hugepages and any other named resource. */
  readonly scalar: ReadonlyMap<string, number>;
}

export interface Taint {
  readonly key: string;
  readonly value: string;
  readonly effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

export interface Toleration {
  readonly key?: string;
  /** `Equal` (default) or `Exists`. */
  readonly operator?: string;
  readonly value?: string;
  /** Empty matches every effect. */
  readonly effect?: string;
  readonly tolerationSeconds?: number;
}

/** A pod (anti-)affinity term with its selectors compiled. */
export interface AffinityTerm {
  readonly topologyKey: string;
  /**
   * Whether `pod` is selected: its namespace is one the term names (or is
   * selected by its namespaceSelector, given the namespace's labels) and its
   * labels match the label selector.
   */
  matches(pod: PodInfo, namespaceLabels: Readonly<Record<string, string>> | undefined): boolean;
}

export interface WeightedAffinityTerm {
  readonly weight: number;
  readonly term: AffinityTerm;
}

export interface HostPort {
  /** `TCP`, `UDP` or `SCTP`. */
  readonly protocol: string;
  /** `0.0.0.0` when unset. */
  readonly hostIP: string;
  readonly port: number;
}

/** A pod with what scheduling needs parsed once (when it is queued or cached). */
export interface PodInfo {
  readonly pod: KubeObject;
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  /** `namespace/name`. */
  readonly key: string;
  readonly labels: Readonly<Record<string, string>>;
  /** spec.priority, else its PriorityClass's value, else the global default class, else 0. */
  readonly priority: number;
  /** What the pod needs on a node: max(init containers, sum of containers + sidecars) + overhead; `pods` is 1. */
  readonly requests: Resources;
  /** cpu/memory requests with upstream's non-zero defaults (100m, 200Mi) for containers that set none; used by scoring. */
  readonly nonZeroRequests: { readonly milliCPU: number; readonly memory: number };
  readonly requiredAffinityTerms: readonly AffinityTerm[];
  readonly requiredAntiAffinityTerms: readonly AffinityTerm[];
  readonly preferredAffinityTerms: readonly WeightedAffinityTerm[];
  readonly preferredAntiAffinityTerms: readonly WeightedAffinityTerm[];
  readonly hostPorts: readonly HostPort[];
  readonly tolerations: readonly Toleration[];
  /** metadata.deletionTimestamp is set. */
  readonly terminating: boolean;
}

/** One node and the pods bound to (or assumed on) it. */
export interface NodeInfo {
  readonly name: string;
  readonly node: KubeObject;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  /** spec.unschedulable. */
  readonly unschedulable: boolean;
  readonly allocatable: Resources;
  /** The sum of its pods' requests. */
  readonly requested: Resources;
  /** The sum of its pods' non-zero cpu/memory requests (see PodInfo.nonZeroRequests). */
  readonly nonZeroRequested: { readonly milliCPU: number; readonly memory: number };
  readonly pods: readonly PodInfo[];
  /** Pods with any (anti-)affinity term, required or preferred. */
  readonly podsWithAffinity: readonly PodInfo[];
  readonly podsWithRequiredAntiAffinity: readonly PodInfo[];
  /** Whether `port` is taken on this node (a 0.0.0.0 binding conflicts with every IP). */
  portInUse(port: HostPort): boolean;
  /** Bumped on every change. */
  readonly generation: number;
  /** A private copy that PostFilter plugins may change to simulate removing pods. */
  clone(): MutableNodeInfo;
}

export interface MutableNodeInfo extends NodeInfo {
  addPod(pod: PodInfo): void;
  /** False when the pod was not there. */
  removePod(pod: PodInfo): boolean;
}

/** The cluster as this scheduling cycle sees it (nodes with their bound and assumed pods). */
export interface Snapshot {
  /** Every node, in the scheduler's sampling order (zones interleaved). */
  list(): readonly NodeInfo[];
  get(name: string): NodeInfo | undefined;
  /** Nodes holding a pod with (anti-)affinity terms. */
  havePodsWithAffinity(): readonly NodeInfo[];
  /** Nodes holding a pod with required anti-affinity terms. */
  havePodsWithRequiredAntiAffinity(): readonly NodeInfo[];
  /** A namespace's labels (for namespaceSelector), undefined when unknown. */
  namespaceLabels(namespace: string): Readonly<Record<string, string>> | undefined;
}

// ---- plugins -----------------------------------------------------------------------

/**
 * Cluster changes after which a pod that a plugin rejected may fit. A pod
 * waiting as unschedulable is retried only on an event that one of the
 * plugins that rejected it lists (or on any event, if that plugin lists none).
 */
export type ClusterEvent =
  | "NodeAdd"
  | "NodeDelete"
  | "NodeLabelChange"
  | "NodeTaintChange"
  | "NodeAllocatableChange"
  | "NodeUnschedulableChange"
  | "AssignedPodAdd"
  | "AssignedPodUpdate"
  | "AssignedPodDelete"
  | "NamespaceChange";

export interface SchedulerPlugin {
  /** Unique among scheduler plugins (`NodeResourcesFit`); used in config, logs and statuses. */
  readonly name: string;
  /** The events that may make a pod this plugin rejected schedulable (see ClusterEvent). */
  readonly events?: readonly ClusterEvent[];
}

/** Per-cycle scratch space shared by the plugins scheduling one pod. */
export interface CycleState {
  read<T extends StateData>(key: string): T | undefined;
  write<T extends StateData>(key: string, value: T): void;
  delete(key: string): void;
  /** A copy whose values are cloned (values without `clone` are shared). Used by preemption's what-ifs. */
  clone(): CycleState;
}

/** A CycleState value. Values changed by PreFilter `addPod`/`removePod` must implement `clone`. */
export interface StateData {
  clone?(): StateData;
}

/** PreFilter's way to narrow the candidate nodes: only these may be considered. */
export interface PreFilterResult {
  readonly nodeNames: ReadonlySet<string>;
}

export interface PreFilterPlugin extends SchedulerPlugin {
  /**
   * Called once per scheduling cycle, before any Filter. Precompute what Filter
   * needs into `state`. Return Skip when this plugin's Filter has nothing to
   * check for this pod (it is then not called), an Unschedulable status to
   * reject every node at once, or `{ nodeNames }` to narrow the nodes.
   */
  preFilter(state: CycleState, pod: PodInfo, snapshot: Snapshot): StatusResult | PreFilterResult;
  /**
   * Optional: update this plugin's PreFilter state as if `podToAdd` ran on
   * `node` (preemption and nominated pods use it). Needed only when the state
   * depends on other pods. Called on a cloned state.
   */
  addPod?(state: CycleState, podToSchedule: PodInfo, podToAdd: PodInfo, node: NodeInfo): StatusResult;
  /** Optional: the inverse of `addPod`. */
  removePod?(state: CycleState, podToSchedule: PodInfo, podToRemove: PodInfo, node: NodeInfo): StatusResult;
}

export interface FilterPlugin extends SchedulerPlugin {
  /**
   * Whether `pod` may run on `node`. Called for many nodes per pod: keep it
   * cheap and free of side effects. Unschedulable / UnschedulableAndUnresolvable
   * with short reasons reject the node.
   */
  filter(state: CycleState, pod: PodInfo, node: NodeInfo): StatusResult;
}

/** Nodes the Filter phase rejected, with the status each got. */
export type NodeToStatus = ReadonlyMap<string, Status>;

export interface PostFilterResult {
  /** Success when the plugin made room (the pod is retried later); Unschedulable with reasons otherwise. */
  readonly status: StatusResult;
  /** The node the pod should get once room is made (becomes status.nominatedNodeName). */
  readonly nominatedNodeName?: string;
}

export interface PostFilterPlugin extends SchedulerPlugin {
  /**
   * Called when no node passed the filters. May act through `handle.client`
   * (preemption deletes lower-priority pods). Plugins run in order until one
   * returns Success. Asynchronous: other pods are scheduled meanwhile.
   */
  postFilter(state: CycleState, pod: PodInfo, filtered: NodeToStatus, handle: SchedulerHandle): Promise<PostFilterResult>;
}

export interface PreScorePlugin extends SchedulerPlugin {
  /** Called once per cycle with the feasible nodes. Skip means this plugin's Score is not called. */
  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], snapshot: Snapshot): StatusResult;
}

export interface NodeScore {
  readonly name: string;
  score: number;
}

/**
 * Rescales one Score plugin's raw scores to 0..MAX_NODE_SCORE once every
 * feasible node is scored. Implemented by a Score plugin (upstream's
 * ScoreExtensions), not registered on its own.
 */
export interface NormalizeScore {
  normalizeScore(state: CycleState, pod: PodInfo, scores: NodeScore[]): StatusResult;
}

export interface ScorePlugin extends SchedulerPlugin, Partial<NormalizeScore> {
  /** Multiplies the plugin's 0..100 score; default 1 (config `scoreWeights` overrides it). */
  readonly weight?: number;
  /**
   * Ranks a feasible node: 0..MAX_NODE_SCORE, or any number when the plugin
   * normalizes. A Status instead of a number is an error for the whole cycle.
   */
  score(state: CycleState, pod: PodInfo, node: NodeInfo): number | Status;
}

export interface ReservePlugin extends SchedulerPlugin {
  /**
   * Called when the pod is assumed on `nodeName`, before Permit and binding.
   * A failure unreserves every plugin and retries the pod.
   */
  reserve(state: CycleState, pod: PodInfo, nodeName: string): StatusResult;
  /** Undoes `reserve` (also called for plugins whose reserve was not reached). Must be idempotent. */
  unreserve(state: CycleState, pod: PodInfo, nodeName: string): void;
}

/** Permit's answer: Success, a rejection, or Wait for up to `timeoutMs`. */
export type PermitResult = StatusResult | (Status & { readonly code: "Wait"; readonly timeoutMs: number });

export interface PermitPlugin extends SchedulerPlugin {
  /**
   * The last say before binding. Returning Wait parks the pod (its resources
   * stay reserved) until every waiting plugin calls `WaitingPod.allow`, one
   * calls `reject`, or the timeout passes (a rejection).
   */
  permit(state: CycleState, pod: PodInfo, nodeName: string): PermitResult;
}

export interface BindPlugin extends SchedulerPlugin {
  /**
   * Binds the pod (asynchronously, outside the scheduling cycle). Return Skip
   * to let the next bind plugin do it; the default binder (pods/binding) runs last.
   */
  bind(state: CycleState, pod: PodInfo, nodeName: string): Promise<StatusResult>;
}

// ---- the handle ----------------------------------------------------------------

/** A pod held by a Permit plugin that returned Wait. */
export interface WaitingPod {
  readonly pod: PodInfo;
  readonly nodeName: string;
  /** Plugins that have not allowed it yet. */
  pendingPlugins(): string[];
  allow(plugin: string): void;
  reject(plugin: string, message: string): void;
}

/**
 * The scheduler's services for plugins: passed to PostFilter, and resolvable
 * as `Tokens.SchedulerHandle` once the scheduler has started.
 */
export interface SchedulerHandle {
  readonly schedulerName: string;
  readonly client: Client;
  readonly events: EventSink;
  /** The current snapshot (valid until the caller next awaits). */
  snapshot(): Snapshot;
  /** Pending pods nominated to `nodeName` by preemption. */
  nominatedPods(nodeName: string): readonly PodInfo[];
  waitingPod(uid: string): WaitingPod | undefined;
  waitingPods(): WaitingPod[];
  /**
   * Runs every Filter plugin for `pod` on `node` with `state` (which PreFilter
   * filled), including the pods nominated to that node with at least the
   * pod's priority. For PostFilter what-ifs on cloned nodes and states.
   */
  runFilters(state: CycleState, pod: PodInfo, node: NodeInfo): Status;
  /** Runs the PreFilter plugins' `addPod` (or `removePod`) on `state`. */
  runPreFilterAddPod(state: CycleState, pod: PodInfo, podToAdd: PodInfo, node: NodeInfo): Status;
  runPreFilterRemovePod(state: CycleState, pod: PodInfo, podToRemove: PodInfo, node: NodeInfo): Status;
  /** Builds a PodInfo for any pod object (e.g. one read through the client). */
  podInfo(pod: KubeObject): PodInfo;
}
