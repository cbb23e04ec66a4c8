/**
 * @module The ownership a create records, computed in one walk. For a new
 * object whose request carries no managedFields, `updateManagedFields`
 * gives the creator every field the object sets, which in general it gets
 * by comparing the object with nothing (`compareValues`), then removing the
 * reset fields (recursively) and the never-owned fields (`STRIPPED_FIELDS`,
 * members only) from the resulting FieldSet and encoding it. This walk
 * applies the same rules and both removals as it goes and writes the
 * `fieldsV1` JSON text directly, in the same order `FieldSet.toFieldsV1`
 * does; the entry carries the text and parses it only when read
 * (`fields-v1-text.ts`).
 *
 * It runs on every create, so what it needs of each schema node is resolved
 * once into a `Plan` (shapes, members with their quoted ids, and the sorted
 * order of the member names last seen there, which objects of one kind
 * repeat) and reached through the parent's plan, not looked up per value.
 */
import type { Schema } from "../../schema.ts";
import { isObject, type JsonObject } from "../json-value.ts";
import { comparePE, itemElementId, type FieldSet, type PathElement } from "./fieldpath.ts";
import { isEmptyContainer, isLeaf, itemPathElement, nodeType, objectMembers, type ListType, type NodeType } from "./typed.ts";

/** How the parent declares a member: upstream's Go types never record a "zero present" one itself. */
interface Declared {
  declared: boolean;
  required: boolean;
  struct: boolean;
}

const UNDECLARED: Declared = Object.freeze({ declared: false, required: false, struct: false });

/** What the walk needs of one schema node (or of no schema), resolved once. */
interface Plan {
  /** `nodeType` of an object and of an array under this schema (anything else is a scalar). */
  onObject: NodeType;
  onArray: NodeType;
  declared: ReturnType<typeof objectMembers>["declared"];
  additional: Schema | undefined;
  /** Members by name, as met (bounded: map keys can be anything). */
  slots: Map<string, Slot>;
  /** The plan of list items, once met. */
  item: Plan | undefined;
  /** The member names last seen here, in object order, and the same sorted. */
  lastKeys: string[] | undefined;
  lastSorted: string[] | undefined;
}

interface Slot {
  id: string;
  q: string;
  how: Declared;
  schema: Schema | undefined;
  plan: Plan | undefined;
}

const plans = new WeakMap<Schema, Plan>();
let untyped: Plan | undefined;
const MAX_SLOTS = 256;
const SCALAR: NodeType = nodeType(undefined, 0);

function planOf(s: Schema | undefined): Plan {
  if (!s) return (untyped ??= newPlan(undefined));
  let p = plans.get(s);
  if (!p) plans.set(s, (p = newPlan(s)));
  return p;
}

function newPlan(s: Schema | undefined): Plan {
  const { declared, additional } = objectMembers(s);
  return {
    onObject: nodeType(s, {}),
    onArray: nodeType(s, []),
    declared,
    additional,
    slots: new Map(),
    item: undefined,
    lastKeys: undefined,
    lastSorted: undefined,
  };
}

function slotOf(p: Plan, name: string): Slot {
  let sl = p.slots.get(name);
  if (sl) return sl;
  // memberOf, without allocating a Member for undeclared names.
  const d = p.declared?.get(name);
  const id = d ? d.id : `f:${name}`;
  sl = { id, q: JSON.stringify(id), how: d ?? UNDECLARED, schema: d ? d.schema : p.additional, plan: undefined };
  if (p.slots.size < MAX_SLOTS) p.slots.set(name, sl);
  return sl;
}

/** `nodeType(schema, v)`. */
function shapeOf(p: Plan, v: unknown): NodeType {
  return isObject(v) ? p.onObject : Array.isArray(v) ? p.onArray : SCALAR;
}

/** `keys` sorted by code units, which is the order of their `f:` ids. */
function sortedKeys(p: Plan, keys: string[]): string[] {
  const last = p.lastKeys;
  if (last !== undefined && last.length === keys.length) {
    let same = true;
    for (let i = 0; i < keys.length; i++) {
      if (last[i] !== keys[i]) {
        same = false;
        break;
      }
    }
    if (same) return p.lastSorted as string[];
  }
  const sorted = keys.slice().sort();
  p.lastKeys = keys;
  p.lastSorted = sorted;
  return sorted;
}

/**
 * The `fieldsV1` of what `compareValues({}, obj, schema).added` holds once
 * `ignored` (recursively) and `stripped` (members only) are taken out, as
 * JSON text, or undefined when nothing is left.
 */
export function createdFieldsV1Text(obj: JsonObject, schema: Schema | undefined, ignored: FieldSet, stripped: FieldSet): string | undefined {
  const p = planOf(schema);
  const t = shapeOf(p, obj);
  // The root itself is never recorded; a root that is a leaf records nothing.
  if (isLeaf(t) || t.kind === "scalar" || isEmptyContainer(obj)) return undefined;
  const body = bodyOf(obj, p, t, ignored.isEmpty() ? undefined : ignored, stripped);
  return body ? `{${body}}` : undefined;
}

/** The members of the map or granular list `v` (of shape `t`) as `fieldsV1` text, in order, without braces. */
function bodyOf(v: unknown, p: Plan, t: NodeType, ignored: FieldSet | undefined, stripped: FieldSet | undefined): string {
  let out = "";
  if (t.kind === "map") {
    const m = v as JsonObject;
    // Field ids (`f:<name>`) sort like their names: walking the names in order leaves nothing to sort.
    for (const k of sortedKeys(p, Object.keys(m))) {
      const sl = slotOf(p, k);
      const text = entryText(m[k], (sl.plan ??= planOf(sl.schema)), sl.id, sl.how, ignored, stripped);
      if (text) out += (out ? "," : "") + sl.q + ":" + text;
    }
    return out;
  }
  const list = t as ListType;
  const items = v as unknown[];
  const ip = (p.item ??= planOf(list.item));
  // The first item of each identity (indexItems, dedupeById), then sorted by element. An
  // item without one (a map-list item missing a key) is never recorded.
  const found: { pe: PathElement; id: string; text: string }[] = [];
  const seen = items.length > 1 ? new Set<string>() : undefined;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const pe = itemPathElement(list, item);
    if (typeof pe === "string") continue;
    const id = itemElementId(pe as Extract<PathElement, { kind: "key" | "value" }>);
    if (seen) {
      if (seen.has(id)) continue;
      seen.add(id);
    }
    const text = entryText(item, ip, id, UNDECLARED, ignored, stripped);
    if (text) found.push({ pe, id, text });
  }
  if (found.length > 1) found.sort((a, b) => comparePE(a.pe, b.pe));
  for (const f of found) out += (out ? "," : "") + quote(f.id) + ":" + f.text;
  return out;
}

/**
 * The text recorded for `v`, reached by the element spelled `id`, as
 * compareNode's one-sided walk would record it; empty when nothing is.
 */
function entryText(v: unknown, p: Plan, id: string, how: Declared, ignored: FieldSet | undefined, stripped: FieldSet | undefined): string {
  // A reset field goes with everything below it.
  if (ignored?.hasMemberId(id)) return "";
  let member = true;
  let below = "";
  // A key holding undefined is a member (compareNode records it as added).
  if (v !== undefined) {
    const t = shapeOf(p, v);
    if (!isLeaf(t) && !(t.kind !== "scalar" && isEmptyContainer(v))) {
      below = bodyOf(v, p, t, ignored?.childById(id), stripped?.childById(id));
      // zeroPresent: a declared struct holding a map, or a required field.
      member = !(how.declared && (how.required || (how.struct && t.kind === "map")));
    }
  }
  if (member && stripped?.hasMemberId(id)) member = false;
  if (!below) return member ? "{}" : "";
  return member ? `{".":{},${below}}` : `{${below}}`;
}

/** List item ids as JSON strings; they repeat across objects of a kind. */
const quoted = new Map<string, string>();
const MAX_QUOTED = 4096;

function quote(id: string): string {
  let q = quoted.get(id);
  if (q === undefined) {
    q = JSON.stringify(id);
    if (quoted.size >= MAX_QUOTED) quoted.clear();
    quoted.set(id, q);
  }
  return q;
}
