/**
 * @module Kubernetes strategic merge patch
 * (`application/strategic-merge-patch+json`), the server-side half of
 * k8s.io/apimachinery pkg/util/strategicpatch: merging a patch into a live
 * object using the schema's `x-kubernetes-patch-strategy` and
 * `x-kubernetes-patch-merge-key`.
 *
 * - Maps merge recursively; `null` deletes a field.
 * - Lists with strategy `merge` merge by merge key (lists of maps) or by
 *   value (lists of scalars, e.g. finalizers); other lists are replaced.
 * - Directives: `$patch: replace|delete` on maps and list items
 *   (`$patch: merge` is rejected for lists, like upstream), `$retainKeys`,
 *   `$setElementOrder/<field>`, `$deleteFromPrimitiveList/<field>`.
 *
 * Who may use it is the caller's decision: kube-apiserver serves strategic
 * merge only for built-in kinds and answers 415 for custom resources (see
 * `supportedPatchTypes`). Without a schema every map merges and every list is
 * replaced, except that a field with no schema at all takes its merge key
 * from a `$setElementOrder/<field>` list of single-key maps (kubectl only
 * sends that directive for merge lists), so unknown fields still merge.
 *
 * Errors: upstream's mergepatch sentinels are 400s and "lists of lists" is a
 * generic 422, as in handlers/patch.go; the remaining failures (missing merge
 * key, unknown `$patch` value, …), which upstream lets through as 500s, are
 * 400s here with upstream's message text.
 */
import type { Schema } from "../schema.ts";
import type { ApiError } from "../errors.ts";
import { deepClone, isObject, jsonTypeName, shapeOf, type JsonObject } from "./json-value.ts";
import { badPatch, unprocessable } from "./patch-errors.ts";
import { childSchema, listItemSchema, patchMetaOf, type PatchMeta } from "./schema-lookup.ts";
import {
  DELETE_PREFIX,
  DIRECTIVE,
  RETAIN_KEYS,
  SET_ORDER_PREFIX,
  SmpFailure,
  elementKind,
  errBadArgType,
  errBadPatchType,
  errNoMergeKey,
  errPrimitiveList,
  errRetainKeys,
  errSetOrder,
  findByMergeKey,
  normalizeElementOrder,
  partitionByPresence,
  sameValue,
  validatePatchWithSetOrderList,
} from "./strategic-order.ts";

/** Marks a patch value that must not be stored (a map carrying `$patch`). */
const DROP = Symbol("drop");

/**
 * Applies a strategic merge patch to `doc` using `schema` (the kind's
 * top-level schema; undefined = unknown) and returns the result. Inputs are
 * never mutated. Throws ApiError (400, or 422 for lists of lists).
 */
export function applyStrategicMergePatch(doc: unknown, patch: unknown, schema: Schema | undefined): unknown {
  if (patch === null) return deepClone(doc);
  if (!isObject(patch)) {
    throw badPatch(`json: cannot unmarshal ${jsonTypeName(patch)} into Go value of type map[string]interface {}`);
  }
  if (!isObject(doc)) throw badPatch("invalid JSON document");
  try {
    return mergeMap(deepClone(doc), deepClone(patch), schema);
  } catch (e) {
    if (e instanceof SmpFailure) throw toApiError(e);
    throw e;
  }
}

function toApiError(e: SmpFailure): ApiError {
  return e.status === "invalid" ? unprocessable(e.message) : badPatch(e.message);
}

/** Merges `patch` into `original` (both private copies, mutated freely). */
function mergeMap(original: JsonObject, patch: JsonObject, s: Schema | undefined): JsonObject {
  if (Object.hasOwn(patch, DIRECTIVE)) return mapDirective(patch);
  applyRetainKeys(original, patch);
  mergeOrderedLists(original, patch, s);
  const deletions: Array<[string, unknown]> = [];
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith(DELETE_PREFIX)) deletions.push([extractKey(key, DELETE_PREFIX), value]);
    else mergeField(original, key, value, s, false);
  }
  for (const [key, value] of deletions) mergeField(original, key, value, s, true);
  return original;
}

function mapDirective(patch: JsonObject): JsonObject {
  const directive = patch[DIRECTIVE];
  if (directive === "replace") return replacement(patch);
  if (directive === "delete") return {};
  throw errBadPatchType(directive, patch);
}

/** `$retainKeys`: drop every original field not listed; the patch may only set listed fields. */
function applyRetainKeys(original: JsonObject, patch: JsonObject): void {
  if (!Object.hasOwn(patch, RETAIN_KEYS)) return;
  const list = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(list)) throw errRetainKeys();
  const keep = new Set(list);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_PREFIX) || k.startsWith(SET_ORDER_PREFIX)) continue;
    if (!keep.has(k)) throw errRetainKeys();
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

/** `$setElementOrder/<field>`: merges that field's list now and orders it. */
function mergeOrderedLists(original: JsonObject, patch: JsonObject, s: Schema | undefined): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ORDER_PREFIX)) continue;
    const order = patch[key];
    delete patch[key];
    if (!Array.isArray(order)) throw errBadArgType("slice", order);
    const field = extractKey(key, SET_ORDER_PREFIX);
    const hasOriginal = Object.hasOwn(original, field);
    const hasPatch = Object.hasOwn(patch, field);
    const origList = original[field];
    const patchList = patch[field];
    if (hasOriginal && !Array.isArray(origList)) throw errBadArgType("slice", origList);
    if (hasPatch && !Array.isArray(patchList)) throw errBadArgType("slice", patchList);
    const fieldSchema = childSchema(s, field);
    const meta = fieldSchema ? metaFor(fieldSchema) : inferMetaFromOrder(order);
    const origItems = (origList as unknown[] | undefined) ?? [];
    const patchItems = (patchList as unknown[] | undefined) ?? [];
    validatePatchWithSetOrderList(patchItems, order, meta.mergeKey);

    let merged: unknown[];
    if (hasOriginal && !hasPatch) merged = origItems;
    else if (!hasOriginal && hasPatch) merged = cleanNew(patchItems) as unknown[];
    else if (hasOriginal && hasPatch) {
      merged =
        meta.strategy === "merge"
          ? mergeSlice(origItems, patchItems, listItemSchema(fieldSchema), meta.mergeKey, false)
          : (cleanNew(patchItems) as unknown[]);
    } else continue;
    delete patch[field];

    const kind = elementKind(origItems, patchItems);
    if (kind === undefined || merged.length === 0) {
      original[field] = merged;
      continue;
    }
    const [inOrder, serverOnly] = partitionByPresence(merged, order, meta.mergeKey);
    original[field] = normalizeElementOrder(inOrder, serverOnly, order, origItems, meta.mergeKey, kind === "map");
  }
}

/** Merges one patch field into `original`. */
function mergeField(original: JsonObject, key: string, patchV: unknown, s: Schema | undefined, isDeleteList: boolean): void {
  if (patchV === null) {
    delete original[key];
    return;
  }
  if (!Object.hasOwn(original, key) || shapeOf(original[key]) !== shapeOf(patchV)) {
    if (!isDeleteList) setClean(original, key, patchV);
    return;
  }
  const current = original[key];
  const fieldSchema = childSchema(s, key);
  const meta = metaFor(fieldSchema);
  if (isObject(current)) {
    original[key] = meta.strategy === "replace" ? replacement(patchV as JsonObject) : mergeMap(current, patchV as JsonObject, fieldSchema);
  } else if (Array.isArray(current)) {
    // A parallel deletion list for a field the schema knows nothing about implies a merge list of scalars.
    const strategy = meta.strategy || (isDeleteList && !fieldSchema ? "merge" : "");
    original[key] =
      strategy === "merge"
        ? mergeSlice(current, patchV as unknown[], listItemSchema(fieldSchema), meta.mergeKey, isDeleteList)
        : cleanNew(patchV);
  } else {
    original[key] = patchV;
  }
}

function metaFor(fieldSchema: Schema | undefined): PatchMeta {
  const meta = patchMetaOf(fieldSchema);
  if (typeof meta === "string") throw new SmpFailure(meta, "internal");
  return meta;
}

/** Merge info for a field without schema, read off its `$setElementOrder` list. */
function inferMetaFromOrder(order: unknown[]): PatchMeta {
  const none: PatchMeta = { strategy: "", retainKeys: false, mergeKey: "" };
  if (order.length === 0) return none;
  if (order.every((x) => !isObject(x) && !Array.isArray(x))) return { ...none, strategy: "merge" };
  const keys = new Set<string>();
  for (const item of order) {
    if (!isObject(item)) return none;
    const own = Object.keys(item);
    if (own.length !== 1) return none;
    keys.add(own[0] ?? "");
  }
  const [only] = [...keys];
  return keys.size === 1 && only ? { ...none, strategy: "merge", mergeKey: only } : none;
}

function mergeSlice(original: unknown[], patch: unknown[], itemSchema: Schema | undefined, mergeKey: string, isDeleteList: boolean): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = elementKind(original, patch);
  let orig = original;
  let pat = patch;
  let merged: unknown[];
  if (kind !== "map") {
    if (isDeleteList) return original.filter((v) => !patch.some((d) => sameValue(d, v)));
    merged = dedupe([...original, ...patch]);
  } else {
    if (!mergeKey) throw new SmpFailure("cannot merge lists without merge key for type struct", "internal");
    [orig, pat] = mergeSpecialElements(original, patch, mergeKey);
    merged = mergeByKey(orig, pat, mergeKey, itemSchema);
  }
  const isMap = kind === "map";
  const [patchItems, serverOnly] = partitionByPresence(merged, pat, isMap ? mergeKey : "");
  return normalizeElementOrder(patchItems, serverOnly, pat, orig, mergeKey, isMap);
}

/**
 * Applies list-item directives: `$patch: delete` removes matching items,
 * `$patch: replace` replaces the list with the patch's other items.
 * Returns the new original list and the patch without directive items.
 */
function mergeSpecialElements(original: unknown[], patch: unknown[], mergeKey: string): [unknown[], unknown[]] {
  const plain: unknown[] = [];
  let orig = original;
  let replace = false;
  for (const v of patch) {
    const item = v as JsonObject;
    if (!Object.hasOwn(item, DIRECTIVE)) {
      plain.push(v);
      continue;
    }
    const directive = item[DIRECTIVE];
    if (directive === "delete") {
      if (!Object.hasOwn(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
      const value = item[mergeKey];
      while (true) {
        const i = findByMergeKey(orig, mergeKey, value);
        if (i < 0) break;
        orig = [...orig.slice(0, i), ...orig.slice(i + 1)];
      }
    } else if (directive === "replace") {
      replace = true;
    } else if (directive === "merge") {
      throw new SmpFailure("merging lists cannot yet be specified in the patch", "internal");
    } else {
      throw errBadPatchType(directive, item);
    }
  }
  if (replace) return [plain.map((v) => cleanNew(v)), []];
  return [orig, plain];
}

/** Merges patch items into original items with the same merge key value; appends the rest. */
function mergeByKey(original: unknown[], patch: unknown[], mergeKey: string, itemSchema: Schema | undefined): unknown[] {
  const out = [...original];
  for (const v of patch) {
    const item = v as JsonObject;
    if (!Object.hasOwn(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
    const i = findByMergeKey(out, mergeKey, item[mergeKey]);
    if (i >= 0) out[i] = mergeMap(out[i] as JsonObject, item, itemSchema);
    else out.push(cleanNew(item));
  }
  return out;
}

function dedupe(list: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const v of list) if (!out.some((x) => sameValue(x, v))) out.push(v);
  return out;
}

/** The field name after `<prefix>/`. */
function extractKey(key: string, prefix: string): string {
  const slash = key.indexOf("/");
  if (slash < 0 || key.slice(0, slash) !== prefix) {
    throw prefix === DELETE_PREFIX ? errPrimitiveList() : errSetOrder();
  }
  return key.slice(slash + 1);
}

function isDirectiveKey(k: string): boolean {
  return k === RETAIN_KEYS || k.startsWith(SET_ORDER_PREFIX) || k.startsWith(DELETE_PREFIX);
}

/**
 * A patch value stored as-is (nothing to merge with): nulls and directive
 * keys are removed, and maps carrying `$patch` are dropped (upstream's
 * discardNullValuesFromPatch + removeDirectives).
 */
function cleanNew(v: unknown): unknown {
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const x of v) {
      const c = cleanNew(x);
      if (c !== DROP) out.push(c);
    }
    return out;
  }
  if (isObject(v)) {
    if (Object.hasOwn(v, DIRECTIVE)) return DROP;
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) {
      if (x === null || isDirectiveKey(k)) continue;
      const c = cleanNew(x);
      if (c !== DROP) out[k] = c;
    }
    return out;
  }
  return v;
}

function setClean(original: JsonObject, key: string, v: unknown): void {
  const c = cleanNew(v);
  if (c === DROP) delete original[key];
  else original[key] = c;
}

/** A map replacing the original wholesale (strategy `replace`). */
function replacement(patch: JsonObject): JsonObject {
  const rest: JsonObject = { ...patch };
  delete rest[DIRECTIVE];
  return cleanNew(rest) as JsonObject;
}
