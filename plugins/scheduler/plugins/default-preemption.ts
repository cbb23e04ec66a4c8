/**
 * @module DefaultPreemption (PostFilter): when no node fits, find nodes where
 * removing pods of lower priority would let the pod fit, keep as many of those
 * pods as possible (highest priority first), pick the node whose victims
 * matter least (lowest highest-victim priority, then lowest priority sum, then
 * fewest victims, then the most recently started), delete the victims and
 * nominate the node. The pod is then retried when the victims are gone;
 * meanwhile other pods of lower priority cannot take the room (nominated
 * pods count in Filter). PodDisruptionBudgets are not consulted (upstream
 * only prefers candidates that violate fewer of them).
 */
import type {
  CycleState,
  MutableNodeInfo,
  NodeInfo,
  NodeToStatus,
  PodInfo,
  PostFilterPlugin,
  PostFilterResult,
  SchedulerHandle,
  Status,
} from "../../../core/plugin/scheduler-framework.ts";
import { fitErrorMessage } from "../framework/fit-error.ts";
import { isSuccess, unschedulable } from "../framework/status.ts";
import { PODS } from "./default-binder.ts";

export const DEFAULT_PREEMPTION = "DefaultPreemption";
export const NO_VICTIMS = "No preemption victims found for incoming pod";
export const NOT_HELPFUL = "Preemption is not helpful for scheduling";

export interface PreemptionOptions {
  /** Stop the dry run after this share of the nodes yielded candidates (upstream 10 %)… */
  minCandidateNodesPercentage?: number;
  /** …but not before this many (upstream 100). */
  minCandidateNodesAbsolute?: number;
}

interface Candidate {
  node: NodeInfo;
  victims: PodInfo[];
}

function startTime(p: PodInfo): number {
  const s = (p.pod.status as { startTime?: string } | undefined)?.startTime ?? p.pod.metadata.creationTimestamp;
  const t = s ? Date.parse(s) : NaN;
  return Number.isNaN(t) ? 0 : t;
}

/** More important first: higher priority, then started earlier. */
function byImportance(a: PodInfo, b: PodInfo): number {
  return b.priority - a.priority || startTime(a) - startTime(b);
}

/** The smallest set of lower-priority pods on `node` whose removal lets `pod` fit, or the failure. */
function selectVictims(state: CycleState, pod: PodInfo, node: NodeInfo, handle: SchedulerHandle): PodInfo[] | Status {
  const potential = node.pods.filter((p) => p.priority < pod.priority);
  if (potential.length === 0) return { code: "UnschedulableAndUnresolvable", reasons: [NO_VICTIMS] };
  const sim: MutableNodeInfo = node.clone();
  const st = state.clone();
  for (const v of potential) {
    sim.removePod(v);
    const s = handle.runPreFilterRemovePod(st, pod, v, sim);
    if (!isSuccess(s)) return s;
  }
  const fits = handle.runFilters(st, pod, sim);
  if (!isSuccess(fits)) return fits;
  const victims: PodInfo[] = [];
  for (const v of potential.sort(byImportance)) {
    sim.addPod(v);
    handle.runPreFilterAddPod(st, pod, v, sim);
    if (!isSuccess(handle.runFilters(st, pod, sim))) {
      sim.removePod(v);
      handle.runPreFilterRemovePod(st, pod, v, sim);
      victims.push(v);
    }
  }
  return victims;
}

/** upstream's pickOneNodeForPreemption, without the PDB criterion. */
function pick(cands: Candidate[]): Candidate {
  const OFFSET = 2 ** 31; // make every priority positive before summing
  const key = (c: Candidate) => {
    const highest = c.victims.length > 0 ? c.victims[0]!.priority : -Infinity;
    let sum = 0;
    for (const v of c.victims) sum += v.priority + OFFSET;
    let latest = 0;
    for (const v of c.victims) if (v.priority === highest) latest = Math.max(latest, startTime(v));
    return { highest, sum, n: c.victims.length, latest };
  };
  let best = cands[0]!;
  let bk = key(best);
  for (const c of cands.slice(1)) {
    const k = key(c);
    const better =
      k.highest !== bk.highest ? k.highest < bk.highest : k.sum !== bk.sum ? k.sum < bk.sum : k.n !== bk.n ? k.n < bk.n : k.latest > bk.latest;
    if (better) {
      best = c;
      bk = k;
    }
  }
  return best;
}

export function defaultPreemption(opts: PreemptionOptions = {}): PostFilterPlugin {
  const pct = opts.minCandidateNodesPercentage ?? 10;
  const abs = opts.minCandidateNodesAbsolute ?? 100;
  return {
    name: DEFAULT_PREEMPTION,
    async postFilter(state: CycleState, pod: PodInfo, filtered: NodeToStatus, handle: SchedulerHandle): Promise<PostFilterResult> {
      const r = await preempt(state, pod, filtered, handle, pct, abs);
      // As upstream, every failure reads "preemption: …" in the FailedScheduling message.
      if (r.status && r.status.code !== "Success" && r.status.code !== "Error") {
        return { ...r, status: { ...r.status, reasons: (r.status.reasons ?? []).map((m) => `preemption: ${m}`) } };
      }
      return r;
    },
  };
}

/** The preemption itself; failures carry upstream's messages without the "preemption: " prefix. */
async function preempt(
  state: CycleState,
  pod: PodInfo,
  filtered: NodeToStatus,
  handle: SchedulerHandle,
  pct: number,
  abs: number,
): Promise<PostFilterResult> {
  const spec = (pod.pod.spec ?? {}) as { preemptionPolicy?: string };
  if (spec.preemptionPolicy === "Never") return { status: unschedulable("not eligible due to preemptionPolicy=Never.") };
  // Everything up to the first await sees one consistent snapshot.
  const snapshot = handle.snapshot();
  const nominated = ((pod.pod.status ?? {}) as { nominatedNodeName?: string }).nominatedNodeName;
  if (nominated) {
    const ni = snapshot.get(nominated);
    if (ni && ni.pods.some((p) => p.terminating && p.priority < pod.priority)) {
      return { status: unschedulable("not eligible due to a terminating pod on the nominated node.") };
    }
  }
  const all = snapshot.list();
  const statuses = new Map<string, Status>();
  const wanted = Math.max(Math.trunc((all.length * pct) / 100), abs);
  const candidates: Candidate[] = [];
  for (const node of all) {
    if (filtered.get(node.name)?.code === "UnschedulableAndUnresolvable") {
      statuses.set(node.name, { code: "UnschedulableAndUnresolvable", reasons: [NOT_HELPFUL] });
      continue;
    }
    if (candidates.length >= wanted) continue;
    const r = selectVictims(state, pod, node, handle);
    if (Array.isArray(r)) {
      if (r.length > 0) candidates.push({ node, victims: r });
    } else statuses.set(node.name, r);
  }
  if (candidates.length === 0) {
    return { status: unschedulable(fitErrorMessage(all.length, statuses)), nominatedNodeName: "" };
  }
  const best = pick(candidates);
  const lowerNominated = nominatedLower(handle, best.node.name, pod);
  for (const v of best.victims) await evict(handle, v, pod, best.node.name);
  for (const p of lowerNominated) {
    await handle.client
      .patch(PODS, p.name, "merge", { status: { nominatedNodeName: null } }, { namespace: p.namespace, subresource: "status" })
      .catch(() => undefined);
  }
  return { status: undefined, nominatedNodeName: best.node.name };
}

/** Pods of lower priority nominated to `node` (they lose their nomination). */
function nominatedLower(handle: SchedulerHandle, node: string, pod: PodInfo): PodInfo[] {
  const out: PodInfo[] = [];
  for (const w of handle.nominatedPods(node)) if (w.priority < pod.priority && w.uid !== pod.uid) out.push(w);
  return out;
}

async function evict(handle: SchedulerHandle, victim: PodInfo, by: PodInfo, node: string): Promise<void> {
  const ref = { namespace: victim.namespace };
  if (!victim.terminating) {
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    const condition = {
      type: "DisruptionTarget",
      status: "True",
      reason: "PreemptionByScheduler",
      message: `${handle.schedulerName}: preempting to accommodate a higher priority pod`,
      lastTransitionTime: now,
    };
    await handle.client.patch(PODS, victim.name, "strategic", { status: { conditions: [condition] } }, { ...ref, subresource: "status" }).catch(() => undefined);
  }
  try {
    await handle.client.delete(PODS, victim.name, { ...ref, preconditions: { uid: victim.uid } });
  } catch {
    return; // already gone, or replaced by another pod of the same name
  }
  handle.events.record(victim.pod, "Normal", "Preempted", `Preempted by pod ${by.uid} on node ${node}`);
}
