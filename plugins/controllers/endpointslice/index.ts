/**
 * @module The `endpointslice-controller` plugin: keeps the
 * discovery.k8s.io/v1 EndpointSlices of every Service with a selector
 * (upstream `pkg/controller/endpointslice`), at most `maxEndpointsPerSlice`
 * (100) endpoints each. Services are synced at once when they change; pod
 * changes are batched per Service for `endpointUpdatesBatchPeriodMs`
 * (default 200); changes to managed slices by someone else (and Node zone
 * changes) are put right after at least a second. Design: ../README.md.
 */
import type { Informer } from "../../../core/client/types.ts";
import type { Plugin } from "../../../core/plugin/types.ts";
import {
  BATCH_PERIOD_PROPERTY,
  DEFAULT_BATCH_PERIOD_MS,
  DEFAULT_MAX_ENDPOINTS_PER_SLICE,
  type EndpointPod,
  ENDPOINT_SLICES,
  type Node,
  NODES,
  type Service,
  SERVICES,
  servicesForLabels,
  wireServicesAndPods,
  ZONE_LABEL,
} from "../common/endpoints-util.ts";
import { PODS } from "../common/refs.ts";
import { type ControllerConfig, controllerPlugin } from "../common/runtime.ts";
import { EndpointSliceReconciler, managedByController, serviceKeyOfSlice } from "./endpointslice-controller.ts";
import { type EndpointSlice, SERVICE_NAME_LABEL } from "./reconciler.ts";
import { SliceTracker } from "./tracker.ts";

export const NAME = "endpointslice-controller";
export { EndpointSliceReconciler, managedByController } from "./endpointslice-controller.ts";
export * from "./reconciler.ts";
export { SliceTracker } from "./tracker.ts";

/** Upstream endpointSliceChangeMinSyncDelay: the least wait after a slice changed under the controller. */
export const SLICE_CHANGE_MIN_DELAY_MS = 1000;
/** Pods by `spec.nodeName`, to find the Services a Node's zone change concerns. */
const POD_NODE_INDEX = "endpointslice-controller/node-name";

export interface EndpointSliceControllerConfig extends ControllerConfig {
  /** Most endpoints in one slice (upstream --max-endpoints-per-slice, 1–1000). */
  maxEndpointsPerSlice: number;
  /** How long pod changes are collected before a Service's slices are synced (upstream --endpoint-updates-batch-period). */
  endpointUpdatesBatchPeriodMs: number;
}

/** A fresh plugin object. */
export function createEndpointSlicePlugin(): Plugin<EndpointSliceControllerConfig> {
  return controllerPlugin<EndpointSliceControllerConfig>({
    name: NAME,
    description: "Keeps the EndpointSlices listing the pods of every Service with a selector.",
    provides: ["controller:endpointslice"],
    component: NAME,
    defaultWorkers: 5,
    configProperties: {
      maxEndpointsPerSlice: { type: "integer", minimum: 1, maximum: 1000, default: DEFAULT_MAX_ENDPOINTS_PER_SLICE },
      ...BATCH_PERIOD_PROPERTY,
    },
    async run(term) {
      const services = term.informers.informer<Service>(SERVICES);
      const pods = term.informers.informer<EndpointPod>(PODS);
      const slices = term.informers.informer<EndpointSlice>(ENDPOINT_SLICES);
      const nodes = term.informers.informer<Node>(NODES);
      if (!pods.hasIndex(POD_NODE_INDEX)) pods.addIndex(POD_NODE_INDEX, (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []));
      await term.waitForSync(services as Informer<never>, pods as Informer<never>, slices as Informer<never>, nodes as Informer<never>);
      if (term.signal.aborted) return;
      const batchMs = term.config.endpointUpdatesBatchPeriodMs ?? DEFAULT_BATCH_PERIOD_MS;
      const tracker = new SliceTracker();
      const reconciler = new EndpointSliceReconciler({
        client: term.client,
        events: term.events,
        log: term.log,
        services,
        pods,
        slices,
        nodes,
        tracker,
        maxEndpointsPerSlice: term.config.maxEndpointsPerSlice ?? DEFAULT_MAX_ENDPOINTS_PER_SLICE,
        batchMs,
      });
      const queue = term.controller(reconciler);
      wireServicesAndPods(term, { services, pods, queue, batchMs });

      const sliceDelay = Math.max(SLICE_CHANGE_MIN_DELAY_MS, batchMs);
      const queueForSlice = (s: EndpointSlice) => {
        const key = serviceKeyOfSlice(s);
        if (key) queue.enqueueAfter(key, sliceDelay);
      };
      term.on(slices, {
        add: (s) => void (managedByController(s) && tracker.shouldSync(s) && queueForSlice(s)),
        update(old, cur) {
          if (old.metadata.labels?.[SERVICE_NAME_LABEL] !== cur.metadata.labels?.[SERVICE_NAME_LABEL]) {
            queueForSlice(old);
            queueForSlice(cur);
          } else if (managedByController(old) !== managedByController(cur) || (managedByController(cur) && tracker.shouldSync(cur))) {
            queueForSlice(cur);
          }
        },
        delete(s) {
          // Our own deletions are expected; any other (a user, a namesake's garbage collection) calls for a sync.
          const ours = tracker.has(s) && tracker.handleDeletion(s);
          if (managedByController(s) && !ours) queueForSlice(s);
        },
      });

      // A Node's zone feeds its pods' endpoints; a pod whose Node was missing is retried when it appears.
      const servicesOnNode = (n: Node) => {
        const keys = new Set<string>();
        for (const p of pods.byIndex(POD_NODE_INDEX, n.metadata.name!)) {
          for (const k of servicesForLabels(services, p.metadata.namespace ?? "", p.metadata.labels)) keys.add(k);
        }
        for (const k of keys) queue.enqueueAfter(k, batchMs);
      };
      term.on(nodes, {
        add: servicesOnNode,
        update: (old, cur) => void (old.metadata.labels?.[ZONE_LABEL] !== cur.metadata.labels?.[ZONE_LABEL] && servicesOnNode(cur)),
        delete: servicesOnNode,
      });
    },
  });
}

const plugin: Plugin<EndpointSliceControllerConfig> = createEndpointSlicePlugin();
export default plugin;
