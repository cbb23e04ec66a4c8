/**
 * @module NodeResourcesFit (Filter: does the pod's request fit the node's
 * allocatable minus what its pods request; Score: LeastAllocated or
 * MostAllocated over cpu and memory) and NodeResourcesBalancedAllocation
 * (Score: prefers nodes whose cpu and memory use stay close to each other).
 * Semantics follow upstream's plugins/noderesources.
 */
import type {
  CycleState,
  FilterPlugin,
  NodeInfo,
  PodInfo,
  PreScorePlugin,
  ScorePlugin,
  Status,
  StatusResult,
} from "../../../core/plugin/scheduler-framework.ts";
import { MAX_NODE_SCORE } from "../../../core/plugin/scheduler-framework.ts";
import { SKIP } from "../framework/status.ts";

export const FIT = "NodeResourcesFit";
export const BALANCED = "NodeResourcesBalancedAllocation";

export type ScoringStrategy = "LeastAllocated" | "MostAllocated";

/** One insufficient resource, as upstream's InsufficientResource. */
export interface InsufficientResource {
  resource: string;
  reason: string;
  requested: number;
  used: number;
  capacity: number;
}

const TOO_MANY_PODS = "Too many pods";
const REASONS: Record<string, string> = {
  cpu: "Insufficient cpu",
  memory: "Insufficient memory",
  "ephemeral-storage": "Insufficient ephemeral-storage",
};

/** Upstream's fitsRequest: everything `pod` lacks on `node` (empty when it fits). */
export function insufficientResources(pod: PodInfo, node: NodeInfo, ignored?: ReadonlySet<string>): InsufficientResource[] {
  const out: InsufficientResource[] = [];
  const alloc = node.allocatable;
  const used = node.requested;
  if (node.pods.length + 1 > alloc.pods) {
    out.push({ resource: "pods", reason: TOO_MANY_PODS, requested: 1, used: node.pods.length, capacity: alloc.pods });
  }
  const r = pod.requests;
  if (r.milliCPU === 0 && r.memory === 0 && r.ephemeralStorage === 0 && r.scalar.size === 0) return out;
  if (r.milliCPU > 0 && r.milliCPU > alloc.milliCPU - used.milliCPU) {
    out.push({ resource: "cpu", reason: REASONS.cpu!, requested: r.milliCPU, used: used.milliCPU, capacity: alloc.milliCPU });
  }
  if (r.memory > 0 && r.memory > alloc.memory - used.memory) {
    out.push({ resource: "memory", reason: REASONS.memory!, requested: r.memory, used: used.memory, capacity: alloc.memory });
  }
  if (r.ephemeralStorage > 0 && r.ephemeralStorage > alloc.ephemeralStorage - used.ephemeralStorage) {
    out.push({
      resource: "ephemeral-storage",
      reason: REASONS["ephemeral-storage"]!,
      requested: r.ephemeralStorage,
      used: used.ephemeralStorage,
      capacity: alloc.ephemeralStorage,
    });
  }
  for (const [name, q] of r.scalar) {
    if (q === 0 || ignored?.has(name)) continue;
    const cap = alloc.scalar.get(name) ?? 0;
    const u = used.scalar.get(name) ?? 0;
    if (q > cap - u) out.push({ resource: name, reason: `Insufficient ${name}`, requested: q, used: u, capacity: cap });
  }
  return out;
}

export interface FitOptions {
  scoringStrategy?: ScoringStrategy;
  /** Extended resources the filter does not check (upstream's ignoredResources). */
  ignoredResources?: readonly string[];
}

export function nodeResourcesFit(opts: FitOptions = {}): FilterPlugin & ScorePlugin {
  const ignored = new Set(opts.ignoredResources ?? []);
  const most = opts.scoringStrategy === "MostAllocated";
  return {
    name: FIT,
    weight: 1,
    events: ["NodeAdd", "NodeAllocatableChange", "AssignedPodDelete"],
    filter(_state: CycleState, pod: PodInfo, node: NodeInfo): StatusResult {
      const alloc = node.allocatable;
      const used = node.requested;
      const r = pod.requests;
      // Fast path for the common pod: only cpu/memory, which fit.
      if (
        node.pods.length + 1 <= alloc.pods &&
        r.scalar.size === 0 &&
        r.ephemeralStorage === 0 &&
        r.milliCPU <= alloc.milliCPU - used.milliCPU &&
        r.memory <= alloc.memory - used.memory
      ) {
        return undefined;
      }
      const missing = insufficientResources(pod, node, ignored);
      if (missing.length === 0) return undefined;
      return { code: "Unschedulable", reasons: missing.map((m) => m.reason) };
    },
    score(_state: CycleState, pod: PodInfo, node: NodeInfo): number {
      const cpu = resourceScore(node.allocatable.milliCPU, node.nonZeroRequested.milliCPU + pod.nonZeroRequests.milliCPU, most);
      const mem = resourceScore(node.allocatable.memory, node.nonZeroRequested.memory + pod.nonZeroRequests.memory, most);
      return Math.trunc((cpu + mem) / 2);
    },
  };
}

/** leastRequestedScore / mostRequestedScore for one resource (integer, 0..100). */
function resourceScore(capacity: number, requested: number, most: boolean): number {
  if (capacity === 0) return 0;
  if (most) {
    // Upstream caps requested at capacity for MostAllocated.
    return Math.trunc((Math.min(requested, capacity) * MAX_NODE_SCORE) / capacity);
  }
  if (requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

/** Balanced allocation: score = (1 − |cpuFraction − memFraction| / 2) × 100, fractions capped at 1. */
export function balancedAllocation(): PreScorePlugin & ScorePlugin {
  return {
    name: BALANCED,
    weight: 1,
    events: ["NodeAdd", "NodeAllocatableChange", "AssignedPodDelete"],
    preScore(_state: CycleState, pod: PodInfo): StatusResult {
      // A pod requesting neither cpu nor memory changes no node's balance.
      return pod.requests.milliCPU === 0 && pod.requests.memory === 0 ? SKIP : undefined;
    },
    score(_state: CycleState, pod: PodInfo, node: NodeInfo): number | Status {
      const capCpu = node.allocatable.milliCPU;
      const capMem = node.allocatable.memory;
      // With only one of the two resources known there is nothing to balance (std 0).
      if (capCpu <= 0 || capMem <= 0) return MAX_NODE_SCORE;
      const cpu = Math.min(1, (node.requested.milliCPU + pod.requests.milliCPU) / capCpu);
      const mem = Math.min(1, (node.requested.memory + pod.requests.memory) / capMem);
      return Math.trunc((1 - Math.abs(cpu - mem) / 2) * MAX_NODE_SCORE);
    },
  };
}
