/**
 * @module Well-known wrapper messages whose JSON form is not an object:
 * meta/v1 Time, MicroTime, Duration and FieldsV1, intstr.IntOrString,
 * resource.Quantity, runtime.RawExtension and authentication/v1 ExtraValue.
 *
 * Each renders the way the Go type's MarshalJSON does, e.g. a zero Time is
 * `null` and a Time is RFC 3339 with second precision.
 */

import { Reader, WIRE_BYTES, WIRE_VARINT, WireError } from "./wire.ts";

/** JSON rendering of a wrapper message. */
export interface SpecialType {
  /** The JSON value for the message's bytes. */
  decode(bytes: Uint8Array): unknown;
  /** The JSON value of the Go zero value (a non-pointer field absent from the wire). */
  zero(): unknown;
}

const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/** Decodes UTF-8 the way Go's JSON encoder shows it (invalid bytes become U+FFFD). */
export function utf8String(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

/** Reads a message made only of varint/bytes fields into a field-number map (last one wins). */
function fieldsOf(bytes: Uint8Array): Map<number, bigint | Uint8Array> {
  const out = new Map<number, bigint | Uint8Array>();
  const r = new Reader(bytes);
  while (!r.done()) {
    const tag = r.tag();
    if (tag.wireType === WIRE_VARINT) out.set(tag.field, r.varint64());
    else if (tag.wireType === WIRE_BYTES) out.set(tag.field, r.bytes());
    else r.skip(tag);
  }
  return out;
}

function varintField(f: Map<number, bigint | Uint8Array>, n: number): bigint {
  const v = f.get(n);
  if (v === undefined) return 0n;
  if (typeof v !== "bigint") throw new WireError(`field ${n} must be a varint`);
  return v;
}

function bytesField(f: Map<number, bigint | Uint8Array>, n: number): Uint8Array | undefined {
  const v = f.get(n);
  if (v === undefined) return undefined;
  if (typeof v === "bigint") throw new WireError(`field ${n} must be length-delimited`);
  return v;
}

/** Seconds (int64) + nanos (int32) as Go's time.Unix normalizes them. */
function timestamp(bytes: Uint8Array): { seconds: bigint; nanos: number } | null {
  if (bytes.length === 0) return null;
  const f = fieldsOf(bytes);
  let seconds = BigInt.asIntN(64, varintField(f, 1));
  let nanos = Number(BigInt.asIntN(32, varintField(f, 2)));
  if (nanos < 0 || nanos >= 1e9) {
    const carry = Math.floor(nanos / 1e9);
    seconds += BigInt(carry);
    nanos -= carry * 1e9;
  }
  // Go's zero time.Time (0001-01-01T00:00:00Z) marshals as null.
  if (seconds === -62135596800n && nanos === 0) return null;
  return { seconds, nanos };
}

/** Go's largest JS-representable range; beyond it we refuse rather than print nonsense. */
const MAX_SECONDS = 8_640_000_000_000n;

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

function formatTime(seconds: bigint, nanos: number, fractionDigits: number): string {
  if (seconds > MAX_SECONDS || seconds < -MAX_SECONDS) throw new WireError("timestamp out of range");
  const d = new Date(Number(seconds) * 1000);
  const year = d.getUTCFullYear();
  const y = year < 0 ? `-${pad(-year, 4)}` : pad(year, 4);
  const frac = fractionDigits > 0 ? `.${pad(nanos, 9).slice(0, fractionDigits)}` : "";
  return `${y}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}${frac}Z`;
}

const time: SpecialType = {
  decode(bytes) {
    const t = timestamp(bytes);
    return t === null ? null : formatTime(t.seconds, t.nanos, 0);
  },
  zero: () => null,
};

const microTime: SpecialType = {
  decode(bytes) {
    const t = timestamp(bytes);
    return t === null ? null : formatTime(t.seconds, t.nanos, 6);
  },
  zero: () => null,
};

/** Fraction of v / 10^prec without trailing zeros (Go's fmtFrac). */
function frac(v: bigint, prec: number): { text: string; rest: bigint } {
  let text = "";
  let printed = false;
  for (let i = 0; i < prec; i++) {
    const digit = v % 10n;
    printed = printed || digit !== 0n;
    if (printed) text = `${digit}${text}`;
    v /= 10n;
  }
  return { text: printed ? `.${text}` : "", rest: v };
}

/** Go's time.Duration.String(). */
export function goDuration(ns: bigint): string {
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  let out: string;
  if (u < 1_000_000_000n) {
    if (u === 0n) return "0s";
    let unit: string;
    let prec: number;
    if (u < 1_000n) [unit, prec] = ["ns", 0];
    else if (u < 1_000_000n) [unit, prec] = ["µs", 3];
    else [unit, prec] = ["ms", 6];
    const f = frac(u, prec);
    out = `${f.rest}${f.text}${unit}`;
  } else {
    const f = frac(u, 9);
    u = f.rest;
    out = `${u % 60n}${f.text}s`;
    u /= 60n;
    if (u > 0n) {
      out = `${u % 60n}m${out}`;
      u /= 60n;
      if (u > 0n) out = `${u}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

const duration: SpecialType = {
  decode: (bytes) => goDuration(BigInt.asIntN(64, varintField(fieldsOf(bytes), 1))),
  zero: () => "0s",
};

const intOrString: SpecialType = {
  decode(bytes) {
    const f = fieldsOf(bytes);
    const type = BigInt.asIntN(64, varintField(f, 1));
    if (type === 0n) return Number(BigInt.asIntN(32, varintField(f, 2)));
    if (type === 1n) {
      const s = bytesField(f, 3);
      return s ? utf8String(s) : "";
    }
    throw new WireError(`impossible IntOrString type ${type}`);
  },
  zero: () => 0,
};

const QUANTITY_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+|[KMGTPE]i|[numkMGTPE])?$/;

const quantity: SpecialType = {
  decode(bytes) {
    const s = bytesField(fieldsOf(bytes), 1);
    if (s === undefined) return "0";
    const text = utf8String(s);
    if (!QUANTITY_RE.test(text)) throw new WireError(`quantity ${JSON.stringify(text)} is not valid`);
    return text;
  },
  zero: () => "0",
};

/** Raw JSON bytes (RawExtension.raw, FieldsV1.Raw) re-parsed; nil is null. */
const rawJson: SpecialType = {
  decode(bytes) {
    const raw = bytesField(fieldsOf(bytes), 1);
    if (raw === undefined) return null;
    try {
      return JSON.parse(utf8String(raw)) as unknown;
    } catch {
      throw new WireError("embedded raw object is not valid JSON");
    }
  },
  zero: () => null,
};

/** authentication/v1 ExtraValue: a message wrapping `repeated string items = 1`, rendered as an array. */
const stringList: SpecialType = {
  decode(bytes) {
    const items: string[] = [];
    const r = new Reader(bytes);
    while (!r.done()) {
      const tag = r.tag();
      if (tag.field === 1 && tag.wireType === WIRE_BYTES) items.push(utf8String(r.bytes()));
      else r.skip(tag);
    }
    return items;
  },
  zero: () => null,
};

/** Wrapper messages by table type name. */
export const SPECIAL_TYPES: ReadonlyMap<string, SpecialType> = new Map([
  ["meta.v1.Time", time],
  ["meta.v1.MicroTime", microTime],
  ["meta.v1.Duration", duration],
  ["meta.v1.FieldsV1", rawJson],
  ["runtime.RawExtension", rawJson],
  ["intstr.IntOrString", intOrString],
  ["resource.Quantity", quantity],
  ["authentication.v1.ExtraValue", stringList],
]);
