/**
 * @module `stringifyObject(o)`: exactly `JSON.stringify(o)`, several times
 * faster for objects that carry managedFields.
 *
 * Why: Bun's JavaScriptCore serializes on a fast path only while no property
 * name needs escaping; one such name anywhere sends the whole call down the
 * generic path, about ten times slower. Every `fieldsV1` names list items as
 * `k:{"name":"web"}`, so a 2 KB pod took ~25 µs to serialize, more than
 * everything else the store does to it. Here the `fieldsV1` trees (objects of
 * objects, nothing else) are written by hand with cached quoted keys, and the
 * rest still goes through `JSON.stringify` in pieces that stay on its fast
 * path; a tree still known by its text (`api/fields-v1-text.ts`, the create
 * path) is written as that text. Anything unexpected (a non-plain object, a
 * value that is not an object in `fieldsV1`, a `__proto__` or `toJSON`
 * member) falls back to `JSON.stringify` of the whole object, so the output
 * is always identical.
 */
import { pendingFieldsV1Text } from "../api/fields-v1-text.ts";
import type { KubeObject } from "../api/meta.ts";

type Plain = Record<string, unknown>;

export function stringifyObject(o: KubeObject): string {
  return (isPlain(o) && withManagedFields(o)) || JSON.stringify(o);
}

function withManagedFields(o: Plain): string | undefined {
  // fieldsV1Text's for-in would also list enumerable members of Object.prototype.
  for (const _ in Object.prototype) return undefined;
  const meta = o.metadata;
  if (!isPlain(meta)) return undefined;
  const managed = meta.managedFields;
  if (!Array.isArray(managed) || managed.length === 0 || Object.getPrototypeOf(managed) !== Array.prototype) return undefined;
  let list = "[";
  for (let i = 0; i < managed.length; i++) {
    const entry: unknown = managed[i];
    if (!isPlain(entry)) return undefined;
    // A tree still known by its text (api/fields-v1-text.ts) is written as that text, unread.
    const known = pendingFieldsV1Text(entry);
    const text =
      known !== undefined
        ? spliced(entry, "fieldsV1", known)
        : entry.fieldsV1 === undefined
          ? JSON.stringify(entry)
          : spliced(entry, "fieldsV1", fieldsV1Text(entry.fieldsV1));
    if (text === undefined) return undefined;
    list += (i > 0 ? "," : "") + text;
  }
  return spliced(o, "metadata", spliced(meta, "managedFields", list + "]"));
}

/**
 * `JSON.stringify(obj)` with member `key` (present, not undefined) written as
 * `text`: the members before and after it are serialized as two objects, so
 * the order is kept. Integer-like names come first in both, as in `obj`.
 */
function spliced(obj: Plain, key: string, text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const before: Plain = {};
  const after: Plain = {};
  let into = before;
  for (const k of Object.keys(obj)) {
    if (k === key) into = after;
    else if (k === "__proto__" || k === "toJSON") return undefined;
    else into[k] = obj[k];
  }
  const b = JSON.stringify(before);
  const a = JSON.stringify(after);
  return (b.length > 2 ? b.slice(0, -1) + "," : "{") + JSON.stringify(key) + ":" + text + (a.length > 2 ? "," + a.slice(1) : "}");
}

/** Quoted member names of fieldsV1 trees; they repeat across objects of a kind. */
const quoted = new Map<string, string>();
const MAX_QUOTED = 20_000;

function quote(k: string): string {
  let q = quoted.get(k);
  if (q === undefined) {
    q = JSON.stringify(k);
    if (quoted.size >= MAX_QUOTED) quoted.clear();
    quoted.set(k, q);
  }
  return q;
}

/** Deeper than any schema nests; beyond it (a cycle?) JSON.stringify gets to fail its own way. */
const MAX_DEPTH = 200;

/** A fieldsV1 tree (plain objects all the way down) as JSON, else undefined. */
function fieldsV1Text(v: unknown, depth = 0): string | undefined {
  if (!isPlain(v) || depth > MAX_DEPTH) return undefined;
  let out = "{";
  let first = true;
  // for-in, not Object.keys: JavaScriptCore reads `v[k]` inside it straight from
  // the object's layout, which matters for the many shapes fieldsV1 trees come in.
  // It sees the same keys in the same order (isPlain and withManagedFields rule
  // out anything inherited).
  for (const k in v) {
    if (k === "toJSON") return undefined;
    const child = fieldsV1Text(v[k], depth + 1);
    if (child === undefined) return undefined;
    out += (first ? "" : ",") + quote(k) + ":" + child;
    first = false;
  }
  return out + "}";
}

function isPlain(v: unknown): v is Plain {
  return typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype && typeof (v as Plain).toJSON !== "function";
}
