/**
 * @module Schema-driven normalization that upstream gets for free from Go
 * decoding and re-encoding: every resource.Quantity is rewritten in its
 * canonical form (`0.5` → `"500m"`, numbers become strings). Unparsable
 * quantities are reported, not changed.
 */
import type { Schema } from "../api/schema.ts";
import { ApiError } from "../api/errors.ts";
import { asObj } from "./object-access.ts";
import { canonicalQuantity } from "./quantity.ts";
import { QUANTITY } from "./schema-dsl.ts";

export interface QuantityIssue {
  field: string;
  value: unknown;
  error: string;
}

function isQuantity(s: Schema): boolean {
  return s === QUANTITY || s.name === QUANTITY.name || s.format === "quantity" || (s.allOf ?? []).some(isQuantity);
}

/** Properties, map values and items of `s`, looking through allOf. */
function childSchema(s: Schema, key: string | number): Schema | undefined {
  if (typeof key === "number") {
    if (s.items) return s.items;
  } else {
    const p = s.properties?.[key];
    if (p) return p;
    if (typeof s.additionalProperties === "object") return s.additionalProperties;
  }
  for (const sub of s.allOf ?? []) {
    const found = childSchema(sub, key);
    if (found) return found;
  }
  return undefined;
}

function join(path: string, key: string | number, isMapValue: boolean): string {
  if (typeof key === "number") return `${path}[${key}]`;
  if (isMapValue) return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

function isMapSchema(s: Schema): boolean {
  if (s.properties && Object.keys(s.properties).length > 0) return false;
  if (typeof s.additionalProperties === "object") return true;
  return (s.allOf ?? []).some(isMapSchema);
}

/** Rewrites every quantity below `value` (in place) to canonical form; returns the unparsable ones. */
export function canonicalizeQuantities(schema: Schema, value: unknown, path = ""): QuantityIssue[] {
  const issues: QuantityIssue[] = [];
  const visit = (s: Schema, v: unknown, p: string): void => {
    if (Array.isArray(v)) {
      const itemSchema = childSchema(s, 0);
      if (!itemSchema) return;
      v.forEach((item, i) => {
        const fp = join(p, i, false);
        if (isQuantity(itemSchema)) v[i] = fix(item, fp);
        else visit(itemSchema, item, fp);
      });
      return;
    }
    const o = asObj(v);
    if (!o) return;
    const mapLike = isMapSchema(s);
    for (const [k, child] of Object.entries(o)) {
      const cs = childSchema(s, k);
      if (!cs) continue;
      const fp = join(p, k, mapLike);
      if (isQuantity(cs)) o[k] = fix(child, fp);
      else visit(cs, child, fp);
    }
  };
  const fix = (v: unknown, fp: string): unknown => {
    if (typeof v !== "string" && typeof v !== "number") return v;
    const c = canonicalQuantity(v);
    if (typeof c === "string") return c;
    issues.push({ field: fp, value: v, error: c.error });
    return v;
  };
  visit(schema, value, path);
  return issues;
}

/**
 * Canonicalizes quantities and throws the 400 BadRequest upstream's decoder
 * answers for an unparsable one: `Pod in version "v1" cannot be handled as a Pod: quantities must match …`.
 */
export function canonicalizeQuantitiesOrThrow(schema: Schema, obj: unknown, kind: string, version: string): void {
  const issues = canonicalizeQuantities(schema, obj);
  const first = issues[0];
  if (first) {
    throw new ApiError({
      reason: "BadRequest",
      message: `${kind} in version "${version}" cannot be handled as a ${kind}: ${first.error}`,
    });
  }
}
