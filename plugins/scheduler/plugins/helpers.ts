/** @module Small pieces the default plugins share (upstream's plugins/helper and v1helper). */
import type { NodeScore, Taint, Toleration } from "../../../core/plugin/scheduler-framework.ts";
import { MAX_NODE_SCORE } from "../../../core/plugin/scheduler-framework.ts";

/** v1.Toleration.ToleratesTaint. */
export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator ?? "") {
    case "":
    case "Equal":
      return (t.value ?? "") === taint.value;
    case "Exists":
      return true;
    default:
      return false;
  }
}

export function toleratedBy(taint: Taint, tolerations: readonly Toleration[]): boolean {
  for (const t of tolerations) if (tolerates(t, taint)) return true;
  return false;
}

/** The first NoSchedule/NoExecute taint not tolerated, if any. */
export function firstUntoleratedTaint(taints: readonly Taint[], tolerations: readonly Toleration[]): Taint | undefined {
  for (const taint of taints) {
    if (taint.effect !== "NoSchedule" && taint.effect !== "NoExecute") continue;
    if (!toleratedBy(taint, tolerations)) return taint;
  }
  return undefined;
}

/**
 * Upstream's DefaultNormalizeScore: scales scores so the highest becomes
 * MAX_NODE_SCORE (integer arithmetic); `reverse` flips the scale (a higher
 * raw count is worse). All zero stays zero (or becomes MAX when reversed).
 */
export function defaultNormalizeScore(scores: NodeScore[], reverse: boolean): void {
  let max = 0;
  for (const s of scores) if (s.score > max) max = s.score;
  if (max === 0) {
    if (reverse) for (const s of scores) s.score = MAX_NODE_SCORE;
    return;
  }
  for (const s of scores) {
    let v = Math.trunc((MAX_NODE_SCORE * s.score) / max);
    if (reverse) v = MAX_NODE_SCORE - v;
    s.score = v;
  }
}

/** The key for a topology pair in maps. */
export function pairKey(key: string, value: string): string {
  return `${key}\u0000${value}`;
}
