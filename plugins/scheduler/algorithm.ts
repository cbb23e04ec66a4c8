/**
 * @module The placement algorithm of one scheduling cycle, free of side
 * effects: PreFilter, Filter over a round-robin sample of the nodes (upstream's
 * percentageOfNodesToScore), PreScore, Score and NormalizeScore, and the pick
 * of the best node. The scheduler (scheduler.ts) acts on the result.
 */
import type { NodeInfo, PodInfo, Status } from "../../core/plugin/scheduler-framework.ts";
import type { SchedulerCache } from "./cache.ts";
import type { CycleState } from "./framework/cycle-state.ts";
import { type Diagnosis, FitError } from "./framework/fit-error.ts";
import type { PodInfoImpl } from "./framework/pod-info.ts";
import type { Framework } from "./framework/runtime.ts";
import { isRejection, message } from "./framework/status.ts";

/** Upstream's minFeasibleNodesToFind and the adaptive percentage's bounds. */
const MIN_FEASIBLE_NODES = 100;
const MIN_FEASIBLE_PERCENTAGE = 5;
const BASE_PERCENTAGE = 50;

const NOT_IN_PREFILTER_RESULT: Status = Object.freeze({
  code: "UnschedulableAndUnresolvable",
  reasons: ["node(s) didn't satisfy plugin(s) [PreFilter] result"],
});

export interface Algorithm {
  readonly framework: Framework;
  readonly cache: SchedulerCache;
  /** 0 = adaptive. */
  readonly percentageOfNodesToScore: number;
  /** Tie-breaking among equally scored nodes. */
  readonly random: () => number;
  /** Where the next pod's filtering starts (advances round-robin). */
  nextStartNodeIndex: number;
}

export type ScheduleResult = { node: string; evaluated: number; feasible: number } | FitError | Status;

/** Upstream's numFeasibleNodesToFind. */
export function numFeasibleNodesToFind(n: number, percentage: number): number {
  if (n < MIN_FEASIBLE_NODES || percentage >= 100) return n;
  let p = percentage;
  if (p <= 0) p = Math.max(MIN_FEASIBLE_PERCENTAGE, BASE_PERCENTAGE - Math.trunc(n / 125));
  const num = Math.trunc((n * p) / 100);
  return num < MIN_FEASIBLE_NODES ? MIN_FEASIBLE_NODES : num;
}

/** Filters, with the pods nominated to the node (priority ≥ the pod's) counted as if running there. */
export function filterWithNominated(framework: Framework, cache: SchedulerCache, state: CycleState, pod: PodInfo, node: NodeInfo): Status {
  const noms = cache.nominatedPods(node.name);
  let added: PodInfoImpl[] | undefined;
  if (noms) for (const p of noms) if (p.uid !== pod.uid && p.priority >= pod.priority) (added ??= []).push(p);
  if (added) {
    const s2 = state.clone();
    const n2 = node.clone();
    for (const p of added) {
      n2.addPod(p);
      const r = framework.runPreFilterAddPod(s2, pod, p, n2);
      if (r.code !== "Success") return r;
    }
    const st = framework.runFilters(s2, pod, n2);
    if (st.code !== "Success") return st;
  }
  return framework.runFilters(state, pod, node);
}

/** Finds the node for `pod` (PreFilter, Filter, PreScore, Score) without changing anything but the sampling cursor. */
export function findNode(a: Algorithm, state: CycleState, pod: PodInfoImpl): ScheduleResult {
  const { framework, cache } = a;
  const all = cache.list();
  const diagnosis: Diagnosis = { nodeToStatus: new Map(), unschedulablePlugins: new Set() };
  if (all.length === 0) return new FitError(0, diagnosis);
  const pre = framework.runPreFilter(state, pod, cache);
  if (pre.status.code !== "Success") {
    if (!isRejection(pre.status)) return pre.status;
    diagnosis.preFilterMsg = message(pre.status);
    if (pre.status.plugin) diagnosis.unschedulablePlugins.add(pre.status.plugin);
    for (const n of all) diagnosis.nodeToStatus.set(n.name, pre.status);
    return new FitError(all.length, diagnosis);
  }
  // A pod nominated by an earlier preemption tries its nominated node first.
  if (pod.nominatedNodeName && (!pre.nodeNames || pre.nodeNames.has(pod.nominatedNodeName))) {
    const ni = cache.get(pod.nominatedNodeName);
    if (ni && filterWithNominated(framework, cache, state, pod, ni).code === "Success") return { node: ni.name, evaluated: 1, feasible: 1 };
  }
  const candidates = pre.nodeNames ? all.filter((n) => pre.nodeNames!.has(n.name)) : all;
  if (pre.nodeNames) for (const n of all) if (!pre.nodeNames.has(n.name)) diagnosis.nodeToStatus.set(n.name, NOT_IN_PREFILTER_RESULT);
  const feasible: NodeInfo[] = [];
  const n = candidates.length;
  const want = pre.nodeNames ? n : numFeasibleNodesToFind(n, a.percentageOfNodesToScore);
  const start = pre.nodeNames || n === 0 ? 0 : a.nextStartNodeIndex % n;
  const nominated = cache.hasNominatedPods();
  const filters = framework.filtersFor(state);
  let processed = 0;
  for (let i = 0; i < n && feasible.length < want; i++) {
    const node = candidates[(start + i) % n]!;
    processed++;
    const st = nominated ? filterWithNominated(framework, cache, state, pod, node) : framework.runFilters(state, pod, node, filters);
    if (st.code === "Success") {
      feasible.push(node);
      continue;
    }
    if (st.code === "Error") return st;
    diagnosis.nodeToStatus.set(node.name, st);
    if (st.plugin) diagnosis.unschedulablePlugins.add(st.plugin);
  }
  if (!pre.nodeNames && n > 0) a.nextStartNodeIndex = (start + processed) % n;
  if (feasible.length === 0) return new FitError(all.length, diagnosis);
  if (feasible.length === 1) return { node: feasible[0]!.name, evaluated: processed, feasible: 1 };
  const ps = framework.runPreScore(state, pod, feasible, cache);
  if (ps.code !== "Success") return ps;
  const totals = framework.runScore(state, pod, feasible);
  if (!(totals instanceof Float64Array)) return totals;
  return { node: feasible[selectHost(totals, a.random)]!.name, evaluated: processed, feasible: feasible.length };
}

/** The index of the highest total; ties are broken at random (reservoir sampling, as upstream). */
export function selectHost(totals: Float64Array, random: () => number): number {
  let best = 0;
  let ties = 1;
  for (let i = 1; i < totals.length; i++) {
    if (totals[i]! > totals[best]!) {
      best = i;
      ties = 1;
    } else if (totals[i] === totals[best]) {
      ties++;
      if (random() * ties < 1) best = i;
    }
  }
  return best;
}
