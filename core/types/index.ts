/**
 * @module Built-in kinds: the declarations (schema, defaults, validation,
 * table columns, selectable fields, subresources, names) of core/v1 and
 * apps/v1, plus shared schemas and helpers the server needs (Binding,
 * Eviction, Scale, DeleteOptions, Status, humanDuration). See README.md.
 */
import type { ResourceTypeInit } from "../api/registry.ts";
import { appsV1Types } from "./apps-v1/index.ts";
import { coreV1Types } from "./core-v1/index.ts";

/** Every built-in kind, in registration order (core/v1 first). The declarations are shared module constants: treat them as read-only. */
export function builtinTypes(): ResourceTypeInit[] {
  return [...coreV1Types(), ...appsV1Types()];
}

export { appsV1Types } from "./apps-v1/index.ts";
export { coreV1Types } from "./core-v1/index.ts";
export { BINDING_SCHEMA, EVICTION_SCHEMA, OBJECT_REFERENCE, POD_SPEC, POD_TEMPLATE_SPEC, podSummary } from "./core-v1/index.ts";
export { SCALE_SCHEMA } from "./scale.ts";
export {
  CONDITION,
  CREATION_TIMESTAMP_DESCRIPTION,
  DELETE_OPTIONS,
  LABEL_SELECTOR,
  LIST_META,
  NAME_DESCRIPTION,
  OBJECT_META,
  OWNER_REFERENCE,
  STATUS,
} from "./meta-schemas.ts";
export { humanDuration, shortHumanDuration, timeSince } from "./duration.ts";
export { canonicalQuantity, compareQuantity, formatQuantity, parseQuantity, type Quantity } from "./quantity.ts";
export { canonicalizeQuantities } from "./normalize.ts";
export { formatLabelSelector, formatLabels, labelSelectorString } from "./table.ts";
export * as dsl from "./schema-dsl.ts";
