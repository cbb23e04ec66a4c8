/**
 * @module The core/v1 ResourceQuota and LimitRange kinds: schemas, the
 * LimitRange container defaults (default ← max, defaultRequest ← default,
 * min), the commonly hit validation (resource names, quantities, scopes,
 * min/default/max ordering) and the `kubectl get quota|limits` columns.
 */
import type { StatusCause } from "../../api/errors.ts";
import type { KubeObject } from "../../api/meta.ts";
import type { ResourceTypeInit } from "../../api/registry.ts";
import { isQualifiedName } from "../../api/validation.ts";
import { OBJECT_META } from "../meta-schemas.ts";
import { child, fieldDuplicate, fieldForbidden, fieldInvalid, fieldRequired, index, key } from "../field-errors.ts";
import { canonicalizeQuantitiesOrThrow } from "../normalize.ts";
import { asArr, asObj, asStr, ensureObj, getPath, objsAt, type JsonObject } from "../object-access.ts";
import { compareQuantity, quantityOf } from "../quantity.ts";
import { atomic, kindSchema, obj, ref, resourceList, str } from "../schema-dsl.ts";
import { ageColumn, column, createdAtColumn, nameColumn } from "../table.ts";
import { validateResourceList } from "./common-validation.ts";
import { CORE } from "./container-schema.ts";

export const RESOURCE_QUOTA_SCHEMA = kindSchema(`${CORE}.ResourceQuota`, { group: "", version: "v1", kind: "ResourceQuota" }, ref(OBJECT_META), {
  spec: obj(`${CORE}.ResourceQuotaSpec`, {
    hard: resourceList(),
    scopeSelector: obj(
      `${CORE}.ScopeSelector`,
      {
        matchExpressions: atomic(
          obj(`${CORE}.ScopedResourceSelectorRequirement`, { operator: str(), scopeName: str(), values: atomic(str()) }, { required: ["scopeName", "operator"] }),
        ),
      },
      { mapType: "atomic" },
    ),
    scopes: atomic(str()),
  }),
  status: obj(`${CORE}.ResourceQuotaStatus`, { hard: resourceList(), used: resourceList() }),
});

const LIMIT_RANGE_ITEM = obj(
  `${CORE}.LimitRangeItem`,
  { default: resourceList(), defaultRequest: resourceList(), max: resourceList(), maxLimitRequestRatio: resourceList(), min: resourceList(), type: str() },
  { required: ["type"] },
);

export const LIMIT_RANGE_SCHEMA = kindSchema(`${CORE}.LimitRange`, { group: "", version: "v1", kind: "LimitRange" }, ref(OBJECT_META), {
  spec: obj(`${CORE}.LimitRangeSpec`, { limits: atomic(LIMIT_RANGE_ITEM) }, { required: ["limits"] }),
});

const STANDARD_QUOTA_RESOURCES = new Set([
  "pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps", "persistentvolumeclaims",
  "services.nodeports", "services.loadbalancers", "cpu", "memory", "ephemeral-storage",
  "requests.cpu", "requests.memory", "requests.storage", "requests.ephemeral-storage",
  "limits.cpu", "limits.memory", "limits.ephemeral-storage",
]);

function isStandardQuotaResource(name: string): boolean {
  return STANDARD_QUOTA_RESOURCES.has(name) || name.startsWith("hugepages-") || name.startsWith("requests.hugepages-");
}

const QUOTA_SCOPES = ["Terminating", "NotTerminating", "BestEffort", "NotBestEffort", "PriorityClass", "CrossNamespacePodAffinity", "VolumeAttributesClass"];

/** ValidateResourceQuotaSpec (names, non-negative quantities, known scopes). */
export function validateResourceQuota(o: KubeObject): StatusCause[] {
  const spec = asObj(o.spec) ?? {};
  const causes: StatusCause[] = [];
  for (const name of Object.keys(asObj(spec.hard) ?? {})) {
    const path = key("spec.hard", name);
    causes.push(...isQualifiedName(name).map((m) => fieldInvalid(path, name, m)));
    if (!name.includes("/") && !isStandardQuotaResource(name)) causes.push(fieldInvalid(path, name, "must be a standard resource for quota"));
  }
  causes.push(...validateResourceList(spec.hard, "spec.hard", { checkNames: false }));
  asArr(spec.scopes).forEach((s, i) => {
    if (!QUOTA_SCOPES.includes(String(s))) causes.push(fieldInvalid(index("spec.scopes", i), s, "unsupported scope"));
  });
  return causes;
}

function quotaCells(o: KubeObject): { requests: string; limits: string } {
  const hard = asObj(getPath(o, "status", "hard")) ?? {};
  const used = asObj(getPath(o, "status", "used")) ?? {};
  const requests: string[] = [];
  const limits: string[] = [];
  for (const name of Object.keys(hard).sort()) {
    const text = `${name}: ${String(used[name] ?? "0")}/${String(hard[name])}`;
    (name.split(".").length > 1 && name.startsWith("limits.") ? limits : requests).push(text);
  }
  return { requests: requests.join(", "), limits: limits.join(", ") };
}

export const resourceQuotaType: ResourceTypeInit = {
  group: "",
  version: "v1",
  kind: "ResourceQuota",
  plural: "resourcequotas",
  singular: "resourcequota",
  shortNames: ["quota"],
  namespaced: true,
  tracksGeneration: false,
  schema: RESOURCE_QUOTA_SCHEMA,
  subresources: { status: true },
  columns: [
    nameColumn(),
    ageColumn(),
    column("Request", "string", "Request represents a minimum amount of cpu/memory that a container may consume.", (o) => quotaCells(o).requests),
    column("Limit", "string", "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.", (o) => quotaCells(o).limits),
  ],
  strategy: {
    defaults(o) {
      canonicalizeQuantitiesOrThrow(RESOURCE_QUOTA_SCHEMA, o, "ResourceQuota", "v1");
    },
    validate: validateResourceQuota,
    prepareForCreate(o) {
      o.status = {};
    },
  },
};

/** SetDefaults_LimitRangeItem for Container items (maps left empty stay absent, as Go's omitempty drops them). */
export function defaultLimitRange(o: KubeObject): void {
  for (const item of objsAt(o, "spec", "limits")) {
    if (item.type !== "Container") continue;
    const def: JsonObject = { ...(asObj(item.default) ?? {}) };
    const req: JsonObject = { ...(asObj(item.defaultRequest) ?? {}) };
    for (const [k, v] of Object.entries(asObj(item.max) ?? {})) if (!(k in def)) def[k] = v;
    for (const [k, v] of Object.entries(def)) if (!(k in req)) req[k] = v;
    for (const [k, v] of Object.entries(asObj(item.min) ?? {})) if (!(k in req)) req[k] = v;
    if (Object.keys(def).length > 0) item.default = def;
    if (Object.keys(req).length > 0) item.defaultRequest = req;
  }
}

const LIMIT_TYPES = ["Pod", "Container", "PersistentVolumeClaim"];

/** ValidateLimitRange: type names, duplicates, Pod-type restrictions, and min ≤ defaultRequest ≤ default ≤ max. */
export function validateLimitRange(o: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const seen = new Set<string>();
  objsAt(o, "spec", "limits").forEach((item, i) => {
    const p = index("spec.limits", i);
    const type = asStr(item.type) ?? "";
    if (type === "") causes.push(fieldRequired(child(p, "type")));
    else if (!LIMIT_TYPES.includes(type) && !type.includes("/")) causes.push(fieldInvalid(child(p, "type"), type, "must be a standard limit type or fully qualified"));
    if (seen.has(type)) causes.push(fieldDuplicate(child(p, "type"), type));
    seen.add(type);
    for (const f of ["max", "min", "default", "defaultRequest", "maxLimitRequestRatio"]) causes.push(...validateResourceList(item[f], child(p, f), { checkNames: false }));
    if (type === "Pod") {
      for (const f of ["default", "defaultRequest"]) {
        if (Object.keys(asObj(item[f]) ?? {}).length > 0) causes.push(fieldForbidden(child(p, f), "may not be specified when `type` is 'Pod'"));
      }
    }
    const get = (f: string, k: string) => {
      const raw = asObj(item[f])?.[k];
      const q = quantityOf(raw);
      return q ? { q, text: String(raw) } : undefined;
    };
    const names = new Set(["max", "min", "default", "defaultRequest"].flatMap((f) => Object.keys(asObj(item[f]) ?? {})));
    for (const k of names) {
      const min = get("min", k);
      const max = get("max", k);
      const def = get("default", k);
      const req = get("defaultRequest", k);
      if (min && max && compareQuantity(min.q, max.q) > 0) causes.push(fieldInvalid(key(child(p, "min"), k), min.text, `min value ${min.text} is greater than max value ${max.text}`));
      if (req && min && compareQuantity(min.q, req.q) > 0) causes.push(fieldInvalid(key(child(p, "defaultRequest"), k), req.text, `min value ${min.text} is greater than default request value ${req.text}`));
      if (req && max && compareQuantity(req.q, max.q) > 0) causes.push(fieldInvalid(key(child(p, "defaultRequest"), k), req.text, `default request value ${req.text} is greater than max value ${max.text}`));
      if (req && def && compareQuantity(req.q, def.q) > 0) causes.push(fieldInvalid(key(child(p, "defaultRequest"), k), req.text, `default request value ${req.text} is greater than default limit value ${def.text}`));
      if (def && min && compareQuantity(min.q, def.q) > 0) causes.push(fieldInvalid(key(child(p, "default"), k), min.text, `min value ${min.text} is greater than default value ${def.text}`));
      if (def && max && compareQuantity(def.q, max.q) > 0) causes.push(fieldInvalid(key(child(p, "default"), k), max.text, `default value ${def.text} is greater than max value ${max.text}`));
    }
  });
  return causes;
}

export const limitRangeType: ResourceTypeInit = {
  group: "",
  version: "v1",
  kind: "LimitRange",
  plural: "limitranges",
  singular: "limitrange",
  shortNames: ["limits"],
  namespaced: true,
  tracksGeneration: false,
  schema: LIMIT_RANGE_SCHEMA,
  columns: [nameColumn(), createdAtColumn()],
  strategy: {
    defaults(o) {
      canonicalizeQuantitiesOrThrow(LIMIT_RANGE_SCHEMA, o, "LimitRange", "v1");
      ensureObj(o as JsonObject, "spec");
      defaultLimitRange(o);
    },
    validate: validateLimitRange,
  },
};
