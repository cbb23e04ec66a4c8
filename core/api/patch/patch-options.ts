/**
 * @module PATCH request plumbing shared by the handlers: the patch media
 * types, which of them a resource accepts (415 otherwise), validation of
 * `fieldManager`/`force` (PatchOptions, CreateOptions, UpdateOptions), and
 * the manager name derived from the User-Agent when `fieldManager` is absent.
 * Messages follow k8s.io/apiserver handlers/patch.go and
 * k8s.io/apimachinery pkg/apis/meta/v1/validation.
 */
import { ApiError, errors, type StatusCause } from "../errors.ts";

export const PATCH_CONTENT_TYPES = {
  json: "application/json-patch+json",
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
} as const;

export type PatchType = keyof typeof PATCH_CONTENT_TYPES;

/** Upstream's FieldManagerMaxLength. */
export const FIELD_MANAGER_MAX_LENGTH = 128;

/**
 * The patch media types a resource accepts, in upstream's order. Built-in
 * kinds take all four; custom resources have no strategic merge patch.
 */
export function supportedPatchTypes(opts: { strategicMerge: boolean }): string[] {
  const all = [PATCH_CONTENT_TYPES.json, PATCH_CONTENT_TYPES.merge, PATCH_CONTENT_TYPES.strategic, PATCH_CONTENT_TYPES.apply];
  return opts.strategicMerge ? all : all.filter((t) => t !== PATCH_CONTENT_TYPES.strategic);
}

/**
 * The patch type of a request's Content-Type (parameters after `;` are
 * ignored). Throws 415 UnsupportedMediaType listing `accepted` otherwise.
 */
export function patchTypeOf(contentType: string | undefined, accepted: readonly string[]): PatchType {
  const raw = contentType ?? "";
  const semi = raw.indexOf(";");
  const mediaType = (semi > 0 ? raw.slice(0, semi) : raw).trim();
  const entry = Object.entries(PATCH_CONTENT_TYPES).find(([, v]) => v === mediaType);
  if (!entry || !accepted.includes(mediaType)) {
    throw new ApiError({
      reason: "UnsupportedMediaType",
      message: `the body of the request was in an unknown format - accepted media types include: ${accepted.join(", ")}`,
    });
  }
  return entry[0] as PatchType;
}

function optionsInvalid(kind: string, causes: StatusCause[]): ApiError {
  return errors.invalid({ kind, group: "meta.k8s.io", name: "", causes });
}

function fieldManagerCauses(fieldManager: string | undefined): StatusCause[] {
  if (!fieldManager) return [];
  const causes: StatusCause[] = [];
  if (new TextEncoder().encode(fieldManager).length > FIELD_MANAGER_MAX_LENGTH) {
    causes.push({
      reason: "FieldValueTooLong",
      message: `Too long: may not be more than ${FIELD_MANAGER_MAX_LENGTH} bytes`,
      field: "fieldManager",
    });
  }
  let pos = 0;
  for (const ch of fieldManager) {
    if (!/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch)) {
      const cp = ch.codePointAt(0) ?? 0;
      const u = `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
      causes.push({
        reason: "FieldValueInvalid",
        message: `Invalid value: ${JSON.stringify(fieldManager)}: invalid character ${u} (at position ${pos})`,
        field: "fieldManager",
      });
    }
    pos += new TextEncoder().encode(ch).length;
  }
  return causes;
}

/**
 * Validates PatchOptions: apply patches need a `fieldManager`
 * (422 "…fieldManager: Required value: is required for apply patch"),
 * other patch types may not set `force`.
 */
export function validatePatchOptions(opts: { patchType: PatchType; fieldManager?: string | undefined; force?: boolean | undefined }): void {
  const causes: StatusCause[] = [];
  if (opts.patchType !== "apply") {
    if (opts.force !== undefined) {
      causes.push({ reason: "FieldValueForbidden", message: "Forbidden: may not be specified for non-apply patch", field: "force" });
    }
  } else if (!opts.fieldManager) {
    causes.push({ reason: "FieldValueRequired", message: "Required value: is required for apply patch", field: "fieldManager" });
  }
  causes.push(...fieldManagerCauses(opts.fieldManager));
  if (causes.length > 0) throw optionsInvalid("PatchOptions", causes);
}

/** Validates `fieldManager` of a create or update (length, printable characters). */
export function validateWriteOptions(opts: { kind: "CreateOptions" | "UpdateOptions"; fieldManager?: string | undefined }): void {
  const causes = fieldManagerCauses(opts.fieldManager);
  if (causes.length > 0) throw optionsInvalid(opts.kind, causes);
}

/**
 * The manager recorded for a non-apply write: `fieldManager` when given,
 * else the User-Agent up to its first "/" (printable characters only,
 * at most 128 bytes), e.g. "kubectl" for "kubectl/v1.32.4 (linux/amd64)".
 */
export function managerOrUserAgent(fieldManager: string | undefined, userAgent: string | undefined): string {
  if (fieldManager) return fieldManager;
  const head = (userAgent ?? "").split("/")[0] ?? "";
  let out = "";
  for (const ch of head) {
    if (!/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch)) continue;
    if (new TextEncoder().encode(out).length >= FIELD_MANAGER_MAX_LENGTH) break;
    out += ch;
  }
  return out;
}
