/**
 * @module JSON value helpers shared by the patch engines: type guards, deep
 * copies, deep equality, and Go-style `%v` rendering so error messages read
 * like kube-apiserver's.
 */

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Deep copy of a JSON value (objects, arrays, scalars). */
export function deepClone<T>(v: T): T {
  if (Array.isArray(v)) return v.map((x) => deepClone(x)) as T;
  if (isObject(v)) {
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) out[k] = deepClone(x);
    return out as T;
  }
  return v;
}

export { deepEqual } from "../json.ts";

/** JSON with object keys sorted, so equal values serialize equally. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (isObject(v)) {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

/** The three shapes strategic merge and apply distinguish. */
export function shapeOf(v: unknown): "object" | "array" | "scalar" {
  if (Array.isArray(v)) return "array";
  return isObject(v) ? "object" : "scalar";
}

/** What Go's `reflect.Kind` says about a decoded JSON value. */
export function goKind(v: unknown): string {
  if (v === null || v === undefined) return "invalid";
  if (Array.isArray(v)) return "slice";
  if (isObject(v)) return "map";
  if (typeof v === "number") return Number.isInteger(v) ? "int64" : "float64";
  if (typeof v === "boolean") return "bool";
  return "string";
}

/** The JSON type name `encoding/json` uses in "cannot unmarshal X into …" errors. */
export function jsonTypeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (isObject(v)) return "object";
  return typeof v === "boolean" ? "bool" : typeof v;
}

/** Go's `fmt.Sprintf("%v", v)` for decoded JSON: `map[a:1 b:[x y]]`. */
export function goFormat(v: unknown): string {
  if (v === null || v === undefined) return "<nil>";
  if (Array.isArray(v)) return `[${v.map(goFormat).join(" ")}]`;
  if (isObject(v)) {
    const keys = Object.keys(v).sort();
    return `map[${keys.map((k) => `${k}:${goFormat(v[k])}`).join(" ")}]`;
  }
  return String(v);
}
