/**
 * @module The EndpointSlice controller's sync (upstream
 * `pkg/controller/endpointslice/endpointslice_controller.go` syncService):
 * reads the Service, its pods and its managed slices from the caches, plans
 * with reconciler.ts and writes the plan (creates, then updates, then
 * deletes). A cache still behind this controller's own writes postpones the
 * sync (tracker.ts). When the Service is gone its slices are deleted here
 * too — the garbage collector would also do it through their
 * ownerReferences, but the controller does not depend on one running.
 */
import { isApiError } from "../../../core/api/errors.ts";
import { keyFor, splitKey } from "../../../core/client/keys.ts";
import type { Client, Informer, Reconciler, ReconcileResult } from "../../../core/client/types.ts";
import type { Logger } from "../../../core/log.ts";
import type { EventSink } from "../../../core/plugin/types.ts";
import { ENDPOINT_SLICES, type EndpointPod, type Node, type Service, serviceSelector } from "../common/endpoints-util.ts";
import { isNamespaceTerminating } from "../common/refs.ts";
import { CONTROLLER_NAME, type EndpointSlice, MANAGED_BY_LABEL, planSlices, SERVICE_NAME_LABEL } from "./reconciler.ts";
import type { SliceTracker } from "./tracker.ts";

export interface EndpointSliceControllerDeps {
  client: Client;
  events: EventSink;
  log: Logger;
  services: Informer<Service>;
  pods: Informer<EndpointPod>;
  slices: Informer<EndpointSlice>;
  nodes: Informer<Node>;
  tracker: SliceTracker;
  maxEndpointsPerSlice: number;
  /** The batch period: how soon a sync that found the cache behind our writes runs again. */
  batchMs: number;
}

/** Slices this controller manages (by label), whatever Service they name. */
export function managedByController(s: EndpointSlice): boolean {
  return s.metadata.labels?.[MANAGED_BY_LABEL] === CONTROLLER_NAME;
}

/** The key of the Service a slice belongs to, from its `kubernetes.io/service-name` label. */
export function serviceKeyOfSlice(s: EndpointSlice): string | undefined {
  const name = s.metadata.labels?.[SERVICE_NAME_LABEL];
  return name ? keyFor(name, s.metadata.namespace) : undefined;
}

export class EndpointSliceReconciler implements Reconciler {
  readonly name = "endpointslice";
  readonly #d: EndpointSliceControllerDeps;

  constructor(deps: EndpointSliceControllerDeps) {
    this.#d = deps;
  }

  #managedSlices(namespace: string, service: string): EndpointSlice[] {
    return this.#d.slices
      .list(namespace)
      .filter((s) => managedByController(s) && s.metadata.labels?.[SERVICE_NAME_LABEL] === service && s.metadata.deletionTimestamp === undefined);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const d = this.#d;
    const svc = d.services.get(name, namespace);
    if (!svc) {
      d.tracker.deleteService(key);
      await this.#deleteLeftovers(namespace, name);
      return;
    }
    if (svc.spec?.type === "ExternalName") return;
    const selector = serviceSelector(svc);
    if (!selector) return; // no selector: slices come from their owner (or the mirroring of its Endpoints)

    const pods = d.pods.list(namespace).filter((p) => selector.matches(p.metadata.labels ?? {}));
    const existing = this.#managedSlices(namespace, name);
    if (d.tracker.stale(key, existing)) {
      // The cache has not seen our last writes: look again after a batch period (not at once, which would undo the batching).
      return { requeueAfter: Math.max(d.batchMs, 10) };
    }
    const plan = planSlices({ service: svc, pods, existing, node: (n) => d.nodes.get(n), maxEndpointsPerSlice: d.maxEndpointsPerSlice });
    try {
      await this.#apply(plan);
    } catch (e) {
      if (!isApiError(e, "Conflict")) {
        d.events.record(svc, "Warning", "FailedToUpdateEndpointSlices", `Error updating Endpoint Slices for Service ${namespace}/${name}: ${(e as Error).message}`);
      }
      throw e;
    }
    if (plan.create.length + plan.update.length + plan.delete.length > 0) {
      d.log.debug({ service: key, created: plan.create.length, updated: plan.update.length, deleted: plan.delete.length }, "endpointslices written");
    }
    if (plan.errors.length > 0) throw new Error(plan.errors.join("; "));
  }

  async #apply(plan: ReturnType<typeof planSlices>): Promise<void> {
    const d = this.#d;
    for (const s of plan.create) {
      try {
        d.tracker.update(await d.client.create<EndpointSlice>(ENDPOINT_SLICES, s));
      } catch (e) {
        if (isNamespaceTerminating(e)) return;
        throw e;
      }
    }
    for (const s of plan.update) d.tracker.update(await d.client.update<EndpointSlice>(ENDPOINT_SLICES, s));
    for (const s of plan.delete) {
      try {
        await d.client.delete(ENDPOINT_SLICES, s.metadata.name!, { namespace: s.metadata.namespace!, preconditions: { uid: s.metadata.uid! } });
      } catch (e) {
        if (!isApiError(e, "NotFound")) throw e;
      }
      d.tracker.expectDeletion(s);
    }
  }

  /** The Service is gone: its managed slices owned by a Service of that name go too. */
  async #deleteLeftovers(namespace: string, name: string): Promise<void> {
    for (const s of this.#managedSlices(namespace, name)) {
      if (!(s.metadata.ownerReferences ?? []).some((r) => r.kind === "Service" && r.apiVersion === "v1" && r.name === name)) continue;
      try {
        await this.#d.client.delete(ENDPOINT_SLICES, s.metadata.name!, { namespace, preconditions: { uid: s.metadata.uid! } });
      } catch (e) {
        if (!isApiError(e, "NotFound") && !isApiError(e, "Conflict")) throw e;
      }
    }
  }
}
