/**
 * @module Schema lookups shared by strategic merge patch and server-side
 * apply. Every lookup looks through `allOf` wrappers, which is how a field
 * that refers to a named schema carries its own description or default.
 * An undefined schema means "unknown": callers fall back to deducing the
 * shape from the value.
 *
 * Results are memoized per schema node (a WeakMap keyed by the node), so a
 * write resolves each node's `allOf` chain once instead of once per value
 * node. Schemas are therefore treated as immutable once they are in use
 * (kinds build theirs at registration; a CRD's is rebuilt as a new tree).
 */
import { itemsSchema, type Schema } from "../schema.ts";

const MAX_ALLOF_DEPTH = 8;

/** What is remembered about one schema node; each member is filled on first use. */
interface Info {
  keywords: Map<string, unknown>;
  props?: Map<string, Schema>;
  hasProps?: boolean;
  type?: Schema["type"] | null;
  items?: Schema | null;
  patchMeta?: PatchMeta | string;
  required?: ReadonlySet<string>;
}

const cache = new WeakMap<Schema, Info>();

function info(s: Schema): Info {
  let i = cache.get(s);
  if (!i) {
    i = { keywords: new Map() };
    cache.set(s, i);
  }
  return i;
}

function findKeyword<K extends keyof Schema>(s: Schema | undefined, key: K, depth: number): Schema[K] | undefined {
  if (!s || depth > MAX_ALLOF_DEPTH) return undefined;
  if (s[key] !== undefined) return s[key];
  for (const sub of s.allOf ?? []) {
    const found = findKeyword(sub, key, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** An `x-kubernetes-*` (or any) keyword on `s` or the schemas it wraps with `allOf`. */
export function keyword<K extends keyof Schema>(s: Schema | undefined, key: K, depth = 0): Schema[K] | undefined {
  if (!s) return undefined;
  if (depth !== 0) return findKeyword(s, key, depth);
  if (s[key] !== undefined) return s[key];
  if (s.allOf === undefined) return undefined;
  const kw = info(s).keywords;
  if (kw.has(key)) return kw.get(key) as Schema[K] | undefined;
  const found = findKeyword(s, key, 0);
  kw.set(key, found);
  return found;
}

/** Declared properties through allOf, first declaration winning (the order `declaredProperty` searches in). */
function collectProps(s: Schema, depth: number, out: Map<string, Schema>): void {
  if (depth > MAX_ALLOF_DEPTH) return;
  if (s.properties) {
    for (const k of Object.keys(s.properties)) {
      const v = s.properties[k];
      if (v && !out.has(k)) out.set(k, v);
    }
  }
  for (const sub of s.allOf ?? []) collectProps(sub, depth + 1, out);
}

function propsOf(s: Schema): Map<string, Schema> {
  const i = info(s);
  if (!i.props) {
    i.props = new Map();
    collectProps(s, 0, i.props);
  }
  return i.props;
}

/** All declared properties of `s` through allOf (what `declaredProperty` finds); shared, do not modify. */
export function declaredProperties(s: Schema): ReadonlyMap<string, Schema> {
  return propsOf(s);
}

/** The declared property `field` of `s` (not a map value schema). */
export function declaredProperty(s: Schema | undefined, field: string, depth = 0): Schema | undefined {
  if (!s || depth > MAX_ALLOF_DEPTH) return undefined;
  if (depth === 0) {
    if (s.allOf === undefined) {
      const direct = s.properties && Object.hasOwn(s.properties, field) ? s.properties[field] : undefined;
      return direct || undefined;
    }
    return propsOf(s).get(field);
  }
  const direct = s.properties && Object.hasOwn(s.properties, field) ? s.properties[field] : undefined;
  if (direct) return direct;
  for (const sub of s.allOf ?? []) {
    const found = declaredProperty(sub, field, depth + 1);
    if (found) return found;
  }
  return undefined;
}

function findDeclaredProperties(s: Schema | undefined, depth: number): boolean {
  if (!s || depth > MAX_ALLOF_DEPTH) return false;
  if (s.properties && Object.keys(s.properties).length > 0) return true;
  return (s.allOf ?? []).some((sub) => findDeclaredProperties(sub, depth + 1));
}

/** Whether `s` declares any properties, i.e. is a struct rather than a map. */
export function hasDeclaredProperties(s: Schema | undefined, depth = 0): boolean {
  if (!s) return false;
  if (depth !== 0) return findDeclaredProperties(s, depth);
  const i = info(s);
  i.hasProps ??= findDeclaredProperties(s, 0);
  return i.hasProps;
}

/** The schema of `field` below object schema `s`: a declared property, else the map value schema. */
export function childSchema(s: Schema | undefined, field: string): Schema | undefined {
  const declared = declaredProperty(s, field);
  if (declared) return declared;
  const extra = keyword(s, "additionalProperties");
  return typeof extra === "object" ? extra : undefined;
}

const NO_FIELDS: ReadonlySet<string> = new Set();

/** `required` (through allOf, the first declaration) as a set; shared, do not modify. */
export function requiredFields(s: Schema | undefined): ReadonlySet<string> {
  if (!s) return NO_FIELDS;
  const i = info(s);
  if (!i.required) {
    const list = keyword(s, "required");
    i.required = list && list.length > 0 ? new Set(list) : NO_FIELDS;
  }
  return i.required;
}

/** The schema of a list's items. */
export function listItemSchema(s: Schema | undefined): Schema | undefined {
  if (!s) return undefined;
  if (s.items) return s.items;
  const i = info(s);
  if (i.items === undefined) i.items = itemsSchema(s) ?? null;
  return i.items ?? undefined;
}

/** `type` of `s`, inferred from `properties`/`items` when absent. */
export function schemaType(s: Schema | undefined): Schema["type"] | undefined {
  if (!s) return undefined;
  if (s.type) return s.type;
  const i = info(s);
  if (i.type === undefined) i.type = inferType(s) ?? null;
  return i.type ?? undefined;
}

function inferType(s: Schema): Schema["type"] | undefined {
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

const NO_PATCH_META: PatchMeta = Object.freeze({ strategy: "", retainKeys: false, mergeKey: "" });

/**
 * Parses `x-kubernetes-patch-strategy` like upstream's
 * extractRetainKeysPatchStrategy; returns an error message for bad values.
 * The result is shared: do not modify it.
 */
export function patchMetaOf(s: Schema | undefined): PatchMeta | string {
  if (!s) return NO_PATCH_META;
  const i = info(s);
  i.patchMeta ??= parsePatchMeta(s);
  return i.patchMeta;
}

function parsePatchMeta(s: Schema): PatchMeta | string {
  const raw = keyword(s, "x-kubernetes-patch-strategy") ?? "";
  const mergeKey = keyword(s, "x-kubernetes-patch-merge-key") ?? "";
  const parts = raw === "" ? [] : raw.split(",");
  const meta = (strategy: string, retainKeys: boolean): PatchMeta => Object.freeze({ strategy, retainKeys, mergeKey });
  if (parts.length === 0) return meta("", false);
  if (parts.length === 1) return parts[0] === "retainKeys" ? meta("", true) : meta(parts[0] ?? "", false);
  if (parts.length === 2) {
    if (parts[0] === "retainKeys") return meta(parts[1] ?? "", true);
    if (parts[1] === "retainKeys") return meta(parts[0] ?? "", true);
  }
  return `unexpected patch strategy: [${parts.join(" ")}]`;
}
