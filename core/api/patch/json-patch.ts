/**
 * @module RFC 6902 JSON Patch (`application/json-patch+json`), with the
 * semantics kube-apiserver gets from gopkg.in/evanphx/json-patch.v4.
 *
 * Library choice: written here (~200 lines) rather than depending on
 * `fast-json-patch` or `rfc6902`. Both mutate their input by default, report
 * failures in their own shapes (an error-array per op for rfc6902, a
 * JsonPatchError with its own texts for fast-json-patch), and neither has
 * the upstream quirks clients can observe: negative array indices, `test`
 * of `null` against a missing member passing, a `null` patch being a no-op,
 * the 10 000-operation cap. Owning the code keeps those exact and the
 * application atomic (the input is never touched; a failure leaves nothing).
 *
 * Errors, as upstream's handlers/patch.go maps them:
 * - the patch is not a list of objects → 400 BadRequest (json decode text);
 * - more than 10 000 operations → 413;
 * - any operation failing (missing path, failed test, bad op) → 422 Invalid
 *   "the server rejected our request due to an error in our request" — the
 *   generic message upstream sends; the specific reason is the error's cause.
 */
import { errors } from "../errors.ts";
import { deepClone, deepEqual, isObject, jsonTypeName, type JsonObject } from "./json-value.ts";
import { badPatch, unprocessable } from "./patch-errors.ts";

/** One RFC 6902 operation. */
export interface JsonPatchOperation {
  op: "add" | "remove" | "replace" | "move" | "copy" | "test";
  path: string;
  value?: unknown;
  from?: string;
}

/** Upstream's maxJSONPatchOperations. */
export const MAX_JSON_PATCH_OPERATIONS = 10000;

class OpFailure extends Error {}

/**
 * Applies an RFC 6902 patch to `doc` and returns the result; `doc` and
 * `patch` are left untouched. Throws ApiError (400/413/422) on bad patches.
 */
export function applyJsonPatch(doc: unknown, patch: unknown): unknown {
  const ops = decodeJsonPatch(patch);
  let root = deepClone(doc);
  for (const op of ops) {
    try {
      root = applyOperation(root, op);
    } catch (e) {
      if (e instanceof OpFailure) throw unprocessable(e.message);
      throw e;
    }
  }
  return root;
}

/** Checks the patch's outer shape the way Go's json decoder would. */
function decodeJsonPatch(patch: unknown): unknown[] {
  if (patch === null) return [];
  if (!Array.isArray(patch)) {
    throw badPatch(`json: cannot unmarshal ${jsonTypeName(patch)} into Go value of type jsonpatch.Patch`);
  }
  for (const op of patch) {
    if (op !== null && !isObject(op)) {
      throw badPatch(`json: cannot unmarshal ${jsonTypeName(op)} into Go value of type jsonpatch.Operation`);
    }
  }
  if (patch.length > MAX_JSON_PATCH_OPERATIONS) {
    throw errors.tooLarge(
      `Request entity too large: The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${patch.length}`,
    );
  }
  return patch;
}

function applyOperation(root: unknown, raw: unknown): unknown {
  const op = isObject(raw) ? raw : {};
  const kind = typeof op.op === "string" ? op.op : "unknown";
  switch (kind) {
    case "add":
      return add(root, pathOf(op, "path"), valueOf(op, kind));
    case "remove":
      return remove(root, pathOf(op, "path"), kind).root;
    case "replace":
      return replace(root, pathOf(op, "path"), valueOf(op, kind));
    case "move": {
      const from = pathOf(op, "from");
      const to = pathOf(op, "path");
      if (from === to) return root;
      if (to.startsWith(`${from}/`)) throw new OpFailure(`move operation does not apply: cannot move ${from} into its own child ${to}`);
      const taken = remove(root, from, kind);
      return add(taken.root, to, taken.value);
    }
    case "copy": {
      const from = pathOf(op, "from");
      const found = get(root, from);
      if (!found.ok) throw new OpFailure(`copy operation does not apply: doc is missing from path: ${from}: missing value`);
      return add(root, pathOf(op, "path"), deepClone(found.value));
    }
    case "test": {
      const path = pathOf(op, "path");
      const expected = Object.hasOwn(op, "value") ? op.value : null;
      const found = get(root, path);
      if (!found.ok) {
        // evanphx/json-patch: testing null against a missing member passes.
        if (expected === null && parentExists(root, path)) return root;
        throw new OpFailure(`testing value ${path} failed: test failed`);
      }
      if (!deepEqual(found.value, expected)) throw new OpFailure(`testing value ${path} failed: test failed`);
      return root;
    }
    default:
      throw new OpFailure(`Unexpected kind: ${kind}`);
  }
}

function pathOf(op: JsonObject, field: "path" | "from"): string {
  const p = op[field];
  if (typeof p !== "string") {
    throw new OpFailure(field === "path" ? "operation missing path field: missing value" : "operation, missing from field: missing value");
  }
  return p;
}

function valueOf(op: JsonObject, kind: string): unknown {
  if (!Object.hasOwn(op, "value")) throw new OpFailure(`${kind} operation missing value field`);
  return deepClone(op.value);
}

/** Splits an RFC 6901 pointer; "" is the whole document. */
function tokens(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new OpFailure(`JSON pointer must be empty or start with "/": ${pointer}`);
  return pointer
    .slice(1)
    .split("/")
    .map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** An array index token; negative counts from the end (upstream SupportNegativeIndices). */
function parseIndex(token: string): number | undefined {
  return /^-?\d+$/.test(token) ? Number(token) : undefined;
}

/** Walks to the container holding the pointer's last token. */
function parentOf(root: unknown, pointer: string): { parent: unknown; key: string } | undefined {
  const parts = tokens(pointer);
  const key = parts.pop();
  if (key === undefined) return undefined;
  let cur: unknown = root;
  for (const part of parts) {
    if (Array.isArray(cur)) {
      let i = parseIndex(part);
      if (i === undefined) return undefined;
      if (i < 0) i += cur.length;
      if (i < 0 || i >= cur.length) return undefined;
      cur = cur[i];
    } else if (isObject(cur) && Object.hasOwn(cur, part)) {
      cur = cur[part];
    } else {
      return undefined;
    }
  }
  return Array.isArray(cur) || isObject(cur) ? { parent: cur, key } : undefined;
}

function parentExists(root: unknown, pointer: string): boolean {
  return pointer === "" || parentOf(root, pointer) !== undefined;
}

function get(root: unknown, pointer: string): { ok: true; value: unknown } | { ok: false } {
  if (pointer === "") return { ok: true, value: root };
  const at = parentOf(root, pointer);
  if (!at) return { ok: false };
  if (Array.isArray(at.parent)) {
    const i = existingIndex(at.parent, at.key);
    return i === undefined ? { ok: false } : { ok: true, value: at.parent[i] };
  }
  const obj = at.parent as JsonObject;
  return Object.hasOwn(obj, at.key) ? { ok: true, value: obj[at.key] } : { ok: false };
}

function existingIndex(arr: unknown[], token: string): number | undefined {
  let i = parseIndex(token);
  if (i === undefined) return undefined;
  if (i < 0) i += arr.length;
  return i >= 0 && i < arr.length ? i : undefined;
}

function add(root: unknown, pointer: string, value: unknown): unknown {
  if (pointer === "") return value;
  const at = parentOf(root, pointer);
  if (!at) throw new OpFailure(`add operation does not apply: doc is missing path: "${pointer}": missing value`);
  if (Array.isArray(at.parent)) {
    const arr = at.parent;
    if (at.key === "-") {
      arr.push(value);
      return root;
    }
    let i = parseIndex(at.key);
    if (i === undefined) throw new OpFailure(`value was not a proper array index: '${at.key}'`);
    if (i < 0) i += arr.length + 1;
    if (i < 0 || i > arr.length) throw new OpFailure(`Unable to access invalid index: ${at.key}: invalid index referenced`);
    arr.splice(i, 0, value);
    return root;
  }
  (at.parent as JsonObject)[at.key] = value;
  return root;
}

function remove(root: unknown, pointer: string, kind: string): { root: unknown; value: unknown } {
  const missing = (): OpFailure =>
    kind === "move"
      ? new OpFailure(`move operation does not apply: doc is missing from path: ${pointer}: missing value`)
      : new OpFailure(`remove operation does not apply: doc is missing path: "${pointer}": missing value`);
  const at = pointer === "" ? undefined : parentOf(root, pointer);
  if (!at) throw missing();
  if (Array.isArray(at.parent)) {
    const i = existingIndex(at.parent, at.key);
    if (i === undefined) throw missing();
    const [value] = at.parent.splice(i, 1);
    return { root, value };
  }
  const obj = at.parent as JsonObject;
  if (!Object.hasOwn(obj, at.key)) throw missing();
  const value = obj[at.key];
  delete obj[at.key];
  return { root, value };
}

function replace(root: unknown, pointer: string, value: unknown): unknown {
  if (pointer === "") return value;
  const missing = new OpFailure(`replace operation does not apply: doc is missing key: ${pointer}: missing value`);
  const at = parentOf(root, pointer);
  if (!at) throw missing;
  if (Array.isArray(at.parent)) {
    const i = existingIndex(at.parent, at.key);
    if (i === undefined) throw missing;
    at.parent[i] = value;
    return root;
  }
  const obj = at.parent as JsonObject;
  if (!Object.hasOwn(obj, at.key)) throw missing;
  obj[at.key] = value;
  return root;
}
