/**
 * @module Table-driven decoding of one protobuf message into the JSON object
 * Go's encoding/json would produce for the same Kubernetes type.
 *
 * Semantics follow gogo-protobuf's generated Unmarshal: the last occurrence of
 * a scalar wins, repeated fields append (packed or not), repeated occurrences
 * of a message field merge, unknown fields are skipped, a field with the wrong
 * wire type is an error. Presence rules come from the tables (`descriptors.ts`).
 */

import type { FieldDescriptor, MessageDescriptor, ScalarType } from "./descriptors.ts";
import { messages } from "./registry.ts";
import { SPECIAL_TYPES, utf8String } from "./special.ts";
import {
  Reader,
  WIRE_BYTES,
  WIRE_FIXED32,
  WIRE_FIXED64,
  WIRE_VARINT,
  WireError,
  readDoubleLE,
  readFloatLE,
  type Tag,
} from "./wire.ts";

type Json = unknown;
type JsonObject = Record<string, Json>;

/** What one field accumulated while scanning a message. */
type Slot =
  | { kind: "scalar"; value: Json }
  | { kind: "list"; values: Json[] }
  | { kind: "chunks"; chunks: Uint8Array[] }
  | { kind: "map"; entries: Map<string, Json> };

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Standard base64 with padding, as Go's encoding/json writes []byte. */
export function base64(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    out += BASE64[(n >> 18) & 63]! + BASE64[(n >> 12) & 63]! + BASE64[(n >> 6) & 63]! + BASE64[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = (bytes[i] as number) << 16;
    out += `${BASE64[(n >> 18) & 63]!}${BASE64[(n >> 12) & 63]!}==`;
  } else if (rest === 2) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8);
    out += `${BASE64[(n >> 18) & 63]!}${BASE64[(n >> 12) & 63]!}${BASE64[(n >> 6) & 63]!}=`;
  }
  return out;
}

function expectWire(tag: Tag, want: number, type: string): void {
  if (tag.wireType !== want) throw new WireError(`wrong wire type ${tag.wireType} for ${type} field ${tag.field}`);
}

function finite(n: number): number {
  if (!Number.isFinite(n)) throw new WireError("floating-point value is not finite");
  return n;
}

/** The wire type a scalar is encoded with (unpacked). */
function scalarWire(type: ScalarType): number {
  switch (type) {
    case "string":
    case "bytes":
      return WIRE_BYTES;
    case "double":
      return WIRE_FIXED64;
    case "float":
      return WIRE_FIXED32;
    default:
      return WIRE_VARINT;
  }
}

/** Reads one scalar value whose key (with the expected wire type) was just read. */
function readScalar(r: Reader, type: ScalarType): Json {
  switch (type) {
    case "string":
      return utf8String(r.bytes());
    case "bytes":
      return base64(r.bytes());
    case "bool":
      return r.varint64() !== 0n;
    case "int32":
      return Number(BigInt.asIntN(32, r.varint64()));
    case "uint32":
      return Number(BigInt.asUintN(32, r.varint64()));
    case "int64":
      return Number(BigInt.asIntN(64, r.varint64()));
    case "uint64":
      return Number(r.varint64());
    case "double":
      return finite(readDoubleLE(r.fixed64()));
    case "float":
      return finite(readFloatLE(r.fixed32()));
  }
}

/** Reads a scalar field value, accepting packed encoding for repeated numerics. */
function readScalarValues(r: Reader, tag: Tag, f: FieldDescriptor): Json[] {
  const type = f.type as ScalarType;
  const wire = scalarWire(type);
  if (f.repeated && wire !== WIRE_BYTES && tag.wireType === WIRE_BYTES) {
    const packed = r.bytes();
    const inner = new Reader(packed);
    const values: Json[] = [];
    while (!inner.done()) values.push(readScalar(inner, type));
    return values;
  }
  expectWire(tag, wire, type);
  return [readScalar(r, type)];
}

function zeroScalar(type: ScalarType): Json {
  switch (type) {
    case "string":
      return "";
    case "bool":
      return false;
    case "bytes":
      return null;
    default:
      return 0;
  }
}

function isZeroScalar(v: Json): boolean {
  return v === "" || v === 0 || v === false;
}

/** Defines an own enumerable property even for keys like "__proto__". */
function setKey(obj: JsonObject, key: string, value: Json): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Collects `Message#field` for every unknown field skipped (diagnostics and tests). */
export type UnknownFieldSink = string[] | undefined;

/** Renders a non-scalar value (table message or wrapper) from its bytes. */
function renderValue(type: string, bytes: Uint8Array, sink: UnknownFieldSink): Json {
  const special = SPECIAL_TYPES.get(type);
  return special ? special.decode(bytes) : decodeMessageBytes(bytes, type, sink);
}

/** Renders the Go zero value of a non-scalar type. */
function zeroValue(type: string): Json {
  const special = SPECIAL_TYPES.get(type);
  return special ? special.zero() : decodeMessageBytes(new Uint8Array(0), type);
}

/** Decodes one map entry message {key = 1, value = 2}. */
function readMapEntry(bytes: Uint8Array, f: FieldDescriptor, sink: UnknownFieldSink): [string, Json] {
  let key = "";
  let value: Json;
  let valueChunks: Uint8Array[] | undefined;
  const r = new Reader(bytes);
  while (!r.done()) {
    const tag = r.tag();
    if (tag.field === 1) {
      expectWire(tag, WIRE_BYTES, "map key");
      key = utf8String(r.bytes());
    } else if (tag.field === 2) {
      if (f.scalar) {
        value = readScalarValues(r, tag, { ...f, repeated: false })[0];
      } else {
        expectWire(tag, WIRE_BYTES, f.type);
        valueChunks = [...(valueChunks ?? []), r.bytes()];
      }
    } else {
      sink?.push(`map entry of ${f.json}#${tag.field}`);
      r.skip(tag);
    }
  }
  if (f.scalar) return [key, value === undefined ? (f.type === "bytes" ? "" : zeroScalar(f.type as ScalarType)) : value];
  if (!valueChunks) return [key, zeroValue(f.type)];
  const special = SPECIAL_TYPES.get(f.type);
  // A wrapper replaces itself on every occurrence; a table message merges.
  return [key, special ? special.decode(valueChunks[valueChunks.length - 1] as Uint8Array) : renderValue(f.type, concat(valueChunks), sink)];
}

/** Scans a message's fields into per-field slots. */
function collect(desc: MessageDescriptor, bytes: Uint8Array, sink: UnknownFieldSink): Map<FieldDescriptor, Slot> {
  const slots = new Map<FieldDescriptor, Slot>();
  const r = new Reader(bytes);
  while (!r.done()) {
    const tag = r.tag();
    const f = desc.byNumber.get(tag.field);
    if (!f) {
      sink?.push(`${desc.name}#${tag.field}`);
      r.skip(tag);
      continue;
    }
    if (f.map) {
      expectWire(tag, WIRE_BYTES, "map");
      const [k, v] = readMapEntry(r.bytes(), f, sink);
      const slot = slots.get(f);
      if (slot?.kind === "map") slot.entries.set(k, v);
      else slots.set(f, { kind: "map", entries: new Map([[k, v]]) });
    } else if (f.scalar) {
      const values = readScalarValues(r, tag, f);
      if (f.repeated) {
        const slot = slots.get(f);
        if (slot?.kind === "list") slot.values.push(...values);
        else slots.set(f, { kind: "list", values });
      } else {
        slots.set(f, { kind: "scalar", value: values[values.length - 1] });
      }
    } else {
      expectWire(tag, WIRE_BYTES, f.type);
      const payload = r.bytes();
      if (f.repeated) {
        const value = renderValue(f.type, payload, sink);
        const slot = slots.get(f);
        if (slot?.kind === "list") slot.values.push(value);
        else slots.set(f, { kind: "list", values: [value] });
      } else {
        const slot = slots.get(f);
        if (slot?.kind === "chunks" && !SPECIAL_TYPES.has(f.type)) slot.chunks.push(payload);
        else slots.set(f, { kind: "chunks", chunks: [payload] });
      }
    }
  }
  return slots;
}

/** Writes one field into `out` following its presence rule. */
function emit(out: JsonObject, f: FieldDescriptor, slot: Slot | undefined, sink: UnknownFieldSink): void {
  if (f.map || f.repeated) {
    let value: Json;
    if (slot?.kind === "map" && slot.entries.size > 0) {
      const obj: JsonObject = {};
      for (const k of [...slot.entries.keys()].sort()) setKey(obj, k, slot.entries.get(k));
      value = obj;
    } else if (slot?.kind === "list" && slot.values.length > 0) {
      value = slot.values;
    } else if (f.presence === "always" || f.presence === "pointerNull") {
      value = null;
    } else {
      return;
    }
    out[f.json] = value;
    return;
  }
  if (f.scalar) {
    if (slot?.kind === "scalar") {
      if (f.presence === "omitempty" && isZeroScalar(slot.value)) return;
      out[f.json] = slot.value;
    } else if (f.presence === "always") {
      out[f.json] = zeroScalar(f.type as ScalarType);
    } else if (f.presence === "pointerNull") {
      out[f.json] = null;
    }
    return;
  }
  const chunks = slot?.kind === "chunks" ? slot.chunks : undefined;
  if (f.presence === "inline") {
    const inner = chunks ? renderValue(f.type, concat(chunks), sink) : zeroValue(f.type);
    if (inner && typeof inner === "object") Object.assign(out, inner);
    return;
  }
  if (chunks) {
    out[f.json] = renderValue(f.type, concat(chunks), sink);
  } else if (f.presence === "pointerNull") {
    out[f.json] = null;
  } else if (f.presence === "omitempty" || f.presence === "always") {
    out[f.json] = zeroValue(f.type);
  }
}

/**
 * Decodes `bytes` as the table message `name` into its Go JSON shape.
 * Throws WireError on malformed input and Error for an unknown message name.
 * `sink`, when given, receives `Message#field` for every unknown field skipped.
 */
export function decodeMessageBytes(bytes: Uint8Array, name: string, sink?: UnknownFieldSink): JsonObject {
  const desc = messages().get(name);
  if (!desc) throw new Error(`no protobuf table for message ${name}`);
  const slots = collect(desc, bytes, sink);
  const out: JsonObject = {};
  for (const f of desc.fields) emit(out, f, slots.get(f), sink);
  return out;
}
