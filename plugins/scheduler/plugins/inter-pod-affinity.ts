/**
 * @module InterPodAffinity: required pod affinity and anti-affinity of the
 * incoming pod, and the required anti-affinity of pods already running,
 * counted per topology pair in PreFilter and checked per node in Filter;
 * preferred terms (both ways, plus existing pods' required affinity at
 * weight 1) scored per topology pair and normalized to 0..100. Semantics
 * follow upstream's plugins/interpodaffinity.
 */
import type {
  AffinityTerm,
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
  WeightedAffinityTerm,
} from "../../../core/plugin/scheduler-framework.ts";
import { MAX_NODE_SCORE } from "../../../core/plugin/scheduler-framework.ts";
import type { Labels } from "../framework/selectors.ts";
import { errorStatus, SKIP, unresolvable, unschedulable } from "../framework/status.ts";
import { pairKey } from "./helpers.ts";

export const INTER_POD_AFFINITY = "InterPodAffinity";
export const ERR_AFFINITY = "node(s) didn't match pod affinity rules";
export const ERR_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
export const ERR_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";

/** Weight of an existing pod's *required* affinity term when scoring (upstream's hardPodAffinityWeight). */
const HARD_POD_AFFINITY_WEIGHT = 1;
const PREFILTER_KEY = "PreFilterInterPodAffinity";
const PRESCORE_KEY = "PreScoreInterPodAffinity";

type Counts = Map<string, number>;

function bump(m: Counts, key: string, delta: number): void {
  const v = (m.get(key) ?? 0) + delta;
  if (v === 0) m.delete(key);
  else m.set(key, v);
}

function matchesAll(pod: PodInfo, terms: readonly AffinityTerm[], ns: Labels | undefined): boolean {
  if (terms.length === 0) return false;
  for (const t of terms) if (!t.matches(pod, ns)) return false;
  return true;
}

class FilterState implements StateData {
  constructor(
    readonly pod: PodInfo,
    readonly snapshot: Snapshot,
    readonly nsLabels: Labels | undefined,
    /** pairs where an existing pod's required anti-affinity term matches the incoming pod */
    readonly existingAnti: Counts,
    /** pairs with existing pods matching all the incoming pod's affinity terms */
    readonly affinity: Counts,
    /** pairs with existing pods matching one of the incoming pod's anti-affinity terms */
    readonly anti: Counts,
  ) {}

  clone(): FilterState {
    return new FilterState(this.pod, this.snapshot, this.nsLabels, new Map(this.existingAnti), new Map(this.affinity), new Map(this.anti));
  }

  /** Accounts for `other` running on `node` (delta 1) or no longer running (delta −1). */
  update(other: PodInfo, node: NodeInfo, delta: number): void {
    const labels = node.labels;
    for (const t of other.requiredAntiAffinityTerms) {
      const v = labels[t.topologyKey];
      if (v !== undefined && t.matches(this.pod, this.nsLabels)) bump(this.existingAnti, pairKey(t.topologyKey, v), delta);
    }
    const otherNs = this.snapshot.namespaceLabels(other.namespace);
    if (matchesAll(other, this.pod.requiredAffinityTerms, otherNs)) {
      for (const t of this.pod.requiredAffinityTerms) {
        const v = labels[t.topologyKey];
        if (v !== undefined) bump(this.affinity, pairKey(t.topologyKey, v), delta);
      }
    }
    for (const t of this.pod.requiredAntiAffinityTerms) {
      const v = labels[t.topologyKey];
      if (v !== undefined && t.matches(other, otherNs)) bump(this.anti, pairKey(t.topologyKey, v), delta);
    }
  }
}

interface ScoreState extends StateData {
  /** pair → score */
  topology: Counts;
  keys: Set<string>;
}

function processTerms(
  out: Counts,
  keys: Set<string>,
  terms: readonly WeightedAffinityTerm[],
  target: PodInfo,
  ns: Labels | undefined,
  nodeLabels: Labels,
  sign: number,
): void {
  for (const w of terms) processTerm(out, keys, w.term, w.weight * sign, target, ns, nodeLabels);
}

function processTerm(out: Counts, keys: Set<string>, term: AffinityTerm, weight: number, target: PodInfo, ns: Labels | undefined, nodeLabels: Labels): void {
  const v = nodeLabels[term.topologyKey];
  if (v === undefined || !term.matches(target, ns)) return;
  keys.add(term.topologyKey);
  bump(out, pairKey(term.topologyKey, v), weight);
}

export function interPodAffinity(): PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin {
  return {
    name: INTER_POD_AFFINITY,
    weight: 2,
    events: ["NodeAdd", "NodeLabelChange", "AssignedPodAdd", "AssignedPodUpdate", "AssignedPodDelete", "NamespaceChange"],
    preFilter(state: CycleState, pod: PodInfo, snapshot: Snapshot): StatusResult {
      const withAnti = snapshot.havePodsWithRequiredAntiAffinity();
      if (pod.requiredAffinityTerms.length === 0 && pod.requiredAntiAffinityTerms.length === 0 && withAnti.length === 0) return SKIP;
      const nsLabels = snapshot.namespaceLabels(pod.namespace);
      const s = new FilterState(pod, snapshot, nsLabels, new Map(), new Map(), new Map());
      for (const node of withAnti) {
        for (const other of node.podsWithRequiredAntiAffinity) {
          for (const t of other.requiredAntiAffinityTerms) {
            const v = node.labels[t.topologyKey];
            if (v !== undefined && t.matches(pod, nsLabels)) bump(s.existingAnti, pairKey(t.topologyKey, v), 1);
          }
        }
      }
      if (pod.requiredAffinityTerms.length > 0 || pod.requiredAntiAffinityTerms.length > 0) {
        for (const node of snapshot.list()) {
          for (const other of node.pods) {
            const otherNs = snapshot.namespaceLabels(other.namespace);
            if (matchesAll(other, pod.requiredAffinityTerms, otherNs)) {
              for (const t of pod.requiredAffinityTerms) {
                const v = node.labels[t.topologyKey];
                if (v !== undefined) bump(s.affinity, pairKey(t.topologyKey, v), 1);
              }
            }
            for (const t of pod.requiredAntiAffinityTerms) {
              const v = node.labels[t.topologyKey];
              if (v !== undefined && t.matches(other, otherNs)) bump(s.anti, pairKey(t.topologyKey, v), 1);
            }
          }
        }
      }
      state.write(PREFILTER_KEY, s);
      return undefined;
    },
    addPod(state, _pod, other, node) {
      state.read<FilterState>(PREFILTER_KEY)?.update(other, node, 1);
      return undefined;
    },
    removePod(state, _pod, other, node) {
      state.read<FilterState>(PREFILTER_KEY)?.update(other, node, -1);
      return undefined;
    },
    filter(state: CycleState, pod: PodInfo, node: NodeInfo): StatusResult {
      const s = state.read<FilterState>(PREFILTER_KEY);
      if (!s) return errorStatus(`${PREFILTER_KEY} missing from the cycle state`);
      const labels = node.labels;
      // The incoming pod's affinity: every term's topology must exist and hold a matching pod…
      let podsExist = true;
      for (const t of pod.requiredAffinityTerms) {
        const v = labels[t.topologyKey];
        if (v === undefined) return unresolvable(ERR_AFFINITY);
        if ((s.affinity.get(pairKey(t.topologyKey, v)) ?? 0) <= 0) podsExist = false;
      }
      // …unless no pod anywhere matches and the pod matches its own terms (the first of a group).
      if (!podsExist && !(s.affinity.size === 0 && matchesAll(pod, pod.requiredAffinityTerms, s.nsLabels))) {
        return unresolvable(ERR_AFFINITY);
      }
      for (const t of pod.requiredAntiAffinityTerms) {
        const v = labels[t.topologyKey];
        if (v !== undefined && (s.anti.get(pairKey(t.topologyKey, v)) ?? 0) > 0) return unschedulable(ERR_ANTI_AFFINITY);
      }
      if (s.existingAnti.size > 0) {
        for (const k in labels) if ((s.existingAnti.get(pairKey(k, labels[k]!)) ?? 0) > 0) return unschedulable(ERR_EXISTING_ANTI_AFFINITY);
      }
      return undefined;
    },
    preScore(state: CycleState, pod: PodInfo, _nodes: readonly NodeInfo[], snapshot: Snapshot): StatusResult {
      const hasPreferred = pod.preferredAffinityTerms.length > 0 || pod.preferredAntiAffinityTerms.length > 0;
      const candidates = hasPreferred ? snapshot.list() : snapshot.havePodsWithAffinity();
      if (candidates.length === 0) return SKIP;
      const nsLabels = snapshot.namespaceLabels(pod.namespace);
      const topology: Counts = new Map();
      const keys = new Set<string>();
      for (const node of candidates) {
        const labels = node.labels;
        if (Object.keys(labels).length === 0) continue;
        for (const other of hasPreferred ? node.pods : node.podsWithAffinity) {
          const otherNs = snapshot.namespaceLabels(other.namespace);
          processTerms(topology, keys, pod.preferredAffinityTerms, other, otherNs, labels, 1);
          processTerms(topology, keys, pod.preferredAntiAffinityTerms, other, otherNs, labels, -1);
          for (const t of other.requiredAffinityTerms) processTerm(topology, keys, t, HARD_POD_AFFINITY_WEIGHT, pod, nsLabels, labels);
          processTerms(topology, keys, other.preferredAffinityTerms, pod, nsLabels, labels, 1);
          processTerms(topology, keys, other.preferredAntiAffinityTerms, pod, nsLabels, labels, -1);
        }
      }
      if (topology.size === 0) return SKIP;
      state.write<ScoreState>(PRESCORE_KEY, { topology, keys });
      return undefined;
    },
    score(state: CycleState, _pod: PodInfo, node: NodeInfo): number {
      const s = state.read<ScoreState>(PRESCORE_KEY);
      if (!s) return 0;
      let sum = 0;
      for (const k of s.keys) {
        const v = node.labels[k];
        if (v !== undefined) sum += s.topology.get(pairKey(k, v)) ?? 0;
      }
      return sum;
    },
    normalizeScore(_state: CycleState, _pod: PodInfo, scores: NodeScore[]): StatusResult {
      let min = Infinity;
      let max = -Infinity;
      for (const s of scores) {
        if (s.score < min) min = s.score;
        if (s.score > max) max = s.score;
      }
      const diff = max - min;
      for (const s of scores) s.score = diff > 0 ? Math.trunc(MAX_NODE_SCORE * ((s.score - min) / diff)) : 0;
      return undefined;
    },
  };
}
