/**
 * @module The scheduler plugin's config (skiff.yaml `plugins.scheduler.config`),
 * its JSON schema (validated by the plugin host, defaults filled in), and
 * `resolveConfig` for callers that build a scheduler directly.
 */
export interface SchedulerConfig {
  /** Pods whose spec.schedulerName differs are left alone. */
  schedulerName: string;
  /**
   * Share of nodes to find feasible before scoring (upstream's
   * percentageOfNodesToScore): 0 = adaptive (50 % − nodes/125, at least 5 %),
   * 100 = all; never fewer than 100 nodes.
   */
  percentageOfNodesToScore: number;
  podInitialBackoffSeconds: number;
  podMaxBackoffSeconds: number;
  /** Unschedulable pods are retried after this long even without a relevant event. */
  podMaxInUnschedulablePodsSeconds: number;
  /** NodeResourcesFit's score. */
  scoringStrategy: "LeastAllocated" | "MostAllocated";
  /** Score weights by plugin name (defaults: TaintToleration 3, NodeAffinity/PodTopologySpread/InterPodAffinity 2, others 1). */
  scoreWeights: Record<string, number>;
  /** Scheduler plugins (default or installed) to leave out, by name. */
  disabledPlugins: string[];
  /** Bindings in flight at once; the scheduling loop waits when this many are pending. */
  maxInFlightBindings: number;
  /** Record a Normal "Scheduled" Event for every bound pod (as kube-scheduler). */
  recordScheduledEvents: boolean;
}

export const DEFAULT_CONFIG: Readonly<SchedulerConfig> = Object.freeze({
  schedulerName: "default-scheduler",
  percentageOfNodesToScore: 0,
  podInitialBackoffSeconds: 1,
  podMaxBackoffSeconds: 10,
  podMaxInUnschedulablePodsSeconds: 300,
  scoringStrategy: "LeastAllocated",
  scoreWeights: {},
  disabledPlugins: [],
  maxInFlightBindings: 256,
  recordScheduledEvents: true,
});

export const CONFIG_SCHEMA: Record<string, unknown> = {
  type: "object",
  additionalProperties: false,
  properties: {
    schedulerName: { type: "string", minLength: 1, default: DEFAULT_CONFIG.schedulerName },
    percentageOfNodesToScore: { type: "integer", minimum: 0, maximum: 100, default: DEFAULT_CONFIG.percentageOfNodesToScore },
    podInitialBackoffSeconds: { type: "number", exclusiveMinimum: 0, default: DEFAULT_CONFIG.podInitialBackoffSeconds },
    podMaxBackoffSeconds: { type: "number", exclusiveMinimum: 0, default: DEFAULT_CONFIG.podMaxBackoffSeconds },
    podMaxInUnschedulablePodsSeconds: { type: "number", exclusiveMinimum: 0, default: DEFAULT_CONFIG.podMaxInUnschedulablePodsSeconds },
    scoringStrategy: { enum: ["LeastAllocated", "MostAllocated"], default: DEFAULT_CONFIG.scoringStrategy },
    scoreWeights: { type: "object", additionalProperties: { type: "integer", minimum: 0, maximum: 100 }, default: {} },
    disabledPlugins: { type: "array", items: { type: "string", minLength: 1 }, default: [] },
    maxInFlightBindings: { type: "integer", minimum: 1, default: DEFAULT_CONFIG.maxInFlightBindings },
    recordScheduledEvents: { type: "boolean", default: DEFAULT_CONFIG.recordScheduledEvents },
  },
};

/** A full config from a partial one (no validation: the host validates user input against CONFIG_SCHEMA). */
export function resolveConfig(partial: Partial<SchedulerConfig> = {}): SchedulerConfig {
  return { ...DEFAULT_CONFIG, scoreWeights: {}, disabledPlugins: [], ...partial };
}
