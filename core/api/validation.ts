/**
 * @module Validation of names, labels, annotations and object metadata, with
 * the exact rules and messages of k8s.io/apimachinery
 * (`pkg/util/validation`, `pkg/api/validation/objectmeta.go`). Every check
 * returns a list of problems; an empty list means valid. Checks scan
 * characters by hand instead of using regexes, so cost stays linear in the
 * input size.
 */
import type { StatusCause } from "./errors.ts";

/** Largest encoded object the server accepts (etcd's default request limit). */
export const MAX_OBJECT_BYTES = 1.5 * 1024 * 1024;
/** Largest total size of an object's annotations: sum of key and value byte lengths. */
export const MAX_ANNOTATIONS_BYTES = 256 * 1024;

const DNS1123_LABEL_MAX = 63;
const DNS1123_SUBDOMAIN_MAX = 253;
const QUALIFIED_NAME_MAX = 63;
const LABEL_VALUE_MAX = 63;

const DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/** `must be no more than N characters` (upstream MaxLenError). */
export function maxLenError(length: number): string {
  return `must be no more than ${length} characters`;
}

/** Upstream RegexError: the rule, a few examples, and the regex it corresponds to. */
export function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(" or ")}regex used for validation is '${fmt}')`;
}

const EMPTY_ERROR = "must be non-empty";

/** Length in bytes of the UTF-8 encoding (what Go's `len` measures). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function byteLengthExceeds(s: string, max: number): boolean {
  return s.length > max || (s.length * 3 > max && utf8Length(s) > max);
}

function isLowerAlnum(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39);
}

function isAlnum(c: number): boolean {
  return isLowerAlnum(c) || (c >= 0x41 && c <= 0x5a);
}

/** `[a-z0-9]([-a-z0-9]*[a-z0-9])?` over s[start, end). */
function matchesDNS1123Label(s: string, start: number, end: number): boolean {
  if (end <= start) return false;
  if (!isLowerAlnum(s.charCodeAt(start)) || !isLowerAlnum(s.charCodeAt(end - 1))) return false;
  for (let i = start + 1; i < end - 1; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x2d && !isLowerAlnum(c)) return false;
  }
  return true;
}

function matchesDNS1123Subdomain(s: string): boolean {
  let start = 0;
  for (;;) {
    const dot = s.indexOf(".", start);
    const end = dot < 0 ? s.length : dot;
    if (!matchesDNS1123Label(s, start, end)) return false;
    if (dot < 0) return true;
    start = dot + 1;
  }
}

/** `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]` */
function matchesQualifiedNamePart(s: string): boolean {
  const n = s.length;
  if (n === 0 || !isAlnum(s.charCodeAt(0)) || !isAlnum(s.charCodeAt(n - 1))) return false;
  for (let i = 1; i < n - 1; i++) {
    const c = s.charCodeAt(i);
    if (!isAlnum(c) && c !== 0x2d && c !== 0x5f && c !== 0x2e) return false;
  }
  return true;
}

/** A DNS-1123 label (namespace names, most `label`-validated names): ≤63 chars of `[a-z0-9-]`. */
export function isDNS1123Label(v: string): string[] {
  const errs: string[] = [];
  if (byteLengthExceeds(v, DNS1123_LABEL_MAX)) errs.push(maxLenError(DNS1123_LABEL_MAX));
  if (!matchesDNS1123Label(v, 0, v.length)) {
    if (matchesDNS1123Subdomain(v)) errs.push("must not contain dots");
    else errs.push(regexError(DNS1123_LABEL_MSG, DNS1123_LABEL_FMT, "my-name", "123-abc"));
  }
  return errs;
}

/** A DNS-1123 subdomain (most object names): ≤253 chars, dot-separated labels. */
export function isDNS1123Subdomain(v: string): string[] {
  const errs: string[] = [];
  if (byteLengthExceeds(v, DNS1123_SUBDOMAIN_MAX)) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX));
  if (!matchesDNS1123Subdomain(v)) errs.push(regexError(DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, "example.com"));
  return errs;
}

/** A label key, annotation key or finalizer: optional DNS-subdomain prefix and '/', then a ≤63-char name. */
export function isQualifiedName(v: string): string[] {
  const errs: string[] = [];
  const slash = v.indexOf("/");
  let name = v;
  if (slash >= 0) {
    if (v.indexOf("/", slash + 1) >= 0) {
      errs.push(
        `a qualified name ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")}` +
          " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
      );
      return errs;
    }
    const prefix = v.slice(0, slash);
    name = v.slice(slash + 1);
    if (prefix.length === 0) errs.push(`prefix part ${EMPTY_ERROR}`);
    else for (const m of isDNS1123Subdomain(prefix)) errs.push(`prefix part ${m}`);
  }
  if (name.length === 0) errs.push(`name part ${EMPTY_ERROR}`);
  else if (byteLengthExceeds(name, QUALIFIED_NAME_MAX)) errs.push(`name part ${maxLenError(QUALIFIED_NAME_MAX)}`);
  if (!matchesQualifiedNamePart(name)) {
    errs.push(`name part ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")}`);
  }
  return errs;
}

/** A label value: empty, or ≤63 chars of `[-A-Za-z0-9_.]` starting and ending alphanumeric. */
export function isValidLabelValue(v: string): string[] {
  const errs: string[] = [];
  if (byteLengthExceeds(v, LABEL_VALUE_MAX)) errs.push(maxLenError(LABEL_VALUE_MAX));
  if (v.length !== 0 && !matchesQualifiedNamePart(v)) {
    errs.push(regexError(LABEL_VALUE_MSG, LABEL_VALUE_FMT, "MyValue", "my_value", "12345"));
  }
  return errs;
}

const GO_ESCAPES: Record<number, string> = { 7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r", 34: '\\"', 92: "\\\\" };

/** A string quoted like Go's `%q` (ASCII escapes; other printable characters kept as-is). */
export function goQuote(s: string): string {
  let out = '"';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c && c !== 0x7f) continue;
    out += s.slice(from, i) + (GO_ESCAPES[c] ?? `\\x${c.toString(16).padStart(2, "0")}`);
    from = i + 1;
  }
  return `${out}${s.slice(from)}"`;
}

/** Renders a bad value the way field.Error does: strings quoted, scalars bare, the rest as JSON. */
export function formatBadValue(v: unknown): string {
  if (typeof v === "string") return goQuote(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  try {
    return JSON.stringify(v) ?? "null";
  } catch {
    return String(v);
  }
}

/** `FieldValueInvalid`: `Invalid value: <value>: <detail>`. */
export function fieldInvalid(field: string, value: unknown, detail: string): StatusCause {
  return { reason: "FieldValueInvalid", field, message: `Invalid value: ${formatBadValue(value)}${detail ? `: ${detail}` : ""}` };
}

/** `FieldValueRequired`: `Required value[: <detail>]`. */
export function fieldRequired(field: string, detail = ""): StatusCause {
  return { reason: "FieldValueRequired", field, message: detail ? `Required value: ${detail}` : "Required value" };
}

/** `FieldValueForbidden`: `Forbidden: <detail>`. */
export function fieldForbidden(field: string, detail: string): StatusCause {
  return { reason: "FieldValueForbidden", field, message: detail ? `Forbidden: ${detail}` : "Forbidden" };
}

/** `FieldValueTooLong`: `Too long: must have at most <max> bytes`. */
export function fieldTooLong(field: string, maxBytes: number): StatusCause {
  return { reason: "FieldValueTooLong", field, message: `Too long: must have at most ${maxBytes} bytes` };
}

/** A JSON object (not null, not an array). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `metadata.labels`: an object of qualified-name keys and label-value strings. null/undefined is valid. */
export function validateLabels(labels: unknown, fieldPath: string): StatusCause[] {
  if (labels === undefined || labels === null) return [];
  if (!isPlainObject(labels)) return [fieldInvalid(fieldPath, labels, "must be an object")];
  const causes: StatusCause[] = [];
  for (const k of Object.keys(labels)) {
    const v = labels[k];
    for (const m of isQualifiedName(k)) causes.push(fieldInvalid(fieldPath, k, m));
    if (typeof v !== "string") {
      causes.push(fieldInvalid(fieldPath, v, "must be a string"));
      continue;
    }
    for (const m of isValidLabelValue(v)) causes.push(fieldInvalid(fieldPath, v, m));
  }
  return causes;
}

/**
 * `metadata.annotations`: keys are qualified names compared case-insensitively,
 * values are strings, and all keys plus values take at most 256 KiB.
 */
export function validateAnnotations(annotations: unknown, fieldPath: string): StatusCause[] {
  if (annotations === undefined || annotations === null) return [];
  if (!isPlainObject(annotations)) return [fieldInvalid(fieldPath, annotations, "must be an object")];
  const causes: StatusCause[] = [];
  let total = 0;
  for (const [k, v] of Object.entries(annotations)) {
    for (const m of isQualifiedName(k.toLowerCase())) causes.push(fieldInvalid(fieldPath, k, m));
    total += utf8Length(k);
    if (typeof v !== "string") causes.push(fieldInvalid(fieldPath, v, "must be a string"));
    else total += utf8Length(v);
  }
  if (total > MAX_ANNOTATIONS_BYTES) causes.push(fieldTooLong(fieldPath, MAX_ANNOTATIONS_BYTES));
  return causes;
}

/** Upstream maskTrailingDash: makes a generateName prefix ending in '-' checkable as a full name. */
function maskTrailingDash(name: string): string {
  if (name.length <= 1 || !name.endsWith("-")) return name;
  return name.charCodeAt(name.length - 2) < 0x80 ? `${name.slice(0, -2)}a` : `${name.slice(0, -1)}a`;
}

function isValidPathSegmentName(name: string, prefix: boolean): string[] {
  if (!prefix && (name === "." || name === "..")) return [`may not be '${name}'`];
  const errs: string[] = [];
  if (name.includes("/")) errs.push("may not contain '/'");
  if (name.includes("%")) errs.push("may not contain '%'");
  return errs;
}

/** How `metadata.name` of a type is checked; `prefix` is true for generateName. */
export function validateName(name: string, how: "subdomain" | "label" | "path", prefix: boolean): string[] {
  if (how === "path") return isValidPathSegmentName(name, prefix);
  const v = prefix ? maskTrailingDash(name) : name;
  return how === "label" ? isDNS1123Label(v) : isDNS1123Subdomain(v);
}

const STRING_FIELDS = ["uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "selfLink"] as const;
const FINALIZER_ORPHAN = "orphan";
const FINALIZER_FOREGROUND = "foregroundDeletion";

/** A string-typed metadata field: undefined/null means absent, anything but a string is a cause. */
function stringField(meta: Record<string, unknown>, key: string, causes: StatusCause[]): string {
  const v = meta[key];
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") {
    causes.push(fieldInvalid(`metadata.${key}`, v, "must be a string"));
    return "";
  }
  return v;
}

function validateFinalizers(finalizers: unknown, causes: StatusCause[]): void {
  const path = "metadata.finalizers";
  if (finalizers === undefined || finalizers === null) return;
  if (!Array.isArray(finalizers)) {
    causes.push(fieldInvalid(path, finalizers, "must be an array"));
    return;
  }
  let orphan = false;
  let foreground = false;
  finalizers.forEach((f: unknown, i) => {
    if (typeof f !== "string") {
      causes.push(fieldInvalid(`${path}[${i}]`, f, "must be a string"));
      return;
    }
    for (const m of isQualifiedName(f)) causes.push(fieldInvalid(path, f, m));
    if (f === FINALIZER_ORPHAN) orphan = true;
    if (f === FINALIZER_FOREGROUND) foreground = true;
  });
  if (orphan && foreground) {
    causes.push(fieldInvalid(path, finalizers, `finalizer ${FINALIZER_ORPHAN} and ${FINALIZER_FOREGROUND} cannot be both set`));
  }
}

/** The version part of an apiVersion as schema.FromAPIVersionAndKind sees it ("" when unparsable). */
function versionOf(apiVersion: string): { group: string; version: string } {
  const first = apiVersion.indexOf("/");
  if (first < 0) return { group: "", version: apiVersion };
  if (apiVersion.indexOf("/", first + 1) >= 0) return { group: "", version: "" };
  return { group: apiVersion.slice(0, first), version: apiVersion.slice(first + 1) };
}

function validateOwnerReferences(refs: unknown, causes: StatusCause[]): void {
  const path = "metadata.ownerReferences";
  if (refs === undefined || refs === null) return;
  if (!Array.isArray(refs)) {
    causes.push(fieldInvalid(path, refs, "must be an array"));
    return;
  }
  let firstController = "";
  refs.forEach((ref: unknown, i) => {
    if (!isPlainObject(ref)) {
      causes.push(fieldInvalid(`${path}[${i}]`, ref, "must be an object"));
      return;
    }
    const str = (key: string): string => {
      const v = ref[key];
      if (v === undefined || v === null) return "";
      if (typeof v === "string") return v;
      causes.push(fieldInvalid(`${path}[${i}].${key}`, v, "must be a string"));
      return "";
    };
    const apiVersion = str("apiVersion");
    const kind = str("kind");
    const name = str("name");
    const uid = str("uid");
    for (const key of ["controller", "blockOwnerDeletion"]) {
      const v = ref[key];
      if (v !== undefined && v !== null && typeof v !== "boolean") causes.push(fieldInvalid(`${path}[${i}].${key}`, v, "must be a boolean"));
    }
    const gv = versionOf(apiVersion);
    if (gv.version.length === 0) causes.push(fieldInvalid(`${path}.apiVersion`, apiVersion, "version must not be empty"));
    if (kind.length === 0) causes.push(fieldInvalid(`${path}.kind`, kind, "must not be empty"));
    if (name.length === 0) causes.push(fieldInvalid(`${path}.name`, name, "must not be empty"));
    if (uid.length === 0) causes.push(fieldInvalid(`${path}.uid`, uid, "must not be empty"));
    if (gv.group === "" && gv.version === "v1" && kind === "Event") {
      causes.push(fieldInvalid(path, ref, "/v1, Kind=Event is disallowed from being an owner"));
    }
    if (ref.controller === true) {
      const current = `${kind}/${name}`;
      if (firstController === "") firstController = current;
      else {
        causes.push(
          fieldInvalid(
            path,
            refs,
            `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${current}`,
          ),
        );
      }
    }
  });
}

function validateIntegerField(meta: Record<string, unknown>, key: string, nonNegative: boolean, causes: StatusCause[]): void {
  const v = meta[key];
  if (v === undefined || v === null) return;
  if (typeof v !== "number" || !Number.isSafeInteger(v)) causes.push(fieldInvalid(`metadata.${key}`, v, "must be an integer"));
  else if (nonNegative && v < 0) causes.push(fieldInvalid(`metadata.${key}`, v, "must be greater than or equal to 0"));
}

export interface ObjectMetaValidationOptions {
  /** Whether the type is namespaced; cluster-scoped objects may not carry a namespace. */
  namespaced: boolean;
  /** How `metadata.name` (and the generateName prefix) is checked. */
  nameValidation: "subdomain" | "label" | "path";
  /** Require `name` even when `generateName` is set (e.g. on update, after generation). Default false. */
  requireName?: boolean;
}

/**
 * Validates `metadata` as upstream ValidateObjectMetaAccessor does, plus type
 * checks that Go gets from JSON decoding. The namespace itself is not required
 * (the server fills it from the URL), only checked when present.
 */
export function validateObjectMeta(meta: unknown, opts: ObjectMetaValidationOptions): StatusCause[] {
  if (!isPlainObject(meta)) {
    if (meta === undefined || meta === null) return [fieldRequired("metadata")];
    return [fieldInvalid("metadata", meta, "must be an object")];
  }
  const causes: StatusCause[] = [];
  const rawName = meta.name;
  const generateName = stringField(meta, "generateName", causes);
  const name = stringField(meta, "name", causes);
  const namespace = stringField(meta, "namespace", causes);

  if (generateName.length !== 0) {
    for (const m of validateName(generateName, opts.nameValidation, true)) causes.push(fieldInvalid("metadata.generateName", generateName, m));
  }
  if (name.length === 0) {
    const nameHasBadType = rawName !== undefined && rawName !== null && typeof rawName !== "string";
    if (!nameHasBadType && (opts.requireName === true || generateName.length === 0)) {
      causes.push(fieldRequired("metadata.name", "name or generateName is required"));
    }
  } else {
    for (const m of validateName(name, opts.nameValidation, false)) causes.push(fieldInvalid("metadata.name", name, m));
  }

  if (opts.namespaced) {
    if (namespace.length !== 0) for (const m of isDNS1123Label(namespace)) causes.push(fieldInvalid("metadata.namespace", namespace, m));
  } else if (namespace.length !== 0) {
    causes.push(fieldForbidden("metadata.namespace", "not allowed on this type"));
  }

  for (const key of STRING_FIELDS) stringField(meta, key, causes);
  validateIntegerField(meta, "generation", true, causes);
  validateIntegerField(meta, "deletionGracePeriodSeconds", false, causes);
  causes.push(...validateLabels(meta.labels, "metadata.labels"));
  causes.push(...validateAnnotations(meta.annotations, "metadata.annotations"));
  validateOwnerReferences(meta.ownerReferences, causes);
  validateFinalizers(meta.finalizers, causes);
  const mf = meta.managedFields;
  if (mf !== undefined && mf !== null && !Array.isArray(mf)) causes.push(fieldInvalid("metadata.managedFields", mf, "must be an array"));
  return causes;
}
