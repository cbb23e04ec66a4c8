/**
 * @module RFC 7386 JSON Merge Patch (`application/merge-patch+json`).
 *
 * `mergePatchValue` is the RFC algorithm verbatim. `applyMergePatch` is what
 * the PATCH handler uses: like kube-apiserver (evanphx/json-patch
 * MergePatch), it requires the patch document to be a JSON object — a `null`,
 * scalar or array patch is a 400 "Invalid JSON Patch" instead of replacing
 * the whole object. Below the top level the RFC applies unchanged: `null`
 * deletes a member and any non-object value replaces the target.
 */
import { deepClone, isObject, type JsonObject } from "./json-value.ts";
import { badPatch } from "./patch-errors.ts";

/**
 * Applies a merge patch to a Kubernetes object (or any JSON object) and
 * returns the result; inputs are never mutated. Throws 400 BadRequest when
 * `patch` is not an object.
 */
export function applyMergePatch(doc: unknown, patch: unknown): unknown {
  if (!isObject(patch)) throw badPatch("Invalid JSON Patch");
  return mergePatchValue(doc, patch);
}

/** RFC 7386 section 2 MergePatch(target, patch), returning a new value. */
export function mergePatchValue(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return deepClone(patch);
  const base: JsonObject = isObject(target) ? target : {};
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(base)) {
    if (!Object.hasOwn(patch, k)) out[k] = deepClone(v);
  }
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) continue;
    out[k] = mergePatchValue(Object.hasOwn(base, k) ? base[k] : undefined, v);
  }
  return reorder(base, out);
}

/** Keeps the target's key order, with new members after existing ones. */
function reorder(base: JsonObject, out: JsonObject): JsonObject {
  const ordered: JsonObject = {};
  for (const k of Object.keys(base)) if (Object.hasOwn(out, k)) ordered[k] = out[k];
  for (const k of Object.keys(out)) if (!Object.hasOwn(ordered, k)) ordered[k] = out[k];
  return ordered;
}
