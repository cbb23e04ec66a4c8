/**
 * @module resource.Quantity: parsing, comparison and the canonical string
 * form the API server writes back (k8s.io/apimachinery `pkg/api/resource`).
 * `0.5` → `500m`, `1024Mi` → `1Gi`, `1000` → `1k`, `1.5Gi` → `1536Mi`.
 * Values are held exactly as a BigInt count of nano-units; anything finer
 * than 1n is rounded up, as upstream does.
 */

export type QuantityFormat = "DecimalSI" | "BinarySI" | "DecimalExponent";

export interface Quantity {
  /** The value times 10^9. */
  nanos: bigint;
  format: QuantityFormat;
}

export const QUANTITY_FORMAT_ERROR =
  "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const NUMERIC_ERROR = "unable to parse numeric part of quantity";
const SUFFIX_ERROR = "unable to parse quantity's suffix";

const DECIMAL_SUFFIXES: Record<string, number> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIXES: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_BY_EXP = new Map(Object.entries(DECIMAL_SUFFIXES).map(([s, e]) => [e, s]));
const BINARY_BY_EXP = new Map(Object.entries(BINARY_SUFFIXES).map(([s, e]) => [e / 10, s]));

const NANO = 1_000_000_000n;

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

/** a / b rounded away from zero. */
function divUp(a: bigint, b: bigint): bigint {
  const q = a / b;
  if (q * b === a) return q;
  return a < 0n ? q - 1n : q + 1n;
}

function isDigit(c: string): boolean {
  return c >= "0" && c <= "9";
}

/** Parses a quantity string or JSON number; returns an error message instead of throwing. */
/**
 * Parsed quantities by input text. Objects repeat the same few quantities
 * ("100m", "128Mi") endlessly, and parsing with bigints is costly; the cache
 * is bounded and results are immutable.
 */
const PARSED = new Map<string, Readonly<Quantity> | { error: string }>();
const PARSED_MAX = 4096;

export function parseQuantity(input: string | number): Quantity | { error: string } {
  const s = typeof input === "number" ? String(input) : input;
  const hit = PARSED.get(s);
  if (hit) return hit as Quantity | { error: string };
  const r = parseQuantityText(s);
  if (PARSED.size >= PARSED_MAX) PARSED.clear();
  PARSED.set(s, Object.freeze(r));
  return r;
}

function parseQuantityText(s: string): Quantity | { error: string } {
  if (s.length === 0) return { error: QUANTITY_FORMAT_ERROR };
  let i = 0;
  let negative = false;
  if (s[0] === "+" || s[0] === "-") {
    negative = s[0] === "-";
    i++;
  }
  let intDigits = "";
  let fracDigits = "";
  let seenDot = false;
  for (; i < s.length; i++) {
    const c = s[i] as string;
    if (isDigit(c)) {
      if (seenDot) fracDigits += c;
      else intDigits += c;
    } else if (c === "." && !seenDot) seenDot = true;
    else if (c === ".") return { error: NUMERIC_ERROR };
    else break;
  }
  if (intDigits.length + fracDigits.length === 0) return { error: QUANTITY_FORMAT_ERROR };
  const suffix = s.slice(i);
  for (const c of suffix) {
    if (!"eEinumkKMGTP+-0123456789".includes(c)) return { error: QUANTITY_FORMAT_ERROR };
  }
  const digits = BigInt((intDigits + fracDigits).replace(/^0+(?=\d)/, "") || "0");
  const scale = fracDigits.length;
  let nanos: bigint;
  let format: QuantityFormat;
  const dec = DECIMAL_SUFFIXES[suffix];
  const bin = BINARY_SUFFIXES[suffix];
  if (dec !== undefined) {
    format = "DecimalSI";
    nanos = scaleBy10(digits, 9 + dec - scale);
  } else if (bin !== undefined) {
    format = "BinarySI";
    nanos = scaleBy10(digits * (1n << BigInt(bin)), 9 - scale);
  } else if ((suffix[0] === "e" || suffix[0] === "E") && /^[eE][-+]?[0-9]+$/.test(suffix)) {
    format = "DecimalExponent";
    const exp = Number.parseInt(suffix.slice(1), 10);
    if (!Number.isSafeInteger(exp) || Math.abs(exp) > 1000) return { error: SUFFIX_ERROR };
    nanos = scaleBy10(digits, 9 + exp - scale);
  } else {
    return { error: SUFFIX_ERROR };
  }
  return { nanos: negative ? -nanos : nanos, format };
}

function scaleBy10(v: bigint, exp: number): bigint {
  return exp >= 0 ? v * pow10(exp) : divUp(v, pow10(-exp));
}

/** The canonical string upstream serializes (Quantity.String()). */
const FORMATTED = new Map<string, string>();

export function formatQuantity(q: Quantity): string {
  const key = `${q.nanos}|${q.format}`;
  let out = FORMATTED.get(key);
  if (out === undefined) {
    out = formatQuantityUncached(q);
    if (FORMATTED.size >= PARSED_MAX) FORMATTED.clear();
    FORMATTED.set(key, out);
  }
  return out;
}

function formatQuantityUncached(q: Quantity): string {
  if (q.nanos === 0n) return "0";
  let format = q.format;
  if (format === "BinarySI") {
    const abs = q.nanos < 0n ? -q.nanos : q.nanos;
    if (abs < 1024n * NANO || q.nanos % NANO !== 0n) format = "DecimalSI";
  }
  if (format === "BinarySI") {
    let amount = q.nanos / NANO;
    let exp = 0;
    while (exp < 6 && amount % 1024n === 0n) {
      amount /= 1024n;
      exp++;
    }
    return `${amount}${BINARY_BY_EXP.get(exp) ?? ""}`;
  }
  let mantissa = q.nanos;
  let exp = -9;
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    exp++;
  }
  const r = ((exp % 3) + 3) % 3;
  if (r === 1) {
    mantissa *= 10n;
    exp -= 1;
  } else if (r === 2) {
    mantissa *= 100n;
    exp -= 2;
  }
  if (format === "DecimalExponent") return exp === 0 ? `${mantissa}` : `${mantissa}e${exp}`;
  if (exp > 18) {
    mantissa *= pow10(exp - 18);
    exp = 18;
  }
  return `${mantissa}${DECIMAL_BY_EXP.get(exp) ?? ""}`;
}

/** Canonical texts by input text, as PARSED (formatting a bigint costs more than the lookup). */
const CANONICAL = new Map<string, string | { error: string }>();

/** Parses and re-serializes; the error message when unparsable. */
export function canonicalQuantity(input: string | number): string | { error: string } {
  const s = typeof input === "number" ? String(input) : input;
  let c = CANONICAL.get(s);
  if (c === undefined) {
    const q = parseQuantity(s);
    c = "error" in q ? q : formatQuantity(q);
    if (CANONICAL.size >= PARSED_MAX) CANONICAL.clear();
    CANONICAL.set(s, c);
  }
  return c;
}

/** Rounds up to milli precision (SetDefaults_ResourceList's RoundUp(-3)). */
export function roundUpToMilli(q: Quantity): Quantity {
  const milli = 1_000_000n;
  return { nanos: divUp(q.nanos, milli) * milli, format: q.format };
}

/** -1, 0 or 1. */
export function compareQuantity(a: Quantity, b: Quantity): number {
  return a.nanos < b.nanos ? -1 : a.nanos > b.nanos ? 1 : 0;
}

/** Parses a value known to be valid (e.g. after validation); undefined otherwise. */
export function quantityOf(v: unknown): Quantity | undefined {
  if (typeof v !== "string" && typeof v !== "number") return undefined;
  const q = parseQuantity(v);
  return "error" in q ? undefined : q;
}
