/**
 * @module Pruning: the stored object keeps only the fields its schema knows,
 * as a Go struct would for built-in kinds and as structural pruning does for
 * CRDs. `x-kubernetes-preserve-unknown-fields` and embedded resources keep
 * everything below them; metadata of embedded objects is kept whole.
 */
import type { Schema } from "../api/schema.ts";

function propsOf(s: Schema): { props: Record<string, Schema>; additional: Schema | boolean | undefined; preserve: boolean } {
  let props: Record<string, Schema> = { ...(s.properties ?? {}) };
  let additional = s.additionalProperties;
  let preserve = s["x-kubernetes-preserve-unknown-fields"] === true;
  for (const sub of s.allOf ?? []) {
    const p = propsOf(sub);
    props = { ...props, ...p.props };
    additional ??= p.additional;
    preserve ||= p.preserve;
  }
  return { props, additional, preserve };
}

function itemsOf(s: Schema): Schema | undefined {
  if (s.items) return s.items;
  for (const sub of s.allOf ?? []) {
    const i = itemsOf(sub);
    if (i) return i;
  }
  return undefined;
}

/** A copy of `value` without the fields `schema` does not declare. */
export function prune(schema: Schema, value: unknown, top = true): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    const items = itemsOf(schema);
    return items ? value.map((v) => prune(items, v, false)) : value;
  }
  const { props, additional, preserve } = propsOf(schema);
  const embedded = schema["x-kubernetes-embedded-resource"] === true;
  if (preserve && Object.keys(props).length === 0 && additional === undefined) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const ps = props[k];
    if (ps) out[k] = prune(ps, v, false);
    else if (typeof additional === "object") out[k] = prune(additional, v, false);
    else if (additional === true || preserve) out[k] = v;
    else if ((top || embedded) && (k === "apiVersion" || k === "kind" || k === "metadata")) out[k] = v;
  }
  return out;
}
