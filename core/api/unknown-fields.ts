/**
 * @module Strict field validation against a structural schema: the paths of
 * fields a schema does not declare (what `fieldValidation=Strict` rejects and
 * `Warn` reports), and wrong JSON types. Paths look like upstream's strict
 * decoding errors: `spec.foo`, `spec.template.spec.containers[0].imagee`,
 * map entries as `.key`.
 *
 * Rules: properties (merged through allOf) are known; `additionalProperties`
 * makes any key known (checked against its schema when it is one);
 * `x-kubernetes-preserve-unknown-fields` accepts unknown keys (and everything
 * below a node that declares no properties); embedded resources and the top
 * level always accept apiVersion, kind and metadata (metadata is walked only
 * when its schema is the full ObjectMeta); int-or-string and other
 * scalars stop the walk. A schema that says nothing (`{}`) accepts anything.
 */
import type { StatusCause } from "./errors.ts";
import type { Schema } from "./schema.ts";

interface Resolved {
  props: Map<string, Schema>;
  additional: Schema | boolean | undefined;
  preserve: boolean;
  embedded: boolean;
  items: Schema | undefined;
  types: Set<string>;
  intOrString: boolean;
  /** Some structural information exists (type, properties, items…). */
  described: boolean;
}

function resolve(s: Schema, out?: Resolved, seen = new Set<Schema>()): Resolved {
  const r: Resolved = out ?? {
    props: new Map(),
    additional: undefined,
    preserve: false,
    embedded: false,
    items: undefined,
    types: new Set(),
    intOrString: false,
    described: false,
  };
  if (seen.has(s)) return r;
  seen.add(s);
  for (const [k, v] of Object.entries(s.properties ?? {})) if (!r.props.has(k)) r.props.set(k, v);
  if (s.properties) r.described = true;
  if (s.additionalProperties !== undefined && r.additional === undefined) r.additional = s.additionalProperties;
  if (s.additionalProperties !== undefined) r.described = true;
  if (s["x-kubernetes-preserve-unknown-fields"] === true) r.preserve = true;
  if (s["x-kubernetes-embedded-resource"] === true) r.embedded = true;
  if (s["x-kubernetes-int-or-string"] === true) {
    r.intOrString = true;
    r.described = true;
  }
  if (s.items && !r.items) r.items = s.items;
  if (s.type) {
    r.types.add(s.type);
    r.described = true;
  }
  for (const sub of s.allOf ?? []) resolve(sub, r, seen);
  for (const alt of [...(s.oneOf ?? []), ...(s.anyOf ?? [])]) {
    if (alt.type && !alt.properties && !alt.items) {
      r.types.add(alt.type);
      r.described = true;
    }
  }
  return r;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

const TOP_LEVEL = new Set(["apiVersion", "kind", "metadata"]);

/**
 * Paths of fields in `value` that `schema` does not declare, in document
 * order. `path` prefixes every result (default: the object is the root, where
 * apiVersion, kind and metadata are always allowed).
 */
export function findUnknownFields(schema: Schema, value: unknown, path = ""): string[] {
  const out: string[] = [];
  walk(schema, value, path, path === "", out);
  return out;
}

function walk(schema: Schema, value: unknown, path: string, top: boolean, out: string[]): void {
  const r = resolve(schema);
  if (r.intOrString) return;
  if (Array.isArray(value)) {
    if (r.items) value.forEach((item, i) => walk(r.items as Schema, item, `${path}[${i}]`, false, out));
    return;
  }
  if (!isPlainObject(value)) return;
  if (!r.described) return;
  if (r.types.size > 0 && !r.types.has("object")) return;
  if (r.preserve && r.props.size === 0 && r.additional === undefined) return;
  for (const [k, v] of Object.entries(value)) {
    const p = join(path, k);
    const ps = r.props.get(k);
    if (ps && k === "metadata" && (top || r.embedded) && !isObjectMeta(ps)) continue;
    if (ps) {
      walk(ps, v, p, false, out);
      continue;
    }
    if (typeof r.additional === "object") {
      walk(r.additional, v, p, false, out);
      continue;
    }
    if (r.additional === true || r.preserve) continue;
    if ((top || r.embedded) && TOP_LEVEL.has(k)) continue;
    out.push(p);
  }
}

const OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/**
 * Whether a schema is the full ObjectMeta. Object metadata is always checked
 * against ObjectMeta upstream; a CRD's partial `metadata` schema (e.g. only
 * `name` constraints) must not turn labels or annotations into unknown fields.
 */
function isObjectMeta(s: Schema): boolean {
  return s.name === OBJECT_META || (s.allOf ?? []).some(isObjectMeta);
}

/** The JSON type name of a value as schema validation reports it. */
export function jsonTypeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  if (typeof v === "object") return "object";
  return typeof v;
}

function matchesType(type: string, v: unknown): boolean {
  switch (type) {
    case "string":
      return typeof v === "string";
    case "integer":
      return typeof v === "number" && Number.isInteger(v);
    case "number":
      return typeof v === "number";
    case "boolean":
      return typeof v === "boolean";
    case "object":
      return isPlainObject(v);
    case "array":
      return Array.isArray(v);
    default:
      return true;
  }
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

function typeCause(path: string, v: unknown, expected: string): StatusCause {
  const actual = jsonTypeOf(v);
  return {
    reason: "FieldValueTypeInvalid",
    field: path,
    message: `Invalid value: "${actual}": ${path || "body"} in body must be of type ${expected}: "${actual}"`,
  };
}

/**
 * Wrong JSON types below `value` (a string where an integer is expected, an
 * object where a list is…), as field causes with the messages CRD validation
 * gives. `null` is accepted everywhere (it means "unset" to the Go decoder).
 */
export function typeErrors(schema: Schema, value: unknown, path = ""): StatusCause[] {
  const out: StatusCause[] = [];
  check(schema, value, path, out);
  return out;
}

function check(schema: Schema, value: unknown, path: string, out: StatusCause[]): void {
  if (value === null || value === undefined) return;
  const r = resolve(schema);
  if (r.intOrString) {
    if (!(typeof value === "string" || (typeof value === "number" && Number.isInteger(value)))) {
      out.push(typeCause(path, value, "integer,string"));
    }
    return;
  }
  if (r.types.size > 0 && ![...r.types].some((t) => matchesType(t, value))) {
    out.push(typeCause(path, value, [...r.types].join(",")));
    return;
  }
  if (typeof value === "number" && Number.isInteger(value) && schemaFormat(schema) === "int32" && (value < INT32_MIN || value > INT32_MAX)) {
    out.push({ reason: "FieldValueInvalid", field: path, message: `Invalid value: ${value}: must be a 32-bit integer` });
    return;
  }
  if (Array.isArray(value)) {
    if (r.items) value.forEach((item, i) => check(r.items as Schema, item, `${path}[${i}]`, out));
    return;
  }
  if (!isPlainObject(value)) return;
  for (const [k, v] of Object.entries(value)) {
    const ps = r.props.get(k) ?? (typeof r.additional === "object" ? r.additional : undefined);
    if (ps) check(ps, v, join(path, k), out);
  }
}

function schemaFormat(s: Schema): string | undefined {
  if (s.format) return s.format;
  for (const sub of s.allOf ?? []) {
    const f = schemaFormat(sub);
    if (f) return f;
  }
  return undefined;
}
