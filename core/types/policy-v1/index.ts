/**
 * @module policy/v1 PodDisruptionBudget (schema, validation, status
 * subresource, the MIN AVAILABLE / MAX UNAVAILABLE / ALLOWED DISRUPTIONS
 * columns) and the Eviction body of `pods/eviction`.
 */
import type { StatusCause } from "../../api/errors.ts";
import type { KubeObject } from "../../api/meta.ts";
import type { ResourceTypeInit } from "../../api/registry.ts";
import type { Schema } from "../../api/schema.ts";
import { CONDITION, LABEL_SELECTOR, OBJECT_META } from "../meta-schemas.ts";
import { fieldInvalidRendered, fieldNotSupported } from "../field-errors.ts";
import { asObj, getPath, isNil, numAt } from "../object-access.ts";
import { int32, int64, intOrString, keyed, kindSchema, map, obj, ref, str, TIME } from "../schema-dsl.ts";
import { ageColumn, column, intOrStringText, nameColumn } from "../table.ts";
import { validateLabelSelector, validateNotMoreThan100Percent, validatePositiveIntOrPercent } from "../core-v1/common-validation.ts";

const POLICY = "io.k8s.api.policy.v1";

/** `+patchStrategy=replace` on the selector field. */
const REPLACED_SELECTOR: Schema = { allOf: [LABEL_SELECTOR], "x-kubernetes-patch-strategy": "replace" };

export const PDB_SCHEMA = kindSchema(`${POLICY}.PodDisruptionBudget`, { group: "policy", version: "v1", kind: "PodDisruptionBudget" }, ref(OBJECT_META), {
  spec: obj(`${POLICY}.PodDisruptionBudgetSpec`, {
    maxUnavailable: intOrString(),
    minAvailable: intOrString(),
    selector: REPLACED_SELECTOR,
    unhealthyPodEvictionPolicy: str(),
  }),
  status: obj(
    `${POLICY}.PodDisruptionBudgetStatus`,
    {
      conditions: keyed(CONDITION, ["type"]),
      currentHealthy: int32(),
      desiredHealthy: int32(),
      disruptedPods: map(TIME),
      disruptionsAllowed: int32(),
      expectedPods: int32(),
      observedGeneration: int64(),
    },
    { required: ["disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods"] },
  ),
});

const EVICTION_POLICIES = ["AlwaysAllow", "IfHealthyBudget"];

function goIntOrString(v: unknown): string {
  return v === undefined || v === null ? "(*intstr.IntOrString)(nil)" : JSON.stringify(v);
}

/** ValidatePodDisruptionBudgetSpec. */
export function validatePdb(o: KubeObject): StatusCause[] {
  const spec = asObj(o.spec) ?? {};
  const causes: StatusCause[] = [];
  if (!isNil(spec.minAvailable) && !isNil(spec.maxUnavailable)) {
    const rendered = `policy.PodDisruptionBudgetSpec{MinAvailable:${goIntOrString(spec.minAvailable)}, Selector:…, MaxUnavailable:${goIntOrString(spec.maxUnavailable)}, UnhealthyPodEvictionPolicy:…}`;
    causes.push(fieldInvalidRendered("spec", rendered, "minAvailable and maxUnavailable cannot be both set"));
  }
  for (const f of ["minAvailable", "maxUnavailable"]) {
    if (isNil(spec[f])) continue;
    causes.push(...validatePositiveIntOrPercent(spec[f], `spec.${f}`), ...validateNotMoreThan100Percent(spec[f], `spec.${f}`));
  }
  causes.push(...validateLabelSelector(spec.selector, "spec.selector"));
  const policy = spec.unhealthyPodEvictionPolicy;
  if (!isNil(policy) && !EVICTION_POLICIES.includes(String(policy))) {
    causes.push(fieldNotSupported("spec.unhealthyPodEvictionPolicy", policy, EVICTION_POLICIES));
  }
  return causes;
}

function nOrNA(v: unknown): string {
  return isNil(v) ? "N/A" : intOrStringText(v);
}

export const pdbType: ResourceTypeInit = {
  group: "policy",
  version: "v1",
  kind: "PodDisruptionBudget",
  plural: "poddisruptionbudgets",
  singular: "poddisruptionbudget",
  shortNames: ["pdb"],
  namespaced: true,
  schema: PDB_SCHEMA,
  subresources: { status: true },
  columns: [
    nameColumn(),
    column("Min Available", "string", "The minimum number of pods that must be available.", (o) => nOrNA(getPath(o, "spec", "minAvailable"))),
    column("Max Unavailable", "string", "The maximum number of pods that may be unavailable.", (o) => nOrNA(getPath(o, "spec", "maxUnavailable"))),
    column("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time.", (o) => numAt(o, "status", "disruptionsAllowed")),
    ageColumn(),
  ],
  strategy: {
    validate: validatePdb,
    prepareForCreate(o) {
      o.status = { currentHealthy: 0, desiredHealthy: 0, disruptionsAllowed: 0, expectedPods: 0 };
    },
  },
};

/** Every policy/v1 kind. */
export function policyV1Types(): ResourceTypeInit[] {
  return [pdbType];
}

/** Body of `POST pods/{name}/eviction` (policy/v1 Eviction; declared with the Pod kind). */
export { EVICTION_SCHEMA } from "../core-v1/pod.ts";
