/**
 * @module Pod facts the workload controllers share (upstream
 * `pkg/controller/controller_utils.go` and `pkg/api/v1/pod`): active, ready,
 * available after `minReadySeconds`, and the order in which a controller
 * that has too many pods picks the ones to delete.
 */
import type { Pod } from "./refs.ts";
import { timeOf } from "./refs.ts";

/** Not finished (Succeeded/Failed) and not being deleted: the pods a controller counts. */
export function isPodActive(p: Pod): boolean {
  const phase = p.status?.phase;
  return phase !== "Succeeded" && phase !== "Failed" && p.metadata.deletionTimestamp === undefined;
}

export function readyCondition(p: Pod): { status: string; lastTransitionTime?: string } | undefined {
  return p.status?.conditions?.find((c) => c.type === "Ready");
}

export function isPodReady(p: Pod): boolean {
  return readyCondition(p)?.status === "True";
}

/**
 * Ready for at least `minReadySeconds` at `now` (upstream IsPodAvailable). A
 * ready pod without a transition time counts as available.
 */
export function isPodAvailable(p: Pod, minReadySeconds: number, now: number): boolean {
  const c = readyCondition(p);
  if (c?.status !== "True") return false;
  if (minReadySeconds <= 0) return true;
  const t = timeOf(c.lastTransitionTime);
  return Number.isNaN(t) || t + minReadySeconds * 1000 <= now;
}

/** When a ready pod becomes available (ms), or undefined if it is not ready. */
export function availableAt(p: Pod, minReadySeconds: number): number | undefined {
  const c = readyCondition(p);
  if (c?.status !== "True") return undefined;
  const t = timeOf(c.lastTransitionTime);
  return Number.isNaN(t) ? 0 : t + minReadySeconds * 1000;
}

const PHASE_ORDER: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };
export const DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost";

function deletionCost(p: Pod): number {
  const v = p.metadata.annotations?.[DELETION_COST_ANNOTATION];
  if (v === undefined) return 0;
  const n = Number(v);
  return Number.isInteger(n) ? n : 0;
}

function restarts(p: Pod): number {
  let n = 0;
  for (const c of p.status?.containerStatuses ?? []) n = Math.max(n, c.restartCount ?? 0);
  return n;
}

/** floor(log2(age in seconds)), so times are compared in logarithmic buckets (LogarithmicScaleDown). */
function logBucket(t: number, now: number): number {
  const secs = Math.max(0, (now - t) / 1000);
  return secs < 1 ? 0 : Math.floor(Math.log2(secs)) + 1;
}

/**
 * Upstream `ActivePodsWithRanks.Less`: negative when `a` should be deleted
 * before `b`. In order: unscheduled before scheduled; Pending, Unknown, then
 * Running; not ready before ready; lower `pod-deletion-cost` first; pods
 * doubled up on a node (higher rank) first; ready more recently first; more
 * container restarts first; created more recently first (both times compared
 * in logarithmic buckets); then by uid so the order is total.
 */
export function compareForDeletion(a: Pod, b: Pod, rankA: number, rankB: number, now: number): number {
  const na = a.spec?.nodeName ?? "";
  const nb = b.spec?.nodeName ?? "";
  if ((na === "") !== (nb === "")) return na === "" ? -1 : 1;
  const pa = PHASE_ORDER[a.status?.phase ?? "Pending"] ?? 0;
  const pb = PHASE_ORDER[b.status?.phase ?? "Pending"] ?? 0;
  if (pa !== pb) return pa - pb;
  const ra = isPodReady(a);
  const rb = isPodReady(b);
  if (ra !== rb) return ra ? 1 : -1;
  const ca = deletionCost(a);
  const cb = deletionCost(b);
  if (ca !== cb) return ca - cb;
  if (rankA !== rankB) return rankB - rankA;
  if (ra && rb) {
    const ta = timeOf(readyCondition(a)?.lastTransitionTime);
    const tb = timeOf(readyCondition(b)?.lastTransitionTime);
    if (!Number.isNaN(ta) && !Number.isNaN(tb)) {
      const ba = logBucket(ta, now);
      const bb = logBucket(tb, now);
      if (ba !== bb) return ba - bb;
    } else if (Number.isNaN(ta) !== Number.isNaN(tb)) return Number.isNaN(ta) ? -1 : 1;
  }
  const xa = restarts(a);
  const xb = restarts(b);
  if (xa !== xb) return xb - xa;
  const ta = timeOf(a.metadata.creationTimestamp);
  const tb = timeOf(b.metadata.creationTimestamp);
  if (Number.isNaN(ta) !== Number.isNaN(tb)) return Number.isNaN(ta) ? -1 : 1;
  if (!Number.isNaN(ta)) {
    const ba = logBucket(ta, now);
    const bb = logBucket(tb, now);
    if (ba !== bb) return ba - bb;
  }
  return (a.metadata.uid ?? "") < (b.metadata.uid ?? "") ? -1 : (a.metadata.uid ?? "") > (b.metadata.uid ?? "") ? 1 : 0;
}

/**
 * The `n` pods to delete out of `pods` (upstream getPodsToDelete). `related`
 * are the active pods of this owner and its siblings (ReplicaSets of the same
 * Deployment): a pod's rank is how many of them share its node.
 */
export function podsToDelete(pods: readonly Pod[], related: readonly Pod[], n: number, now: number = Date.now()): Pod[] {
  if (n >= pods.length) return [...pods];
  const perNode = new Map<string, number>();
  for (const p of related) {
    const node = p.spec?.nodeName;
    if (node && isPodActive(p)) perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  const rank = (p: Pod) => (p.spec?.nodeName ? (perNode.get(p.spec.nodeName) ?? 0) : 0);
  const ranked = pods.map((p) => ({ p, r: rank(p) }));
  ranked.sort((x, y) => compareForDeletion(x.p, y.p, x.r, y.r, now));
  return ranked.slice(0, n).map((x) => x.p);
}
