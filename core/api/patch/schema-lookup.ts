/**
 * @module Schema lookups shared by strategic merge patch and server-side
 * apply. Every lookup looks through `allOf` wrappers, which is how a field
 * that refers to a named schema carries its own description or default.
 * An undefined schema means "unknown": callers fall back to deducing the
 * shape from the value.
 */
import { itemsSchema, type Schema } from "../schema.ts";

const MAX_ALLOF_DEPTH = 8;

/** An `x-kubernetes-*` (or any) keyword on `s` or the schemas it wraps with `allOf`. */
export function keyword<K extends keyof Schema>(s: Schema | undefined, key: K, depth = 0): Schema[K] | undefined {
  if (!s || depth > MAX_ALLOF_DEPTH) return undefined;
  if (s[key] !== undefined) return s[key];
  for (const sub of s.allOf ?? []) {
    const found = keyword(sub, key, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The declared property `field` of `s` (not a map value schema). */
export function declaredProperty(s: Schema | undefined, field: string, depth = 0): Schema | undefined {
  if (!s || depth > MAX_ALLOF_DEPTH) return undefined;
  const direct = s.properties && Object.hasOwn(s.properties, field) ? s.properties[field] : undefined;
  if (direct) return direct;
  for (const sub of s.allOf ?? []) {
    const found = declaredProperty(sub, field, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** Whether `s` declares any properties, i.e. is a struct rather than a map. */
export function hasDeclaredProperties(s: Schema | undefined, depth = 0): boolean {
  if (!s || depth > MAX_ALLOF_DEPTH) return false;
  if (s.properties && Object.keys(s.properties).length > 0) return true;
  return (s.allOf ?? []).some((sub) => hasDeclaredProperties(sub, depth + 1));
}

/** The schema of `field` below object schema `s`: a declared property, else the map value schema. */
export function childSchema(s: Schema | undefined, field: string): Schema | undefined {
  const declared = declaredProperty(s, field);
  if (declared) return declared;
  const extra = keyword(s, "additionalProperties");
  return typeof extra === "object" ? extra : undefined;
}

/** The schema of a list's items. */
export function listItemSchema(s: Schema | undefined): Schema | undefined {
  return itemsSchema(s);
}

/** `type` of `s`, inferred from `properties`/`items` when absent. */
export function schemaType(s: Schema | undefined): Schema["type"] | undefined {
  if (!s) return undefined;
  const t = keyword(s, "type");
  if (t) return t;
  if (hasDeclaredProperties(s) || keyword(s, "additionalProperties") !== undefined) return "object";
  if (itemsSchema(s)) return "array";
  return undefined;
}

/** Strategic merge patch metadata of a field (`x-kubernetes-patch-*`). */
export interface PatchMeta {
  /** `merge`, `replace` or "" (none). */
  strategy: string;
  retainKeys: boolean;
  mergeKey: string;
}

/**
 * Parses `x-kubernetes-patch-strategy` like upstream's
 * extractRetainKeysPatchStrategy; returns an error message for bad values.
 */
export function patchMetaOf(s: Schema | undefined): PatchMeta | string {
  const raw = keyword(s, "x-kubernetes-patch-strategy") ?? "";
  const mergeKey = keyword(s, "x-kubernetes-patch-merge-key") ?? "";
  const parts = raw === "" ? [] : raw.split(",");
  if (parts.length === 0) return { strategy: "", retainKeys: false, mergeKey };
  if (parts.length === 1) {
    return parts[0] === "retainKeys"
      ? { strategy: "", retainKeys: true, mergeKey }
      : { strategy: parts[0] ?? "", retainKeys: false, mergeKey };
  }
  if (parts.length === 2) {
    if (parts[0] === "retainKeys") return { strategy: parts[1] ?? "", retainKeys: true, mergeKey };
    if (parts[1] === "retainKeys") return { strategy: parts[0] ?? "", retainKeys: true, mergeKey };
  }
  return `unexpected patch strategy: [${parts.join(" ")}]`;
}
