/**
 * @module scheduling.k8s.io/v1 PriorityClass: cluster-scoped, preemptionPolicy
 * defaulted to PreemptLowerPriority, upstream's system-prefix and value-limit
 * checks, value and preemptionPolicy immutable, and the NAME VALUE
 * GLOBAL-DEFAULT AGE PREEMPTIONPOLICY columns. (Only one globalDefault class
 * is enforced by upstream's Priority admission plugin, not modelled here.)
 */
import type { StatusCause } from "../../api/errors.ts";
import type { KubeObject } from "../../api/meta.ts";
import type { ResourceTypeInit } from "../../api/registry.ts";
import { OBJECT_META } from "../meta-schemas.ts";
import { fieldForbidden, fieldInvalid, fieldNotSupported } from "../field-errors.ts";
import { asNum, isNil, jsonEqual, strAt } from "../object-access.ts";
import { bool, int32, kindSchema, ref, str } from "../schema-dsl.ts";
import { ageColumn, column, nameColumn } from "../table.ts";

export const PRIORITY_CLASS_SCHEMA = kindSchema(
  "io.k8s.api.scheduling.v1.PriorityClass",
  { group: "scheduling.k8s.io", version: "v1", kind: "PriorityClass" },
  ref(OBJECT_META),
  { description: str(), globalDefault: bool(), preemptionPolicy: str(), value: int32() },
);
PRIORITY_CLASS_SCHEMA.required = ["value"];

const HIGHEST_USER_DEFINABLE_PRIORITY = 1000000000;
const SYSTEM_CLASSES: Record<string, number> = { "system-cluster-critical": 2000000000, "system-node-critical": 2000001000 };
const PREEMPTION_POLICIES = ["Never", "PreemptLowerPriority"];

/** scheduling.IsKnownSystemPriorityClass's error, or undefined. */
function systemClassError(name: string, value: number, globalDefault: boolean): string | undefined {
  const want = SYSTEM_CLASSES[name];
  if (want === undefined) return `${name} is not a known system priority class`;
  if (want !== value) return `value of ${name} PriorityClass must be ${want}`;
  if (globalDefault) return `globalDefault of ${name} PriorityClass must be false`;
  return undefined;
}

/** ValidatePriorityClass / ValidatePriorityClassUpdate. */
export function validatePriorityClass(o: KubeObject, old?: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const name = o.metadata.name ?? "";
  const value = asNum(o.value) ?? 0;
  if (old) {
    if ((asNum(old.value) ?? 0) !== value) causes.push(fieldForbidden("value", "may not be changed in an update."));
    if (!jsonEqual(o.preemptionPolicy ?? null, old.preemptionPolicy ?? null)) causes.push(fieldInvalid("preemptionPolicy", o.preemptionPolicy ?? null, "field is immutable"));
    return causes;
  }
  if (name.startsWith("system-")) {
    const err = systemClassError(name, value, o.globalDefault === true);
    if (err) causes.push(fieldForbidden("metadata.name", `priority class names with 'system-' prefix are reserved for system use only. error: ${err}`));
  } else if (value > HIGHEST_USER_DEFINABLE_PRIORITY) {
    causes.push(fieldForbidden("value", `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`));
  }
  if (!isNil(o.preemptionPolicy) && !PREEMPTION_POLICIES.includes(String(o.preemptionPolicy))) {
    causes.push(fieldNotSupported("preemptionPolicy", o.preemptionPolicy, PREEMPTION_POLICIES));
  }
  return causes;
}

export const priorityClassType: ResourceTypeInit = {
  group: "scheduling.k8s.io",
  version: "v1",
  kind: "PriorityClass",
  plural: "priorityclasses",
  singular: "priorityclass",
  shortNames: ["pc"],
  namespaced: false,
  tracksGeneration: false,
  schema: PRIORITY_CLASS_SCHEMA,
  columns: [
    nameColumn(),
    column("Value", "integer", "value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec.", (o) => asNum(o.value) ?? 0),
    column("Global-Default", "boolean", "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class. Only one PriorityClass can be marked as `globalDefault`. However, if more than one PriorityClasses exists with their `globalDefault` field set to true, the smallest value of such global default PriorityClasses will be used as the default priority.", (o) => o.globalDefault === true),
    ageColumn(),
    column("PreemptionPolicy", "string", "preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset.", (o) => strAt(o, "preemptionPolicy")),
  ],
  strategy: {
    defaults(o) {
      if (isNil(o.preemptionPolicy)) o.preemptionPolicy = "PreemptLowerPriority";
    },
    validate: validatePriorityClass,
  },
};

/** Every scheduling.k8s.io/v1 kind. */
export function schedulingV1Types(): ResourceTypeInit[] {
  return [priorityClassType];
}
