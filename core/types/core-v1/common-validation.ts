/**
 * @module Small validators shared by core/v1 and apps/v1 kinds, with the
 * messages of k8s.io/apimachinery `pkg/util/validation` and
 * kubernetes `pkg/apis/core/validation`: port numbers and names, resource
 * quantities and names, intstr percents, label selectors.
 */
import type { StatusCause } from "../../api/errors.ts";
import { isDNS1123Subdomain, isQualifiedName, regexError, validateLabels } from "../../api/validation.ts";
import { fieldInvalid, fieldNotSupported, fieldRequired, child, index } from "../field-errors.ts";
import { asArr, asObj, asStr } from "../object-access.ts";
import { parseQuantity, QUANTITY_FORMAT_ERROR } from "../quantity.ts";

export const PORT_RANGE_MSG = "must be between 1 and 65535, inclusive";

/** validation.IsValidPortNum. */
export function isValidPortNum(v: number): string[] {
  return Number.isInteger(v) && v >= 1 && v <= 65535 ? [] : [PORT_RANGE_MSG];
}

/** validation.IsValidPortName (IANA_SVC_NAME). */
export function isValidPortName(name: string): string[] {
  const errs: string[] = [];
  if (name.length > 15) errs.push("must be no more than 15 characters");
  if (!/^[-a-z0-9]+$/.test(name)) errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (!/[a-z]/.test(name)) errs.push("must contain at least one letter (a-z)");
  if (name.includes("--")) errs.push("must not contain consecutive hyphens");
  if (name.length > 0 && (name.startsWith("-") || name.endsWith("-"))) errs.push("must not begin or end with a hyphen");
  return errs;
}

/** A port given as int-or-string (probe and service target ports). */
export function validatePortNumOrName(v: unknown, field: string): StatusCause[] {
  if (typeof v === "number") return isValidPortNum(v).map((m) => fieldInvalid(field, v, m));
  if (typeof v === "string") {
    if (v === "") return [fieldRequired(field)];
    return isValidPortName(v).map((m) => fieldInvalid(field, v, m));
  }
  return [fieldRequired(field)];
}

const PROTOCOLS = ["SCTP", "TCP", "UDP"];

export function validateProtocol(v: unknown, field: string): StatusCause[] {
  if (v === undefined || v === null || v === "") return [fieldRequired(field)];
  return PROTOCOLS.includes(String(v)) ? [] : [fieldNotSupported(field, v, PROTOCOLS)];
}

const PERCENT_FMT = "[0-9]+%";

/** ValidatePositiveIntOrPercent. */
export function validatePositiveIntOrPercent(v: unknown, field: string): StatusCause[] {
  if (typeof v === "string") {
    if (!/^[0-9]+%$/.test(v)) {
      return [fieldInvalid(field, v, regexError("a valid percent string must be a numeric string followed by an ending '%'", PERCENT_FMT, "1%", "93%"))];
    }
    return [];
  }
  if (typeof v === "number" && v < 0) return [fieldInvalid(field, v, "must be greater than or equal to 0")];
  return [];
}

/** The integer value of an int-or-percent (percent → its number), for "both zero" checks. */
export function intOrPercentValue(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "string") {
    const n = Number.parseInt(v.replace(/%$/, ""), 10);
    return Number.isNaN(n) ? -1 : n;
  }
  return 0;
}

/** IsNotMoreThan100Percent. */
export function validateNotMoreThan100Percent(v: unknown, field: string): StatusCause[] {
  if (typeof v === "string" && /^[0-9]+%$/.test(v) && intOrPercentValue(v) > 100) {
    return [fieldInvalid(field, v, "must not be greater than 100%")];
  }
  return [];
}

const STANDARD_CONTAINER_RESOURCES = new Set(["cpu", "memory", "ephemeral-storage"]);

function isStandardContainerResource(name: string): boolean {
  return STANDARD_CONTAINER_RESOURCES.has(name) || name.startsWith("hugepages-");
}

/** validateContainerResourceName: standard names or a fully qualified (`example.com/gpu`) one. */
export function validateResourceName(name: string, field: string): StatusCause[] {
  const causes = isQualifiedName(name).map((m) => fieldInvalid(field, name, m));
  if (causes.length) return causes;
  if (!isStandardContainerResource(name) && !name.includes("/")) {
    return [fieldInvalid(field, name, "must be a standard resource type or fully qualified")];
  }
  return [];
}

/** A resource list: valid names, parsable non-negative quantities. */
export function validateResourceList(list: unknown, field: string, opts: { checkNames: boolean }): StatusCause[] {
  const o = asObj(list);
  if (!o) return [];
  const causes: StatusCause[] = [];
  for (const name of Object.keys(o)) {
    const raw = o[name];
    const fp = `${field}[${name}]`;
    if (opts.checkNames) causes.push(...validateResourceName(name, fp));
    if (typeof raw !== "string" && typeof raw !== "number") {
      causes.push(fieldInvalid(fp, raw, QUANTITY_FORMAT_ERROR));
      continue;
    }
    const q = parseQuantity(raw);
    if ("error" in q) causes.push(fieldInvalid(fp, String(raw), q.error));
    else if (q.nanos < 0n) causes.push(fieldInvalid(fp, String(raw), "must be greater than or equal to 0"));
  }
  return causes;
}

const SELECTOR_OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist"];

/** metav1validation.ValidateLabelSelector (strict label values). */
export function validateLabelSelector(sel: unknown, field: string): StatusCause[] {
  const s = asObj(sel);
  if (!s) return [];
  const causes: StatusCause[] = [];
  asArr(s.matchExpressions).forEach((e, i) => {
    const ep = index(child(field, "matchExpressions"), i);
    const expr = asObj(e) ?? {};
    const op = asStr(expr.operator) ?? "";
    const values = asArr(expr.values);
    if (op === "In" || op === "NotIn") {
      if (values.length === 0) causes.push(fieldRequired(child(ep, "values"), "must be specified when `operator` is 'In' or 'NotIn'"));
    } else if (op === "Exists" || op === "DoesNotExist") {
      if (values.length > 0) causes.push({ reason: "FieldValueForbidden", field: child(ep, "values"), message: "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'" });
    } else {
      causes.push(fieldInvalid(child(ep, "operator"), op, "not a valid selector operator"));
    }
    const key = asStr(expr.key) ?? "";
    for (const m of isQualifiedName(key)) causes.push(fieldInvalid(child(ep, "key"), key, m));
  });
  causes.push(...validateLabels(s.matchLabels, child(field, "matchLabels")));
  return causes;
}

export { SELECTOR_OPERATORS };

/** A DNS-1123 subdomain name reference (service account, priority class…). */
export function validateSubdomainRef(v: unknown, field: string): StatusCause[] {
  const s = asStr(v);
  if (!s) return [];
  return isDNS1123Subdomain(s).map((m) => fieldInvalid(field, s, m));
}
