/**
 * @module The ResourceQuota admission step (upstream
 * `plugin/pkg/admission/resourcequota`). On every create in a namespace with
 * quotas, for each quota whose `hard` names something the object costs
 * (usage.ts) and whose scopes select it:
 *
 * - the quota must have usage stats for those resources (its controller
 *   fills `status.used`), else 403 `status unknown for quota: q, resources: …`;
 * - a pod must name every compute resource the quota constrains, else 403
 *   `failed quota: q: must specify limits.cpu,…`;
 * - `used + requested` must stay within `hard`, else 403 `exceeded quota: q,
 *   requested: pods=1, used: pods=2, limited: pods=2`;
 * - then the new usage is written to the quota's status with its
 *   resourceVersion as a precondition. A conflict (another create charged
 *   the quota meanwhile) re-reads the quotas and checks again, so two
 *   parallel creates can never both take the last unit. Dry runs check but
 *   charge nothing.
 *
 * Unlike other steps this one writes (the quota's status) through the
 * client, as upstream's quota evaluator does; an object whose store write
 * then fails stays charged until the resourcequota-controller recounts.
 */
import { errors, isApiError } from "../../../core/api/errors.ts";
import type { KubeObject } from "../../../core/api/meta.ts";
import type { Client, Informer } from "../../../core/client/types.ts";
import { compareQuantity, formatQuantity, quantityOf } from "../../../core/types/quantity.ts";
import type { Admission, AdmissionRequest } from "../../../core/plugin/types.ts";
import { asObj, type Json, type PodSpec, RESOURCE_QUOTAS } from "../common.ts";
import { add, matchesScopes, missingPodResources, prettyPrint, type Usage, usageOf } from "./usage.ts";

type Quota = KubeObject & { spec?: { hard?: Record<string, string> } & Json; status?: { hard?: Record<string, string>; used?: Record<string, string> } };

const MAX_ATTEMPTS = 20;

export class ResourceQuotaAdmission implements Admission {
  readonly name = "ResourceQuota";
  /** Every resource: `count/<resource>` can name any of them. */
  readonly operations: AdmissionRequest["operation"][] = ["CREATE"];
  readonly resources = ["*"];

  constructor(
    private readonly client: Client,
    private readonly quotas: Informer<Quota> | undefined,
  ) {}

  async validate(req: AdmissionRequest): Promise<void> {
    if (req.operation !== "CREATE" || req.subresource || !req.object || !req.namespace) return;
    let quotas = this.quotas?.hasSynced() ? this.quotas.list(req.namespace) : await this.#live(req.namespace);
    if (quotas.length === 0) return;
    const obj = req.object as KubeObject;
    const cost = usageOf(req.group, req.resource, obj);
    if (cost.size === 0) return;
    const charged = new Set<string>();
    for (let attempt = 0; ; attempt++) {
      const writes: { quota: Quota; used: Record<string, string> }[] = [];
      for (const quota of quotas) {
        const hard = quota.spec?.hard ?? {};
        const constrained = Object.keys(hard).filter((k) => cost.has(k) || (req.resource === "pods" && req.group === "" && isPodCompute(k)));
        if (charged.has(quota.metadata.name!) || constrained.length === 0 || !matchesScopes((quota.spec ?? {}) as Json, req.group, req.resource, obj)) continue;
        const q = { resource: req.resource, group: req.group, name: req.name };
        const name = quota.metadata.name!;
        const used = quota.status?.used ?? {};
        const unknown = constrained.filter((k) => used[k] === undefined).sort();
        if (unknown.length > 0) throw errors.forbidden(q, `status unknown for quota: ${name}, resources: ${unknown.join(",")}`);
        if (req.group === "" && req.resource === "pods") {
          const missing = missingPodResources(constrained, (obj.spec ?? {}) as PodSpec);
          if (missing.length > 0) throw errors.forbidden(q, `failed quota: ${name}: must specify ${missing.join(",")}`);
        }
        const requested: Usage = new Map();
        const failedUsed: Usage = new Map();
        const failedHard: Usage = new Map();
        const next: Record<string, string> = { ...used };
        const failedRequested: Usage = new Map();
        let changed = false;
        for (const k of constrained) {
          const delta = cost.get(k);
          if (!delta || delta.nanos === 0n) continue;
          const u = quantityOf(used[k]) ?? { nanos: 0n, format: delta.format };
          const h = quantityOf(hard[k]);
          const total: Usage = new Map([[k, u]]);
          add(total, k, delta);
          requested.set(k, delta);
          if (h && compareQuantity(total.get(k)!, h) > 0) {
            failedRequested.set(k, delta);
            failedUsed.set(k, u);
            failedHard.set(k, h);
          }
          next[k] = formatQuantity(total.get(k)!);
          changed = true;
        }
        if (failedRequested.size > 0) {
          throw errors.forbidden(q, `exceeded quota: ${name}, requested: ${prettyPrint(failedRequested)}, used: ${prettyPrint(failedUsed)}, limited: ${prettyPrint(failedHard)}`);
        }
        if (changed) writes.push({ quota, used: next });
      }
      if (req.dryRun || writes.length === 0) return;
      try {
        for (const w of writes) {
          await this.client.updateStatus(RESOURCE_QUOTAS, { ...w.quota, status: { ...w.quota.status, used: w.used } } as KubeObject);
          charged.add(w.quota.metadata.name!);
        }
        return;
      } catch (e) {
        if (!isApiError(e, "Conflict") || attempt + 1 >= MAX_ATTEMPTS) throw e;
        // Another create charged a quota meanwhile: read them again and re-check the ones not yet charged.
        quotas = await this.#live(req.namespace);
      }
    }
  }

  async #live(namespace: string): Promise<Quota[]> {
    return (await this.client.list<Quota>(RESOURCE_QUOTAS, { namespace })).items;
  }
}

function isPodCompute(k: string): boolean {
  return ["cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory", "requests.ephemeral-storage", "limits.ephemeral-storage"].includes(k);
}
