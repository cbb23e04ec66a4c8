/**
 * @module An out-of-tree Skiff plugin that adds a Score plugin to the
 * scheduler: nodes carrying a label (optionally with a given value) score
 * 100, others 0, times a weight. Install it with
 * `skiff plugins add ./examples/plugins/prefer-label-score` and configure it
 * in skiff.yaml:
 *
 * ```yaml
 * plugins:
 *   prefer-label-score: { config: { label: example.com/fast-disk, value: "true", weight: 5 } }
 * ```
 *
 * It imports only types from Skiff, so it has no run-time dependency on it:
 * the DI tokens arrive as `register`'s third argument.
 */
import type { DependencyContainer } from "tsyringe";
import type { CycleState, NodeInfo, PodInfo, ScorePlugin } from "../../../core/plugin/scheduler-framework.ts";
import type { Plugin } from "../../../core/plugin/types.ts";

export const NAME = "prefer-label-score";

export interface PreferLabelConfig {
  /** The node label to look for. */
  label: string;
  /** When set, the label must have this value. */
  value?: string;
  /** How much this score counts against the default ones (TaintToleration is 3, most others 1). */
  weight: number;
}

export function preferLabelScore(config: PreferLabelConfig): ScorePlugin {
  return {
    name: "PreferLabel",
    weight: config.weight,
    // Only node labels matter; a new or relabelled node may change the ranking.
    events: ["NodeAdd", "NodeLabelChange"],
    score(_state: CycleState, _pod: PodInfo, node: NodeInfo): number {
      const v = node.labels[config.label];
      if (v === undefined) return 0;
      return config.value === undefined || v === config.value ? 100 : 0;
    },
  };
}

const plugin: Plugin<PreferLabelConfig> = {
  manifest: {
    name: NAME,
    version: "0.1.0",
    description: "Scheduler score: prefer nodes with a label.",
    requires: ["scheduler"],
    roles: ["server"],
    configSchema: {
      type: "object",
      additionalProperties: false,
      properties: {
        label: { type: "string", minLength: 1, default: "skiff.example.com/preferred" },
        value: { type: "string" },
        weight: { type: "integer", minimum: 1, maximum: 100, default: 5 },
      },
    },
  },
  register(container: DependencyContainer, config: PreferLabelConfig, tokens): void {
    container.register(tokens.SchedulerScore, { useValue: preferLabelScore(config) });
  },
};

export default plugin;
