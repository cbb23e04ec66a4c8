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
 *
 * Each schema node's rules are resolved once and remembered (schemas are
 * treated as immutable once in use); `core/server/prune.ts` shares them
 * (`fieldRules`, `memberSchema`) to report the same paths while pruning.
 */
import type { StatusCause } from "./errors.ts";
import type { Schema } from "./schema.ts";

/** What strict validation knows about a schema node, its `allOf` members merged in. */
export interface FieldRules {
  props: Map<string, Schema>;
  additional: Schema | boolean | undefined;
  preserve: boolean;
  embedded: boolean;
  items: Schema | undefined;
  types: Set<string>;
  intOrString: boolean;
  /** Some structural information exists (type, properties, items…). */
  described: boolean;
  /** Whether the members of an object value are checked at all (see `walk`). */
  walksObjects: boolean;
  /** Whether the schema is the full ObjectMeta (see `isObjectMeta`). */
  objectMeta: boolean;
}

/** Resolved rules per schema node; schemas are treated as immutable once in use. */
const rulesCache = new WeakMap<Schema, FieldRules>();

/** The (cached, shared: do not modify) rules of a schema node. */
export function fieldRules(s: Schema): FieldRules {
  let r = rulesCache.get(s);
  if (!r) {
    r = resolve(s);
    r.walksObjects = r.described && (r.types.size === 0 || r.types.has("object")) && !(r.preserve && r.props.size === 0 && r.additional === undefined);
    r.objectMeta = isObjectMeta(s);
    rulesCache.set(s, r);
  }
  return r;
}

function resolve(s: Schema, out?: FieldRules, seen = new Set<Schema>()): FieldRules {
  const r: FieldRules = out ?? {
    props: new Map(),
    additional: undefined,
    preserve: false,
    embedded: false,
    items: undefined,
    types: new Set(),
    intOrString: false,
    described: false,
    walksObjects: false,
    objectMeta: false,
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
 * How strict validation treats member `k` of an object whose rules are `r`
 * (`top`: the object is the root): the schema to check its value against,
 * `null` when it is accepted without looking inside, `undefined` when it is
 * an unknown field.
 */
export function memberSchema(r: FieldRules, k: string, top: boolean): Schema | null | undefined {
  const ps = r.props.get(k);
  if (ps) return k === "metadata" && (top || r.embedded) && !fieldRules(ps).objectMeta ? null : ps;
  if (typeof r.additional === "object") return r.additional;
  if (r.additional === true || r.preserve) return null;
  if ((top || r.embedded) && TOP_LEVEL.has(k)) return null;
  return undefined;
}

/** A path under construction: a prefix plus keys and indexes, rendered only when a field is reported. */
export interface PathStack {
  prefix: string;
  segments: Array<string | number>;
}

/** `spec.containers[0].imagee`. */
export function renderPath(p: PathStack): string {
  let out = p.prefix;
  for (const seg of p.segments) out = typeof seg === "number" ? `${out}[${seg}]` : join(out, seg);
  return out;
}

/**
 * Paths of fields in `value` that `schema` does not declare, in document
 * order. `path` prefixes every result (default: the object is the root, where
 * apiVersion, kind and metadata are always allowed).
 */
export function findUnknownFields(schema: Schema, value: unknown, path = ""): string[] {
  const out: string[] = [];
  collectUnknownFields(schema, value, path === "", { prefix: path, segments: [] }, out);
  return out;
}

/**
 * The walk behind `findUnknownFields`: appends the unknown fields below
 * `value` (at `path`; `top`: it is the root) to `out`. `path` is restored.
 */
export function collectUnknownFields(schema: Schema, value: unknown, top: boolean, path: PathStack, out: string[]): void {
  walk(schema, value, top, path, out);
}

function walk(schema: Schema, value: unknown, top: boolean, path: PathStack, out: string[]): void {
  if (typeof value !== "object" || value === null) return;
  const r = fieldRules(schema);
  if (r.intOrString) return;
  if (Array.isArray(value)) {
    const items = r.items;
    if (!items) return;
    for (let i = 0; i < value.length; i++) {
      path.segments.push(i);
      walk(items, value[i], false, path, out);
      path.segments.pop();
    }
    return;
  }
  if (!r.walksObjects) return;
  const obj = value as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    const cs = memberSchema(r, k, top);
    if (cs === null) continue;
    path.segments.push(k);
    if (cs === undefined) out.push(renderPath(path));
    else walk(cs, obj[k], false, path, out);
    path.segments.pop();
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
  const r = fieldRules(schema);
  if (r.intOrString) {
    if (!(typeof value === "string" || (typeof value === "number" && Number.isInteger(value)))) {
      out.push(typeCause(path, value, "integer,string"));
    }
    return;
  }
  if (r.types.size > 0 && !matchesAny(r.types, value)) {
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
  for (const k of Object.keys(value)) {
    const ps = r.props.get(k) ?? (typeof r.additional === "object" ? r.additional : undefined);
    if (ps) check(ps, value[k], join(path, k), out);
  }
}

function matchesAny(types: Set<string>, v: unknown): boolean {
  for (const t of types) if (matchesType(t, v)) return true;
  return false;
}

function schemaFormat(s: Schema): string | undefined {
  if (s.format) return s.format;
  for (const sub of s.allOf ?? []) {
    const f = schemaFormat(sub);
    if (f) return f;
  }
  return undefined;
}
