/**
 * @module Pruning: the stored object keeps only the fields its schema knows,
 * as a Go struct would for built-in kinds and as structural pruning does for
 * CRDs. `x-kubernetes-preserve-unknown-fields` and embedded resources keep
 * everything below them; metadata of embedded objects is kept whole.
 *
 * `prune` can also report, in the same pass, the unknown fields strict field
 * validation reports (`findUnknownFields`), so a write walks its body once.
 */
import type { Schema } from "../api/schema.ts";
import { collectUnknownFields, fieldRules, memberSchema, renderPath, type FieldRules, type PathStack } from "../api/unknown-fields.ts";

interface PruneRules {
  /** Declared properties; a later `allOf` member's declaration wins. A plain record: looked up with `props[k]`. */
  props: Record<string, Schema>;
  hasProps: boolean;
  additional: Schema | boolean | undefined;
  preserve: boolean;
  embedded: boolean;
  items: Schema | undefined;
}

/** Per schema node; schemas are treated as immutable once in use. */
const cache = new WeakMap<Schema, PruneRules>();

function rulesOf(s: Schema): PruneRules {
  let r = cache.get(s);
  if (!r) {
    const { props, additional, preserve } = propsOf(s);
    r = {
      props,
      hasProps: Object.keys(props).length > 0,
      additional,
      preserve,
      embedded: s["x-kubernetes-embedded-resource"] === true,
      items: itemsOf(s),
    };
    cache.set(s, r);
  }
  return r;
}

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

/**
 * A copy of `value` without the fields `schema` does not declare (`top`: the
 * value is an object's root, where apiVersion, kind and metadata are kept).
 *
 * With `removed`, also appends the unknown fields of `value`: exactly the
 * paths, in the order and format, `findUnknownFields(schema, value)` gives
 * (`spec.template.spec.containers[0].imagee`; `top` applies to both walks). For built-in kinds these are
 * the fields pruning drops; the two differ only where strict validation's
 * rules do (it reports nothing below int-or-string or untyped nodes, and
 * does not check a partial `metadata` schema, which pruning applies).
 */
export function prune(schema: Schema, value: unknown, top = true, removed?: string[]): unknown {
  if (!removed) return pruneNode(schema, value, top, undefined);
  return pruneNode(schema, value, top, { out: removed, path: { prefix: "", segments: [] } });
}

/** Where the unknown fields of the node being pruned go, and its path. */
interface Report {
  out: string[];
  path: PathStack;
}

function pruneNode(schema: Schema, value: unknown, top: boolean, report: Report | undefined): unknown {
  if (value === null || typeof value !== "object") return value;
  const r = rulesOf(schema);
  let u: FieldRules | undefined;
  if (report) {
    u = fieldRules(schema);
    // Strict validation looks no further here.
    if (u.intOrString || (!Array.isArray(value) && !u.walksObjects)) report = undefined;
  }
  if (Array.isArray(value)) {
    const items = r.items;
    if (report && u?.items !== items) {
      // The two walks disagree on the item schema: report separately.
      reportBelow(u?.items, value, report);
      report = undefined;
    }
    if (!items) return value;
    const itemReport = report;
    if (!itemReport) return value.map((v) => pruneNode(items, v, false, undefined));
    return value.map((v, i) => {
      itemReport.path.segments.push(i);
      const kept = pruneNode(items, v, false, itemReport);
      itemReport.path.segments.pop();
      return kept;
    });
  }
  if (r.preserve && !r.hasProps && r.additional === undefined) {
    if (report) reportBelow(schema, value, report, top);
    return value;
  }
  const obj = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(obj)) {
    const v = obj[k];
    let childReport: Report | undefined;
    if (report && u) {
      const us = memberSchema(u, k, top);
      if (us !== null) {
        report.path.segments.push(k);
        if (us === undefined) report.out.push(renderPath(report.path));
        else if (us === pruneSchemaOf(r, k)) childReport = report;
        else reportBelow(us, v, report);
        if (!childReport) report.path.segments.pop();
      }
    }
    const ps = r.props[k];
    if (ps) out[k] = pruneNode(ps, v, false, childReport);
    else if (typeof r.additional === "object") out[k] = pruneNode(r.additional, v, false, childReport);
    else if (r.additional === true || r.preserve) out[k] = v;
    else if ((top || r.embedded) && (k === "apiVersion" || k === "kind" || k === "metadata")) out[k] = v;
    if (childReport) report?.path.segments.pop();
  }
  return out;
}

/** The schema pruning walks member `k` with, if it walks it. */
function pruneSchemaOf(r: PruneRules, k: string): Schema | undefined {
  const ps = r.props[k];
  if (ps) return ps;
  return typeof r.additional === "object" ? r.additional : undefined;
}

/** Reports the unknown fields below `value` (at the report's current path) as findUnknownFields does. */
function reportBelow(schema: Schema | undefined, value: unknown, report: Report, top = false): void {
  if (schema) collectUnknownFields(schema, value, top, report.path, report.out);
}
