/**
 * @module The `node-lifecycle-controller` plugin: marks nodes that stopped
 * heartbeating Unknown, taints them, and evicts their pods once their
 * tolerations run out — except when every node is unhealthy at once. It also
 * registers the DefaultTolerationSeconds admission step (300 s tolerations
 * for not-ready/unreachable on pods that have none). Design: README.md.
 */
import type { Informer } from "../../../core/client/types.ts";
import type { Admission, Plugin } from "../../../core/plugin/types.ts";
import { type ControllerConfig, controllerPlugin } from "../common/runtime.ts";
import { DEFAULT_OPTIONS, LEASES, type Lease, NODE_LEASE_NAMESPACE, NODE_NAME_INDEX, type Node, NodeMonitor, NODES, type Pod, PODS, TaintEvictionReconciler } from "./node-lifecycle.ts";
import { defaultTolerations, type Toleration } from "./taints.ts";

export { NodeMonitor, TaintEvictionReconciler, DEFAULT_OPTIONS, type NodeLifecycleOptions } from "./node-lifecycle.ts";
export * from "./taints.ts";

export const NAME = "node-lifecycle-controller";

export interface NodeLifecycleConfig extends ControllerConfig {
  /** A node whose heartbeat is older than this is Unknown (kube-controller-manager --node-monitor-grace-period). */
  nodeMonitorGracePeriodSeconds: number;
  /** How often nodes are checked (--node-monitor-period). */
  nodeMonitorPeriodSeconds: number;
  /** Grace for a node that never reported Ready (--node-startup-grace-period). */
  nodeStartupGracePeriodSeconds: number;
  /** Nodes tainted NoExecute per second (--node-eviction-rate), and when a large zone is mostly unhealthy. */
  nodeEvictionRate: number;
  secondaryNodeEvictionRate: number;
  largeClusterSizeThreshold: number;
  unhealthyZoneThreshold: number;
  /** Toleration given to pods without one for not-ready/unreachable (DefaultTolerationSeconds). */
  defaultTolerationSeconds: number;
  /** How long a node is Unknown before it is tainted unreachable:NoExecute (see node-lifecycle.ts). */
  noExecuteDelaySeconds: number;
}

/** The DefaultTolerationSeconds admission step. */
export function defaultTolerationAdmission(seconds: () => number): Admission {
  return {
    name: "DefaultTolerationSeconds",
    resources: ["pods"],
    mutate(req) {
      if (req.operation !== "CREATE" || req.subresource || !req.object) return;
      const spec = (req.object.spec ?? {}) as { tolerations?: Toleration[] };
      const next = defaultTolerations(spec.tolerations ?? [], seconds());
      if (next.length !== (spec.tolerations ?? []).length) req.object.spec = { ...spec, tolerations: next };
    },
  };
}

function indexByNode(pods: Informer<Pod>): void {
  try {
    pods.byIndex(NODE_NAME_INDEX, "");
  } catch {
    pods.addIndex(NODE_NAME_INDEX, (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []));
  }
}

/** A fresh plugin object. */
export function createNodeLifecyclePlugin(): Plugin<NodeLifecycleConfig> {
  let tolerationSeconds = DEFAULT_OPTIONS.defaultTolerationSeconds;
  const base = controllerPlugin<NodeLifecycleConfig>({
    name: NAME,
    description: "Marks nodes that stopped heartbeating NotReady, taints them and evicts their pods after their tolerations.",
    provides: ["controller:node-lifecycle"],
    serviceAccount: "node-controller",
    component: "node-controller",
    defaultWorkers: 4,
    configProperties: {
      nodeMonitorGracePeriodSeconds: { type: "number", exclusiveMinimum: 0, default: 50 },
      nodeMonitorPeriodSeconds: { type: "number", exclusiveMinimum: 0, default: 5 },
      nodeStartupGracePeriodSeconds: { type: "number", exclusiveMinimum: 0, default: 60 },
      nodeEvictionRate: { type: "number", minimum: 0, default: 0.1 },
      secondaryNodeEvictionRate: { type: "number", minimum: 0, default: 0.01 },
      largeClusterSizeThreshold: { type: "integer", minimum: 0, default: 50 },
      unhealthyZoneThreshold: { type: "number", minimum: 0, maximum: 1, default: 0.55 },
      defaultTolerationSeconds: { type: "integer", minimum: 0, default: 300 },
      noExecuteDelaySeconds: { type: "number", minimum: 0, default: 10 },
    },
    async run(term) {
      const c = term.config;
      const opts = {
        gracePeriodMs: (c.nodeMonitorGracePeriodSeconds ?? 50) * 1000,
        startupGracePeriodMs: (c.nodeStartupGracePeriodSeconds ?? 60) * 1000,
        evictionRate: c.nodeEvictionRate ?? DEFAULT_OPTIONS.evictionRate,
        secondaryEvictionRate: c.secondaryNodeEvictionRate ?? DEFAULT_OPTIONS.secondaryEvictionRate,
        largeClusterThreshold: c.largeClusterSizeThreshold ?? DEFAULT_OPTIONS.largeClusterThreshold,
        unhealthyZoneThreshold: c.unhealthyZoneThreshold ?? DEFAULT_OPTIONS.unhealthyZoneThreshold,
        defaultTolerationSeconds: c.defaultTolerationSeconds ?? DEFAULT_OPTIONS.defaultTolerationSeconds,
        noExecuteDelayMs: (c.noExecuteDelaySeconds ?? DEFAULT_OPTIONS.noExecuteDelayMs / 1000) * 1000,
      };
      const nodes = term.informers.informer<Node>(NODES);
      const leases = term.informers.informer<Lease>(LEASES, { namespace: NODE_LEASE_NAMESPACE });
      const pods = term.informers.informer<Pod>(PODS);
      indexByNode(pods);
      await term.waitForSync(nodes as Informer<never>, leases as Informer<never>, pods as Informer<never>);
      if (term.signal.aborted) return;
      const deps = { client: term.client, log: term.log, events: term.events, nodes, leases, pods, opts };
      const evictions = term.controller(new TaintEvictionReconciler(deps));
      const key = (p: Pod) => `${p.metadata.namespace}/${p.metadata.name}`;
      const monitor = new NodeMonitor({ ...deps, enqueuePod: (k) => evictions.enqueue(k) });
      term.on(pods, { add: (p) => evictions.enqueue(key(p)), update: (_o, p) => evictions.enqueue(key(p)) });
      term.on(nodes, {
        update(old, cur) {
          if (JSON.stringify(old.spec?.taints ?? []) === JSON.stringify(cur.spec?.taints ?? [])) return;
          for (const p of pods.byIndex(NODE_NAME_INDEX, cur.metadata.name!)) evictions.enqueue(key(p));
        },
      });
      let running = false;
      const tick = async () => {
        if (running || term.signal.aborted) return;
        running = true;
        try {
          await monitor.monitor();
        } catch (e) {
          term.log.warn({ err: (e as Error).message }, "node monitor pass failed");
        } finally {
          running = false;
        }
      };
      const timer = setInterval(() => void tick(), (c.nodeMonitorPeriodSeconds ?? 5) * 1000);
      term.signal.addEventListener("abort", () => clearInterval(timer), { once: true });
      void tick();
    },
  });
  return {
    ...base,
    register(container, config, tokens) {
      tolerationSeconds = config.defaultTolerationSeconds ?? tolerationSeconds;
      container.register(tokens.Admission, { useValue: defaultTolerationAdmission(() => tolerationSeconds) });
    },
  };
}
