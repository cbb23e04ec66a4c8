/**
 * @module NodeAffinity: Filter on spec.nodeSelector and the required node
 * affinity terms (ORed terms, ANDed requirements); Score by the summed
 * weights of the preferred terms a node matches, normalized to 0..100.
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
  StateData,
  StatusResult,
} from "../../../core/plugin/scheduler-framework.ts";
import { compileNodeSelectorTerm, compileNodeSelectorTerms, type Labels } from "../framework/selectors.ts";
import { SKIP, unresolvable } from "../framework/status.ts";
import { defaultNormalizeScore } from "./helpers.ts";

export const NODE_AFFINITY = "NodeAffinity";
export const ERR_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";

type NodeTest = (labels: Labels, name: string) => boolean;

interface AffinitySpec {
  nodeSelector?: Record<string, string>;
  affinity?: {
    nodeAffinity?: {
      requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: unknown[] };
      preferredDuringSchedulingIgnoredDuringExecution?: { weight?: number; preference?: unknown }[];
    };
  };
}

/**
 * The pod's required node affinity as one test (nodeSelector AND the
 * required terms), or undefined when it has none. Also used by PodTopologySpread.
 */
export function requiredNodeAffinity(pod: PodInfo): NodeTest | undefined {
  const spec = (pod.pod.spec ?? {}) as AffinitySpec;
  const sel = spec.nodeSelector && Object.keys(spec.nodeSelector).length > 0 ? spec.nodeSelector : undefined;
  const req = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  const terms = req ? compileNodeSelectorTerms(req.nodeSelectorTerms) : undefined;
  if (!sel && !terms) return undefined;
  return (labels, name) => {
    if (sel) for (const k in sel) if (labels[k] !== sel[k]) return false;
    return terms ? terms(labels, name) : true;
  };
}

const PREFILTER_KEY = "PreFilterNodeAffinity";
const PRESCORE_KEY = "PreScoreNodeAffinity";

interface RequiredState extends StateData {
  test: NodeTest;
}
interface PreferredState extends StateData {
  terms: { weight: number; test: NodeTest }[];
}

export function nodeAffinity(): PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin {
  return {
    name: NODE_AFFINITY,
    weight: 2,
    events: ["NodeAdd", "NodeLabelChange"],
    preFilter(state: CycleState, pod: PodInfo): StatusResult {
      const test = requiredNodeAffinity(pod);
      if (!test) return SKIP;
      state.write<RequiredState>(PREFILTER_KEY, { test });
      return undefined;
    },
    filter(state: CycleState, pod: PodInfo, node: NodeInfo): StatusResult {
      const test = state.read<RequiredState>(PREFILTER_KEY)?.test ?? requiredNodeAffinity(pod);
      if (!test || test(node.labels, node.name)) return undefined;
      return unresolvable(ERR_NODE_AFFINITY);
    },
    preScore(state: CycleState, pod: PodInfo): StatusResult {
      const pref = ((pod.pod.spec ?? {}) as AffinitySpec).affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
      const terms = pref.filter((p) => p && p.weight).map((p) => ({ weight: p.weight!, test: compileNodeSelectorTerm(p.preference) }));
      if (terms.length === 0) return SKIP;
      state.write<PreferredState>(PRESCORE_KEY, { terms });
      return undefined;
    },
    score(state: CycleState, _pod: PodInfo, node: NodeInfo): number {
      let sum = 0;
      for (const t of state.read<PreferredState>(PRESCORE_KEY)?.terms ?? []) if (t.test(node.labels, node.name)) sum += t.weight;
      return sum;
    },
    normalizeScore(_s: CycleState, _pod: PodInfo, scores: NodeScore[]): StatusResult {
      defaultNormalizeScore(scores, false);
      return undefined;
    },
  };
}
