/**
 * @module Small, total accessors for plain-JSON Kubernetes objects. Objects
 * reach the type strategies as `unknown`-typed trees (a user may send any
 * JSON), so every read checks the shape and every write creates what is
 * missing. Nothing here throws.
 */

export type JsonObject = Record<string, unknown>;

/** The value as an object, or undefined when it is not a JSON object. */
export function asObj(v: unknown): JsonObject | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as JsonObject) : undefined;
}

/** The value as an array, or an empty array. */
export function asArr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** The value when it is a string, else undefined. */
export function asStr(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** The value when it is a finite number, else undefined. */
export function asNum(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** Reads `a.b.c` below `root`; undefined when any step is missing or not an object. */
export function getPath(root: unknown, ...path: string[]): unknown {
  return walk(root, path);
}

function walk(root: unknown, path: string[]): unknown {
  let cur: unknown = root;
  for (let i = 0; i < path.length; i++) {
    const o = asObj(cur);
    if (!o) return undefined;
    cur = o[path[i] as string];
  }
  return cur;
}

/** String at a path, or "" (what Go's zero value would print). */
export function strAt(root: unknown, ...path: string[]): string {
  return asStr(walk(root, path)) ?? "";
}

/** Number at a path, or 0. */
export function numAt(root: unknown, ...path: string[]): number {
  return asNum(walk(root, path)) ?? 0;
}

/** Array at a path, or []. */
export function arrAt(root: unknown, ...path: string[]): unknown[] {
  return asArr(walk(root, path));
}

/** Objects in the array at a path (non-objects skipped, original indices lost). */
export function objsAt(root: unknown, ...path: string[]): JsonObject[] {
  const arr = walk(root, path);
  const out: JsonObject[] = [];
  if (!Array.isArray(arr)) return out;
  for (let i = 0; i < arr.length; i++) {
    const o = asObj(arr[i]);
    if (o) out.push(o);
  }
  return out;
}

/**
 * The object stored under `key` of `parent`, created (replacing null or a
 * non-object) when missing. Use only where a non-object value has already
 * been reported or is impossible.
 */
export function ensureObj(parent: JsonObject, key: string): JsonObject {
  const existing = asObj(parent[key]);
  if (existing) return existing;
  const created: JsonObject = {};
  parent[key] = created;
  return created;
}

/** Sets `parent[key] = value` only when the key is absent, null or "" (Go's zero value for strings). */
export function setDefault(parent: JsonObject, key: string, value: unknown): void {
  const cur = parent[key];
  if (cur === undefined || cur === null || cur === "") parent[key] = value;
}

/** True when the value is absent in Go terms: undefined, null. */
export function isNil(v: unknown): boolean {
  return v === undefined || v === null;
}

/** A deep copy of plain JSON. */
export function cloneJson<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** Structural equality of plain JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => jsonEqual(x, bb[i]));
  }
  const ao = a as JsonObject;
  const bo = b as JsonObject;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => Object.hasOwn(bo, k) && jsonEqual(ao[k], bo[k]));
}
