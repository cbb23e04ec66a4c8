/**
 * @module Field-error constructors that core/api/validation.ts does not have
 * (NotSupported, Duplicate, NotFound, TooMany, TypeInvalid), plus rendering of
 * Go-shaped bad values (`map[string]string{…}`) and path building. Messages
 * follow k8s.io/apimachinery `pkg/util/validation/field/errors.go`.
 */
import type { StatusCause } from "../api/errors.ts";
import { formatBadValue, goQuote } from "../api/validation.ts";

export { fieldForbidden, fieldInvalid, fieldRequired, fieldTooLong } from "../api/validation.ts";

/** `FieldValueNotSupported`: `Unsupported value: "x": supported values: "a", "b"`. */
export function fieldNotSupported(field: string, value: unknown, supported: readonly string[]): StatusCause {
  const list = supported.map((s) => goQuote(s)).join(", ");
  return {
    reason: "FieldValueNotSupported",
    field,
    message: `Unsupported value: ${formatBadValue(value)}${supported.length ? `: supported values: ${list}` : ""}`,
  };
}

/** `FieldValueDuplicate`: `Duplicate value: "x"`. */
export function fieldDuplicate(field: string, value: unknown): StatusCause {
  return { reason: "FieldValueDuplicate", field, message: `Duplicate value: ${formatBadValue(value)}` };
}

/** `FieldValueNotFound`: `Not found: "x"`. */
export function fieldNotFound(field: string, value: unknown): StatusCause {
  return { reason: "FieldValueNotFound", field, message: `Not found: ${formatBadValue(value)}` };
}

/** `FieldValueTooMany`: `Too many: 5: must have at most 3 items`. */
export function fieldTooMany(field: string, actual: number, max: number): StatusCause {
  return { reason: "FieldValueTooMany", field, message: `Too many: ${actual}: must have at most ${max} items` };
}

/** `FieldValueTypeInvalid`: `Invalid value: <v>: <detail>`. */
export function fieldTypeInvalid(field: string, value: unknown, detail: string): StatusCause {
  return { reason: "FieldValueTypeInvalid", field, message: `Invalid value: ${formatBadValue(value)}: ${detail}` };
}

/** `FieldValueInvalid` whose value is already rendered (e.g. a Go map literal). */
export function fieldInvalidRendered(field: string, rendered: string, detail: string): StatusCause {
  return { reason: "FieldValueInvalid", field, message: `Invalid value: ${rendered}${detail ? `: ${detail}` : ""}` };
}

/** A string map as Go's `%#v` prints it: `map[string]string{"a":"b", "c":"d"}` (keys sorted). */
export function goStringMap(m: Record<string, unknown> | undefined): string {
  if (!m) return "map[string]string(nil)";
  const keys = Object.keys(m).sort();
  return `map[string]string{${keys.map((k) => `${goQuote(k)}:${goQuote(String(m[k]))}`).join(", ")}}`;
}

/** Appends a child to a field path: `child("spec", "containers")` → `spec.containers`. */
export function child(path: string, ...names: string[]): string {
  let out = path;
  for (const n of names) if (n !== "") out = out === "" ? n : `${out}.${n}`;
  return out;
}

/** `spec.containers[3]`. */
export function index(path: string, i: number): string {
  return `${path}[${i}]`;
}

/** `data[my-key]` (Go's field.Path.Key). */
export function key(path: string, k: string): string {
  return `${path}[${k}]`;
}

/** `must be greater than or equal to 0` on a negative number (upstream ValidateNonnegativeField). */
export function nonNegative(field: string, v: unknown): StatusCause[] {
  if (typeof v !== "number") return [];
  return v < 0 ? [{ reason: "FieldValueInvalid", field, message: `Invalid value: ${v}: must be greater than or equal to 0` }] : [];
}

/** A wrong JSON type where the schema wants `expected` (JSON type names: string, integer, object…). */
export function wrongType(field: string, value: unknown, expected: string): StatusCause {
  return fieldTypeInvalid(field, value, `must be of type ${expected}`);
}
