/**
 * @module The PATCH engines of the API server: RFC 6902 JSON patch, RFC 7386
 * merge patch, Kubernetes strategic merge patch and server-side apply (with
 * the managedFields bookkeeping every write needs), plus the request-level
 * helpers (patch media types, PatchOptions validation). Everything here is
 * pure: inputs are never mutated, failures are thrown as ApiError with
 * kube-apiserver's status codes and messages. Semantics and deviations are
 * described in each file's header and in README.md beside this file.
 */
export { applyJsonPatch, MAX_JSON_PATCH_OPERATIONS, type JsonPatchOperation } from "./json-patch.ts";
export { applyMergePatch, mergePatchValue } from "./merge-patch.ts";
export { applyStrategicMergePatch } from "./strategic-merge.ts";
export {
  FIELD_MANAGER_MAX_LENGTH,
  PATCH_CONTENT_TYPES,
  managerOrUserAgent,
  patchTypeOf,
  supportedPatchTypes,
  validatePatchOptions,
  validateWriteOptions,
  type PatchType,
} from "./patch-options.ts";
export * from "./apply/index.ts";
