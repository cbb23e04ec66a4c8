/**
 * @module metav1.LabelSelector semantics needed by workload validation:
 * LabelSelectorAsSelector (nil selects nothing, empty selects everything),
 * matching a label set, and the Go `%#v` rendering upstream puts in
 * "field is immutable" messages.
 */
import { goQuote } from "../api/validation.ts";
import { goStringMap } from "./field-errors.ts";
import { asArr, asObj, asStr } from "./object-access.ts";

export type CompiledSelector = { kind: "nothing" } | { kind: "everything" } | { kind: "match"; test: (labels: Record<string, string>) => boolean };

/** LabelSelectorAsSelector; undefined when the selector is invalid (unknown operator, bad values). */
export function compileSelector(sel: unknown): CompiledSelector | undefined {
  if (sel === undefined || sel === null) return { kind: "nothing" };
  const s = asObj(sel);
  if (!s) return undefined;
  const matchLabels = asObj(s.matchLabels) ?? {};
  const exprs = asArr(s.matchExpressions);
  if (Object.keys(matchLabels).length === 0 && exprs.length === 0) return { kind: "everything" };
  const tests: ((l: Record<string, string>) => boolean)[] = [];
  for (const [k, v] of Object.entries(matchLabels)) tests.push((l) => l[k] === String(v));
  for (const raw of exprs) {
    const e = asObj(raw);
    const key = asStr(e?.key);
    if (!e || key === undefined) return undefined;
    const values = asArr(e.values).map(String);
    switch (e.operator) {
      case "In":
        if (values.length === 0) return undefined;
        tests.push((l) => key in l && values.includes(l[key] as string));
        break;
      case "NotIn":
        if (values.length === 0) return undefined;
        tests.push((l) => !(key in l) || !values.includes(l[key] as string));
        break;
      case "Exists":
        if (values.length > 0) return undefined;
        tests.push((l) => key in l);
        break;
      case "DoesNotExist":
        if (values.length > 0) return undefined;
        tests.push((l) => !(key in l));
        break;
      default:
        return undefined;
    }
  }
  return { kind: "match", test: (l) => tests.every((t) => t(l)) };
}

/** Whether a compiled selector matches `labels` (nothing → false, everything → true). */
export function selectorMatches(sel: CompiledSelector, labels: unknown): boolean {
  if (sel.kind === "nothing") return false;
  if (sel.kind === "everything") return true;
  const o = asObj(labels) ?? {};
  const l: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) l[k] = String(v);
  return sel.test(l);
}

function goStringSlice(v: unknown): string {
  if (!Array.isArray(v)) return "[]string(nil)";
  return `[]string{${v.map((x) => goQuote(String(x))).join(", ")}}`;
}

/** `v1.LabelSelector{MatchLabels:map[string]string{"app":"web"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}`. */
export function goLabelSelector(sel: unknown): string {
  const s = asObj(sel);
  if (!s) return "null";
  const ml = asObj(s.matchLabels);
  const exprs = Array.isArray(s.matchExpressions)
    ? `[]v1.LabelSelectorRequirement{${s.matchExpressions
        .map((raw) => {
          const e = asObj(raw) ?? {};
          return `v1.LabelSelectorRequirement{Key:${goQuote(asStr(e.key) ?? "")}, Operator:${goQuote(asStr(e.operator) ?? "")}, Values:${goStringSlice(e.values)}}`;
        })
        .join(", ")}}`
    : "[]v1.LabelSelectorRequirement(nil)";
  return `v1.LabelSelector{MatchLabels:${goStringMap(ml)}, MatchExpressions:${exprs}}`;
}
