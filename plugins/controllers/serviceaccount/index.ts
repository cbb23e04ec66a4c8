/**
 * @module The `serviceaccount-controller` plugin (upstream
 * `pkg/controller/serviceaccount` ServiceAccountsController): every active
 * namespace has a ServiceAccount named `default`. A new namespace gets it at
 * once; a deleted one is recreated. Terminating namespaces are left alone.
 * The ServiceAccount admission plugin refuses pods whose ServiceAccount does
 * not exist, so this runs without leader-election delays on a fresh server
 * (the Lease is free) and the admission retries the default one briefly.
 */
import { isApiError } from "../../../core/api/errors.ts";
import type { KubeObject } from "../../../core/api/meta.ts";
import type { Client, Informer, Reconciler, ReconcileResult, ResourceRef } from "../../../core/client/types.ts";
import type { Plugin } from "../../../core/plugin/types.ts";
import { NAMESPACES } from "../common/refs.ts";
import { type ControllerConfig, controllerPlugin } from "../common/runtime.ts";

export const NAME = "serviceaccount-controller";
export const SERVICE_ACCOUNTS: ResourceRef = { group: "", version: "v1", resource: "serviceaccounts" };
/** Upstream's default list of ServiceAccounts to ensure: just `default`. */
export const MANAGED = ["default"];

export class ServiceAccountsReconciler implements Reconciler {
  readonly name = "serviceaccounts";
  constructor(
    private readonly client: Client,
    private readonly namespaces: Informer,
    private readonly accounts: Informer,
  ) {}

  /** `key` is a namespace name. */
  async reconcile(key: string): Promise<ReconcileResult | void> {
    const ns = this.namespaces.get(key);
    if (!ns || ns.metadata.deletionTimestamp || (ns.status as { phase?: string } | undefined)?.phase === "Terminating") return;
    for (const name of MANAGED) {
      if (this.accounts.get(name, key)) continue;
      try {
        await this.client.create(SERVICE_ACCOUNTS, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace: key } });
      } catch (e) {
        // Someone else made it (the cache is behind), or the namespace is going away meanwhile.
        if (isApiError(e, "AlreadyExists") || isApiError(e, "NotFound")) continue;
        if (isApiError(e, "Forbidden") && /being terminated/.test(e.message)) continue;
        throw e;
      }
    }
  }
}

export function createServiceAccountPlugin(): Plugin<ControllerConfig> {
  return controllerPlugin<ControllerConfig>({
    name: NAME,
    description: "Creates the default ServiceAccount in every namespace.",
    provides: ["controller:serviceaccount"],
    serviceAccount: "service-account-controller",
    component: NAME,
    defaultWorkers: 2,
    async run(term) {
      const namespaces = term.informers.informer<KubeObject>(NAMESPACES);
      const accounts = term.informers.informer<KubeObject>(SERVICE_ACCOUNTS);
      await term.waitForSync(namespaces as Informer<never>, accounts as Informer<never>);
      if (term.signal.aborted) return;
      const queue = term.controller(new ServiceAccountsReconciler(term.client, namespaces, accounts));
      term.on(namespaces, { add: (ns) => queue.enqueue(ns.metadata.name!), update: (_o, ns) => queue.enqueue(ns.metadata.name!) });
      term.on(accounts, {
        delete: (sa) => {
          if (MANAGED.includes(sa.metadata.name!)) queue.enqueue(sa.metadata.namespace!);
        },
      });
    },
  });
}
