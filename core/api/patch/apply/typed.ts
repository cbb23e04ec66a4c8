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
import { childSchema, declaredProperty, keyword, listItemSchema, patchMetaOf, schemaType } from "../schema-lookup.ts";
import { FieldSet, fieldPE, keyPE, pathToString, peToString, type FieldPath, type PathElement } from "./fieldpath.ts";

export type NodeType =
  | { kind: "scalar" }
  | { kind: "map"; atomic: boolean }
  | { kind: "list"; listType: "atomic" | "set" | "map"; keys: string[]; item: Schema | undefined };

const SCALAR: NodeType = { kind: "scalar" };

/** The shape of `v` under schema `s` (a value of the wrong shape is a leaf). */
export function nodeType(s: Schema | undefined, v: unknown): NodeType {
  const t = schemaType(s);
  if (t === "object" || (t === undefined && isObject(v))) {
    if (!isObject(v)) return SCALAR;
    return { kind: "map", atomic: keyword(s, "x-kubernetes-map-type") === "atomic" };
  }
  if (t === "array" || (t === undefined && Array.isArray(v))) {
    if (!Array.isArray(v)) return SCALAR;
    return listTypeOf(s);
  }
  return SCALAR;
}

function listTypeOf(s: Schema | undefined): NodeType {
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

/** Whether `field` is a declared property (struct field) of object schema `s`. */
export function isDeclared(s: Schema | undefined, field: string): boolean {
  return declaredProperty(s, field) !== undefined;
}

/**
 * The path element identifying a list item, or an error message when a
 * map-list item lacks a key field that has no default.
 */
export function itemPathElement(t: Extract<NodeType, { kind: "list" }>, item: unknown): PathElement | string {
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

/** Items of a granular list with their identity; items without one get a position-only id. */
export function indexItems(
  t: Extract<NodeType, { kind: "list" }>,
  list: unknown[],
  side: string,
): Array<{ id: string; pe: PathElement | undefined; item: unknown }> {
  return list.map((item, i) => {
    const pe = itemPathElement(t, item);
    return typeof pe === "string" ? { id: `${side}#${i}`, pe: undefined, item } : { id: peToString(pe), pe, item };
  });
}

export class SchemaViolation extends Error {}

/**
 * The field set of `v` (ToFieldSet). `strict` (for applied configurations)
 * rejects map-list items without keys and duplicate items with a
 * SchemaViolation; otherwise such items are left out (or owned as a whole).
 */
export function fieldSetOf(v: unknown, schema: Schema | undefined, opts: { strict: boolean }): FieldSet {
  const out = new FieldSet();
  const problems: string[] = [];
  walk(v, schema, [], out, problems, opts.strict);
  if (problems.length > 0) throw new SchemaViolation(problems.join(", "));
  return out;
}

function walk(v: unknown, s: Schema | undefined, path: FieldPath, out: FieldSet, problems: string[], strict: boolean): void {
  const t = nodeType(s, v);
  if (t.kind === "scalar" || (t.kind === "map" && t.atomic) || (t.kind === "list" && t.listType === "atomic")) {
    if (path.length > 0) out.insert(path);
    return;
  }
  if (t.kind === "map") {
    for (const [k, cv] of Object.entries(v as Record<string, unknown>)) {
      const cp = [...path, fieldPE(k)];
      walk(cv, childSchema(s, k), cp, out, problems, strict);
      if (!isDeclared(s, k) || cv === null || (isObject(cv) && Object.keys(cv).length === 0)) out.insert(cp);
    }
    return;
  }
  const seen = new Set<string>();
  (v as unknown[]).forEach((item, i) => {
    const pe = itemPathElement(t, item);
    if (typeof pe === "string") {
      if (strict) problems.push(`${pathToString(path)}: element ${i}: ${pe}`);
      return;
    }
    const ip = [...path, pe];
    const id = peToString(pe);
    if (seen.has(id)) {
      if (strict) problems.push(`${pathToString(path)}: duplicate entries for key ${pathToString([pe])}`);
      return;
    }
    seen.add(id);
    walk(item, t.item, ip, out, problems, strict);
    out.insert(ip);
  });
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
