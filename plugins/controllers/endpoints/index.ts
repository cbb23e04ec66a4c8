/**
 * @module The `endpoints-controller` plugin: keeps a core/v1 Endpoints per
 * Service with a selector (upstream `pkg/controller/endpoint`). Services are
 * synced at once when they change; pod changes are batched per Service for
 * `endpointUpdatesBatchPeriodMs` (default 200). Design: ../README.md.
 */
import { keyOf } from "../../../core/client/keys.ts";
import type { Informer } from "../../../core/client/types.ts";
import type { Plugin } from "../../../core/plugin/types.ts";
import {
  BATCH_PERIOD_PROPERTY,
  DEFAULT_BATCH_PERIOD_MS,
  type EndpointPod,
  ENDPOINTS,
  type Service,
  SERVICES,
  serviceSelector,
  wireServicesAndPods,
} from "../common/endpoints-util.ts";
import { PODS } from "../common/refs.ts";
import { type ControllerConfig, controllerPlugin } from "../common/runtime.ts";
import { type Endpoints, EndpointsReconciler, LEADER_ANNOTATION } from "./endpoints-controller.ts";

export const NAME = "endpoints-controller";
/** The least wait before an Endpoints changed or deleted by someone else is synced. */
export const CHANGE_MIN_DELAY_MS = 1000;
export {
  desiredSubsets,
  type EndpointAddress,
  type EndpointPort,
  type Endpoints,
  EndpointsReconciler,
  type EndpointSubset,
  MAX_ENDPOINTS_CAPACITY,
  OVER_CAPACITY_ANNOTATION,
  repackSubsets,
  truncateSubsets,
} from "./endpoints-controller.ts";

export interface EndpointsControllerConfig extends ControllerConfig {
  /** How long pod changes are collected before a Service's Endpoints is synced (upstream --endpoint-updates-batch-period). */
  endpointUpdatesBatchPeriodMs: number;
}

/** A fresh plugin object. */
export function createEndpointsPlugin(): Plugin<EndpointsControllerConfig> {
  return controllerPlugin<EndpointsControllerConfig>({
    name: NAME,
    description: "Keeps an Endpoints object listing the pods of every Service with a selector.",
    provides: ["controller:endpoints"],
    serviceAccount: "endpoint-controller",
    component: NAME,
    defaultWorkers: 5,
    configProperties: { ...BATCH_PERIOD_PROPERTY },
    async run(term) {
      const services = term.informers.informer<Service>(SERVICES);
      const pods = term.informers.informer<EndpointPod>(PODS);
      const endpoints = term.informers.informer<Endpoints>(ENDPOINTS);
      await term.waitForSync(services as Informer<never>, pods as Informer<never>, endpoints as Informer<never>);
      if (term.signal.aborted) return;
      const batchMs = term.config.endpointUpdatesBatchPeriodMs ?? DEFAULT_BATCH_PERIOD_MS;
      const reconciler = new EndpointsReconciler({ client: term.client, events: term.events, log: term.log, services, pods, endpoints, batchMs });
      const queue = term.controller(reconciler);
      wireServicesAndPods(term, { services, pods, queue, batchMs });
      // Changes by others are put right after at least a second (as upstream
      // does for slices): the watch event of our own write may arrive before
      // we know its resourceVersion, and must not bypass the batching.
      const fixDelay = Math.max(CHANGE_MIN_DELAY_MS, batchMs);
      // Leftovers: an Endpoints whose Service is gone while no controller ran
      // is deleted (upstream checkLeftoverEndpoints, at start only — a user
      // may create an Endpoints before its selector-less Service).
      for (const ep of endpoints.list()) if (ep.metadata.annotations?.[LEADER_ANNOTATION] === undefined) queue.enqueue(keyOf(ep));
      // A controller-managed Endpoints changed or deleted by someone else is put right.
      const managed = (ep: Endpoints) => {
        const svc = services.get(ep.metadata.name!, ep.metadata.namespace);
        return svc !== undefined && serviceSelector(svc) !== undefined && svc.spec?.type !== "ExternalName";
      };
      term.on(endpoints, {
        update: (_old, ep) => void (managed(ep) && !reconciler.isOwnWrite(ep, keyOf(ep)) && queue.enqueueAfter(keyOf(ep), fixDelay)),
        delete: (ep) => {
          reconciler.forget(keyOf(ep));
          if (managed(ep)) queue.enqueueAfter(keyOf(ep), fixDelay);
        },
      });
    },
  });
}

const plugin: Plugin<EndpointsControllerConfig> = createEndpointsPlugin();
export default plugin;
