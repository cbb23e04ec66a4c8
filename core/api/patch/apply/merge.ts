/**
 * @module The three value walks of server-side apply, after
 * structured-merge-diff's typed package:
 * - `mergeValues`: overlay an applied configuration on the live object
 *   (leaves, atomic maps and atomic lists from the configuration win; maps
 *   merge per field; set and map lists merge per item, keeping live-only
 *   items in place and configuration items in configuration order);
 * - `compareValues`: which paths the new object added, modified or removed;
 * - `removeItems`: drop the paths of a field set from a value.
 * A `null` in an applied configuration unsets the field.
 */
import type { Schema } from "../../schema.ts";
import { deepClone, deepEqual, isObject, type JsonObject } from "../json-value.ts";
import { childSchema, hasDeclaredProperties, keyword } from "../schema-lookup.ts";
import { FieldSet, fieldPE, type FieldPath } from "./fieldpath.ts";
import { indexItems, isDeclared, nodeType, type NodeType } from "./typed.ts";

type ListType = Extract<NodeType, { kind: "list" }>;

function isLeaf(t: NodeType): boolean {
  return t.kind === "scalar" || (t.kind === "map" && t.atomic) || (t.kind === "list" && t.listType === "atomic");
}

/** `rhs` merged over `lhs` (either may be undefined = absent); inputs untouched. */
export function mergeValues(lhs: unknown, rhs: unknown, s: Schema | undefined): unknown {
  if (rhs === undefined) return deepClone(lhs);
  const t = nodeType(s, rhs);
  if (isLeaf(t)) return deepClone(rhs);
  if (t.kind === "map") {
    const l: JsonObject = isObject(lhs) ? lhs : {};
    const r = rhs as JsonObject;
    const out: JsonObject = {};
    for (const [k, lv] of Object.entries(l)) {
      if (!Object.hasOwn(r, k)) out[k] = deepClone(lv);
      else if (r[k] !== null) out[k] = mergeValues(lv, r[k], childSchema(s, k));
    }
    for (const [k, rv] of Object.entries(r)) {
      if (!Object.hasOwn(l, k) && rv !== null) out[k] = mergeValues(undefined, rv, childSchema(s, k));
    }
    return out;
  }
  return mergeLists(Array.isArray(lhs) ? lhs : [], rhs as unknown[], t as ListType);
}

/**
 * Merges list items by identity. Live-only items stay where they were;
 * items the configuration mentions come in the configuration's order.
 */
function mergeLists(lhs: unknown[], rhs: unknown[], t: ListType): unknown[] {
  const left = indexItems(t, lhs, "lhs");
  const right = dedupeById(indexItems(t, rhs, "rhs"));
  const observedL = new Map<string, unknown>();
  for (const { id, item } of left) if (!observedL.has(id)) observedL.set(id, item);
  const observedR = new Map(right.map(({ id, item }) => [id, item] as const));
  const sharedOrder = right.filter(({ id }) => observedL.has(id)).map(({ id }) => id);
  let sharedAt = 0;
  let nextShared = sharedOrder[sharedAt++];
  const merged = new Set<string>();
  const out: unknown[] = [];
  const take = (id: string): void => {
    merged.add(id);
    out.push(mergeValues(observedL.get(id), observedR.get(id), t.item));
  };
  let li = 0;
  let ri = 0;
  while (li < left.length || ri < right.length) {
    const l = left[li];
    const r = right[ri];
    if (l && r) {
      if (l.id === r.id) {
        take(l.id);
        li++;
        ri++;
        nextShared = sharedOrder[sharedAt++];
        continue;
      }
      if (observedR.has(l.id) && nextShared !== undefined && nextShared !== l.id) {
        li++;
        continue;
      }
    }
    if (l) {
      if (!observedR.has(l.id)) {
        out.push(deepClone(l.item));
        li++;
        continue;
      }
      if (merged.has(l.id)) {
        li++;
        continue;
      }
    }
    if (r) {
      take(r.id);
      ri++;
      if (nextShared === r.id) nextShared = sharedOrder[sharedAt++];
    }
  }
  return out;
}

function dedupeById<T extends { id: string }>(items: T[]): T[] {
  const seen = new Set<string>();
  return items.filter(({ id }) => (seen.has(id) ? false : (seen.add(id), true)));
}

/** Paths added, modified and removed going from `lhs` to `rhs`. */
export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/** Compares two objects (structured-merge-diff TypedValue.Compare). */
export function compareValues(lhs: unknown, rhs: unknown, s: Schema | undefined): Comparison {
  const c: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  compareNode(lhs, rhs, s, [], false, c);
  return c;
}

function isEmptyContainer(v: unknown): boolean {
  return v === undefined || (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0);
}

/**
 * `zeroPresent`: the node is a declared field that upstream's Go types never
 * omit (a struct, or a field the parent lists as required), so its own
 * appearance or disappearance is not recorded, only its contents'.
 */
function compareNode(l: unknown, r: unknown, s: Schema | undefined, path: FieldPath, zeroPresent: boolean, c: Comparison): void {
  const t = nodeType(s, r !== undefined ? r : l);
  const sameShape = l === undefined || r === undefined || nodeType(s, l).kind === nodeType(s, r).kind;
  // Both sides empty (or absent): a leaf, so {} vs absent is still a change.
  if (isLeaf(t) || !sameShape || (t.kind !== "scalar" && isEmptyContainer(l) && isEmptyContainer(r))) {
    if (path.length === 0) return;
    if (l === undefined) c.added.insert(path);
    else if (r === undefined) c.removed.insert(path);
    else if (!deepEqual(l, r)) c.modified.insert(path);
    return;
  }
  if (t.kind === "map") {
    const lm: JsonObject = isObject(l) ? l : {};
    const rm: JsonObject = isObject(r) ? r : {};
    const keys = new Set([...Object.keys(lm), ...Object.keys(rm)]);
    const required = new Set(keyword(s, "required") ?? []);
    for (const k of keys) {
      const cs = childSchema(s, k);
      const zero = isDeclared(s, k) && (required.has(k) || (nodeType(cs, rm[k] ?? lm[k]).kind === "map" && hasDeclaredProperties(cs)));
      compareNode(lm[k], rm[k], cs, [...path, fieldPE(k)], zero, c);
    }
  } else if (t.kind === "list") {
    const left = dedupeById(indexItems(t, Array.isArray(l) ? l : [], "lhs"));
    const right = dedupeById(indexItems(t, Array.isArray(r) ? r : [], "rhs"));
    const byId = new Map(left.map((x) => [x.id, x] as const));
    const rightIds = new Set(right.map((x) => x.id));
    for (const x of right) {
      if (x.pe) compareNode(byId.get(x.id)?.item, x.item, t.item, [...path, x.pe], false, c);
    }
    for (const x of left) {
      if (x.pe && !rightIds.has(x.id)) compareNode(x.item, undefined, t.item, [...path, x.pe], false, c);
    }
  }
  // A container appearing or disappearing is itself added or removed.
  if (path.length === 0 || zeroPresent) return;
  if (l === undefined) c.added.insert(path);
  else if (r === undefined) c.removed.insert(path);
}

/** `v` without the members of `set` (and everything below them); undefined if emptied. */
export function removeItems(v: unknown, set: FieldSet, s: Schema | undefined): unknown {
  if (set.isEmpty()) return v;
  const t = nodeType(s, v);
  if (isLeaf(t) || isEmptyContainer(v)) return v;
  if (t.kind === "map") {
    const out: JsonObject = {};
    for (const [k, cv] of Object.entries(v as JsonObject)) {
      const pe = fieldPE(k);
      if (set.hasMember(pe)) continue;
      const kept = removeItems(cv, set.child(pe), childSchema(s, k));
      if (kept !== undefined) out[k] = kept;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  const out: unknown[] = [];
  for (const { pe, item } of indexItems(t as ListType, v as unknown[], "v")) {
    if (!pe) {
      out.push(item);
      continue;
    }
    if (set.hasMember(pe)) continue;
    out.push(removeItems(item, set.child(pe), (t as ListType).item) ?? {});
  }
  return out.length > 0 ? out : undefined;
}
