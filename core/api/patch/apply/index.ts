/**
 * @module Server-side apply: field sets and their `fieldsV1` encoding,
 * `serverSideApply` for `application/apply-patch+yaml`, and
 * `updateManagedFields` for every other write.
 */
import type { Schema } from "../../schema.ts";
import type { FieldSet } from "./fieldpath.ts";
import { fieldSetOf } from "./typed.ts";

export { FieldSet, pathToString, peFromString, peToString, type FieldPath, type PathElement } from "./fieldpath.ts";
export {
  BEFORE_FIRST_APPLY,
  fieldManagerRequired,
  serverSideApply,
  updateManagedFields,
  type ApplyResult,
  type ServerSideApplyArgs,
  type UpdateManagedFieldsArgs,
} from "./apply.ts";
export { MAX_UPDATE_MANAGERS, STRIPPED_FIELDS, decodeManagedFields, encodeManagedFields, managerId } from "./managed-fields.ts";

/**
 * The fields `obj` sets, per `schema` (structured-merge-diff ToFieldSet).
 * Lenient: map-list items without keys are skipped, duplicates owned whole.
 * Serialize with `set.toFieldsV1()`, parse with `FieldSet.fromFieldsV1`.
 */
export function fieldsetOf(obj: unknown, schema: Schema | undefined): FieldSet {
  return fieldSetOf(obj, schema, { strict: false });
}
