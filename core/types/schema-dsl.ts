/**
 * @module A terse builder language for structural schemas (core/api/schema.ts).
 * Built-in kinds declare their fields with it; CRD-like groups added later use
 * the same builders.
 *
 * Conventions:
 * - `obj(name, props, opts)` makes an object; pass a component name
 *   (`io.k8s.api.core.v1.PodSpec`) for shared definitions, `undefined` for inline ones.
 * - Named schemas are shared by identity. To give a field its own description
 *   or default, wrap with `ref(named, {description})`, which yields
 *   `{allOf: [named], description}` like upstream's OpenAPI v3.
 * - List annotations are spelled out per field, as upstream's Go tags
 *   (`+patchMergeKey`, `+patchStrategy`, `+listType`, `+listMapKey`) have them.
 * - Cycles: build the object first, then assign `properties` afterwards.
 */
import type { Schema } from "../api/schema.ts";

export interface Common {
  description?: string;
  default?: unknown;
  nullable?: boolean;
}

export interface StrOpts extends Common {
  format?: string;
  enum?: string[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
}

export interface NumOpts extends Common {
  minimum?: number;
  maximum?: number;
}

export interface ObjOpts extends Common {
  required?: string[];
  /** Any field is allowed below (x-kubernetes-preserve-unknown-fields). */
  preserveUnknown?: boolean;
  /** A full object with apiVersion/kind/metadata (x-kubernetes-embedded-resource). */
  embedded?: boolean;
  mapType?: "atomic" | "granular";
  /** Strategic merge patch strategy of the field holding this object (`retainKeys`). */
  strategy?: string;
  /** Values allowed for unlisted keys (a struct with a map tail, rare). */
  additionalProperties?: Schema | boolean;
}

export interface ListOpts extends Common {
  listType?: "atomic" | "set" | "map";
  mapKeys?: string[];
  mergeKey?: string;
  /** `merge`, `replace`, `retainKeys` or `merge,retainKeys`. */
  strategy?: string;
  minItems?: number;
  maxItems?: number;
}

function common(s: Schema, o: Common | undefined): Schema {
  if (!o) return s;
  if (o.description !== undefined) s.description = o.description;
  if (o.default !== undefined) s.default = o.default;
  if (o.nullable !== undefined) s.nullable = o.nullable;
  return s;
}

export function str(o?: StrOpts): Schema {
  const s = common({ type: "string" }, o);
  if (o?.format) s.format = o.format;
  if (o?.enum) s.enum = [...o.enum];
  if (o?.pattern) s.pattern = o.pattern;
  if (o?.minLength !== undefined) s.minLength = o.minLength;
  if (o?.maxLength !== undefined) s.maxLength = o.maxLength;
  return s;
}

/** A string restricted to `values` (upstream `+enum`). */
export function enumStr(values: string[], o?: Common): Schema {
  return str({ ...o, enum: values });
}

/** base64 bytes (`[]byte` in Go): a string with format `byte`. */
export function bytes(o?: Common): Schema {
  return str({ ...o, format: "byte" });
}

function num(type: "integer" | "number", format: string, o: NumOpts | undefined): Schema {
  const s = common({ type, format }, o);
  if (o?.minimum !== undefined) s.minimum = o.minimum;
  if (o?.maximum !== undefined) s.maximum = o.maximum;
  return s;
}

export function int32(o?: NumOpts): Schema {
  return num("integer", "int32", o);
}

export function int64(o?: NumOpts): Schema {
  return num("integer", "int64", o);
}

export function double(o?: NumOpts): Schema {
  return num("number", "double", o);
}

export function bool(o?: Common): Schema {
  return common({ type: "boolean" }, o);
}

export function obj(name: string | undefined, props: Record<string, Schema>, o?: ObjOpts): Schema {
  const s: Schema = { type: "object", properties: props };
  if (name) s.name = name;
  common(s, o);
  if (o?.required?.length) s.required = [...o.required];
  if (o?.preserveUnknown) s["x-kubernetes-preserve-unknown-fields"] = true;
  if (o?.embedded) s["x-kubernetes-embedded-resource"] = true;
  if (o?.mapType) s["x-kubernetes-map-type"] = o.mapType;
  if (o?.strategy) s["x-kubernetes-patch-strategy"] = o.strategy;
  if (o?.additionalProperties !== undefined) s.additionalProperties = o.additionalProperties;
  return s;
}

export function arr(items: Schema, o?: ListOpts): Schema {
  const s = common({ type: "array", items }, o);
  if (o?.listType) s["x-kubernetes-list-type"] = o.listType;
  if (o?.mapKeys) s["x-kubernetes-list-map-keys"] = [...o.mapKeys];
  if (o?.mergeKey) s["x-kubernetes-patch-merge-key"] = o.mergeKey;
  if (o?.strategy) s["x-kubernetes-patch-strategy"] = o.strategy;
  if (o?.minItems !== undefined) s.minItems = o.minItems;
  if (o?.maxItems !== undefined) s.maxItems = o.maxItems;
  return s;
}

/** `+listType=atomic`: replaced as a whole by apply and merge patches. */
export function atomic(items: Schema, o?: Common): Schema {
  return arr(items, { ...o, listType: "atomic" });
}

/** `+listType=set` of scalars. */
export function set(items: Schema, o?: Common & { strategy?: string }): Schema {
  return arr(items, { ...o, listType: "set" });
}

/**
 * `+listType=map` keyed by `keys`. `mergeKey`/`strategy` are the strategic
 * merge patch tags; most upstream map-lists pair `mergeKey: keys[0]` with
 * `strategy: "merge"`, which is what `keyed` spells.
 */
export function mapList(items: Schema, keys: string[], o?: Common & { mergeKey?: string; strategy?: string }): Schema {
  return arr(items, { ...o, listType: "map", mapKeys: keys });
}

/** The common upstream pair: `+patchMergeKey=<k0> +patchStrategy=merge +listType=map +listMapKey=<keys…>`. */
export function keyed(items: Schema, keys: string[], o?: Common & { strategy?: string }): Schema {
  const first = keys[0];
  return arr(items, { ...o, listType: "map", mapKeys: keys, strategy: o?.strategy ?? "merge", ...(first ? { mergeKey: first } : {}) });
}

/** A JSON object used as a map: `additionalProperties` is the value schema. */
export function map(values: Schema, o?: Common & { mapType?: "atomic" | "granular" }): Schema {
  const s = common({ type: "object", additionalProperties: values }, o);
  if (o?.mapType) s["x-kubernetes-map-type"] = o.mapType;
  return s;
}

/** `map[string]string`. */
export function strMap(o?: Common & { mapType?: "atomic" | "granular" }): Schema {
  return map(str(), o);
}

/** `{allOf: [target], …}`: a field that refers to a named schema and adds its own description or default. */
export function ref(target: Schema, o?: Common): Schema {
  if (!o || (o.description === undefined && o.default === undefined && o.nullable === undefined)) return target;
  return common({ allOf: [target] }, o);
}

export const INT_OR_STRING: Schema = {
  name: "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
  description:
    "IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.",
  format: "int-or-string",
  oneOf: [{ type: "integer" }, { type: "string" }],
  "x-kubernetes-int-or-string": true,
};

export const QUANTITY: Schema = {
  name: "io.k8s.apimachinery.pkg.api.resource.Quantity",
  description:
    "Quantity is a fixed-point representation of a number. It provides convenient marshaling/unmarshaling in JSON and YAML, in addition to String() and AsInt64() accessors.",
  format: "quantity",
  oneOf: [{ type: "string" }, { type: "number" }],
};

export const TIME: Schema = {
  name: "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
  description:
    "Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON.  Wrappers are provided for many of the factory methods that the time package offers.",
  type: "string",
  format: "date-time",
};

export const MICRO_TIME: Schema = {
  name: "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime",
  description: "MicroTime is version of Time with microsecond level precision.",
  type: "string",
  format: "date-time",
};

/** Any JSON object (RawExtension, FieldsV1, free-form config). */
export const RAW_EXTENSION: Schema = {
  name: "io.k8s.apimachinery.pkg.runtime.RawExtension",
  description: "RawExtension is used to hold extensions in external versions.",
  type: "object",
  "x-kubernetes-preserve-unknown-fields": true,
};

export function intOrString(o?: Common): Schema {
  return ref(INT_OR_STRING, o);
}

/** resource.Quantity: a string in JSON output, a string or number on input. */
export function quantity(o?: Common): Schema {
  return ref(QUANTITY, o);
}

/** metav1.Time: an RFC 3339 string. */
export function time(o?: Common): Schema {
  return ref(TIME, o);
}

export function microTime(o?: Common): Schema {
  return ref(MICRO_TIME, o);
}

/** A `map[ResourceName]Quantity` (requests, limits, capacity). */
export function resourceList(o?: Common): Schema {
  return map(QUANTITY, o);
}

/** An object whose fields are not checked (x-kubernetes-preserve-unknown-fields). */
export function preserveUnknown(o?: Common): Schema {
  return common({ type: "object", "x-kubernetes-preserve-unknown-fields": true }, o);
}

/** A named object whose fields are deliberately not modelled (rare legacy volume sources). */
export function opaque(name: string, o?: Common): Schema {
  const s = preserveUnknown(o);
  s.name = name;
  return s;
}

export interface Gvk {
  group: string;
  version: string;
  kind: string;
}

/**
 * A kind's top-level schema: apiVersion, kind, metadata plus `props`,
 * annotated with its group-version-kind.
 */
export function kindSchema(name: string, gvk: Gvk, metadata: Schema, props: Record<string, Schema>, o?: Common): Schema {
  const s = obj(name, { apiVersion: str(), kind: str(), metadata, ...props }, o);
  s["x-kubernetes-group-version-kind"] = [{ ...gvk }];
  return s;
}

/** Walks `s` and every sub-schema once (named schemas may be shared or cyclic). */
export function walkSchemas(s: Schema, visit: (node: Schema) => void): void {
  const seen = new Set<Schema>();
  const go = (n: Schema): void => {
    if (seen.has(n)) return;
    seen.add(n);
    visit(n);
    for (const p of Object.values(n.properties ?? {})) go(p);
    if (typeof n.additionalProperties === "object") go(n.additionalProperties);
    if (n.items) go(n.items);
    for (const list of [n.allOf, n.anyOf, n.oneOf]) for (const x of list ?? []) go(x);
    if (n.not) go(n.not);
  };
  go(s);
}
