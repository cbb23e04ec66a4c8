/**
 * @module How server-side apply sees a value through its schema, after
 * structured-merge-diff's typed package and kube-openapi's schema
 * conversion:
 * - objects are structs (declared `properties`) or maps
 *   (`additionalProperties`, or no schema: "deduced"); `x-kubernetes-map-type:
 *   atomic` makes one a leaf;
 * - lists are `atomic` (the default, and always without a schema), `set`
 *   (items identified by value) or `map` (items identified by
 *   `x-kubernetes-list-map-keys`, missing keys taken from the item schema's
 *   defaults); without `x-kubernetes-list-type`, a `merge` patch strategy
 *   makes a map list keyed by the patch merge key, or a set;
 * - everything else is a scalar leaf.
 *
 * `fieldSetOf` lists what a value sets (structured-merge-diff ToFieldSet):
 * leaves, map entries, list items; declared struct fields only when they
 * hold null or `{}`.
 */
import type { Schema } from "../../schema.ts";
import { isObject } from "../json-value.ts";
import {
  childSchema,
  declaredProperties,
  declaredProperty,
  hasDeclaredProperties,
  keyword,
  listItemSchema,
  patchMetaOf,
  requiredFields,
  schemaType,
} from "../schema-lookup.ts";
import { FieldSet, fieldPE, keyPE, pathToString, peToString, type FieldPath, type PathElement } from "./fieldpath.ts";

export type NodeType =
  | { kind: "scalar" }
  | { kind: "map"; atomic: boolean }
  | { kind: "list"; listType: "atomic" | "set" | "map"; keys: string[]; item: Schema | undefined };

export type ListType = Extract<NodeType, { kind: "list" }>;

const SCALAR: NodeType = Object.freeze({ kind: "scalar" });
const GRANULAR_MAP: NodeType = Object.freeze({ kind: "map", atomic: false });
const ATOMIC_MAP: NodeType = Object.freeze({ kind: "map", atomic: true });
const UNTYPED_LIST: ListType = Object.freeze({ kind: "list", listType: "atomic", keys: [], item: undefined });

/** A member of an object as the walks see it: its path element and schema, and how the parent declares it. */
export interface Member {
  /** The element's spelling, `f:<name>`. */
  id: string;
  pe: PathElement;
  /** `childSchema` of the parent for this name. */
  schema: Schema | undefined;
  /** A declared property (struct field), not a map entry. */
  declared: boolean;
  /** Declared and listed in the parent's `required`. */
  required: boolean;
  /** Declared with a schema that declares properties (a struct). */
  struct: boolean;
}

/** What the walks need of a schema node, resolved once (through allOf). */
interface Typed {
  type: Schema["type"] | undefined;
  map: NodeType;
  list: ListType;
  /** Declared properties, with their elements encoded once. */
  declared: Map<string, Member>;
  /** The map value schema for undeclared names. */
  additional: Schema | undefined;
}

const typedCache = new WeakMap<Schema, Typed>();

function typed(s: Schema): Typed {
  let t = typedCache.get(s);
  if (!t) {
    const extra = keyword(s, "additionalProperties");
    const required = requiredFields(s);
    const declared = new Map<string, Member>();
    for (const [name, schema] of declaredProperties(s)) {
      const pe = Object.freeze(fieldPE(name));
      declared.set(name, { id: peToString(pe), pe, schema, declared: true, required: required.has(name), struct: hasDeclaredProperties(schema) });
    }
    t = {
      type: schemaType(s),
      map: keyword(s, "x-kubernetes-map-type") === "atomic" ? ATOMIC_MAP : GRANULAR_MAP,
      list: Object.freeze(listTypeOf(s)),
      declared,
      additional: typeof extra === "object" ? extra : undefined,
    };
    typedCache.set(s, t);
  }
  return t;
}

/**
 * What a walk over an object with schema `s` needs to resolve each member
 * without allocating: the declared members (shared: do not modify) and the
 * map value schema for the rest (`memberOf` in bulk).
 */
export function objectMembers(s: Schema | undefined): { declared: ReadonlyMap<string, Member> | undefined; additional: Schema | undefined } {
  return s ? typed(s) : NO_MEMBERS;
}

const NO_MEMBERS = Object.freeze({ declared: undefined, additional: undefined });

/** Member `name` of an object with schema `s`. Declared members are shared: do not modify. */
export function memberOf(s: Schema | undefined, name: string): Member {
  if (s) {
    const t = typed(s);
    const m = t.declared.get(name);
    if (m) return m;
    return { id: `f:${name}`, pe: fieldPE(name), schema: t.additional, declared: false, required: false, struct: false };
  }
  return { id: `f:${name}`, pe: fieldPE(name), schema: undefined, declared: false, required: false, struct: false };
}

/** The shape of `v` under schema `s` (a value of the wrong shape is a leaf). Results are shared: do not modify. */
export function nodeType(s: Schema | undefined, v: unknown): NodeType {
  if (!s) return isObject(v) ? GRANULAR_MAP : Array.isArray(v) ? UNTYPED_LIST : SCALAR;
  const t = typed(s);
  if (t.type === "object" || (t.type === undefined && isObject(v))) return isObject(v) ? t.map : SCALAR;
  if (t.type === "array" || (t.type === undefined && Array.isArray(v))) return Array.isArray(v) ? t.list : SCALAR;
  return SCALAR;
}

function listTypeOf(s: Schema | undefined): ListType {
  const item = listItemSchema(s);
  const declared = keyword(s, "x-kubernetes-list-type");
  if (declared === "map") {
    const keys = keyword(s, "x-kubernetes-list-map-keys") ?? [];
    return { kind: "list", listType: keys.length > 0 ? "map" : "atomic", keys, item };
  }
  if (declared === "set" || declared === "atomic") return { kind: "list", listType: declared, keys: [], item };
  const meta = patchMetaOf(s);
  if (typeof meta !== "string" && meta.strategy === "merge") {
    return meta.mergeKey ? { kind: "list", listType: "map", keys: [meta.mergeKey], item } : { kind: "list", listType: "set", keys: [], item };
  }
  return { kind: "list", listType: "atomic", keys: [], item };
}

/** Whether `t` is a leaf: a scalar, an atomic map or an atomic list. */
export function isLeaf(t: NodeType): boolean {
  return t.kind === "scalar" || (t.kind === "map" && t.atomic) || (t.kind === "list" && t.listType === "atomic");
}

/** Whether `field` is a declared property (struct field) of object schema `s`. */
export function isDeclared(s: Schema | undefined, field: string): boolean {
  return declaredProperty(s, field) !== undefined;
}

/**
 * The path element identifying a list item, or an error message when a
 * map-list item lacks a key field that has no default.
 */
export function itemPathElement(t: ListType, item: unknown): PathElement | string {
  if (t.listType === "set") return { kind: "value", value: item };
  if (!isObject(item)) return `expected an object, got ${Array.isArray(item) ? "a list" : JSON.stringify(item)}`;
  const fields: Array<[string, unknown]> = [];
  for (const k of t.keys) {
    let v = item[k];
    if (v === undefined) v = keyword(declaredProperty(t.item, k), "default");
    if (v === undefined) return `associative list with keys has an element that omits key field ${JSON.stringify(k)} (and doesn't have default value)`;
    fields.push([k, v]);
  }
  return keyPE(fields);
}

/** A list item with its identity; items without one get a position-only id and no path element. */
export interface IndexedItem {
  id: string;
  pe: PathElement | undefined;
  item: unknown;
}

/** Items of a granular list with their identity. */
export function indexItems(t: ListType, list: unknown[], side: string): IndexedItem[] {
  const out: IndexedItem[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    const pe = itemPathElement(t, item);
    out[i] = typeof pe === "string" ? { id: `${side}#${i}`, pe: undefined, item } : { id: peToString(pe), pe, item };
  }
  return out;
}

/** The first item of each identity. */
export function dedupeById<T extends { id: string }>(items: T[]): T[] {
  if (items.length < 2) return items;
  const seen = new Set<string>();
  return items.filter(({ id }) => (seen.has(id) ? false : (seen.add(id), true)));
}

/** Absent, `[]` or `{}`. */
export function isEmptyContainer(v: unknown): boolean {
  if (v === undefined) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (!isObject(v)) return false;
  for (const _ in v) return false;
  return true;
}

/**
 * Whether member `m` holding `v` is "zero present": a declared field that
 * upstream's Go types never omit (a struct, or a field the parent lists as
 * required), so that its own appearance or disappearance is not recorded.
 */
export function zeroPresent(m: Member, v: unknown): boolean {
  return m.declared && (m.required || (m.struct && nodeType(m.schema, v).kind === "map"));
}

export class SchemaViolation extends Error {}

/**
 * The field set of `v` (ToFieldSet). `strict` (for applied configurations)
 * rejects map-list items without keys and duplicate items with a
 * SchemaViolation; otherwise such items are left out (or owned as a whole).
 */
export function fieldSetOf(v: unknown, schema: Schema | undefined, opts: { strict: boolean }): FieldSet {
  const out = new FieldSet();
  const w: Walk = { problems: [], strict: opts.strict, path: [] };
  walkChildren(v, schema, nodeType(schema, v), out, w);
  if (w.problems.length > 0) throw new SchemaViolation(w.problems.join(", "));
  return out;
}

interface Walk {
  problems: string[];
  strict: boolean;
  /** The path of the node being walked (for error messages only). */
  path: FieldPath;
}

/** Records `v`, reached by `pe` (spelled `id`) from the node whose set is `into`. */
function walk(v: unknown, s: Schema | undefined, into: FieldSet, id: string, pe: PathElement, w: Walk, member: boolean): void {
  const t = nodeType(s, v);
  if (isLeaf(t)) {
    into.addMember(id, pe);
    return;
  }
  const below = new FieldSet();
  w.path.push(pe);
  walkChildren(v, s, t, below, w);
  w.path.pop();
  into.attach(id, pe, below);
  if (member) into.addMember(id, pe);
}

/** Records the contents of the map or granular list `v` of shape `t` into `out`. */
function walkChildren(v: unknown, s: Schema | undefined, t: NodeType, out: FieldSet, w: Walk): void {
  if (isLeaf(t)) return;
  if (t.kind === "map") {
    const m = v as Record<string, unknown>;
    for (const k of Object.keys(m)) {
      const cv = m[k];
      const f = memberOf(s, k);
      // Declared struct fields are members only when they hold null or {} (or a leaf, recorded by walk).
      const member = !f.declared || cv === null || (isObject(cv) && isEmptyObject(cv));
      walk(cv, f.schema, out, f.id, f.pe, w, member);
    }
    return;
  }
  const list = t as ListType;
  const items = v as unknown[];
  const seen = new Set<string>();
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const pe = itemPathElement(list, item);
    if (typeof pe === "string") {
      if (w.strict) w.problems.push(`${pathToString(w.path)}: element ${i}: ${pe}`);
      continue;
    }
    const id = peToString(pe);
    if (seen.has(id)) {
      if (w.strict) w.problems.push(`${pathToString(w.path)}: duplicate entries for key ${pathToString([pe])}`);
      continue;
    }
    seen.add(id);
    walk(item, list.item, out, id, pe, w, true);
  }
}

function isEmptyObject(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

/**
 * Adds, as members, every declared struct field that has children in the
 * set (structured-merge-diff EnsureNamedFieldsAreMembers), so that pruning
 * treats "spec" as owned when "spec.replicas" is.
 */
export function ensureNamedFieldsAreMembers(set: FieldSet, s: Schema | undefined): FieldSet {
  const out = new FieldSet();
  for (const { pe, member, child } of set.sortedEntries()) {
    if (member) out.insert([pe]);
    if (!child) continue;
    if (pe.kind === "field" && isDeclared(s, pe.name)) out.insert([pe]);
    out.insertUnder(pe, ensureNamedFieldsAreMembers(child, pe.kind === "field" ? childSchema(s, pe.name) : listItemSchema(s)));
  }
  return out;
}
