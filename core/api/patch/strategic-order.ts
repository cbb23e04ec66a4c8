/**
 * @module Ordering rules of strategic merge patch (the "preserve order"
 * design: `$setElementOrder` > order in the patch list > order in the live
 * list), plus the error type the strategic merge engine throws internally.
 * Semantics follow k8s.io/apimachinery pkg/util/strategicpatch/patch.go.
 */
import { deepEqual, goFormat, goKind, isObject } from "./json-value.ts";

export const DIRECTIVE = "$patch";
export const RETAIN_KEYS = "$retainKeys";
export const DELETE_PREFIX = "$deleteFromPrimitiveList";
export const SET_ORDER_PREFIX = "$setElementOrder";

/**
 * A strategic merge failure. `status` says how kube-apiserver reports it:
 * `badRequest` (400, mergepatch sentinels), `invalid` (generic 422), or
 * `internal` (a plain error, which upstream answers with 500; we answer 400).
 */
export class SmpFailure extends Error {
  constructor(
    message: string,
    readonly status: "badRequest" | "invalid" | "internal",
  ) {
    super(message);
  }
}

export const errPrimitiveList = (): SmpFailure => new SmpFailure("invalid patch format of primitive list", "badRequest");
export const errRetainKeys = (): SmpFailure => new SmpFailure("invalid patch format of retainKeys", "badRequest");
export const errSetOrder = (): SmpFailure => new SmpFailure("invalid patch format of setElementOrder list", "badRequest");
export const errListOfLists = (): SmpFailure => new SmpFailure("lists of lists are not supported", "invalid");

export function errNoMergeKey(m: unknown, key: string): SmpFailure {
  return new SmpFailure(`map: ${goFormat(m)} does not contain declared merge key: ${key}`, "internal");
}

export function errBadArgType(expected: string, actual: unknown): SmpFailure {
  return new SmpFailure(`expected a ${expected}, but received a ${goKind(actual)}`, "internal");
}

export function errBadPatchType(t: unknown, m: unknown): SmpFailure {
  return new SmpFailure(`unknown patch type: ${goFormat(t)} in map: ${goFormat(m)}`, "internal");
}

/** Go `==` on decoded JSON scalars (objects compared structurally instead of panicking). */
export function sameValue(a: unknown, b: unknown): boolean {
  return a === b || (typeof a === "object" && typeof b === "object" && deepEqual(a, b));
}

/**
 * The element kind shared by all items of the lists ("map" or "scalar"),
 * undefined when they are all empty. Lists of lists are rejected.
 */
export function elementKind(...lists: unknown[][]): "map" | "scalar" | undefined {
  let prev: string | undefined;
  for (const list of lists) {
    for (const v of list) {
      const k = Array.isArray(v) ? "slice" : isObject(v) ? "map" : v === null ? "null" : typeof v;
      if (prev === undefined) {
        if (k === "slice") throw errListOfLists();
        prev = k;
      } else if (prev !== k) {
        throw new SmpFailure(`list element types are not identical: ${goFormat(lists)}`, "internal");
      }
    }
  }
  if (prev === undefined) return undefined;
  return prev === "map" ? "map" : "scalar";
}

/** Position of `item` in `list`, matching maps by merge key value. */
export function indexIn(list: unknown[], item: unknown, mergeKey: string, isMap: boolean): number {
  const val = (x: unknown): unknown => (isMap ? (isObject(x) ? x[mergeKey] : undefined) : x);
  const target = val(item);
  return list.findIndex((x) => sameValue(val(x), target));
}

function validateMergeKeyInLists(mergeKey: string, ...lists: unknown[][]): void {
  for (const list of lists) {
    for (const item of list) {
      if (!isObject(item)) throw errBadArgType("map", item);
      if (!Object.hasOwn(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
    }
  }
}

/** Splits list items into those kept and those carrying `$patch: delete`. */
export function extractToDeleteItems(list: unknown[]): [unknown[], unknown[]] {
  const keep: unknown[] = [];
  const del: unknown[] = [];
  for (const v of list) {
    if (!isObject(v)) throw errBadArgType("map", v);
    (v[DIRECTIVE] === "delete" ? del : keep).push(v);
  }
  return [keep, del];
}

/** Stable-sorts `toSort` by position in `order`; unknown items go last. */
function normalizeSliceOrder(toSort: unknown[], order: unknown[], mergeKey: string, isMap: boolean): unknown[] {
  let items = toSort;
  let toDelete: unknown[] = [];
  if (isMap) {
    validateMergeKeyInLists(mergeKey, toSort, order);
    [items, toDelete] = extractToDeleteItems(toSort);
  }
  const ranked = items.map((item, i) => {
    const at = indexIn(order, item, mergeKey, isMap);
    return { item, rank: at < 0 ? Number.POSITIVE_INFINITY : at, i };
  });
  ranked.sort((a, b) => (a.rank === b.rank ? a.i - b.i : a.rank < b.rank ? -1 : 1));
  return [...ranked.map((r) => r.item), ...toDelete];
}

/**
 * Interleaves server-only items (`left`) into patch items (`right`): a
 * server-only item goes before the next patch item only when the live list
 * had it earlier; patch items new to the live list come first.
 */
function mergeSortedSlice(left: unknown[], right: unknown[], serverOrder: unknown[], mergeKey: string, isMap: boolean): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey, isMap);
      const ri = indexIn(serverOrder, right[j], mergeKey, isMap);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

/** Orders patch items by `patchOrder`, server-only items by `serverOrder`, then interleaves them. */
export function normalizeElementOrder(
  patchItems: unknown[],
  serverOnly: unknown[],
  patchOrder: unknown[],
  serverOrder: unknown[],
  mergeKey: string,
  isMap: boolean,
): unknown[] {
  const p = normalizeSliceOrder(patchItems, patchOrder, mergeKey, isMap);
  const s = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, isMap);
  return mergeSortedSlice(s, p, serverOrder, mergeKey, isMap);
}

/** Splits `merged` into items present in `by` and the rest (maps matched by merge key). */
export function partitionByPresence(merged: unknown[], by: unknown[], mergeKey: string): [unknown[], unknown[]] {
  const inPatch: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const v of merged) {
    let found: boolean;
    if (!mergeKey) {
      found = by.some((x) => sameValue(x, v));
    } else {
      if (!isObject(v)) throw errBadArgType("map", v);
      if (!Object.hasOwn(v, mergeKey)) throw errNoMergeKey(v, mergeKey);
      found = findByMergeKey(by, mergeKey, v[mergeKey]) >= 0;
    }
    (found ? inPatch : serverOnly).push(v);
  }
  return [inPatch, serverOnly];
}

/** Index of the map in `list` whose `key` equals `value`; every item must be a map. */
export function findByMergeKey(list: unknown[], key: string, value: unknown): number {
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (!isObject(item)) throw new SmpFailure(`value for key ${i} is not a map.`, "internal");
    if (Object.hasOwn(item, key) && sameValue(item[key], value)) return i;
  }
  return -1;
}

function mergeKeyValueEqual(left: unknown, right: unknown, mergeKey: string): boolean {
  if (!mergeKey) return sameValue(left, right);
  if (!isObject(left)) throw errBadArgType("map", left);
  if (!isObject(right)) throw errBadArgType("map", right);
  if (!Object.hasOwn(left, mergeKey)) throw errNoMergeKey(left, mergeKey);
  if (!Object.hasOwn(right, mergeKey)) throw errNoMergeKey(right, mergeKey);
  return sameValue(left[mergeKey], right[mergeKey]);
}

/**
 * Checks that the patch list's items (deletions aside) appear in the
 * `$setElementOrder` list, in the same relative order.
 */
export function validatePatchWithSetOrderList(patchList: unknown[], setOrder: unknown[], mergeKey: string): void {
  if (setOrder.length === 0 || patchList.length === 0) return;
  const nonDelete = mergeKey ? extractToDeleteItems(patchList)[0] : patchList;
  let p = 0;
  let s = 0;
  while (p < nonDelete.length && s < setOrder.length) {
    const item = nonDelete[p];
    if (isObject(item) && Object.hasOwn(item, DIRECTIVE)) {
      p++;
      continue;
    }
    if (mergeKeyValueEqual(item, setOrder[s], mergeKey)) p++;
    s++;
  }
  if (p < nonDelete.length && s >= setOrder.length) {
    throw new SmpFailure(
      `the order in patch list:\n${goFormat(patchList)}\n doesn't match ${SET_ORDER_PREFIX} list:\n${goFormat(setOrder)}`,
      "internal",
    );
  }
}

