/**
 * @module SPDY/3.1 framing, as much as Kubernetes streaming needs (kubectl
 * port-forward speaks it through moby/spdystream): frame parsing and
 * encoding, and the header blocks — name/value pairs, zlib-compressed with
 * the SPDY/3 dictionary, one compression context per direction per
 * connection.
 *
 * Why not a library: `spdy-transport` (npm, last release 3.0.0) is built on
 * Node streams for HTTP over SPDY and rejects a SYN_STREAM without `:method`
 * and `:path` — exactly what kubectl's port-forward streams are (`streamtype`,
 * `port`, `requestid` only). Nothing else on npm is kept up; SPDY/3.1 is
 * small and frozen, so this file is the whole of it.
 *
 * Flow control (WINDOW_UPDATE) is parsed and ignored, as spdystream does.
 *
 * Compression: headers we send are written as zlib *stored* blocks (a valid
 * zlib stream any inflater reads — synchronous and deterministic; we only
 * ever send small blocks). Headers we receive go through one streaming
 * inflater with the dictionary (node:zlib), so decoding is asynchronous.
 */
import zlib from "node:zlib";

export const SPDY_VERSION = 3;

export const FrameType = {
  SynStream: 1,
  SynReply: 2,
  RstStream: 3,
  Settings: 4,
  Ping: 6,
  GoAway: 7,
  Headers: 8,
  WindowUpdate: 9,
} as const;

export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;

/** RST_STREAM status codes. */
export const RstStatus = {
  ProtocolError: 1,
  InvalidStream: 2,
  RefusedStream: 3,
  UnsupportedVersion: 4,
  Cancel: 5,
  InternalError: 6,
  FlowControlError: 7,
  StreamInUse: 8,
  StreamAlreadyClosed: 9,
} as const;

export const GoAwayStatus = { Ok: 0, ProtocolError: 1, InternalError: 2 } as const;

/** Largest payload of one frame (24-bit length). */
export const MAX_FRAME_PAYLOAD = 0xffffff;

const HEADER_WORDS = [
  "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset", "accept-encoding", "accept-language",
  "accept-ranges", "age", "allow", "authorization", "cache-control", "connection", "content-base", "content-encoding",
  "content-language", "content-length", "content-location", "content-md5", "content-range", "content-type", "date", "etag",
  "expect", "expires", "from", "host", "if-match", "if-modified-since", "if-none-match", "if-range", "if-unmodified-since",
  "last-modified", "location", "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range", "referer",
  "retry-after", "server", "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "vary", "via", "warning",
  "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1", "url", "public", "set-cookie", "keep-alive",
  "origin",
];
const HEADER_TAIL =
  "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505" +
  "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized" +
  "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable" +
  "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT" +
  "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain," +
  "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";

/**
 * The SPDY/3 header compression dictionary (draft 3, section 2.6.10.1):
 * each word with a 4-byte big-endian length, then the tail as is. 1423
 * bytes, Adler-32 0xe3c6a7c2 (the dictionary id in every SPDY/3 zlib header).
 */
export const HEADER_DICTIONARY: Uint8Array = (() => {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const w of HEADER_WORDS) {
    const b = enc.encode(w);
    parts.push(u32(b.length), b);
  }
  parts.push(enc.encode(HEADER_TAIL));
  return concat(parts);
})();

/** A frame as read off the wire; control payloads are decoded by the caller (see `readSynStream` …). */
export type RawFrame =
  | { kind: "control"; version: number; type: number; flags: number; payload: Uint8Array }
  | { kind: "data"; streamId: number; flags: number; data: Uint8Array };

/** A header block: lowercase names, each with its values (on the wire NUL-separated). */
export type HeaderMap = Map<string, string[]>;

export class SpdyProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SpdyProtocolError";
  }
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0);
  return b;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Splits a byte stream into frames. Bytes may come in any chunking (a
 * WebSocket message can hold part of a frame, or several).
 */
export class FrameReader {
  #buf: Uint8Array = new Uint8Array(0);

  /** Adds bytes; returns every frame now complete, in order. */
  push(chunk: Uint8Array): RawFrame[] {
    this.#buf = this.#buf.length === 0 ? chunk : concat([this.#buf, chunk]);
    const out: RawFrame[] = [];
    let off = 0;
    for (;;) {
      if (this.#buf.length - off < 8) break;
      const v = new DataView(this.#buf.buffer, this.#buf.byteOffset + off);
      const first = v.getUint32(0);
      const flags = this.#buf[off + 4]!;
      const length = v.getUint32(4) & 0xffffff;
      if (this.#buf.length - off - 8 < length) break;
      const body = this.#buf.slice(off + 8, off + 8 + length);
      if (first & 0x80000000) {
        out.push({ kind: "control", version: (first >>> 16) & 0x7fff, type: first & 0xffff, flags, payload: body });
      } else {
        out.push({ kind: "data", streamId: first & 0x7fffffff, flags, data: body });
      }
      off += 8 + length;
    }
    this.#buf = off === 0 ? this.#buf : this.#buf.slice(off);
    return out;
  }

  /** Bytes held that do not make a whole frame yet. */
  get pending(): number {
    return this.#buf.length;
  }
}

function controlFrame(type: number, flags: number, payload: Uint8Array): Uint8Array {
  if (payload.length > MAX_FRAME_PAYLOAD) throw new SpdyProtocolError("control frame too large");
  const out = new Uint8Array(8 + payload.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, (0x80000000 | (SPDY_VERSION << 16) | type) >>> 0);
  v.setUint32(4, ((flags & 0xff) << 24) | payload.length);
  out.set(payload, 8);
  return out;
}

/** DATA frames for `data` (split at the frame size limit); FIN goes on the last one. */
export function encodeData(streamId: number, data: Uint8Array, flags = 0): Uint8Array {
  const frames: Uint8Array[] = [];
  let off = 0;
  do {
    const n = Math.min(MAX_FRAME_PAYLOAD, data.length - off);
    const last = off + n >= data.length;
    const f = new Uint8Array(8 + n);
    const v = new DataView(f.buffer);
    v.setUint32(0, streamId & 0x7fffffff);
    v.setUint32(4, (((last ? flags : 0) & 0xff) << 24) | n);
    f.set(data.subarray(off, off + n), 8);
    frames.push(f);
    off += n;
  } while (off < data.length);
  return frames.length === 1 ? frames[0]! : concat(frames);
}

export function encodeSynStream(o: { streamId: number; associatedTo?: number; priority?: number; flags?: number; headerBlock: Uint8Array }): Uint8Array {
  const p = new Uint8Array(10 + o.headerBlock.length);
  const v = new DataView(p.buffer);
  v.setUint32(0, o.streamId & 0x7fffffff);
  v.setUint32(4, (o.associatedTo ?? 0) & 0x7fffffff);
  p[8] = ((o.priority ?? 0) & 7) << 5;
  p.set(o.headerBlock, 10);
  return controlFrame(FrameType.SynStream, o.flags ?? 0, p);
}

export function encodeSynReply(streamId: number, headerBlock: Uint8Array, flags = 0): Uint8Array {
  return controlFrame(FrameType.SynReply, flags, concat([u32(streamId & 0x7fffffff), headerBlock]));
}

export function encodeRstStream(streamId: number, status: number): Uint8Array {
  return controlFrame(FrameType.RstStream, 0, concat([u32(streamId & 0x7fffffff), u32(status)]));
}

export function encodePing(id: number): Uint8Array {
  return controlFrame(FrameType.Ping, 0, u32(id));
}

export function encodeGoAway(lastGoodStreamId: number, status: number): Uint8Array {
  return controlFrame(FrameType.GoAway, 0, concat([u32(lastGoodStreamId & 0x7fffffff), u32(status)]));
}

export function encodeWindowUpdate(streamId: number, delta: number): Uint8Array {
  return controlFrame(FrameType.WindowUpdate, 0, concat([u32(streamId & 0x7fffffff), u32(delta & 0x7fffffff)]));
}

function need(p: Uint8Array, n: number, what: string): DataView {
  if (p.length < n) throw new SpdyProtocolError(`${what} frame too short`);
  return new DataView(p.buffer, p.byteOffset, p.length);
}

export function readSynStream(p: Uint8Array): { streamId: number; associatedTo: number; priority: number; headerBlock: Uint8Array } {
  const v = need(p, 10, "SYN_STREAM");
  return { streamId: v.getUint32(0) & 0x7fffffff, associatedTo: v.getUint32(4) & 0x7fffffff, priority: p[8]! >> 5, headerBlock: p.subarray(10) };
}

/** SYN_REPLY and HEADERS share this layout. */
export function readSynReply(p: Uint8Array): { streamId: number; headerBlock: Uint8Array } {
  const v = need(p, 4, "SYN_REPLY");
  return { streamId: v.getUint32(0) & 0x7fffffff, headerBlock: p.subarray(4) };
}

export function readRstStream(p: Uint8Array): { streamId: number; status: number } {
  const v = need(p, 8, "RST_STREAM");
  return { streamId: v.getUint32(0) & 0x7fffffff, status: v.getUint32(4) };
}

export function readPing(p: Uint8Array): { id: number } {
  return { id: need(p, 4, "PING").getUint32(0) };
}

export function readGoAway(p: Uint8Array): { lastGoodStreamId: number; status: number } {
  const v = need(p, 4, "GOAWAY");
  return { lastGoodStreamId: v.getUint32(0) & 0x7fffffff, status: p.length >= 8 ? v.getUint32(4) : 0 };
}

export function readWindowUpdate(p: Uint8Array): { streamId: number; delta: number } {
  const v = need(p, 8, "WINDOW_UPDATE");
  return { streamId: v.getUint32(0) & 0x7fffffff, delta: v.getUint32(4) & 0x7fffffff };
}

/** An uncompressed header block: count, then length-prefixed names and values (several values joined by NUL). */
export function encodeHeaderBlock(headers: Iterable<[string, string | string[]]>): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  let count = 0;
  for (const [name, value] of headers) {
    const n = enc.encode(name.toLowerCase());
    const val = enc.encode(Array.isArray(value) ? value.join("\0") : value);
    parts.push(u32(n.length), n, u32(val.length), val);
    count++;
  }
  return concat([u32(count), ...parts]);
}

export function decodeHeaderBlock(b: Uint8Array): HeaderMap {
  const dec = new TextDecoder();
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  const out: HeaderMap = new Map();
  let off = 0;
  const take = (): Uint8Array => {
    if (off + 4 > b.length) throw new SpdyProtocolError("header block truncated");
    const n = v.getUint32(off);
    off += 4;
    if (off + n > b.length) throw new SpdyProtocolError("header block truncated");
    const s = b.subarray(off, off + n);
    off += n;
    return s;
  };
  if (b.length < 4) throw new SpdyProtocolError("header block truncated");
  const count = v.getUint32(0);
  off = 4;
  for (let i = 0; i < count; i++) {
    const name = dec.decode(take());
    if (name === "" || name !== name.toLowerCase()) throw new SpdyProtocolError(`invalid header name ${JSON.stringify(name)}`);
    if (out.has(name)) throw new SpdyProtocolError(`duplicate header ${name}`);
    out.set(name, dec.decode(take()).split("\0"));
  }
  return out;
}

/**
 * The sending side of header compression: each block becomes one stored
 * (uncompressed) deflate block of one zlib stream, the first prefixed with
 * the zlib header, followed by an empty stored block (the sync-flush
 * marker). Synchronous; blocks over 64 KiB are split.
 */
export class HeaderDeflater {
  #started = false;

  compress(block: Uint8Array): Uint8Array {
    const parts: Uint8Array[] = [];
    if (!this.#started) {
      // CMF 0x78 (deflate, 32K window), FLG 0x01: check bits, no preset dictionary.
      parts.push(Uint8Array.of(0x78, 0x01));
      this.#started = true;
    }
    let off = 0;
    do {
      const n = Math.min(0xffff, block.length - off);
      // BFINAL=0, BTYPE=00 (stored), then LEN and NLEN little-endian.
      parts.push(Uint8Array.of(0x00, n & 0xff, n >> 8, ~n & 0xff, (~n >> 8) & 0xff), block.subarray(off, off + n));
      off += n;
    } while (off < block.length);
    // An empty stored block ends each header block, as a zlib sync flush does: Go's inflater
    // hands out what it decoded only at such a boundary, and would otherwise read past the frame.
    parts.push(Uint8Array.of(0x00, 0x00, 0x00, 0xff, 0xff));
    return concat(parts);
  }
}

/**
 * The receiving side: one inflate stream with the SPDY/3 dictionary across
 * all of a connection's header blocks. Calls are serialized in order.
 */
export class HeaderInflater {
  #inflate = zlib.createInflate({ dictionary: HEADER_DICTIONARY });
  #out: Buffer[] = [];
  #error: Error | undefined;
  #fail: ((e: Error) => void) | undefined;
  #chain: Promise<unknown> = Promise.resolve();

  constructor() {
    this.#inflate.on("data", (c: Buffer) => this.#out.push(c));
    // A failed inflate never calls the flush callback: the pending call fails here.
    this.#inflate.on("error", (e: Error) => {
      this.#error = new SpdyProtocolError(`header decompression: ${e.message}`);
      this.#fail?.(this.#error);
    });
  }

  inflate(block: Uint8Array): Promise<Uint8Array> {
    const run = (): Promise<Uint8Array> =>
      new Promise((resolve, reject) => {
        if (this.#error) return reject(this.#error);
        this.#fail = reject;
        this.#inflate.write(block);
        this.#inflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
          this.#fail = undefined;
          if (this.#error) return reject(this.#error);
          const out = concat(this.#out);
          this.#out = [];
          resolve(out);
        });
      });
    const p = this.#chain.then(run, run);
    this.#chain = p.catch(() => undefined);
    return p;
  }

  close(): void {
    this.#fail = undefined;
    this.#inflate.destroy();
  }
}
