/**
 * @module Taints and tolerations as the node lifecycle controller and the
 * DefaultTolerationSeconds admission step use them (pure functions):
 * which taints a node's conditions call for, whether a toleration tolerates a
 * taint (core/v1 `Toleration.ToleratesTaint`), and when a pod on a node with
 * NoExecute taints must be evicted.
 */

export interface Taint {
  key: string;
  value?: string;
  effect: string;
  timeAdded?: string;
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

export const NOT_READY = "node.kubernetes.io/not-ready";
export const UNREACHABLE = "node.kubernetes.io/unreachable";
export const UNSCHEDULABLE = "node.kubernetes.io/unschedulable";
export const MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure";
export const DISK_PRESSURE = "node.kubernetes.io/disk-pressure";
export const PID_PRESSURE = "node.kubernetes.io/pid-pressure";

/** Taint keys this controller manages (it never touches others). */
export const MANAGED_KEYS = new Set([NOT_READY, UNREACHABLE, UNSCHEDULABLE, MEMORY_PRESSURE, DISK_PRESSURE, PID_PRESSURE]);

export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key !== undefined && t.key !== "" && t.key !== taint.key) return false;
  const op = t.operator ?? "Equal";
  if (op === "Exists") return true;
  if (op === "Equal") return (t.key ?? "") !== "" && (t.value ?? "") === (taint.value ?? "");
  return false;
}

/** The NoSchedule taints a node's conditions and spec call for (TaintNodesByCondition). */
export function conditionTaints(ready: "True" | "False" | "Unknown" | undefined, conditions: Record<string, string>, unschedulable: boolean): Taint[] {
  const out: Taint[] = [];
  if (ready === "False") out.push({ key: NOT_READY, effect: "NoSchedule" });
  else if (ready === "Unknown" || ready === undefined) out.push({ key: UNREACHABLE, effect: "NoSchedule" });
  if (conditions.MemoryPressure === "True") out.push({ key: MEMORY_PRESSURE, effect: "NoSchedule" });
  if (conditions.DiskPressure === "True") out.push({ key: DISK_PRESSURE, effect: "NoSchedule" });
  if (conditions.PIDPressure === "True") out.push({ key: PID_PRESSURE, effect: "NoSchedule" });
  if (unschedulable) out.push({ key: UNSCHEDULABLE, effect: "NoSchedule" });
  return out;
}

/** The NoExecute taint a node's readiness calls for (taint-based eviction), if any. */
export function readinessTaint(ready: "True" | "False" | "Unknown" | undefined): Taint | undefined {
  if (ready === "False") return { key: NOT_READY, effect: "NoExecute" };
  if (ready === "Unknown") return { key: UNREACHABLE, effect: "NoExecute" };
  return undefined;
}

/**
 * The node's taints with the managed ones replaced by `want` (keeping the
 * timeAdded of those already there); null when nothing changes.
 */
export function reconcileTaints(current: Taint[], want: Taint[], now: string): Taint[] | null {
  const same = (a: Taint, b: Taint) => a.key === b.key && a.effect === b.effect;
  const kept = current.filter((t) => !MANAGED_KEYS.has(t.key) || want.some((w) => same(w, t)));
  const added = want.filter((w) => !current.some((t) => same(w, t))).map((w) => ({ ...w, ...(w.effect === "NoExecute" ? { timeAdded: now } : {}) }));
  if (added.length === 0 && kept.length === current.length) return null;
  return [...kept, ...added];
}

/**
 * When a pod must be evicted from a node with these taints: now (0) when a
 * NoExecute taint is not tolerated, the earliest `timeAdded +
 * tolerationSeconds` otherwise, or null to keep it (tolerated forever, or no
 * NoExecute taint).
 */
export function evictionTime(taints: Taint[], tolerations: Toleration[], nowMs: number): number | null {
  let at: number | null = null;
  for (const taint of taints) {
    if (taint.effect !== "NoExecute") continue;
    const matching = tolerations.filter((t) => tolerates(t, taint));
    if (matching.length === 0) return 0;
    if (matching.some((t) => t.tolerationSeconds === undefined || t.tolerationSeconds === null)) continue;
    const seconds = Math.max(0, Math.min(...matching.map((t) => t.tolerationSeconds!)));
    const added = taint.timeAdded ? Date.parse(taint.timeAdded) : nowMs;
    const t = (Number.isNaN(added) ? nowMs : added) + seconds * 1000;
    at = at === null ? t : Math.min(at, t);
  }
  return at;
}

/** The tolerations the DefaultTolerationSeconds admission plugin adds when a pod has none for these taints. */
export function defaultTolerations(existing: Toleration[], seconds: number): Toleration[] {
  const out = [...existing];
  for (const key of [NOT_READY, UNREACHABLE]) {
    const taint = { key, effect: "NoExecute" };
    if (!existing.some((t) => tolerates(t, taint))) out.push({ key, operator: "Exists", effect: "NoExecute", tolerationSeconds: seconds });
  }
  return out;
}
