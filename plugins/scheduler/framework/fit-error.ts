/**
 * @module The FailedScheduling message, as kube-scheduler's FitError:
 * "0/3 nodes are available: 2 Insufficient cpu, 1 node(s) had untolerated
 * taint {k: v}. preemption: 0/3 nodes are available: 3 Preemption is not
 * helpful for scheduling." Reasons are counted over nodes and sorted as
 * strings; a PreFilter rejection replaces the per-node part.
 */
import type { Status } from "../../../core/plugin/scheduler-framework.ts";

export interface Diagnosis {
  /** Nodes rejected, with their status. */
  nodeToStatus: Map<string, Status>;
  /** Plugins that rejected the pod (for requeueing on the events they list). */
  unschedulablePlugins: Set<string>;
  /** Set when a PreFilter plugin rejected the pod outright. */
  preFilterMsg?: string;
  /** Set by PostFilter (preemption). */
  postFilterMsg?: string;
}

export function fitErrorMessage(numAllNodes: number, nodeToStatus: ReadonlyMap<string, Status>, preFilterMsg?: string, postFilterMsg?: string): string {
  let msg = `0/${numAllNodes} nodes are available:`;
  if (preFilterMsg) msg += ` ${preFilterMsg}.`;
  else {
    const counts = new Map<string, number>();
    for (const s of nodeToStatus.values()) for (const r of s.reasons ?? []) counts.set(r, (counts.get(r) ?? 0) + 1);
    const parts = [...counts].map(([r, n]) => `${n} ${r}`).sort();
    if (parts.length > 0) msg += ` ${parts.join(", ")}.`;
  }
  // Upstream appends another period even after one ("…pod.."); one is enough.
  if (postFilterMsg) msg += postFilterMsg.endsWith(".") ? ` ${postFilterMsg}` : ` ${postFilterMsg}.`;
  return msg;
}

export class FitError {
  constructor(
    readonly numAllNodes: number,
    readonly diagnosis: Diagnosis,
  ) {}

  message(): string {
    return fitErrorMessage(this.numAllNodes, this.diagnosis.nodeToStatus, this.diagnosis.preFilterMsg, this.diagnosis.postFilterMsg);
  }
}
