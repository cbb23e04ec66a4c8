/**
 * @module Field paths and field sets, as sigs.k8s.io/structured-merge-diff
 * (fieldpath) defines them, with the `fieldsV1` wire encoding used in
 * `metadata.managedFields`:
 * `{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{}}}}}`.
 *
 * A path element is a field (`f:name`), a key of a map-list item
 * (`k:{"name":"web"}`), a value of a set-list item (`v:"x"`) or an index
 * (`i:0`). A set is a tree: each node holds members (paths in the set) and
 * children (sub-sets below a path element); `.` marks a path that is both.
 */
import { canonicalJson, isObject, type JsonObject } from "../json-value.ts";

export type PathElement =
  | { kind: "field"; name: string }
  | { kind: "key"; fields: Array<[string, unknown]> }
  | { kind: "value"; value: unknown }
  | { kind: "index"; index: number };

export type FieldPath = PathElement[];

export function fieldPE(name: string): PathElement {
  return { kind: "field", name };
}

/** A map-list key; fields are sorted by name, like upstream's KeyByFields. */
export function keyPE(fields: Array<[string, unknown]>): PathElement {
  // One key (the usual `name`) needs no sorted copy; `fields` is never changed after.
  if (fields.length < 2) return { kind: "key", fields };
  return { kind: "key", fields: [...fields].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) };
}

/** Spellings of key and value elements, which need JSON encoding; computed once per element. */
const encoded = new WeakMap<PathElement, string>();

/** The `fieldsV1` spelling of a path element; also its identity within a set. */
export function peToString(pe: PathElement): string {
  switch (pe.kind) {
    case "field":
      return `f:${pe.name}`;
    case "index":
      return `i:${pe.index}`;
    default: {
      let id = encoded.get(pe);
      if (id === undefined) {
        id = itemElementId(pe);
        encoded.set(pe, id);
      }
      return id;
    }
  }
}

/** `peToString` of a key or value element, computed afresh (for elements spelled once, where caching costs more). */
export function itemElementId(pe: Extract<PathElement, { kind: "key" | "value" }>): string {
  return pe.kind === "key" ? keyId(pe.fields) : `v:${canonicalJson(pe.value)}`;
}

/** `k:{"name":"web"}`: the spelling of a key element (a loop: this runs for every map-list item of every write). */
function keyId(fields: Array<[string, unknown]>): string {
  let id = "k:{";
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i] as [string, unknown];
    id += (i > 0 ? "," : "") + JSON.stringify(f[0]) + ":" + canonicalJson(f[1]);
  }
  return id + "}";
}

/** Parses a `fieldsV1` key back into a path element. */
export function peFromString(s: string): PathElement {
  const body = s.slice(2);
  switch (s.slice(0, 2)) {
    case "f:":
      return fieldPE(body);
    case "k:": {
      const parsed: unknown = JSON.parse(body);
      if (!isObject(parsed)) throw new Error(`invalid key element ${JSON.stringify(s)}: not an object`);
      return keyPE(Object.entries(parsed));
    }
    case "v:":
      return { kind: "value", value: JSON.parse(body) as unknown };
    case "i:": {
      if (!/^\d+$/.test(body)) throw new Error(`invalid index element ${JSON.stringify(s)}`);
      return { kind: "index", index: Number(body) };
    }
    default:
      throw new Error(`unknown path element ${JSON.stringify(s)}`);
  }
}

/** Upstream's value.ToString, used in human-readable paths. */
function valueToString(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(valueToString).join(",")}]`;
  if (isObject(v)) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${k}=${valueToString(v[k])}`)
      .join(";")}}`;
  }
  return String(v);
}

/** A path as conflict messages print it: `.spec.containers[name="web"].image`. */
export function pathToString(path: FieldPath): string {
  return path
    .map((pe) => {
      switch (pe.kind) {
        case "field":
          return `.${pe.name}`;
        case "key":
          return `[${pe.fields.map(([n, v]) => `${n}=${valueToString(v)}`).join(",")}]`;
        case "value":
          return `[=${valueToString(pe.value)}]`;
        case "index":
          return `[${pe.index}]`;
      }
    })
    .join("");
}

const KIND_RANK = { field: 0, key: 1, value: 2, index: 3 } as const;

/** Upstream's total order on values: null, numbers, strings, booleans, lists, maps. */
function compareValues(a: unknown, b: unknown): number {
  const rank = (v: unknown): number =>
    v === null || v === undefined ? 0 : typeof v === "number" ? 1 : typeof v === "string" ? 2 : typeof v === "boolean" ? 3 : Array.isArray(v) ? 4 : 5;
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  const ca = canonicalJson(a);
  const cb = canonicalJson(b);
  return ca < cb ? -1 : ca > cb ? 1 : 0;
}

/** The order of path elements in a serialized set (fields, keys, values, indexes). */
export function comparePE(a: PathElement, b: PathElement): number {
  if (a.kind !== b.kind) return KIND_RANK[a.kind] - KIND_RANK[b.kind];
  if (a.kind === "field" && b.kind === "field") return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  if (a.kind === "key" && b.kind === "key") {
    for (let i = 0; i < Math.max(a.fields.length, b.fields.length); i++) {
      const fa = a.fields[i];
      const fb = b.fields[i];
      if (!fa) return -1;
      if (!fb) return 1;
      if (fa[0] !== fb[0]) return fa[0] < fb[0] ? -1 : 1;
      const c = compareValues(fa[1], fb[1]);
      if (c !== 0) return c;
    }
    return 0;
  }
  if (a.kind === "value" && b.kind === "value") return compareValues(a.value, b.value);
  if (a.kind === "index" && b.kind === "index") return a.index - b.index;
  return 0;
}

/** Sorts strings by code units (as `<` compares them): insertion sort for the usual handful, else the built-in sort. */
export function sortStrings(a: string[]): string[] {
  if (a.length > 16) return a.sort();
  for (let i = 1; i < a.length; i++) {
    const x = a[i] as string;
    let j = i - 1;
    while (j >= 0 && (a[j] as string) > x) {
      a[j + 1] = a[j] as string;
      j--;
    }
    a[j + 1] = x;
  }
  return a;
}

interface Child {
  pe: PathElement;
  set: FieldSet;
}

interface Entry {
  pe: PathElement;
  member: boolean;
  child: FieldSet | undefined;
}

function byId(a: Entry & { id: string }, b: Entry & { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * An immutable-by-convention tree of field paths: each node maps encoded
 * path elements (`peToString`) to members and to non-empty sub-sets.
 * Operations return new sets, which may share sub-sets with their inputs;
 * `insert` and the other builder methods are the only mutators and are used
 * while building a set.
 */
export class FieldSet {
  private readonly members = new Map<string, PathElement>();
  private readonly children = new Map<string, Child>();

  static of(paths: Iterable<FieldPath>): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  insert(path: FieldPath): void {
    const n = path.length;
    if (n === 0) return;
    let node: FieldSet = this;
    for (let i = 0; i < n - 1; i++) node = node.childForInsert(peToString(path[i] as PathElement), path[i] as PathElement);
    const last = path[n - 1] as PathElement;
    node.members.set(peToString(last), last);
  }

  /** Builder: inserts the path whose first `n` elements are `pes`, already encoded as `ids`. */
  insertEncoded(ids: readonly string[], pes: readonly PathElement[], n: number): void {
    if (n === 0) return;
    let node: FieldSet = this;
    for (let i = 0; i < n - 1; i++) node = node.childForInsert(ids[i] as string, pes[i] as PathElement);
    node.members.set(ids[n - 1] as string, pes[n - 1] as PathElement);
  }

  /** Builder: merges `set` in at the path of the first `n` elements of `pes` (encoded as `ids`). */
  graftEncoded(ids: readonly string[], pes: readonly PathElement[], n: number, set: FieldSet): void {
    if (set.isEmpty()) return;
    let node: FieldSet = this;
    for (let i = 0; i < n; i++) node = node.childForInsert(ids[i] as string, pes[i] as PathElement);
    for (const [id, pe] of set.members) node.members.set(id, pe);
    for (const [id, c] of set.children) node.attach(id, c.pe, c.set);
  }

  /** Builder: adds the member `pe`, whose encoding is `id`. */
  addMember(id: string, pe: PathElement): void {
    this.members.set(id, pe);
  }

  /** Builder: merges `set` into the sub-set below `pe` (encoded as `id`); `set` is shared, not copied. */
  attach(id: string, pe: PathElement, set: FieldSet): void {
    if (set.isEmpty()) return;
    const existing = this.children.get(id);
    this.children.set(id, { pe, set: existing ? existing.set.union(set) : set });
  }

  private childForInsert(id: string, pe: PathElement): FieldSet {
    let child = this.children.get(id);
    if (!child) {
      child = { pe, set: new FieldSet() };
      this.children.set(id, child);
    }
    return child.set;
  }

  has(path: FieldPath): boolean {
    const n = path.length;
    if (n === 0) return false;
    let node: FieldSet | undefined = this;
    for (let i = 0; i < n - 1 && node; i++) node = node.children.get(peToString(path[i] as PathElement))?.set;
    return node?.members.has(peToString(path[n - 1] as PathElement)) ?? false;
  }

  /** Whether the member spelled `id` (see peToString) is in this node. */
  hasMemberId(id: string): boolean {
    return this.members.has(id);
  }

  /** The sub-set below the element spelled `id`, if any; shared, do not mutate. */
  childById(id: string): FieldSet | undefined {
    return this.children.get(id)?.set;
  }

  hasMember(pe: PathElement): boolean {
    return this.members.has(peToString(pe));
  }

  /** The sub-set below `pe` (empty when none); shared, do not mutate. */
  child(pe: PathElement): FieldSet {
    return this.children.get(peToString(pe))?.set ?? EMPTY;
  }

  /** Builder: merges `set` into the sub-set below `pe`. */
  insertUnder(pe: PathElement, set: FieldSet): void {
    this.attach(peToString(pe), pe, set);
  }

  isEmpty(): boolean {
    if (this.members.size > 0) return false;
    for (const c of this.children.values()) if (!c.set.isEmpty()) return false;
    return true;
  }

  union(o: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [id, pe] of this.members) out.members.set(id, pe);
    for (const [id, pe] of o.members) out.members.set(id, pe);
    for (const [id, a] of this.children) {
      const b = o.children.get(id);
      out.addChild(id, a.pe, b ? a.set.union(b.set) : a.set);
    }
    for (const [id, b] of o.children) if (!this.children.has(id)) out.addChild(id, b.pe, b.set);
    return out;
  }

  intersection(o: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [id, pe] of this.members) if (o.members.has(id)) out.members.set(id, pe);
    for (const [id, c] of this.children) {
      const other = o.children.get(id);
      if (other) out.addChild(id, c.pe, c.set.intersection(other.set));
    }
    return out;
  }

  /** Members of this set not in `o`; a parent minus its child stays, a child minus its parent stays. */
  difference(o: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [id, pe] of this.members) if (!o.members.has(id)) out.members.set(id, pe);
    for (const [id, c] of this.children) {
      const other = o.children.get(id);
      out.addChild(id, c.pe, other ? c.set.difference(other.set) : c.set);
    }
    return out;
  }

  /** Like `difference`, but a member of `o` also removes everything below it. */
  recursiveDifference(o: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [id, pe] of this.members) if (!o.members.has(id)) out.members.set(id, pe);
    for (const [id, c] of this.children) {
      if (o.members.has(id)) continue;
      const other = o.children.get(id);
      out.addChild(id, c.pe, other ? c.set.recursiveDifference(other.set) : c.set);
    }
    return out;
  }

  /** Every member path, in serialization order. */
  paths(): FieldPath[] {
    const out: FieldPath[] = [];
    const walk = (s: FieldSet, prefix: FieldPath): void => {
      for (const { pe, member, child } of s.sortedEntries()) {
        if (member) out.push([...prefix, pe]);
        if (child) walk(child, [...prefix, pe]);
      }
    };
    walk(this, []);
    return out;
  }

  /** Entries below this node: each path element with its membership and sub-set. */
  sortedEntries(): Entry[] {
    const entries: Array<Entry & { id: string }> = [];
    let fieldsOnly = true;
    for (const [id, pe] of this.members) {
      const c = this.children.get(id);
      entries.push({ id, pe, member: true, child: c && !c.set.isEmpty() ? c.set : undefined });
      if (pe.kind !== "field") fieldsOnly = false;
    }
    for (const [id, c] of this.children) {
      if (this.members.has(id) || c.set.isEmpty()) continue;
      entries.push({ id, pe: c.pe, member: false, child: c.set });
      if (c.pe.kind !== "field") fieldsOnly = false;
    }
    // Field elements are all spelled `f:<name>`, so their spellings sort like their names.
    return entries.sort(fieldsOnly ? byId : (a, b) => comparePE(a.pe, b.pe));
  }

  /** The `fieldsV1` object. */
  toFieldsV1(): JsonObject {
    return this.emit(false);
  }

  private emit(includeSelf: boolean): JsonObject {
    const out: JsonObject = {};
    const ids = this.sortedIds();
    if (includeSelf && ids.length > 0) out["."] = {};
    for (const id of ids) {
      const c = this.children.get(id);
      out[id] = c && !c.set.isEmpty() ? c.set.emit(this.members.has(id)) : {};
    }
    return out;
  }

  /** The spellings of the entries below this node (members and non-empty sub-sets), in serialization order. */
  private sortedIds(): string[] {
    const ids: string[] = [];
    let fieldsOnly = true;
    for (const id of this.members.keys()) {
      ids.push(id);
      if (!id.startsWith("f:")) fieldsOnly = false;
    }
    for (const [id, c] of this.children) {
      if (this.members.has(id) || c.set.isEmpty()) continue;
      ids.push(id);
      if (!id.startsWith("f:")) fieldsOnly = false;
    }
    // Field elements are all spelled `f:<name>`, so their spellings sort like their names.
    if (fieldsOnly) return sortStrings(ids);
    const pe = (id: string): PathElement => (this.members.get(id) ?? this.children.get(id)?.pe) as PathElement;
    return ids.sort((a, b) => comparePE(pe(a), pe(b)));
  }

  /** Parses a `fieldsV1` object; throws Error on malformed input. */
  static fromFieldsV1(v: unknown): FieldSet {
    if (v === undefined || v === null) return new FieldSet();
    if (!isObject(v)) throw new Error("fieldsV1 must be an object");
    const out = new FieldSet();
    for (const k of Object.keys(v)) {
      if (k === ".") continue;
      const sub = v[k];
      if (!isObject(sub)) throw new Error(`fieldsV1 entry ${JSON.stringify(k)} must be an object`);
      const pe = peFromString(k);
      // A field's spelling is already canonical; others are re-encoded (key order, number spelling).
      const id = pe.kind === "field" ? k : peToString(pe);
      const keys = Object.keys(sub);
      const member = keys.length === 0 || Object.hasOwn(sub, ".");
      const nested = keys.some((x) => x !== ".");
      if (member) out.members.set(id, pe);
      if (nested) out.addChild(id, pe, FieldSet.fromFieldsV1(sub));
    }
    return out;
  }

  private addChild(id: string, pe: PathElement, set: FieldSet): void {
    if (!set.isEmpty()) this.children.set(id, { pe, set });
  }
}

/** The shared empty set returned by `child`; never mutated. */
const EMPTY = new FieldSet();
