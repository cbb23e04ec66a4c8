/**
 * @module PodTopologySpread: `whenUnsatisfiable: DoNotSchedule` constraints
 * filter (matching pods in the node's domain + 1 if the pod matches itself −
 * the global minimum must not exceed maxSkew; minDomains makes the minimum 0
 * while there are fewer domains), `ScheduleAnyway` constraints score (fewer
 * matching pods in the domain is better, normalized as upstream).
 * nodeAffinityPolicy (default Honor) and nodeTaintsPolicy (default Ignore)
 * decide which nodes count; matchLabelKeys narrow the selector with the
 * pod's own label values. Upstream's cluster-level default constraints are
 * not applied: pods without constraints are not spread by this plugin.
 */
import type {
  CycleState,
  FilterPlugin,
  NodeInfo,
  NodeScore,
  PodInfo,
  PreFilterPlugin,
  PreScorePlugin,
  ScorePlugin,
  Snapshot,
  StateData,
  StatusResult,
} from "../../../core/plugin/scheduler-framework.ts";
import { MAX_NODE_SCORE } from "../../../core/plugin/scheduler-framework.ts";
import type { CompiledSelector } from "../../../core/types/selector-match.ts";
import { andSelector, compileLabelSelector, type Labels, matchesSelector } from "../framework/selectors.ts";
import { errorStatus, SKIP, unresolvable, unschedulable } from "../framework/status.ts";
import { firstUntoleratedTaint, pairKey } from "./helpers.ts";
import { requiredNodeAffinity } from "./node-affinity.ts";

export const POD_TOPOLOGY_SPREAD = "PodTopologySpread";
export const ERR_CONSTRAINTS = "node(s) didn't match pod topology spread constraints";
export const ERR_MISSING_LABEL = "node(s) didn't match pod topology spread constraints (missing required label)";

const HOSTNAME = "kubernetes.io/hostname";
const PREFILTER_KEY = "PreFilterPodTopologySpread";
const PRESCORE_KEY = "PreScorePodTopologySpread";

interface Constraint {
  maxSkew: number;
  topologyKey: string;
  selector: CompiledSelector;
  minDomains: number;
  honorAffinity: boolean;
  honorTaints: boolean;
}

interface RawConstraint {
  maxSkew?: number;
  topologyKey?: string;
  whenUnsatisfiable?: string;
  labelSelector?: unknown;
  minDomains?: number;
  nodeAffinityPolicy?: string;
  nodeTaintsPolicy?: string;
  matchLabelKeys?: string[];
}

function constraintsOf(pod: PodInfo, action: "DoNotSchedule" | "ScheduleAnyway"): Constraint[] {
  const raw = ((pod.pod.spec ?? {}) as { topologySpreadConstraints?: RawConstraint[] }).topologySpreadConstraints ?? [];
  const out: Constraint[] = [];
  for (const c of raw) {
    if ((c.whenUnsatisfiable ?? "DoNotSchedule") !== action) continue;
    const extra: ((l: Labels) => boolean)[] = [];
    for (const k of c.matchLabelKeys ?? []) {
      const v = pod.labels[k];
      if (v !== undefined) extra.push((l) => l[k] === v);
    }
    out.push({
      maxSkew: c.maxSkew ?? 1,
      topologyKey: c.topologyKey ?? "",
      selector: andSelector(compileLabelSelector(c.labelSelector), extra),
      minDomains: c.minDomains ?? 1,
      honorAffinity: (c.nodeAffinityPolicy ?? "Honor") === "Honor",
      honorTaints: c.nodeTaintsPolicy === "Honor",
    });
  }
  return out;
}

function hasAllKeys(labels: Labels, cs: readonly Constraint[]): boolean {
  for (const c of cs) if (labels[c.topologyKey] === undefined) return false;
  return true;
}

type NodeTest = ((labels: Labels, name: string) => boolean) | undefined;

function nodeCounts(c: Constraint, node: NodeInfo, pod: PodInfo, affinity: NodeTest): boolean {
  if (c.honorAffinity && affinity && !affinity(node.labels, node.name)) return false;
  if (c.honorTaints && node.taints.length > 0 && firstUntoleratedTaint(node.taints, pod.tolerations)) return false;
  return true;
}

/** Pods on the node in `ns` (not terminating) that the selector matches. */
function countMatching(node: NodeInfo, sel: CompiledSelector, ns: string): number {
  let n = 0;
  for (const p of node.pods) if (p.namespace === ns && !p.terminating && matchesSelector(sel, p.labels)) n++;
  return n;
}

class FilterState implements StateData {
  constructor(
    readonly constraints: Constraint[],
    /** pair → matching pods */
    readonly counts: Map<string, number>,
    /** topologyKey → number of domains (fixed for the cycle) */
    readonly domains: Map<string, number>,
    /** topologyKey → the smallest count over its domains */
    readonly mins: Map<string, number>,
    readonly affinity: NodeTest,
  ) {}

  clone(): FilterState {
    return new FilterState(this.constraints, new Map(this.counts), this.domains, new Map(this.mins), this.affinity);
  }

  recomputeMin(key: string): void {
    let min = Infinity;
    const prefix = `${key}\u0000`;
    for (const [k, v] of this.counts) if (k.startsWith(prefix) && v < min) min = v;
    this.mins.set(key, min);
  }
}

interface ScoreState extends StateData {
  constraints: Constraint[];
  ignored: Set<string>;
  /** per constraint: topology value → matching pods (only values some feasible node has) */
  counts: Map<string, number>[];
  weights: number[];
}

export function podTopologySpread(): PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin {
  const update = (state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo, delta: number): StatusResult => {
    const s = state.read<FilterState>(PREFILTER_KEY);
    if (!s) return undefined;
    if (other.namespace !== pod.namespace || !hasAllKeys(node.labels, s.constraints)) return undefined;
    for (const c of s.constraints) {
      if (!matchesSelector(c.selector, other.labels) || !nodeCounts(c, node, pod, s.affinity)) continue;
      const k = pairKey(c.topologyKey, node.labels[c.topologyKey]!);
      s.counts.set(k, (s.counts.get(k) ?? 0) + delta);
      s.recomputeMin(c.topologyKey);
    }
    return undefined;
  };
  return {
    name: POD_TOPOLOGY_SPREAD,
    weight: 2,
    events: ["NodeAdd", "NodeLabelChange", "NodeTaintChange", "AssignedPodAdd", "AssignedPodUpdate", "AssignedPodDelete"],
    preFilter(state: CycleState, pod: PodInfo, snapshot: Snapshot): StatusResult {
      const constraints = constraintsOf(pod, "DoNotSchedule");
      if (constraints.length === 0) return SKIP;
      const affinity = requiredNodeAffinity(pod);
      const counts = new Map<string, number>();
      for (const node of snapshot.list()) {
        if (!hasAllKeys(node.labels, constraints)) continue;
        for (const c of constraints) {
          if (!nodeCounts(c, node, pod, affinity)) continue;
          const k = pairKey(c.topologyKey, node.labels[c.topologyKey]!);
          counts.set(k, (counts.get(k) ?? 0) + countMatching(node, c.selector, pod.namespace));
        }
      }
      const s = new FilterState(constraints, counts, new Map(), new Map(), affinity);
      for (const k of counts.keys()) {
        const key = k.slice(0, k.indexOf("\u0000"));
        s.domains.set(key, (s.domains.get(key) ?? 0) + 1);
      }
      for (const c of constraints) s.recomputeMin(c.topologyKey);
      state.write(PREFILTER_KEY, s);
      return undefined;
    },
    addPod: (state, pod, other, node) => update(state, pod, other, node, 1),
    removePod: (state, pod, other, node) => update(state, pod, other, node, -1),
    filter(state: CycleState, pod: PodInfo, node: NodeInfo): StatusResult {
      const s = state.read<FilterState>(PREFILTER_KEY);
      if (!s) return errorStatus(`${PREFILTER_KEY} missing from the cycle state`);
      for (const c of s.constraints) {
        const value = node.labels[c.topologyKey];
        if (value === undefined) return unresolvable(ERR_MISSING_LABEL);
        let min = s.mins.get(c.topologyKey) ?? 0;
        if ((s.domains.get(c.topologyKey) ?? 0) < c.minDomains) min = 0;
        const self = matchesSelector(c.selector, pod.labels) ? 1 : 0;
        const skew = (s.counts.get(pairKey(c.topologyKey, value)) ?? 0) + self - min;
        if (skew > c.maxSkew) return unschedulable(ERR_CONSTRAINTS);
      }
      return undefined;
    },
    preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], snapshot: Snapshot): StatusResult {
      const constraints = constraintsOf(pod, "ScheduleAnyway");
      if (constraints.length === 0 || snapshot.list().length === 0) return SKIP;
      const ignored = new Set<string>();
      const counts = constraints.map(() => new Map<string, number>());
      const sizes = constraints.map(() => 0);
      for (const node of nodes) {
        if (!hasAllKeys(node.labels, constraints)) {
          ignored.add(node.name);
          continue;
        }
        constraints.forEach((c, i) => {
          if (c.topologyKey === HOSTNAME) return;
          const v = node.labels[c.topologyKey]!;
          if (!counts[i]!.has(v)) {
            counts[i]!.set(v, 0);
            sizes[i]!++;
          }
        });
      }
      const weights = constraints.map((c, i) => Math.log((c.topologyKey === HOSTNAME ? nodes.length - ignored.size : sizes[i]!) + 2));
      const affinity = requiredNodeAffinity(pod);
      for (const node of snapshot.list()) {
        if (!hasAllKeys(node.labels, constraints)) continue;
        constraints.forEach((c, i) => {
          if (c.topologyKey === HOSTNAME || !nodeCounts(c, node, pod, affinity)) return;
          const v = node.labels[c.topologyKey]!;
          const cur = counts[i]!.get(v);
          if (cur === undefined) return;
          counts[i]!.set(v, cur + countMatching(node, c.selector, pod.namespace));
        });
      }
      state.write<ScoreState>(PRESCORE_KEY, { constraints, ignored, counts, weights });
      return undefined;
    },
    score(state: CycleState, pod: PodInfo, node: NodeInfo): number {
      const s = state.read<ScoreState>(PRESCORE_KEY);
      if (!s || s.ignored.has(node.name)) return 0;
      let score = 0;
      s.constraints.forEach((c, i) => {
        const v = node.labels[c.topologyKey];
        if (v === undefined) return;
        const cnt = c.topologyKey === HOSTNAME ? countMatching(node, c.selector, pod.namespace) : (s.counts[i]!.get(v) ?? 0);
        score += cnt * s.weights[i]! + (c.maxSkew - 1);
      });
      return Math.round(score);
    },
    normalizeScore(state: CycleState, _pod: PodInfo, scores: NodeScore[]): StatusResult {
      const s = state.read<ScoreState>(PRESCORE_KEY);
      if (!s) return undefined;
      let min = Infinity;
      let max = 0;
      for (const sc of scores) {
        if (s.ignored.has(sc.name)) continue;
        if (sc.score < min) min = sc.score;
        if (sc.score > max) max = sc.score;
      }
      for (const sc of scores) {
        if (s.ignored.has(sc.name)) sc.score = 0;
        else if (max === 0) sc.score = MAX_NODE_SCORE;
        else sc.score = Math.trunc((MAX_NODE_SCORE * (max + min - sc.score)) / max);
      }
      return undefined;
    },
  };
}
