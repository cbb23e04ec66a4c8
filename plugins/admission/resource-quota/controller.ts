/**
 * @module The `resourcequota-controller` plugin (upstream
 * `pkg/controller/resourcequota`): keeps each ResourceQuota's
 * `status.hard` equal to `spec.hard` and `status.used` equal to what the
 * namespace's objects cost (usage.ts), by listing them. A quota is
 * recounted when it is created or its `spec.hard` changes, when an object it
 * may count is deleted (or a pod ends: upstream's replenishment), and every
 * `resyncSeconds` (upstream's `--resource-quota-sync-period`, 5 minutes),
 * which also releases what admission charged for a create that then failed.
 * Creates are charged by the admission step, not here: recounting on every
 * add could overwrite a charge for an object not yet stored.
 */
import type { KubeObject } from "../../../core/api/meta.ts";
import type { ApiResourceInfo, Client, Informer, Reconciler, ReconcileResult, ResourceRef } from "../../../core/client/types.ts";
import { isApiError } from "../../../core/api/errors.ts";
import type { Plugin } from "../../../core/plugin/types.ts";
import { type ControllerConfig, controllerPlugin } from "../../controllers/common/runtime.ts";
import { type Json, PODS, RESOURCE_QUOTAS } from "../common.ts";
import { add, isTerminalPod, matchesScopes, parseCountName, type Usage, usageOf, usageToJson } from "./usage.ts";

export const CONTROLLER_NAME = "resourcequota-controller";
type Quota = KubeObject & { spec?: { hard?: Record<string, string> } & Json; status?: { hard?: Record<string, string>; used?: Record<string, string> } };

const LEGACY: Record<string, string> = {
  pods: "pods",
  cpu: "pods",
  memory: "pods",
  services: "services",
  "services.nodeports": "services",
  "services.loadbalancers": "services",
  configmaps: "configmaps",
  secrets: "secrets",
  replicationcontrollers: "replicationcontrollers",
  resourcequotas: "resourcequotas",
  persistentvolumeclaims: "persistentvolumeclaims",
  "requests.storage": "persistentvolumeclaims",
};

/** The core-group resource (or `count/` resource) a quota resource name is counted from. */
function sourceOf(name: string): { group: string; resource: string } | undefined {
  if (LEGACY[name]) return { group: "", resource: LEGACY[name]! };
  if (/^(requests|limits)\.(cpu|memory|ephemeral-storage|hugepages-.*)$/.test(name)) return { group: "", resource: "pods" };
  return parseCountName(name);
}

/** Computes a quota's usage from live lists of what it counts. */
export async function computeUsage(client: Client, quota: Quota, resolve: (group: string, resource: string) => Promise<ResourceRef | undefined>): Promise<Usage> {
  const hard = quota.spec?.hard ?? {};
  const ns = quota.metadata.namespace!;
  const used: Usage = new Map();
  for (const k of Object.keys(hard)) used.set(k, { nanos: 0n, format: "DecimalSI" });
  const sources = new Map<string, { group: string; resource: string }>();
  for (const k of Object.keys(hard)) {
    const s = sourceOf(k);
    if (s) sources.set(`${s.group}/${s.resource}`, s);
  }
  for (const s of sources.values()) {
    const ref = await resolve(s.group, s.resource);
    if (!ref) continue;
    for (const obj of (await client.list(ref, { namespace: ns })).items) {
      if (!matchesScopes((quota.spec ?? {}) as Json, s.group, s.resource, obj)) continue;
      for (const [k, q] of usageOf(s.group, s.resource, obj)) if (k in hard) add(used, k, q);
    }
  }
  return used;
}

export class ResourceQuotaReconciler implements Reconciler {
  readonly name = "resourcequota";
  #resources: ApiResourceInfo[] | undefined;

  constructor(
    private readonly client: Client,
    private readonly quotas: Informer<Quota>,
    private readonly resyncMs: number,
  ) {}

  async #resolve(group: string, resource: string): Promise<ResourceRef | undefined> {
    if (group === "") return { group: "", version: "v1", resource };
    this.#resources ??= await this.client.discover();
    const r = this.#resources.find((x) => x.group === group && x.resource === resource && x.namespaced);
    if (!r) this.#resources = undefined; // maybe a CRD that appears later
    return r ? { group, version: r.version, resource } : undefined;
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const quota = this.quotas.getByKey(key);
    if (!quota) return;
    const used = usageToJson(await computeUsage(this.client, quota, (g, r) => this.#resolve(g, r)));
    const hard = quota.spec?.hard ?? {};
    const status = { hard, used };
    if (JSON.stringify(quota.status?.hard ?? {}) !== JSON.stringify(hard) || JSON.stringify(quota.status?.used ?? {}) !== JSON.stringify(used)) {
      try {
        await this.client.updateStatus(RESOURCE_QUOTAS, { ...quota, status } as KubeObject);
      } catch (e) {
        // Charged by admission meanwhile: count again from the newer version.
        if (isApiError(e, "Conflict")) return { requeueAfter: 50 };
        if (isApiError(e, "NotFound")) return;
        throw e;
      }
    }
    return { requeueAfter: this.resyncMs };
  }
}

const COUNTED: ResourceRef[] = [
  PODS,
  { group: "", version: "v1", resource: "services" },
  { group: "", version: "v1", resource: "configmaps" },
  { group: "", version: "v1", resource: "secrets" },
  { group: "", version: "v1", resource: "persistentvolumeclaims" },
  { group: "", version: "v1", resource: "replicationcontrollers" },
];

export interface QuotaControllerConfig extends ControllerConfig {
  resyncSeconds: number;
}

export function createResourceQuotaControllerPlugin(): Plugin<QuotaControllerConfig> {
  return controllerPlugin<QuotaControllerConfig>({
    name: CONTROLLER_NAME,
    description: "Keeps ResourceQuota status (hard, used) current.",
    provides: ["controller:resourcequota"],
    component: CONTROLLER_NAME,
    defaultWorkers: 2,
    configProperties: { resyncSeconds: { type: "number", exclusiveMinimum: 0, default: 300 } },
    async run(term) {
      const quotas = term.informers.informer<Quota>(RESOURCE_QUOTAS);
      await term.waitForSync(quotas as Informer<never>);
      if (term.signal.aborted) return;
      const queue = term.controller(new ResourceQuotaReconciler(term.client, quotas, (term.config.resyncSeconds ?? 300) * 1000));
      const key = (q: KubeObject) => `${q.metadata.namespace}/${q.metadata.name}`;
      term.on(quotas, {
        add: (q) => queue.enqueue(key(q)),
        update: (o, q) => {
          if (JSON.stringify(o.spec) !== JSON.stringify(q.spec) || JSON.stringify(q.status?.hard ?? {}) !== JSON.stringify(q.spec?.hard ?? {})) queue.enqueue(key(q));
        },
      });
      const replenish = (ns: string | undefined) => {
        for (const q of quotas.list(ns)) queue.enqueueAfter(key(q), 0);
      };
      for (const ref of COUNTED) {
        const inf = term.informers.informer<KubeObject>(ref);
        term.on(inf, {
          delete: (o) => replenish(o.metadata.namespace),
          ...(ref === PODS ? { update: (a: KubeObject, b: KubeObject) => void (!isTerminalPod(a) && isTerminalPod(b) && replenish(b.metadata.namespace)) } : {}),
        });
      }
    },
  });
}
