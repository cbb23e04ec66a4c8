/**
 * @module A small protobuf wire-format reader: varints, fixed32/64,
 * length-delimited fields and skipping of unknown fields (groups included).
 *
 * Every malformed input becomes a `WireError`; callers translate it into a
 * 400 BadRequest. Nothing here allocates more than the input it was given.
 */

/** Wire types of the protobuf encoding. */
export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_START_GROUP = 3;
export const WIRE_END_GROUP = 4;
export const WIRE_FIXED32 = 5;

/** Malformed protobuf bytes. */
export class WireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WireError";
  }
}

/** Deepest group nesting `skip` accepts before giving up. */
const MAX_GROUP_DEPTH = 64;

/** One field key: field number and wire type. */
export interface Tag {
  field: number;
  wireType: number;
}

/** Sequential reader over a byte range. */
export class Reader {
  private pos: number;
  private readonly end: number;

  constructor(
    private readonly buf: Uint8Array,
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.end = end;
  }

  /** True once every byte has been consumed. */
  done(): boolean {
    return this.pos >= this.end;
  }

  /** Reads a varint of up to 10 bytes as an unsigned 64-bit BigInt. */
  varint64(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireError("unexpected end of data in varint");
      const b = this.buf[this.pos++] as number;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return BigInt.asUintN(64, result);
      shift += 7n;
    }
    throw new WireError("varint is longer than 10 bytes");
  }

  /** Reads a varint that must fit an unsigned 32-bit number (tags, lengths). */
  uint32(): number {
    let result = 0;
    let mult = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireError("unexpected end of data in varint");
      const b = this.buf[this.pos++] as number;
      result += (b & 0x7f) * mult;
      if ((b & 0x80) === 0) {
        if (result > 0xffffffff) throw new WireError("varint does not fit 32 bits");
        return result;
      }
      mult *= 128;
    }
    throw new WireError("varint is longer than 10 bytes");
  }

  /** Reads a field key. Field number 0 and wire types 6/7 are invalid. */
  tag(): Tag {
    const key = this.uint32();
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    if (field === 0) throw new WireError("illegal field number 0");
    if (wireType > 5) throw new WireError(`illegal wire type ${wireType}`);
    return { field, wireType };
  }

  /** Reads 4 little-endian bytes. */
  fixed32(): Uint8Array {
    return this.take(4);
  }

  /** Reads 8 little-endian bytes. */
  fixed64(): Uint8Array {
    return this.take(8);
  }

  /** Reads a length-delimited payload and returns a view of it (no copy). */
  bytes(): Uint8Array {
    const len = this.uint32();
    return this.take(len);
  }

  /** Skips the value of a field whose key was just read. */
  skip(tag: Tag, depth = 0): void {
    switch (tag.wireType) {
      case WIRE_VARINT:
        this.varint64();
        return;
      case WIRE_FIXED64:
        this.take(8);
        return;
      case WIRE_BYTES:
        this.bytes();
        return;
      case WIRE_FIXED32:
        this.take(4);
        return;
      case WIRE_START_GROUP: {
        if (depth >= MAX_GROUP_DEPTH) throw new WireError("groups nested too deeply");
        for (;;) {
          if (this.done()) throw new WireError("unterminated group");
          const inner = this.tag();
          if (inner.wireType === WIRE_END_GROUP) {
            if (inner.field !== tag.field) throw new WireError("mismatched end group");
            return;
          }
          this.skip(inner, depth + 1);
        }
      }
      default:
        throw new WireError(`unexpected end group for field ${tag.field}`);
    }
  }

  private take(n: number): Uint8Array {
    if (n > this.end - this.pos) throw new WireError("length exceeds remaining data");
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

/** Little-endian unsigned 32-bit value of 4 bytes. */
export function readUint32LE(b: Uint8Array): number {
  return ((b[0] as number) | ((b[1] as number) << 8) | ((b[2] as number) << 16)) + (b[3] as number) * 0x1000000;
}

/** Little-endian 8 bytes as an unsigned BigInt. */
export function readUint64LE(b: Uint8Array): bigint {
  const lo = BigInt(readUint32LE(b.subarray(0, 4)));
  const hi = BigInt(readUint32LE(b.subarray(4, 8)));
  return (hi << 32n) | lo;
}

/** IEEE-754 double from 8 little-endian bytes. */
export function readDoubleLE(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, true);
}

/** IEEE-754 float from 4 little-endian bytes. */
export function readFloatLE(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset, 4).getFloat32(0, true);
}
