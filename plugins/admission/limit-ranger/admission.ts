/**
 * @module The LimitRanger admission step (upstream
 * `plugin/pkg/admission/limitranger`), on pod creation, for every
 * LimitRange in the pod's namespace:
 *
 * - mutate: `Container` items' `default` fill missing container limits and
 *   `defaultRequest` missing requests (init containers too), recorded in the
 *   `kubernetes.io/limit-ranger` annotation as upstream words it;
 * - validate: `min`, `max` and `maxLimitRequestRatio` of `Container` items
 *   per container and of `Pod` items on the pod's totals; violations are one
 *   403 listing them (`maximum cpu usage per Container is 1, but limit is 2`).
 *
 * PersistentVolumeClaim items are not enforced (no storage in Skiff yet).
 */
import { errors } from "../../../core/api/errors.ts";
import type { KubeObject } from "../../../core/api/meta.ts";
import type { Client, Informer } from "../../../core/client/types.ts";
import type { Admission, AdmissionRequest } from "../../../core/plugin/types.ts";
import { formatQuantity, type Quantity, quantityOf } from "../../../core/types/quantity.ts";
import { asArr, asObj, type Container, type Json, LIMIT_RANGES, type PodSpec } from "../common.ts";
import { podCompute } from "../resource-quota/usage.ts";

export const LIMIT_RANGER_ANNOTATION = "kubernetes.io/limit-ranger";
type Item = { type?: string; min?: Json; max?: Json; default?: Json; defaultRequest?: Json; maxLimitRequestRatio?: Json };
type List = Record<string, string>;

/** Fills a container's missing requests and limits from the defaults; returns what it set, as upstream's annotation parts. */
export function mergeDefaults(c: Container, defaults: { requests: List; limits: List }, prefix: string): string[] {
  const res = (c.resources ??= {});
  const setLimits: string[] = [];
  const setRequests: string[] = [];
  for (const [k, v] of Object.entries(defaults.limits)) {
    if ((res.limits ?? {})[k] === undefined) {
      res.limits = { ...res.limits, [k]: v };
      setLimits.push(k);
    }
  }
  for (const [k, v] of Object.entries(defaults.requests)) {
    if ((res.requests ?? {})[k] === undefined) {
      res.requests = { ...res.requests, [k]: v };
      setRequests.push(k);
    }
  }
  const out: string[] = [];
  if (setRequests.length > 0) out.push(`${setRequests.sort().join(", ")} request for ${prefix} ${c.name}`);
  if (setLimits.length > 0) out.push(`${setLimits.sort().join(", ")} limit for ${prefix} ${c.name}`);
  return out;
}

const qstr = (q: Quantity) => formatQuantity(q);

/** minConstraint / maxConstraint / limitRequestRatioConstraint, for one resource. */
export function constraintErrors(limitType: string, item: Item, requests: Map<string, Quantity>, limits: Map<string, Quantity>): string[] {
  const out: string[] = [];
  for (const [r, raw] of Object.entries(item.min ?? {})) {
    const min = quantityOf(raw);
    if (!min) continue;
    const req = requests.get(r);
    const lim = limits.get(r);
    if (!req) out.push(`minimum ${r} usage per ${limitType} is ${qstr(min)}.  No request is specified`);
    else if (req.nanos < min.nanos) out.push(`minimum ${r} usage per ${limitType} is ${qstr(min)}, but request is ${qstr(req)}`);
    else if (lim && lim.nanos < min.nanos) out.push(`minimum ${r} usage per ${limitType} is ${qstr(min)}, but limit is ${qstr(lim)}`);
  }
  for (const [r, raw] of Object.entries(item.max ?? {})) {
    const max = quantityOf(raw);
    if (!max) continue;
    const req = requests.get(r);
    const lim = limits.get(r);
    if (!lim) out.push(`maximum ${r} usage per ${limitType} is ${qstr(max)}.  No limit is specified`);
    else if (lim.nanos > max.nanos) out.push(`maximum ${r} usage per ${limitType} is ${qstr(max)}, but limit is ${qstr(lim)}`);
    else if (req && req.nanos > max.nanos) out.push(`maximum ${r} usage per ${limitType} is ${qstr(max)}, but request is ${qstr(req)}`);
  }
  for (const [r, raw] of Object.entries(item.maxLimitRequestRatio ?? {})) {
    const ratio = quantityOf(raw);
    if (!ratio) continue;
    const req = requests.get(r);
    const lim = limits.get(r);
    if (!req || req.nanos === 0n) out.push(`${r} max limit to request ratio per ${limitType} is ${qstr(ratio)}, but no request is specified or request is 0`);
    else if (!lim || lim.nanos === 0n) out.push(`${r} max limit to request ratio per ${limitType} is ${qstr(ratio)}, but no limit is specified or limit is 0`);
    else {
      const observed = Number(lim.nanos) / Number(req.nanos);
      if (observed * 1e9 > Number(ratio.nanos)) out.push(`${r} max limit to request ratio per ${limitType} is ${qstr(ratio)}, but provided ratio is ${observed.toFixed(6)}`);
    }
  }
  return out;
}

function quantities(v: unknown): Map<string, Quantity> {
  const m = new Map<string, Quantity>();
  for (const [k, raw] of Object.entries(asObj(v) ?? {})) {
    const q = quantityOf(raw);
    if (q) m.set(k, q);
  }
  return m;
}

export class LimitRanger implements Admission {
  readonly name = "LimitRanger";
  readonly operations: AdmissionRequest["operation"][] = ["CREATE"];
  readonly resources = ["pods"];

  constructor(
    private readonly client: Client,
    private readonly ranges: Informer | undefined,
  ) {}

  async #items(namespace: string): Promise<Item[]> {
    const list = this.ranges?.hasSynced() ? this.ranges.list(namespace) : (await this.client.list(LIMIT_RANGES, { namespace })).items;
    return list.flatMap((lr: KubeObject) => asArr(asObj(lr.spec)?.limits).map((i) => (asObj(i) ?? {}) as Item));
  }

  async mutate(req: AdmissionRequest): Promise<void> {
    if (req.operation !== "CREATE" || req.subresource || !req.object) return;
    const items = (await this.#items(req.namespace)).filter((i) => i.type === "Container");
    if (items.length === 0) return;
    const pod = req.object as KubeObject & { spec?: PodSpec };
    const spec = (pod.spec ??= {});
    const parts: string[] = [];
    for (const item of items) {
      const defaults = { requests: (item.defaultRequest ?? {}) as List, limits: (item.default ?? {}) as List };
      for (const c of spec.initContainers ?? []) parts.push(...mergeDefaults(c, defaults, "init container"));
      for (const c of spec.containers ?? []) parts.push(...mergeDefaults(c, defaults, "container"));
    }
    if (parts.length > 0) {
      pod.metadata.annotations = { ...pod.metadata.annotations, [LIMIT_RANGER_ANNOTATION]: `LimitRanger plugin set: ${parts.join("; ")}` };
    }
  }

  async validate(req: AdmissionRequest): Promise<void> {
    if (req.operation !== "CREATE" || req.subresource || !req.object) return;
    const items = await this.#items(req.namespace);
    if (items.length === 0) return;
    const spec = ((req.object as Json).spec ?? {}) as PodSpec;
    const errs: string[] = [];
    for (const item of items) {
      if (item.type === "Container") {
        for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
          errs.push(...constraintErrors("Container", item, quantities(c.resources?.requests), quantities(c.resources?.limits)));
        }
      } else if (item.type === "Pod") {
        errs.push(...constraintErrors("Pod", item, podCompute(spec, "requests"), podCompute(spec, "limits")));
      }
    }
    if (errs.length === 0) return;
    // utilerrors.NewAggregate: one error as is, several in brackets.
    const message = errs.length === 1 ? errs[0]! : `[${errs.join(", ")}]`;
    throw errors.forbidden({ resource: "pods", group: "", name: req.name }, message);
  }
}
