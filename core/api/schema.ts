/**
 * @module Structural schemas: the OpenAPI v3 subset (with Kubernetes'
 * `x-kubernetes-*` extensions) that describes a kind's fields. One schema
 * serves four consumers: `/openapi/v3` documents, strict field validation
 * (unknown fields), strategic merge patch (merge keys and strategies) and
 * server-side apply (list types and map keys). Built-in kinds declare theirs in
 * `core/types`; a CRD's comes from its `openAPIV3Schema`.
 *
 * A schema is a plain tree. Named nodes (`name` set, like
 * `io.k8s.api.core.v1.PodSpec`) become `#/components/schemas/<name>`
 * references in OpenAPI output and may be shared, or even cyclic (JSONSchemaProps).
 */

export interface Schema {
  /** OpenAPI component name; set on shared definitions so documents can `$ref` them. */
  name?: string;
  type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  format?: string;
  description?: string;
  properties?: Record<string, Schema>;
  /** A map's value schema (`true` = any). */
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  nullable?: boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  uniqueItems?: boolean;
  allOf?: Schema[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  not?: Schema;
  /** Any JSON is allowed below this node (no unknown-field errors). */
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  /** An int or a string (`intstr.IntOrString`). */
  "x-kubernetes-int-or-string"?: boolean;
  /** A full object with apiVersion/kind/metadata (e.g. RawExtension in a CRD). */
  "x-kubernetes-embedded-resource"?: boolean;
  /** How server-side apply treats a list. */
  "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-map-type"?: "atomic" | "granular";
  /** Strategic merge patch: the key that identifies list items. */
  "x-kubernetes-patch-merge-key"?: string;
  /** Strategic merge patch: `merge`, `replace`, `retainKeys` or `merge,retainKeys`. */
  "x-kubernetes-patch-strategy"?: string;
  "x-kubernetes-group-version-kind"?: { group: string; version: string; kind: string }[];
}

/**
 * The schema of `field` below `s`, looking through allOf wrappers;
 * undefined when unknown (callers treat unknown as "no special handling").
 */
export function propertySchema(s: Schema | undefined, field: string): Schema | undefined {
  if (!s) return undefined;
  const direct = s.properties?.[field];
  if (direct) return direct;
  if (typeof s.additionalProperties === "object") return s.additionalProperties;
  for (const sub of s.allOf ?? []) {
    const found = propertySchema(sub, field);
    if (found) return found;
  }
  return undefined;
}

/** The schema of a list's items, looking through allOf wrappers. */
export function itemsSchema(s: Schema | undefined): Schema | undefined {
  if (!s) return undefined;
  if (s.items) return s.items;
  for (const sub of s.allOf ?? []) {
    const found = itemsSchema(sub);
    if (found) return found;
  }
  return undefined;
}
