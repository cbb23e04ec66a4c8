/**
 * @module Label and field selectors: the `?labelSelector=` / `?fieldSelector=`
 * string syntax and metav1.LabelSelector objects, parsed into immutable
 * selectors whose `matches` is precompiled (they run per watch event per
 * watcher). Grammar, matching and error messages follow k8s.io/apimachinery
 * `pkg/labels/selector.go` and `pkg/fields/selector.go`. Parsing is a single
 * linear scan; malformed input throws a BadRequest ApiError.
 */
import { errors } from "./errors.ts";
import { formatBadValue, goQuote, isPlainObject, isQualifiedName, isValidLabelValue } from "./validation.ts";

/** `==` is accepted on input and normalized to `=`; `exists` is a bare key, `!` is `!key`. */
export type LabelOperator = "=" | "==" | "!=" | "in" | "notin" | "exists" | "!";

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

export interface LabelSelector {
  /** Sorted by key; values of each requirement sorted and de-duplicated. Frozen. */
  readonly requirements: readonly LabelRequirement[];
  /** True when the selector has no requirements and so matches everything. */
  readonly empty: boolean;
  matches(labels: Record<string, string> | undefined): boolean;
  /** Canonical form; parsing it yields an equivalent selector. */
  toString(): string;
}

export interface FieldRequirement {
  field: string;
  operator: "=" | "!=";
  value: string;
}

export interface FieldSelector {
  readonly requirements: readonly FieldRequirement[];
  readonly empty: boolean;
  /** `fields` holds the object's selectable field values; a missing field counts as "". */
  matches(fields: Record<string, string>): boolean;
  /** Canonical form (values escaped); parsing it yields an equivalent selector. */
  toString(): string;
}

/** The shape of a metav1.LabelSelector. */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

const hasOwn = Object.hasOwn;
const NO_LABELS: Record<string, string> = Object.freeze({}) as Record<string, string>;

type LabelPredicate = (labels: Record<string, string>) => boolean;

function compileRequirement(r: LabelRequirement): LabelPredicate {
  const key = r.key;
  if (r.operator === "exists") return (l) => hasOwn(l, key);
  if (r.operator === "!") return (l) => !hasOwn(l, key);
  const positive = r.operator === "=" || r.operator === "==" || r.operator === "in";
  if (r.values.length === 1) {
    const value = r.values[0];
    return positive ? (l) => hasOwn(l, key) && l[key] === value : (l) => !hasOwn(l, key) || l[key] !== value;
  }
  const set = new Set(r.values);
  return positive
    ? (l) => hasOwn(l, key) && set.has(l[key] as string)
    : (l) => !hasOwn(l, key) || !set.has(l[key] as string);
}

function requirementString(r: LabelRequirement): string {
  switch (r.operator) {
    case "exists":
      return r.key;
    case "!":
      return `!${r.key}`;
    case "in":
    case "notin":
      return `${r.key} ${r.operator} (${r.values.join(",")})`;
    default:
      return `${r.key}${r.operator}${r.values[0] ?? ""}`;
  }
}

class CompiledLabelSelector implements LabelSelector {
  readonly requirements: readonly LabelRequirement[];
  readonly empty: boolean;
  readonly #predicates: readonly LabelPredicate[];
  readonly #text: string;

  constructor(reqs: LabelRequirement[]) {
    const keyed = reqs.map((r) => ({ r, text: requirementString(r) }));
    keyed.sort((a, b) => (a.r.key < b.r.key ? -1 : a.r.key > b.r.key ? 1 : a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
    this.requirements = Object.freeze(keyed.map(({ r }) => Object.freeze({ ...r, values: Object.freeze(r.values) as string[] })));
    this.empty = keyed.length === 0;
    this.#predicates = this.requirements.map(compileRequirement);
    this.#text = keyed.map((k) => k.text).join(",");
  }

  matches(labels: Record<string, string> | undefined): boolean {
    const l = labels ?? NO_LABELS;
    for (const p of this.#predicates) if (!p(l)) return false;
    return true;
  }

  toString(): string {
    return this.#text;
  }
}

/** Joins messages like apimachinery's aggregate error: one as-is, several de-duplicated in brackets. */
function aggregate(msgs: string[]): string {
  const unique = [...new Set(msgs)];
  return unique.length === 1 ? (unique[0] ?? "") : `[${unique.join(", ")}]`;
}

function keyError(path: string, key: string): string | undefined {
  const errs = isQualifiedName(key);
  return errs.length === 0 ? undefined : `${path}: Invalid value: ${goQuote(key)}: ${errs.join("; ")}`;
}

/** Checks a requirement the way labels.NewRequirement does; returns its error messages. */
function requirementErrors(key: string, op: LabelOperator, values: readonly string[]): string[] {
  const errs: string[] = [];
  const k = keyError("key", key);
  if (k) errs.push(k);
  const n = values.length;
  const detail =
    (op === "in" || op === "notin") && n === 0
      ? "for 'in', 'notin' operators, values set can't be empty"
      : (op === "=" || op === "==" || op === "!=") && n !== 1
        ? "exact-match compatibility requires one single value"
        : (op === "exists" || op === "!") && n !== 0
          ? "values set must be empty for exists and does not exist"
          : "";
  if (detail) errs.push(`values: Invalid value: ${formatBadValue(n === 0 ? null : values)}: ${detail}`);
  values.forEach((v, i) => {
    const msgs = isValidLabelValue(v);
    if (msgs.length !== 0) errs.push(`values[${i}][${key}]: Invalid value: ${goQuote(v)}: ${msgs.join("; ")}`);
  });
  return errs;
}

function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

type TokenKind = "id" | "eos" | "(" | ")" | "," | "!" | "=" | "==" | "!=" | ">" | "<" | "in" | "notin";

interface Token {
  kind: TokenKind;
  lit: string;
}

const SYMBOLS: ReadonlySet<string> = new Set(["(", ")", ",", "!", "=", "==", "!=", ">", "<"]);

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

function isSpecial(c: number): boolean {
  return c === 0x3d || c === 0x21 || c === 0x28 || c === 0x29 || c === 0x2c || c === 0x3e || c === 0x3c;
}

/** Splits a label selector into tokens; special symbols are matched longest-first (`!=` over `!`). */
function lexLabelSelector(s: string): Token[] {
  const out: Token[] = [];
  const n = s.length;
  let i = 0;
  for (;;) {
    while (i < n && isWhitespace(s.charCodeAt(i))) i++;
    if (i >= n) {
      out.push({ kind: "eos", lit: "" });
      return out;
    }
    if (isSpecial(s.charCodeAt(i))) {
      let sym = s.charAt(i++);
      while (i < n && isSpecial(s.charCodeAt(i)) && SYMBOLS.has(sym + s.charAt(i))) sym += s.charAt(i++);
      out.push({ kind: sym as TokenKind, lit: sym });
      continue;
    }
    const start = i;
    while (i < n && !isSpecial(s.charCodeAt(i)) && !isWhitespace(s.charCodeAt(i))) i++;
    const lit = s.slice(start, i);
    out.push({ kind: lit === "in" || lit === "notin" ? lit : "id", lit });
  }
}

/** A syntax error inside one requirement; reported as `unable to parse requirement: ...`. */
class RequirementError extends Error {}

/**
 * Recursive-descent parser over the token list. In value position the
 * keywords `in`/`notin` are plain identifiers (`in in (in)` is valid).
 */
class LabelParser {
  #pos = 0;

  constructor(private readonly tokens: Token[]) {}

  #at(i: number, asValue: boolean): Token {
    const t = this.tokens[Math.min(i, this.tokens.length - 1)] ?? { kind: "eos", lit: "" };
    return asValue && (t.kind === "in" || t.kind === "notin") ? { kind: "id", lit: t.lit } : t;
  }

  #peek(asValue = true): Token {
    return this.#at(this.#pos, asValue);
  }

  #next(asValue = true): Token {
    return this.#at(this.#pos++, asValue);
  }

  parse(): LabelRequirement[] {
    const reqs: LabelRequirement[] = [];
    for (;;) {
      const t = this.#peek();
      if (t.kind === "eos") return reqs;
      if (t.kind !== "id" && t.kind !== "!") throw errors.badRequest(`found '${t.lit}', expected: !, identifier, or 'end of string'`);
      try {
        reqs.push(this.#requirement());
      } catch (e) {
        if (e instanceof RequirementError) throw errors.badRequest(`unable to parse requirement: ${e.message}`);
        throw e;
      }
      const after = this.#next();
      if (after.kind === "eos") return reqs;
      if (after.kind !== ",") throw errors.badRequest(`found '${after.lit}', expected: ',' or 'end of string'`);
      const following = this.#peek();
      if (following.kind !== "id" && following.kind !== "!") {
        throw errors.badRequest(`found '${following.lit}', expected: identifier after ','`);
      }
    }
  }

  #requirement(): LabelRequirement {
    let t = this.#next();
    const negated = t.kind === "!";
    if (negated) t = this.#next();
    if (t.kind !== "id") throw new RequirementError(`found '${t.lit}', expected: identifier`);
    const key = t.lit;
    const bad = keyError("key", key);
    if (bad) throw new RequirementError(bad);
    const la = this.#peek().kind;
    if (negated || la === "eos" || la === ",") return this.#build(key, negated ? "!" : "exists", []);

    const opTok = this.#next(false);
    switch (opTok.kind) {
      case "in":
      case "notin":
        return this.#build(key, opTok.kind, this.#valueSet());
      case "=":
      case "==":
      case "!=":
        return this.#build(key, opTok.kind === "!=" ? "!=" : "=", [this.#exactValue()]);
      case ">":
      case "<":
        throw new RequirementError(`found '${opTok.lit}', the Gt and Lt operators are not supported`);
      default:
        throw new RequirementError(`found '${opTok.lit}', expected: in, notin, =, ==, !=`);
    }
  }

  #build(key: string, operator: LabelOperator, values: string[]): LabelRequirement {
    const normalized = sortedUnique(values);
    const errs = requirementErrors(key, operator, normalized);
    if (errs.length !== 0) throw new RequirementError(aggregate(errs));
    return { key, operator, values: normalized };
  }

  /** `( v1, v2 )`; empty entries are the empty value, so `()` means `("")` as upstream. */
  #valueSet(): string[] {
    const open = this.#next();
    if (open.kind !== "(") throw new RequirementError(`found '${open.lit}' expected: '('`);
    const first = this.#peek();
    if (first.kind === ")") {
      this.#next();
      return [""];
    }
    if (first.kind !== "id" && first.kind !== ",") {
      throw new RequirementError(`found '${first.lit}', expected: ',', ')' or identifier`);
    }
    const values: string[] = [];
    for (;;) {
      const t = this.#next();
      if (t.kind === "id") {
        values.push(t.lit);
        const la = this.#peek();
        if (la.kind === ")") break;
        if (la.kind !== ",") throw new RequirementError(`found '${la.lit}', expected: ',' or ')'`);
      } else if (t.kind === ",") {
        if (values.length === 0) values.push("");
        const la = this.#peek().kind;
        if (la === ")") {
          values.push("");
          break;
        }
        if (la === ",") {
          this.#next();
          values.push("");
        }
      } else {
        throw new RequirementError(`found '${t.lit}', expected: ',', or identifier`);
      }
    }
    const close = this.#next();
    if (close.kind !== ")") throw new RequirementError(`found '${close.lit}', expected: ')'`);
    return values;
  }

  /** The single value after `=`, `==` or `!=`; nothing before `,` or the end means "". */
  #exactValue(): string {
    const la = this.#peek().kind;
    if (la === "eos" || la === ",") return "";
    const t = this.#next();
    if (t.kind !== "id") throw new RequirementError(`found '${t.lit}', expected: identifier`);
    return t.lit;
  }
}

/**
 * Parses a label selector string (`a=b,c!=d,e in (f,g),h notin (i),j,!k`).
 * An empty or all-whitespace string matches everything.
 */
export function parseLabelSelector(s: string): LabelSelector {
  return new CompiledLabelSelector(new LabelParser(lexLabelSelector(s)).parse());
}

const EXPRESSION_OPERATORS: Readonly<Record<string, LabelOperator>> = {
  In: "in",
  NotIn: "notin",
  Exists: "exists",
  DoesNotExist: "!",
};

function objectRequirement(key: unknown, operator: LabelOperator, values: unknown, where: string): LabelRequirement {
  if (typeof key !== "string") throw errors.badRequest(`${where}.key: Invalid value: ${formatBadValue(key)}: must be a string`);
  const list = values ?? [];
  if (!Array.isArray(list) || list.some((v) => typeof v !== "string")) {
    throw errors.badRequest(`${where}.values: Invalid value: ${formatBadValue(values)}: must be an array of strings`);
  }
  const errs = requirementErrors(key, operator, list as string[]);
  if (errs.length !== 0) throw errors.badRequest(aggregate(errs));
  return { key, operator, values: sortedUnique(list as string[]) };
}

/**
 * Builds a selector from a metav1.LabelSelector (matchLabels AND
 * matchExpressions with In, NotIn, Exists, DoesNotExist). Unlike
 * metav1.LabelSelectorAsSelector, where a nil selector matches nothing,
 * undefined/null here matches everything: callers that need "nil selects
 * nothing" must check for absence themselves. Invalid input throws BadRequest.
 */
export function labelSelectorFromObject(sel: LabelSelectorObject | undefined | null): LabelSelector {
  if (sel === undefined || sel === null) return new CompiledLabelSelector([]);
  if (!isPlainObject(sel)) throw errors.badRequest(`label selector: Invalid value: ${formatBadValue(sel)}: must be an object`);
  const reqs: LabelRequirement[] = [];
  const matchLabels: unknown = sel.matchLabels;
  if (matchLabels !== undefined && matchLabels !== null) {
    if (!isPlainObject(matchLabels)) throw errors.badRequest(`matchLabels: Invalid value: ${formatBadValue(matchLabels)}: must be an object`);
    for (const [k, v] of Object.entries(matchLabels)) {
      if (typeof v !== "string") throw errors.badRequest(`matchLabels[${k}]: Invalid value: ${formatBadValue(v)}: must be a string`);
      reqs.push(objectRequirement(k, "=", [v], "matchLabels"));
    }
  }
  const exprs: unknown = sel.matchExpressions;
  if (exprs !== undefined && exprs !== null) {
    if (!Array.isArray(exprs)) throw errors.badRequest(`matchExpressions: Invalid value: ${formatBadValue(exprs)}: must be an array`);
    exprs.forEach((e: unknown, i) => {
      const where = `matchExpressions[${i}]`;
      if (!isPlainObject(e)) throw errors.badRequest(`${where}: Invalid value: ${formatBadValue(e)}: must be an object`);
      const op = typeof e.operator === "string" && hasOwn(EXPRESSION_OPERATORS, e.operator) ? EXPRESSION_OPERATORS[e.operator] : undefined;
      if (op === undefined) throw errors.badRequest(`${goQuote(typeof e.operator === "string" ? e.operator : "")} is not a valid label selector operator`);
      reqs.push(objectRequirement(e.key, op, e.values, where));
    });
  }
  return new CompiledLabelSelector(reqs);
}

/** A selector requiring every `key=value` of `set` (labels.ValidatedSelectorFromSet). */
export function labelSelectorFromSet(set: Record<string, string>): LabelSelector {
  return labelSelectorFromObject({ matchLabels: set });
}

/** Escapes `\`, `,` and `=` in a field selector value (fields.EscapeValue). */
export function escapeFieldValue(v: string): string {
  let out = "";
  let from = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c !== 0x5c && c !== 0x2c && c !== 0x3d) continue;
    out += `${v.slice(from, i)}\\${v.charAt(i)}`;
    from = i + 1;
  }
  return out + v.slice(from);
}

/** Reverses escapeFieldValue; unknown escapes and bare `,`/`=` are errors (fields.UnescapeValue). */
export function unescapeFieldValue(v: string): string {
  if (!/[\\,=]/.test(v)) return v;
  let out = "";
  let escaped = false;
  for (const ch of v) {
    if (escaped) {
      if (ch !== "\\" && ch !== "," && ch !== "=") throw errors.badRequest(`invalid field selector: invalid escape sequence: \\${ch}`);
      out += ch;
      escaped = false;
    } else if (ch === "\\") escaped = true;
    else if (ch === "," || ch === "=") throw errors.badRequest(`invalid field selector: unescaped character in value: ${ch}`);
    else out += ch;
  }
  if (escaped) throw errors.badRequest("invalid field selector: invalid escape sequence: \\");
  return out;
}

/** Splits on commas not preceded by an escaping backslash; escapes stay in the parts. */
function splitFieldTerms(s: string): string[] {
  if (s.length === 0) return [];
  const terms: string[] = [];
  let start = 0;
  let escaped = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (escaped) escaped = false;
    else if (c === 0x5c) escaped = true;
    else if (c === 0x2c) {
      terms.push(s.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(s.slice(start));
  return terms;
}

/** Splits `lhs op rhs` at the first `!=`, `==` or `=`. */
function splitFieldTerm(term: string): { lhs: string; op: "=" | "==" | "!="; rhs: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    const c = term.charCodeAt(i);
    if (c === 0x21 && term.charCodeAt(i + 1) === 0x3d) return { lhs: term.slice(0, i), op: "!=", rhs: term.slice(i + 2) };
    if (c === 0x3d) {
      const op = term.charCodeAt(i + 1) === 0x3d ? "==" : "=";
      return { lhs: term.slice(0, i), op, rhs: term.slice(i + op.length) };
    }
  }
  return undefined;
}

function fieldRequirementString(r: FieldRequirement): string {
  return `${r.field}${r.operator}${escapeFieldValue(r.value)}`;
}

class CompiledFieldSelector implements FieldSelector {
  readonly requirements: readonly FieldRequirement[];
  readonly empty: boolean;
  readonly #fields: readonly string[];
  readonly #values: readonly string[];
  readonly #equal: readonly boolean[];
  readonly #text: string;

  constructor(reqs: FieldRequirement[]) {
    const keyed = reqs.map((r) => ({ r, text: fieldRequirementString(r) }));
    keyed.sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
    this.requirements = Object.freeze(keyed.map(({ r }) => Object.freeze({ ...r })));
    this.empty = keyed.length === 0;
    this.#fields = this.requirements.map((r) => r.field);
    this.#values = this.requirements.map((r) => r.value);
    this.#equal = this.requirements.map((r) => r.operator === "=");
    this.#text = keyed.map((k) => k.text).join(",");
  }

  matches(fields: Record<string, string>): boolean {
    const n = this.#fields.length;
    for (let i = 0; i < n; i++) {
      const f = this.#fields[i] as string;
      const actual = hasOwn(fields, f) ? fields[f] : "";
      if ((actual === this.#values[i]) !== this.#equal[i]) return false;
    }
    return true;
  }

  toString(): string {
    return this.#text;
  }
}

function toSet(allowed: ReadonlySet<string> | readonly string[]): ReadonlySet<string> {
  return typeof (allowed as ReadonlySet<string>).has === "function" ? (allowed as ReadonlySet<string>) : new Set(allowed as readonly string[]);
}

/**
 * Parses a field selector (`metadata.name=x,spec.nodeName!=`). Field names are
 * taken verbatim (no whitespace trimming, as upstream); empty terms are
 * skipped. With `allowedFields`, any other field is refused with
 * `field label not supported: <field>`.
 */
export function parseFieldSelector(s: string, allowedFields?: ReadonlySet<string> | readonly string[]): FieldSelector {
  const parts = splitFieldTerms(s).sort();
  const reqs: FieldRequirement[] = [];
  for (const part of parts) {
    if (part === "") continue;
    const term = splitFieldTerm(part);
    if (!term) throw errors.badRequest(`invalid selector: '${s}'; can't understand '${part}'`);
    reqs.push({ field: term.lhs, operator: term.op === "!=" ? "!=" : "=", value: unescapeFieldValue(term.rhs) });
  }
  if (allowedFields !== undefined) {
    const allowed = toSet(allowedFields);
    for (const r of reqs) if (!allowed.has(r.field)) throw errors.badRequest(`field label not supported: ${r.field}`);
  }
  return new CompiledFieldSelector(reqs);
}
