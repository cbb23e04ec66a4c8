/**
 * @module Test-only protobuf writer for hand-crafting messages and envelopes.
 * Deliberately independent of the decoder's tables: callers spell out field
 * numbers, so tests check the tables rather than re-deriving them.
 */

/** Builds one message. */
export class ProtoWriter {
  private readonly out: number[] = [];

  /** Raw varint (no key). */
  rawVarint(value: bigint | number): this {
    let v = BigInt.asUintN(64, BigInt(value));
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v > 0n) byte |= 0x80;
      this.out.push(byte);
    } while (v > 0n);
    return this;
  }

  /** Raw bytes (no key). */
  raw(bytes: Uint8Array | readonly number[]): this {
    this.out.push(...bytes);
    return this;
  }

  key(field: number, wireType: number): this {
    return this.rawVarint(field * 8 + wireType);
  }

  varint(field: number, value: bigint | number | boolean): this {
    return this.key(field, 0).rawVarint(typeof value === "boolean" ? (value ? 1 : 0) : value);
  }

  bytes(field: number, bytes: Uint8Array | readonly number[]): this {
    return this.key(field, 2).rawVarint(bytes.length).raw(bytes);
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  fixed64(field: number, bytes: readonly number[]): this {
    return this.key(field, 1).raw(bytes);
  }

  fixed32(field: number, bytes: readonly number[]): this {
    return this.key(field, 5).raw(bytes);
  }

  /** A map<string, string> entry. */
  entry(field: number, k: string, v: string): this {
    return this.message(field, (e) => e.string(1, k).string(2, v));
  }

  finish(): Uint8Array {
    return new Uint8Array(this.out);
  }
}

/** Builds a message inline. */
export function msg(build: (w: ProtoWriter) => void): Uint8Array {
  const w = new ProtoWriter();
  build(w);
  return w.finish();
}

/** Magic + runtime.Unknown{typeMeta{apiVersion, kind}, raw}. */
export function envelope(apiVersion: string, kind: string, raw: Uint8Array): Uint8Array {
  const body = msg((w) =>
    w
      .message(1, (t) => {
        if (apiVersion) t.string(1, apiVersion);
        if (kind) t.string(2, kind);
      })
      .bytes(2, raw)
      .string(3, "")
      .string(4, ""),
  );
  return new Uint8Array([0x6b, 0x38, 0x73, 0x00, ...body]);
}
