/**
 * @module Schema-driven normalization that upstream gets for free from Go
 * decoding and re-encoding: every resource.Quantity is rewritten in its
 * canonical form (`0.5` → `"500m"`, numbers become strings). Unparsable
 * quantities are reported, not changed.
 */
import type { Schema } from "../api/schema.ts";
import { ApiError } from "../api/errors.ts";
import { asObj } from "./object-access.ts";
import { canonicalQuantity } from "./quantity.ts";
import { QUANTITY } from "./schema-dsl.ts";

export interface QuantityIssue {
  field: string;
  value: unknown;
  error: string;
}

function isQuantity(s: Schema): boolean {
  return s === QUANTITY || s.name === QUANTITY.name || s.format === "quantity" || (s.allOf ?? []).some(isQuantity);
}

/** Properties, map values and items of `s`, looking through allOf. */
function childSchema(s: Schema, key: string | number): Schema | undefined {
  if (typeof key === "number") {
    if (s.items) return s.items;
  } else {
    const p = s.properties?.[key];
    if (p) return p;
    if (typeof s.additionalProperties === "object") return s.additionalProperties;
  }
  for (const sub of s.allOf ?? []) {
    const found = childSchema(sub, key);
    if (found) return found;
  }
  return undefined;
}

function isMapSchema(s: Schema): boolean {
  if (s.properties && Object.keys(s.properties).length > 0) return false;
  if (typeof s.additionalProperties === "object") return true;
  return (s.allOf ?? []).some(isMapSchema);
}

function wrap(c: Schema | undefined): Child | undefined {
  return c ? { schema: c, quantity: isQuantity(c) } : undefined;
}

/** What the walk needs of a schema node, resolved once (schemas are immutable once in use). */
interface Node {
  mapLike: boolean;
  items: Child | undefined;
  /** Declared properties and, for undeclared keys, the map value schema. */
  props: Map<string, Child>;
  additional: Child | undefined;
}

interface Child {
  schema: Schema;
  quantity: boolean;
  /** `quantity`, or a quantity may occur below (mayHoldQuantities), resolved on first use. */
  relevant?: boolean;
}

function relevant(c: Child): boolean {
  return (c.relevant ??= c.quantity || mayHoldQuantities(c.schema));
}

const nodes = new WeakMap<Schema, Node>();

function nodeOf(s: Schema): Node {
  let n = nodes.get(s);
  if (n) return n;
  n = { mapLike: isMapSchema(s), items: undefined, props: new Map(), additional: undefined };
  nodes.set(s, n); // before recursing: schemas may be cyclic
  n.items = wrap(childSchema(s, 0));
  const names = new Set<string>();
  const collect = (x: Schema): void => {
    for (const k of Object.keys(x.properties ?? {})) names.add(k);
    for (const sub of x.allOf ?? []) collect(sub);
  };
  collect(s);
  for (const k of names) {
    const c = wrap(childSchema(s, k));
    if (c) n.props.set(k, c);
  }
  n.additional = wrap(additionalOf(s));
  return n;
}

/** The schema childSchema gives a key that no properties (through allOf) declare. */
function additionalOf(s: Schema): Schema | undefined {
  if (typeof s.additionalProperties === "object") return s.additionalProperties;
  for (const sub of s.allOf ?? []) {
    const found = additionalOf(sub);
    if (found) return found;
  }
  return undefined;
}

function join(path: string, key: string | number, isMapValue: boolean): string {
  if (typeof key === "number") return `${path}[${key}]`;
  if (isMapValue) return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

/** Whether a quantity can occur below a schema node; filled for a whole reachable graph at once. */
const reach = new WeakMap<Schema, boolean>();

function subSchemas(s: Schema): Schema[] {
  const out: Schema[] = [...Object.values(s.properties ?? {}), ...(s.allOf ?? [])];
  if (typeof s.additionalProperties === "object") out.push(s.additionalProperties);
  if (s.items) out.push(s.items);
  return out;
}

function mayHoldQuantities(root: Schema): boolean {
  const known = reach.get(root);
  if (known !== undefined) return known;
  const graph: Schema[] = [];
  const seen = new Set<Schema>();
  const stack = [root];
  while (stack.length > 0) {
    const s = stack.pop() as Schema;
    if (seen.has(s) || reach.has(s)) continue;
    seen.add(s);
    graph.push(s);
    stack.push(...subSchemas(s));
  }
  // Least fixpoint over the (possibly cyclic) graph.
  const holds = new Set<Schema>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const n of graph) {
      if (holds.has(n)) continue;
      if (subSchemas(n).some((c) => isQuantity(c) || holds.has(c) || reach.get(c) === true)) {
        holds.add(n);
        changed = true;
      }
    }
  }
  for (const n of graph) reach.set(n, holds.has(n));
  return reach.get(root) as boolean;
}

/** A path rendered only when an issue is reported. */
interface Path {
  parent: Path | undefined;
  key: string | number;
  mapValue: boolean;
}

function render(root: string, p: Path | undefined): string {
  const chain: Path[] = [];
  for (let x = p; x; x = x.parent) chain.push(x);
  let out = root;
  for (let i = chain.length - 1; i >= 0; i--) {
    const x = chain[i] as Path;
    out = join(out, x.key, x.mapValue);
  }
  return out;
}

/** Rewrites every quantity below `value` (in place) to canonical form; returns the unparsable ones. */
export function canonicalizeQuantities(schema: Schema, value: unknown, path = ""): QuantityIssue[] {
  const issues: QuantityIssue[] = [];
  // A value's path is built only when it is reported or walked into.
  const fix = (v: unknown, parent: Path | undefined, key: string | number, mapValue: boolean): unknown => {
    if (typeof v !== "string" && typeof v !== "number") return v;
    const c = canonicalQuantity(v);
    if (typeof c === "string") return c;
    issues.push({ field: render(path, { parent, key, mapValue }), value: v, error: c.error });
    return v;
  };
  const visit = (s: Schema, v: unknown, at: Path | undefined): void => {
    if (Array.isArray(v)) {
      const item = nodeOf(s).items;
      if (!item || !relevant(item)) return;
      for (let i = 0; i < v.length; i++) {
        if (!(i in v)) continue; // a hole, which forEach skipped
        if (item.quantity) v[i] = fix(v[i], at, i, false);
        else visit(item.schema, v[i], { parent: at, key: i, mapValue: false });
      }
      return;
    }
    const o = asObj(v);
    if (!o) return;
    const n = nodeOf(s);
    for (const k of Object.keys(o)) {
      // Names of Object.prototype members take the uncached lookup (s.properties?.[k] finds them there).
      const c = n.props.get(k) ?? (k in Object.prototype ? wrap(childSchema(s, k)) : n.additional);
      if (!c || !relevant(c)) continue;
      if (c.quantity) o[k] = fix(o[k], at, k, n.mapLike);
      else visit(c.schema, o[k], { parent: at, key: k, mapValue: n.mapLike });
    }
  };
  visit(schema, value, undefined);
  return issues;
}

/**
 * Canonicalizes quantities and throws the 400 BadRequest upstream's decoder
 * answers for an unparsable one: `Pod in version "v1" cannot be handled as a Pod: quantities must match …`.
 */
export function canonicalizeQuantitiesOrThrow(schema: Schema, obj: unknown, kind: string, version: string): void {
  const issues = canonicalizeQuantities(schema, obj);
  const first = issues[0];
  if (first) {
    throw new ApiError({
      reason: "BadRequest",
      message: `${kind} in version "${version}" cannot be handled as a ${kind}: ${first.error}`,
    });
  }
}
