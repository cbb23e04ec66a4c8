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
import { childSchema } from "../schema-lookup.ts";
import { FieldSet, fieldPE, type PathElement } from "./fieldpath.ts";
import { dedupeById, indexItems, isEmptyContainer, isLeaf, memberOf, nodeType, zeroPresent, type ListType } from "./typed.ts";

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

/** Paths added, modified and removed going from `lhs` to `rhs`. */
export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/** Compares two objects (structured-merge-diff TypedValue.Compare). */
export function compareValues(lhs: unknown, rhs: unknown, s: Schema | undefined): Comparison {
  const c: Cursor = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet(), ids: [], pes: [] };
  compareNode(lhs, rhs, s, false, c);
  return { added: c.added, modified: c.modified, removed: c.removed };
}

/**
 * The comparison being built plus the path of the node being compared, as
 * a stack of path elements and their spellings (pushed and popped around
 * each child, so no path is built unless something is recorded there).
 */
interface Cursor extends Comparison {
  ids: string[];
  pes: PathElement[];
}

/**
 * Compares the node at the cursor. `zero`: it is zero-present (see
 * `zeroPresent` in typed.ts), so its own appearance or disappearance is not
 * recorded, only its contents'.
 */
function compareNode(l: unknown, r: unknown, s: Schema | undefined, zero: boolean, c: Cursor): void {
  const depth = c.ids.length;
  if (l === r) {
    // Identical values differ nowhere, except that a key holding `undefined` (no JSON
    // value at all) is always reported as added, as the generic walk below does.
    if (l === undefined) {
      if (depth > 0) c.added.insertEncoded(c.ids, c.pes, depth);
      return;
    }
    if (typeof l !== "object" || l === null || !holdsUndefined(l)) return;
  }
  if (l === undefined || r === undefined) {
    // Present on one side only: everything below it was added or removed.
    if (depth === 0) {
      // The root itself is never recorded: compare against an empty container instead.
      const other = l === undefined ? r : l;
      if (!isObject(other) && !Array.isArray(other)) return;
      const empty = Array.isArray(other) ? [] : {};
      compareNode(l === undefined ? empty : l, r === undefined ? empty : r, s, zero, c);
      return;
    }
    const one = new FieldSet();
    oneSided(l === undefined ? r : l, s, one, zero, c);
    (l === undefined ? c.added : c.removed).graftEncoded(c.ids, c.pes, depth - 1, one);
    return;
  }
  const t = nodeType(s, r);
  const sameShape = nodeType(s, l).kind === t.kind;
  // Both sides empty: a leaf, so {} vs [] is still a change.
  if (isLeaf(t) || !sameShape || (t.kind !== "scalar" && isEmptyContainer(l) && isEmptyContainer(r))) {
    if (depth > 0 && !deepEqual(l, r)) c.modified.insertEncoded(c.ids, c.pes, depth);
    return;
  }
  if (t.kind === "map") {
    const lm = l as JsonObject;
    const rm = r as JsonObject;
    for (const k of Object.keys(rm)) visitField(lm, rm, k, s, c);
    for (const k of Object.keys(lm)) if (!Object.hasOwn(rm, k)) visitField(lm, rm, k, s, c);
  } else if (t.kind === "list") {
    const list = t as ListType;
    const left = dedupeById(indexItems(list, l as unknown[], "lhs"));
    const right = dedupeById(indexItems(list, r as unknown[], "rhs"));
    const byId = new Map<string, unknown>();
    for (const x of left) byId.set(x.id, x.item);
    const rightIds = new Set<string>();
    for (const x of right) {
      rightIds.add(x.id);
      if (x.pe) visit(byId.get(x.id), x.item, list.item, x.id, x.pe, false, c);
    }
    for (const x of left) {
      if (x.pe && !rightIds.has(x.id)) visit(x.item, undefined, list.item, x.id, x.pe, false, c);
    }
  }
  // Present on both sides, so the container itself was neither added nor removed.
}

function visitField(lm: JsonObject, rm: JsonObject, k: string, s: Schema | undefined, c: Cursor): void {
  const m = memberOf(s, k);
  const lv = lm[k];
  const rv = rm[k];
  visit(lv, rv, m.schema, m.id, m.pe, zeroPresent(m, rv ?? lv), c);
}

function visit(l: unknown, r: unknown, s: Schema | undefined, id: string, pe: PathElement, zero: boolean, c: Cursor): void {
  c.ids.push(id);
  c.pes.push(pe);
  compareNode(l, r, s, zero, c);
  c.ids.pop();
  c.pes.pop();
}

/**
 * What compareNode records for a value present on one side only (the node
 * at the cursor), into `into`, the set of its parent: every leaf, and every
 * container that is not zero-present. Keys holding `undefined` go to
 * `added` whichever side they are on.
 */
function oneSided(v: unknown, s: Schema | undefined, into: FieldSet, zero: boolean, c: Cursor): void {
  const depth = c.ids.length;
  const id = c.ids[depth - 1] as string;
  const pe = c.pes[depth - 1] as PathElement;
  if (v === undefined) {
    c.added.insertEncoded(c.ids, c.pes, depth);
    return;
  }
  const t = nodeType(s, v);
  if (isLeaf(t) || (t.kind !== "scalar" && isEmptyContainer(v))) {
    into.addMember(id, pe);
    return;
  }
  const below = new FieldSet();
  if (t.kind === "map") {
    const m = v as JsonObject;
    for (const k of Object.keys(m)) {
      const cv = m[k];
      const f = memberOf(s, k);
      c.ids.push(f.id);
      c.pes.push(f.pe);
      oneSided(cv, f.schema, below, zeroPresent(f, cv), c);
      c.ids.pop();
      c.pes.pop();
    }
  } else {
    const list = t as ListType;
    for (const x of dedupeById(indexItems(list, v as unknown[], "v"))) {
      if (!x.pe) continue;
      c.ids.push(x.id);
      c.pes.push(x.pe);
      oneSided(x.item, list.item, below, false, c);
      c.ids.pop();
      c.pes.pop();
    }
  }
  into.attach(id, pe, below);
  if (!zero) into.addMember(id, pe);
}

/** Whether an object or array holds `undefined` anywhere below it. */
function holdsUndefined(v: object): boolean {
  if (Array.isArray(v)) {
    for (const x of v) if (x === undefined || (typeof x === "object" && x !== null && holdsUndefined(x))) return true;
    return false;
  }
  for (const k in v) {
    const x = (v as JsonObject)[k];
    if (x === undefined || (typeof x === "object" && x !== null && holdsUndefined(x))) return true;
  }
  return false;
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
