/**
 * @module The ownership a create records, computed in one walk. For a new
 * object whose request carries no managedFields, `updateManagedFields`
 * gives the creator every field the object sets, which in general it gets
 * by comparing the object with nothing (`compareValues`), then removing the
 * reset fields (recursively) and the never-owned fields (`STRIPPED_FIELDS`,
 * members only) from the resulting FieldSet and encoding it. This walk
 * applies the same rules and both removals as it goes and writes the
 * `fieldsV1` object directly, in the same order `FieldSet.toFieldsV1` does.
 */
import type { Schema } from "../../schema.ts";
import type { JsonObject } from "../json-value.ts";
import { comparePE, type FieldSet, type PathElement } from "./fieldpath.ts";
import { dedupeById, indexItems, isEmptyContainer, isLeaf, nodeType, objectMembers, type ListType, type NodeType } from "./typed.ts";

interface Entry {
  id: string;
  /** Only for list items, which sort by element; fields sort by id. */
  pe: PathElement | undefined;
  value: JsonObject;
}

/** How the parent declares a member: upstream's Go types never record a "zero present" one itself. */
interface Declared {
  declared: boolean;
  required: boolean;
  struct: boolean;
}

const UNDECLARED: Declared = Object.freeze({ declared: false, required: false, struct: false });

/**
 * The `fieldsV1` of what `compareValues({}, obj, schema).added` holds once
 * `ignored` (recursively) and `stripped` (members only) are taken out, or
 * undefined when nothing is left.
 */
export function createdFieldsV1(obj: JsonObject, schema: Schema | undefined, ignored: FieldSet, stripped: FieldSet): JsonObject | undefined {
  const t = nodeType(schema, obj);
  // The root itself is never recorded; a root that is a leaf records nothing.
  if (isLeaf(t) || t.kind === "scalar" || isEmptyContainer(obj)) return undefined;
  const entries = entriesBelow(obj, schema, t, ignored.isEmpty() ? undefined : ignored, stripped);
  return entries.length > 0 ? render(false, entries, t.kind === "map") : undefined;
}

/** The entries below the map or granular list `v` (of shape `t`). */
function entriesBelow(v: unknown, s: Schema | undefined, t: NodeType, ignored: FieldSet | undefined, stripped: FieldSet | undefined): Entry[] {
  const out: Entry[] = [];
  if (t.kind === "map") {
    const m = v as JsonObject;
    // memberOf for each key, without allocating a Member for undeclared ones.
    const { declared, additional } = objectMembers(s);
    for (const k of Object.keys(m)) {
      const d = declared?.get(k);
      if (d) add(out, m[k], d.schema, d.id, undefined, d, ignored, stripped);
      else add(out, m[k], additional, `f:${k}`, undefined, UNDECLARED, ignored, stripped);
    }
    return out;
  }
  const list = t as ListType;
  for (const x of dedupeById(indexItems(list, v as unknown[], "v"))) {
    if (x.pe) add(out, x.item, list.item, x.id, x.pe, UNDECLARED, ignored, stripped);
  }
  return out;
}

/** Records `v`, reached by the element spelled `id` (`pe` for list items), as compareNode's one-sided walk would. */
function add(
  out: Entry[],
  v: unknown,
  s: Schema | undefined,
  id: string,
  pe: PathElement | undefined,
  how: Declared,
  ignored: FieldSet | undefined,
  stripped: FieldSet | undefined,
): void {
  // A reset field goes with everything below it.
  if (ignored?.hasMemberId(id)) return;
  let member = true;
  let below: Entry[] | undefined;
  let fields = false;
  // A key holding undefined is a member (compareNode records it as added).
  if (v !== undefined) {
    const t = nodeType(s, v);
    if (!isLeaf(t) && !(t.kind !== "scalar" && isEmptyContainer(v))) {
      below = entriesBelow(v, s, t, ignored?.childById(id), stripped?.childById(id));
      fields = t.kind === "map";
      // zeroPresent: a declared struct holding a map, or a required field.
      member = !(how.declared && (how.required || (how.struct && t.kind === "map")));
    }
  }
  if (member && stripped?.hasMemberId(id)) member = false;
  const hasBelow = below !== undefined && below.length > 0;
  if (!member && !hasBelow) return;
  out.push({ id, pe, value: hasBelow ? render(member, below as Entry[], fields) : {} });
}

/**
 * A node's `fieldsV1` object: `.` when it is also a member, then its entries
 * in serialization order. `fields`: the entries are an object's fields (else
 * a list's items).
 */
function render(member: boolean, entries: Entry[], fields: boolean): JsonObject {
  // Ids are unique within a node; field ids (`f:<name>`) sort like their names.
  if (fields) sortById(entries);
  else entries.sort((a, b) => comparePE(a.pe as PathElement, b.pe as PathElement));
  const out: JsonObject = {};
  if (member) out["."] = {};
  for (const e of entries) out[e.id] = e.value;
  return out;
}

/** Insertion sort by id (nodes hold a handful of entries); the built-in sort for long ones. */
function sortById(a: Entry[]): void {
  if (a.length > 16) {
    a.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
    return;
  }
  for (let i = 1; i < a.length; i++) {
    const x = a[i] as Entry;
    let j = i - 1;
    while (j >= 0 && (a[j] as Entry).id > x.id) {
      a[j + 1] = a[j] as Entry;
      j--;
    }
    a[j + 1] = x;
  }
}
