/**
 * @module The default scheduler plugins and how they are registered into the
 * DI container, one registration per extension point each implements (the
 * same order as kube-scheduler's default profile).
 */
import type { DependencyContainer } from "tsyringe";
import type {
  BindPlugin,
  FilterPlugin,
  PermitPlugin,
  PostFilterPlugin,
  PreFilterPlugin,
  PreScorePlugin,
  ReservePlugin,
  SchedulerHandle,
  SchedulerPlugin,
  ScorePlugin,
} from "../../../core/plugin/scheduler-framework.ts";
import { Tokens } from "../../../core/plugin/tokens.ts";
import type { SchedulerConfig } from "../config.ts";
import type { PluginSet } from "../framework/runtime.ts";
import { DEFAULT_BINDER, defaultBinder } from "./default-binder.ts";
import { defaultPreemption } from "./default-preemption.ts";
import { interPodAffinity } from "./inter-pod-affinity.ts";
import { nodeAffinity } from "./node-affinity.ts";
import { nodeName, nodePorts, nodeUnschedulable, taintToleration } from "./node-basics.ts";
import { balancedAllocation, nodeResourcesFit } from "./node-resources.ts";
import { podTopologySpread } from "./pod-topology-spread.ts";

type AnyPlugin = SchedulerPlugin & Partial<PreFilterPlugin & FilterPlugin & PostFilterPlugin & PreScorePlugin & ScorePlugin & ReservePlugin & PermitPlugin & BindPlugin>;

/** The default plugins, in upstream's order. */
export function defaultPlugins(config: Pick<SchedulerConfig, "scoringStrategy">, handle: SchedulerHandle): AnyPlugin[] {
  return [
    nodeUnschedulable(),
    nodeName(),
    taintToleration(),
    nodeAffinity(),
    nodePorts(),
    nodeResourcesFit({ scoringStrategy: config.scoringStrategy }),
    podTopologySpread(),
    interPodAffinity(),
    balancedAllocation(),
    defaultPreemption(),
    defaultBinder(handle),
  ];
}

/** Registers a plugin under the token of every extension point it implements. */
export function registerSchedulerPlugin(container: DependencyContainer, p: AnyPlugin): void {
  if (p.preFilter) container.register(Tokens.SchedulerPreFilter, { useValue: p as PreFilterPlugin });
  if (p.filter) container.register(Tokens.SchedulerFilter, { useValue: p as FilterPlugin });
  if (p.postFilter) container.register(Tokens.SchedulerPostFilter, { useValue: p as PostFilterPlugin });
  if (p.preScore) container.register(Tokens.SchedulerPreScore, { useValue: p as PreScorePlugin });
  if (p.score) container.register(Tokens.SchedulerScore, { useValue: p as ScorePlugin });
  if (p.reserve) container.register(Tokens.SchedulerReserve, { useValue: p as ReservePlugin });
  if (p.permit) container.register(Tokens.SchedulerPermit, { useValue: p as PermitPlugin });
  if (p.bind) container.register(Tokens.SchedulerBind, { useValue: p as BindPlugin });
}

function all<T>(container: DependencyContainer, token: Parameters<DependencyContainer["resolveAll"]>[0]): T[] {
  return container.isRegistered(token, true) ? (container.resolveAll(token) as T[]) : [];
}

/**
 * Everything registered at each extension point. The default binder always
 * goes last, so an installed bind plugin gets the first say.
 */
export function resolvePlugins(container: DependencyContainer): PluginSet {
  const bind = all<BindPlugin>(container, Tokens.SchedulerBind);
  return {
    preFilter: all(container, Tokens.SchedulerPreFilter),
    filter: all(container, Tokens.SchedulerFilter),
    postFilter: all(container, Tokens.SchedulerPostFilter),
    preScore: all(container, Tokens.SchedulerPreScore),
    score: all(container, Tokens.SchedulerScore),
    reserve: all(container, Tokens.SchedulerReserve),
    permit: all(container, Tokens.SchedulerPermit),
    bind: [...bind.filter((b) => b.name !== DEFAULT_BINDER), ...bind.filter((b) => b.name === DEFAULT_BINDER)],
  };
}

/** A PluginSet from a list of plugin objects (tests, embedding without DI). */
export function pluginSet(list: readonly AnyPlugin[]): PluginSet {
  const pick = <K extends keyof AnyPlugin, T>(k: K): T[] => list.filter((p) => typeof p[k] === "function") as unknown as T[];
  const bind = pick<"bind", BindPlugin>("bind");
  return {
    preFilter: pick("preFilter"),
    filter: pick("filter"),
    postFilter: pick("postFilter"),
    preScore: pick("preScore"),
    score: pick("score"),
    reserve: pick("reserve"),
    permit: pick("permit"),
    bind: [...bind.filter((b) => b.name !== DEFAULT_BINDER), ...bind.filter((b) => b.name === DEFAULT_BINDER)],
  };
}

export type { AnyPlugin };
