/**
 * @module Label and node selector matching on hot paths: metav1.LabelSelector
 * compiled once (core/types/selector-match.ts) and tested against label maps
 * without copying them; v1.NodeSelectorTerm matching (In, NotIn, Exists,
 * DoesNotExist, Gt, Lt; matchFields on metadata.name) as upstream's
 * component-helpers nodeaffinity.
 */
import { type CompiledSelector, compileSelector } from "../../../core/types/selector-match.ts";

export type Labels = Readonly<Record<string, string>>;

export const NOTHING: CompiledSelector = { kind: "nothing" };
export const EVERYTHING: CompiledSelector = { kind: "everything" };

/** An invalid selector selects nothing. */
export function compileLabelSelector(sel: unknown): CompiledSelector {
  return compileSelector(sel) ?? NOTHING;
}

export function matchesSelector(sel: CompiledSelector, labels: Labels): boolean {
  if (sel.kind === "match") return sel.test(labels as Record<string, string>);
  return sel.kind === "everything";
}

/** `sel` narrowed by extra requirements (matchLabelKeys / mismatchLabelKeys). */
export function andSelector(sel: CompiledSelector, extra: ((l: Labels) => boolean)[]): CompiledSelector {
  if (extra.length === 0 || sel.kind === "nothing") return sel;
  const base = sel;
  return { kind: "match", test: (l) => matchesSelector(base, l) && extra.every((t) => t(l)) };
}

interface Requirement {
  key?: string;
  operator?: string;
  values?: string[];
}

type NodeTest = (labels: Labels, name: string) => boolean;

function requirementTest(r: Requirement, field: boolean): NodeTest | undefined {
  const key = r.key ?? "";
  const values = r.values ?? [];
  const get = field ? (_l: Labels, name: string) => (key === "metadata.name" ? name : undefined) : (l: Labels) => l[key];
  switch (r.operator) {
    case "In":
      return (l, n) => {
        const v = get(l, n);
        return v !== undefined && values.includes(v);
      };
    case "NotIn":
      return (l, n) => {
        const v = get(l, n);
        return v === undefined || !values.includes(v);
      };
    case "Exists":
      return field ? undefined : (l, n) => get(l, n) !== undefined;
    case "DoesNotExist":
      return field ? undefined : (l, n) => get(l, n) === undefined;
    case "Gt":
    case "Lt": {
      if (field || values.length !== 1 || !/^-?\d+$/.test(values[0]!)) return undefined;
      const bound = Number(values[0]);
      const gt = r.operator === "Gt";
      return (l, n) => {
        const v = get(l, n);
        if (v === undefined || !/^-?\d+$/.test(v)) return false;
        return gt ? Number(v) > bound : Number(v) < bound;
      };
    }
    default:
      return undefined;
  }
}

/**
 * A v1.NodeSelector's terms compiled into one test: the terms are ORed, each
 * term's requirements ANDed; a term with no requirements or an invalid one
 * matches nothing.
 */
export function compileNodeSelectorTerms(terms: unknown): NodeTest {
  const compiled: NodeTest[] = [];
  for (const t of Array.isArray(terms) ? terms : []) {
    const term = (t ?? {}) as { matchExpressions?: Requirement[]; matchFields?: Requirement[] };
    const exprs = term.matchExpressions ?? [];
    const fields = term.matchFields ?? [];
    if (exprs.length === 0 && fields.length === 0) continue;
    const tests: NodeTest[] = [];
    let valid = true;
    for (const r of exprs) {
      const f = requirementTest(r, false);
      if (!f) valid = false;
      else tests.push(f);
    }
    for (const r of fields) {
      const f = requirementTest(r, true);
      if (!f) valid = false;
      else tests.push(f);
    }
    if (valid) compiled.push((l, n) => tests.every((f) => f(l, n)));
  }
  if (compiled.length === 0) return () => false;
  if (compiled.length === 1) return compiled[0]!;
  return (l, n) => compiled.some((f) => f(l, n));
}

/** One preferred scheduling term compiled: matchExpressions/matchFields ANDed (empty matches nothing). */
export function compileNodeSelectorTerm(term: unknown): NodeTest {
  return compileNodeSelectorTerms([term]);
}
