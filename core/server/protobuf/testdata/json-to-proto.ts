/**
 * @module Test-only encoder: Go-shaped JSON → protobuf, driven by the tables'
 * field numbers. It writes a field iff the JSON has it (non-null), as gogo
 * writes every set field, so decode(encode(goJson)) must give goJson back
 * exactly when the tables' presence flags match Go's `json:` tags. JSON keys
 * the tables do not know are reported rather than dropped.
 */

import type { FieldDescriptor } from "../descriptors.ts";
import { messages } from "../registry.ts";
import { ProtoWriter } from "./proto-writer.ts";

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** RFC 3339 (optionally fractional) → [seconds, nanos]. */
function parseTime(s: string): [number, number] {
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) throw new Error(`bad time ${s}`);
  const frac = /\.(\d+)/.exec(s)?.[1] ?? "";
  return [Math.floor(ms / 1000), Number(frac.padEnd(9, "0").slice(0, 9))];
}

/** Encodes a wrapper type's JSON value as its message; undefined if `type` is not a wrapper. */
function encodeSpecial(type: string, value: unknown): Uint8Array | undefined {
  const w = new ProtoWriter();
  switch (type) {
    case "meta.v1.Time":
    case "meta.v1.MicroTime":
      if (value !== null) {
        const [sec, nanos] = parseTime(String(value));
        w.varint(1, sec);
        if (nanos) w.varint(2, nanos);
      }
      return w.finish();
    case "intstr.IntOrString":
      if (typeof value === "number") w.varint(1, 0).varint(2, value);
      else w.varint(1, 1).string(3, String(value));
      return w.finish();
    case "resource.Quantity":
      return w.string(1, String(value)).finish();
    case "meta.v1.FieldsV1":
    case "runtime.RawExtension":
      return w.string(1, JSON.stringify(value)).finish();
    case "authentication.v1.ExtraValue":
      for (const s of value as string[]) w.string(1, s);
      return w.finish();
    default:
      return undefined;
  }
}

function writeScalar(w: ProtoWriter, f: FieldDescriptor, field: number, v: unknown): void {
  switch (f.type) {
    case "string":
      w.string(field, String(v));
      break;
    case "bytes":
      w.bytes(field, new Uint8Array(Buffer.from(String(v), "base64")));
      break;
    case "bool":
      w.varint(field, Boolean(v));
      break;
    default:
      w.varint(field, BigInt(v as number));
  }
}

function writeValue(w: ProtoWriter, f: FieldDescriptor, field: number, v: unknown, path: string, unknown: string[]): void {
  if (f.scalar) return writeScalar(w, f, field, v);
  const special = encodeSpecial(f.type, v);
  w.bytes(field, special ?? encodeObject(v as Obj, f.type, path, unknown));
}

/** Encodes `obj` as table message `name`; JSON keys with no field land in `unknown`. */
export function encodeObject(obj: Obj, name: string, path = "", unknown: string[] = []): Uint8Array {
  const desc = messages().get(name);
  if (!desc) throw new Error(`no table ${name}`);
  const w = new ProtoWriter();
  const used = new Set<string>();
  const claim = (fields: readonly FieldDescriptor[]): void => {
    for (const f of fields) {
      if (f.presence === "inline") claim(messages().get(f.type)?.fields ?? []);
      else used.add(f.json);
    }
  };
  claim(desc.fields);
  for (const f of desc.fields) {
    if (f.presence === "inline") {
      const inner = messages().get(f.type);
      const subset: Obj = {};
      for (const g of inner?.fields ?? []) if (g.json in obj) subset[g.json] = obj[g.json];
      w.bytes(f.number, encodeObject(subset, f.type, path, []));
      continue;
    }
    const v = obj[f.json];
    const here = `${path}.${f.json}`;
    if (v === undefined) continue;
    if (v === null) {
      // A nil pointer/list is simply absent; a zero non-pointer Time is an empty message.
      if (!f.repeated && !f.map && f.presence !== "pointer" && f.presence !== "pointerNull" && encodeSpecial(f.type, null)) {
        w.bytes(f.number, new Uint8Array(0));
      }
      continue;
    }
    if (f.map) {
      for (const [k, item] of Object.entries(v as Obj)) {
        w.message(f.number, (e) => {
          e.string(1, k);
          writeValue(e, f, 2, item, `${here}[${k}]`, unknown);
        });
      }
    } else if (f.repeated) {
      (v as unknown[]).forEach((item, i) => writeValue(w, f, f.number, item, `${here}[${i}]`, unknown));
    } else {
      writeValue(w, f, f.number, v, here, unknown);
    }
  }
  for (const k of Object.keys(obj)) if (!used.has(k) && isObj(obj)) unknown.push(`${path}.${k}`);
  return w.finish();
}
