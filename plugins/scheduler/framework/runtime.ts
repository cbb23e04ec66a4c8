/**
 * @module The framework runtime: holds the plugins of each extension point
 * (in registration order, minus disabled ones) and runs a point for a pod —
 * skipping plugins whose PreFilter/PreScore said Skip, stopping at the first
 * rejection, turning a throw into an Error status, weighting and
 * normalizing scores.
 */
import type {
  BindPlugin,
  ClusterEvent,
  FilterPlugin,
  NodeInfo,
  NodeScore,
  NodeToStatus,
  PermitPlugin,
  PodInfo,
  PostFilterPlugin,
  PostFilterResult,
  PreFilterPlugin,
  PreScorePlugin,
  ReservePlugin,
  SchedulerHandle,
  SchedulerPlugin,
  ScorePlugin,
  Snapshot,
  Status,
} from "../../../core/plugin/scheduler-framework.ts";
import { MAX_NODE_SCORE } from "../../../core/plugin/scheduler-framework.ts";
import type { CycleState } from "./cycle-state.ts";
import { errorStatus, fromThrown, isSuccess, SUCCESS, withPlugin } from "./status.ts";

export interface PluginSet {
  preFilter: readonly PreFilterPlugin[];
  filter: readonly FilterPlugin[];
  postFilter: readonly PostFilterPlugin[];
  preScore: readonly PreScorePlugin[];
  score: readonly ScorePlugin[];
  reserve: readonly ReservePlugin[];
  permit: readonly PermitPlugin[];
  bind: readonly BindPlugin[];
}

export interface FrameworkOptions {
  /** Score weights by plugin name, overriding each plugin's own `weight`. */
  weights?: Readonly<Record<string, number>>;
  /** Plugin names to leave out at every extension point. */
  disabled?: readonly string[];
}

export interface PreFilterOutcome {
  status: Status;
  /** Set when a PreFilter narrowed the candidate nodes. */
  nodeNames?: ReadonlySet<string>;
}

export interface PermitOutcome {
  status: Status;
  /** Plugins that asked to wait, with their timeouts. */
  waits: Map<string, number>;
}

/** Per-cycle framework data kept in the CycleState object (not visible to plugins). */
interface CycleData {
  readonly filters: readonly FilterPlugin[];
  scores: readonly { plugin: ScorePlugin; weight: number }[];
}

const CYCLE = new WeakMap<CycleState, CycleData>();

export class Framework {
  readonly preFilter: readonly PreFilterPlugin[];
  readonly filter: readonly FilterPlugin[];
  readonly postFilter: readonly PostFilterPlugin[];
  readonly preScore: readonly PreScorePlugin[];
  readonly score: readonly { plugin: ScorePlugin; weight: number }[];
  readonly reserve: readonly ReservePlugin[];
  readonly permit: readonly PermitPlugin[];
  readonly bind: readonly BindPlugin[];
  /** Every plugin's declared requeue events (undefined: any event). */
  readonly events = new Map<string, readonly ClusterEvent[] | undefined>();

  constructor(plugins: PluginSet, opts: FrameworkOptions = {}) {
    const off = new Set(opts.disabled ?? []);
    const keep = <T extends SchedulerPlugin>(list: readonly T[]): T[] => {
      const out: T[] = [];
      const seen = new Set<string>();
      for (const p of list) {
        if (off.has(p.name)) continue;
        if (seen.has(p.name)) throw new Error(`scheduler plugin "${p.name}" is registered twice at one extension point`);
        seen.add(p.name);
        out.push(p);
        this.events.set(p.name, p.events);
      }
      return out;
    };
    this.preFilter = keep(plugins.preFilter);
    this.filter = keep(plugins.filter);
    this.postFilter = keep(plugins.postFilter);
    this.preScore = keep(plugins.preScore);
    this.score = keep(plugins.score).map((plugin) => ({ plugin, weight: opts.weights?.[plugin.name] ?? plugin.weight ?? 1 }));
    this.reserve = keep(plugins.reserve);
    this.permit = keep(plugins.permit);
    this.bind = keep(plugins.bind);
  }

  /** Every plugin name, for config validation and logs. */
  names(): string[] {
    return [...this.events.keys()];
  }

  runPreFilter(state: CycleState, pod: PodInfo, snapshot: Snapshot): PreFilterOutcome {
    let skip: Set<string> | undefined;
    let nodeNames: Set<string> | undefined;
    for (const p of this.preFilter) {
      let r;
      try {
        r = p.preFilter(state, pod, snapshot);
      } catch (e) {
        return { status: fromThrown(e, p.name) };
      }
      if (r === undefined) continue;
      if ("nodeNames" in r) {
        nodeNames = nodeNames ? new Set([...nodeNames].filter((n) => r.nodeNames.has(n))) : new Set(r.nodeNames);
        continue;
      }
      if (r.code === "Skip") (skip ??= new Set()).add(p.name);
      else if (r.code !== "Success") return { status: withPlugin(r, p.name) };
    }
    if (skip) state.skipFilter = skip;
    CYCLE.set(state, { filters: skip ? this.filter.filter((f) => !skip.has(f.name)) : this.filter, scores: this.score });
    return nodeNames ? { status: SUCCESS, nodeNames } : { status: SUCCESS };
  }

  /** The Filter plugins that run in this cycle (those whose PreFilter did not Skip). */
  filtersFor(state: CycleState): readonly FilterPlugin[] {
    return this.#filters(state);
  }

  #filters(state: CycleState): readonly FilterPlugin[] {
    const d = CYCLE.get(state);
    if (d) return d.filters;
    const skip = state.skipFilter;
    return skip.size > 0 ? this.filter.filter((f) => !skip.has(f.name)) : this.filter;
  }

  /** The first rejection (attributed to its plugin), or Success. */
  runFilters(state: CycleState, pod: PodInfo, node: NodeInfo, filters: readonly FilterPlugin[] = this.#filters(state)): Status {
    let i = 0;
    try {
      for (; i < filters.length; i++) {
        const r = filters[i]!.filter(state, pod, node);
        if (r !== undefined && r.code !== "Success") {
          return r.plugin === undefined ? { code: r.code, reasons: r.reasons ?? [], plugin: filters[i]!.name } : r;
        }
      }
    } catch (e) {
      return fromThrown(e, filters[i]!.name);
    }
    return SUCCESS;
  }

  #extension(kind: "addPod" | "removePod", state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo): Status {
    for (const p of this.preFilter) {
      const fn = p[kind];
      if (!fn || state.skipFilter.has(p.name)) continue;
      try {
        const r = fn.call(p, state, pod, other, node);
        if (!isSuccess(r)) return withPlugin(r!, p.name);
      } catch (e) {
        return fromThrown(e, p.name);
      }
    }
    return SUCCESS;
  }

  runPreFilterAddPod(state: CycleState, pod: PodInfo, podToAdd: PodInfo, node: NodeInfo): Status {
    return this.#extension("addPod", state, pod, podToAdd, node);
  }

  runPreFilterRemovePod(state: CycleState, pod: PodInfo, podToRemove: PodInfo, node: NodeInfo): Status {
    return this.#extension("removePod", state, pod, podToRemove, node);
  }

  /** PostFilter plugins in order until one succeeds; the reasons of those that did not are joined. */
  async runPostFilter(state: CycleState, pod: PodInfo, filtered: NodeToStatus, handle: SchedulerHandle): Promise<PostFilterResult & { status: Status }> {
    const reasons: string[] = [];
    let nominated: string | undefined;
    for (const p of this.postFilter) {
      let r: PostFilterResult;
      try {
        r = await p.postFilter(state, pod, filtered, handle);
      } catch (e) {
        return { status: fromThrown(e, p.name) };
      }
      if (r.nominatedNodeName !== undefined) nominated = r.nominatedNodeName;
      if (isSuccess(r.status)) return { status: SUCCESS, ...(nominated !== undefined ? { nominatedNodeName: nominated } : {}) };
      if (r.status!.code === "Error") return { status: withPlugin(r.status!, p.name) };
      reasons.push(...(r.status!.reasons ?? []));
    }
    return { status: { code: "Unschedulable", reasons }, ...(nominated !== undefined ? { nominatedNodeName: nominated } : {}) };
  }

  runPreScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], snapshot: Snapshot): Status {
    let skip: Set<string> | undefined;
    for (const p of this.preScore) {
      let r;
      try {
        r = p.preScore(state, pod, nodes, snapshot);
      } catch (e) {
        return fromThrown(e, p.name);
      }
      if (r === undefined || r.code === "Success") continue;
      if (r.code === "Skip") (skip ??= new Set()).add(p.name);
      else return withPlugin(r, p.name);
    }
    if (skip) state.skipScore = skip;
    const d = CYCLE.get(state);
    const scores = skip ? this.score.filter((s) => !skip.has(s.plugin.name)) : this.score;
    if (d) d.scores = scores;
    else CYCLE.set(state, { filters: this.#filters(state), scores });
    return SUCCESS;
  }

  /** Weighted total score per node (same order as `nodes`), or an Error status. */
  runScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Float64Array | Status {
    const n = nodes.length;
    const totals = new Float64Array(n);
    const plugins = CYCLE.get(state)?.scores ?? this.score.filter((s) => !state.skipScore.has(s.plugin.name));
    for (const { plugin, weight } of plugins) {
      let i = 0;
      try {
        if (!plugin.normalizeScore) {
          // Raw scores are final: add them up directly, no per-node objects.
          for (; i < n; i++) {
            const r = plugin.score(state, pod, nodes[i]!);
            if (typeof r !== "number") return this.#scoreStatus(r, plugin.name);
            if (!(r >= 0 && r <= MAX_NODE_SCORE)) return invalidScore(plugin.name, r, nodes[i]!.name);
            totals[i]! += r * weight;
          }
          continue;
        }
        const scores: NodeScore[] = new Array(n);
        for (; i < n; i++) {
          const node = nodes[i]!;
          const r = plugin.score(state, pod, node);
          if (typeof r !== "number") return this.#scoreStatus(r, plugin.name);
          scores[i] = { name: node.name, score: r };
        }
        const r = plugin.normalizeScore(state, pod, scores);
        if (!isSuccess(r)) return withPlugin(r!, plugin.name);
        for (i = 0; i < n; i++) {
          const v = scores[i]!.score;
          if (!(v >= 0 && v <= MAX_NODE_SCORE)) return invalidScore(plugin.name, v, nodes[i]!.name);
          totals[i]! += v * weight;
        }
      } catch (e) {
        return fromThrown(e, plugin.name);
      }
    }
    return totals;
  }

  #scoreStatus(r: Status, plugin: string): Status {
    return withPlugin(r.code === "Success" ? errorStatus("a Score plugin returned a status instead of a score") : r, plugin);
  }

  runReserve(state: CycleState, pod: PodInfo, node: string): Status {
    for (const p of this.reserve) {
      try {
        const r = p.reserve(state, pod, node);
        if (!isSuccess(r)) return withPlugin(r!, p.name);
      } catch (e) {
        return fromThrown(e, p.name);
      }
    }
    return SUCCESS;
  }

  /** Unreserve in reverse order; failures are ignored (unreserve must be idempotent). */
  runUnreserve(state: CycleState, pod: PodInfo, node: string): void {
    for (let i = this.reserve.length - 1; i >= 0; i--) {
      try {
        this.reserve[i]!.unreserve(state, pod, node);
      } catch {
        // a plugin's unreserve failing must not stop the others
      }
    }
  }

  runPermit(state: CycleState, pod: PodInfo, node: string): PermitOutcome {
    const waits = new Map<string, number>();
    for (const p of this.permit) {
      let r;
      try {
        r = p.permit(state, pod, node);
      } catch (e) {
        return { status: fromThrown(e, p.name), waits };
      }
      if (r === undefined || r.code === "Success") continue;
      if (r.code === "Wait") {
        waits.set(p.name, (r as { timeoutMs?: number }).timeoutMs ?? 0);
        continue;
      }
      return { status: withPlugin(r, p.name), waits };
    }
    return { status: waits.size > 0 ? { code: "Wait" } : SUCCESS, waits };
  }

  /** Bind plugins in order until one does not Skip. */
  async runBind(state: CycleState, pod: PodInfo, node: string): Promise<Status> {
    for (const p of this.bind) {
      let r;
      try {
        r = await p.bind(state, pod, node);
      } catch (e) {
        return fromThrown(e, p.name);
      }
      if (r !== undefined && r.code === "Skip") continue;
      return r === undefined ? SUCCESS : withPlugin(r, p.name);
    }
    return { code: "Error", reasons: ["no bind plugin bound the pod"] };
  }
}

function invalidScore(plugin: string, score: number, node: string): Status {
  return { code: "Error", reasons: [`plugin ${plugin} returned an invalid score ${score} for node ${node}`], plugin };
}
