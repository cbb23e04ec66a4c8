/**
 * @module The per-node filters that need no knowledge of other pods:
 * NodeName, NodeUnschedulable, TaintToleration (filter and score) and
 * NodePorts. Reasons and status codes are upstream's.
 */
import type {
  CycleState,
  FilterPlugin,
  NodeInfo,
  NodeScore,
  PodInfo,
  PreFilterPlugin,
  PreFilterResult,
  PreScorePlugin,
  ScorePlugin,
  StateData,
  StatusResult,
  Taint,
  Toleration,
} from "../../../core/plugin/scheduler-framework.ts";
import { SKIP, unresolvable, unschedulable } from "../framework/status.ts";
import { defaultNormalizeScore, firstUntoleratedTaint, toleratedBy } from "./helpers.ts";

export const NODE_NAME = "NodeName";
export const NODE_UNSCHEDULABLE = "NodeUnschedulable";
export const TAINT_TOLERATION = "TaintToleration";
export const NODE_PORTS = "NodePorts";

export const ERR_NODE_NAME = "node(s) didn't match the requested node name";
export const ERR_UNSCHEDULABLE = "node(s) were unschedulable";
export const ERR_PORTS = "node(s) didn't have free ports for the requested pod ports";

function nodeNameOf(pod: PodInfo): string {
  return ((pod.pod.spec as { nodeName?: string } | undefined)?.nodeName ?? "") as string;
}

export function nodeName(): PreFilterPlugin & FilterPlugin {
  return {
    name: NODE_NAME,
    events: ["NodeAdd"],
    preFilter(_s: CycleState, pod: PodInfo): StatusResult | PreFilterResult {
      const want = nodeNameOf(pod);
      return want ? { nodeNames: new Set([want]) } : SKIP;
    },
    filter(_s: CycleState, pod: PodInfo, node: NodeInfo): StatusResult {
      const want = nodeNameOf(pod);
      return want && want !== node.name ? unresolvable(ERR_NODE_NAME) : undefined;
    },
  };
}

const UNSCHEDULABLE_TAINT: Taint = { key: "node.kubernetes.io/unschedulable", value: "", effect: "NoSchedule" };

export function nodeUnschedulable(): FilterPlugin {
  return {
    name: NODE_UNSCHEDULABLE,
    events: ["NodeAdd", "NodeUnschedulableChange"],
    filter(_s: CycleState, pod: PodInfo, node: NodeInfo): StatusResult {
      if (!node.unschedulable) return undefined;
      return toleratedBy(UNSCHEDULABLE_TAINT, pod.tolerations) ? undefined : unresolvable(ERR_UNSCHEDULABLE);
    },
  };
}

const TT_SCORE_KEY = "PreScoreTaintToleration";

interface TolerationState extends StateData {
  preferNoSchedule: readonly Toleration[];
}

/** Filter: untolerated NoSchedule/NoExecute taints reject; Score: fewer untolerated PreferNoSchedule taints is better. */
export function taintToleration(): FilterPlugin & PreScorePlugin & ScorePlugin {
  return {
    name: TAINT_TOLERATION,
    weight: 3,
    events: ["NodeAdd", "NodeTaintChange"],
    filter(_s: CycleState, pod: PodInfo, node: NodeInfo): StatusResult {
      if (node.taints.length === 0) return undefined;
      const t = firstUntoleratedTaint(node.taints, pod.tolerations);
      return t ? unresolvable(`node(s) had untolerated taint {${t.key}: ${t.value}}`) : undefined;
    },
    preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): StatusResult {
      // Without PreferNoSchedule taints every node would score the same: nothing to rank.
      let any = false;
      for (const n of nodes) if (n.taints.length > 0 && n.taints.some((t) => t.effect === "PreferNoSchedule")) any = true;
      if (!any) return SKIP;
      const preferNoSchedule = pod.tolerations.filter((t) => !t.effect || t.effect === "PreferNoSchedule");
      state.write<TolerationState>(TT_SCORE_KEY, { preferNoSchedule });
      return undefined;
    },
    score(state: CycleState, _pod: PodInfo, node: NodeInfo): number {
      if (node.taints.length === 0) return 0;
      const tol = state.read<TolerationState>(TT_SCORE_KEY)?.preferNoSchedule ?? [];
      let n = 0;
      for (const taint of node.taints) if (taint.effect === "PreferNoSchedule" && !toleratedBy(taint, tol)) n++;
      return n;
    },
    normalizeScore(_s: CycleState, _pod: PodInfo, scores: NodeScore[]): StatusResult {
      defaultNormalizeScore(scores, true);
      return undefined;
    },
  };
}

export function nodePorts(): PreFilterPlugin & FilterPlugin {
  return {
    name: NODE_PORTS,
    events: ["NodeAdd", "AssignedPodDelete"],
    preFilter(_s: CycleState, pod: PodInfo): StatusResult {
      return pod.hostPorts.length === 0 ? SKIP : undefined;
    },
    filter(_s: CycleState, pod: PodInfo, node: NodeInfo): StatusResult {
      for (const p of pod.hostPorts) if (node.portInUse(p)) return unschedulable(ERR_PORTS);
      return undefined;
    },
  };
}
