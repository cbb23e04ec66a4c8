import { describe, expect, test } from "bun:test";
import zlib from "node:zlib";
import {
  decodeHeaderBlock,
  encodeData,
  encodeGoAway,
  encodeHeaderBlock,
  encodePing,
  encodeRstStream,
  encodeSynReply,
  encodeSynStream,
  encodeWindowUpdate,
  FLAG_FIN,
  FrameReader,
  FrameType,
  HEADER_DICTIONARY,
  HeaderDeflater,
  HeaderInflater,
  MAX_FRAME_PAYLOAD,
  readGoAway,
  readPing,
  readRstStream,
  readSynReply,
  readSynStream,
  readWindowUpdate,
  SpdyProtocolError,
} from "./spdy.ts";

function adler32(b: Uint8Array): number {
  let a = 1;
  let s = 0;
  for (const x of b) {
    a = (a + x) % 65521;
    s = (s + a) % 65521;
  }
  return ((s << 16) | a) >>> 0;
}

/** A compressor like spdystream's: one zlib stream with the dictionary, sync-flushed per header block. */
function goLikeDeflater() {
  const d = zlib.createDeflate({ dictionary: Buffer.from(HEADER_DICTIONARY), level: 9 });
  let out: Buffer[] = [];
  d.on("data", (c: Buffer) => out.push(c));
  return (block: Uint8Array) =>
    new Promise<Uint8Array>((resolve) => {
      d.write(block);
      d.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        const r = Buffer.concat(out);
        out = [];
        resolve(new Uint8Array(r));
      });
    });
}

const bytes = (s: string) => new TextEncoder().encode(s);

describe("header dictionary", () => {
  test("is the SPDY/3 dictionary: 1423 bytes, Adler-32 e3c6a7c2", () => {
    expect(HEADER_DICTIONARY.length).toBe(1423);
    expect(adler32(HEADER_DICTIONARY).toString(16)).toBe("e3c6a7c2");
  });

  test("a dictionary deflater names it in the zlib header (the 38 ea e3 c6 a7 c2 every SPDY/3 stream starts with)", async () => {
    const first = await goLikeDeflater()(encodeHeaderBlock([["port", "80"]]));
    expect(Buffer.from(first.subarray(2, 6)).toString("hex")).toBe("e3c6a7c2");
  });
});

describe("header blocks", () => {
  test("round-trip names and (multi-)values; names are lowercased", () => {
    const block = encodeHeaderBlock([
      ["StreamType", "data"],
      ["port", "8080"],
      ["requestid", "0"],
      ["multi", ["a", "b"]],
    ]);
    const h = decodeHeaderBlock(block);
    expect([...h.entries()]).toEqual([
      ["streamtype", ["data"]],
      ["port", ["8080"]],
      ["requestid", ["0"]],
      ["multi", ["a", "b"]],
    ]);
    expect(decodeHeaderBlock(encodeHeaderBlock([])).size).toBe(0);
  });

  test("bad blocks are protocol errors", () => {
    const good = encodeHeaderBlock([["port", "80"]]);
    expect(() => decodeHeaderBlock(good.subarray(0, good.length - 1))).toThrow(SpdyProtocolError);
    expect(() => decodeHeaderBlock(new Uint8Array(2))).toThrow(SpdyProtocolError);
    const upper = encodeHeaderBlock([["port", "80"]]);
    upper[8] = "P".charCodeAt(0);
    expect(() => decodeHeaderBlock(upper)).toThrow(/invalid header name/);
    const dup = encodeHeaderBlock([["port", "80"], ["port", "81"]]);
    expect(() => decodeHeaderBlock(dup)).toThrow(/duplicate header port/);
  });
});

describe("header compression", () => {
  test("the inflater reads a dictionary-compressed stream block by block, keeping state across blocks", async () => {
    const deflate = goLikeDeflater();
    const inflater = new HeaderInflater();
    const blocks = [
      encodeHeaderBlock([["streamtype", "error"], ["port", "8080"], ["requestid", "0"]]),
      encodeHeaderBlock([["streamtype", "data"], ["port", "8080"], ["requestid", "0"]]),
      encodeHeaderBlock([["streamtype", "error"], ["port", "8080"], ["requestid", "1"]]),
      encodeHeaderBlock([["x", "y".repeat(70_000)]]),
    ];
    const compressed = [];
    for (const b of blocks) compressed.push(await deflate(b));
    // The later blocks refer back to the earlier ones: they only decode in order, through one context.
    expect(compressed[1]!.length).toBeLessThan(blocks[1]!.length);
    const out = await Promise.all(compressed.map((c) => inflater.inflate(c)));
    expect(out.map((o) => Buffer.from(o).toString("hex"))).toEqual(blocks.map((b) => Buffer.from(b).toString("hex")));
    inflater.close();
  });

  test("garbage fails the inflater, and every later block too", async () => {
    const inflater = new HeaderInflater();
    await expect(inflater.inflate(bytes("not zlib at all"))).rejects.toThrow(SpdyProtocolError);
    await expect(inflater.inflate(await goLikeDeflater()(encodeHeaderBlock([])))).rejects.toThrow(SpdyProtocolError);
    inflater.close();
  });

  test("what the deflater writes is one zlib stream any inflater reads, block by block", async () => {
    const def = new HeaderDeflater();
    const blocks = [encodeHeaderBlock([]), encodeHeaderBlock([["a", "b"]]), encodeHeaderBlock([["big", "z".repeat(150_000)]])];
    const parts = blocks.map((b) => def.compress(b));
    expect(parts[0]!.subarray(0, 2)).toEqual(Uint8Array.of(0x78, 0x01));
    expect(parts[1]![0]).toBe(0x00); // no second zlib header
    // Each block ends on the sync-flush marker, where Go's inflater hands out what it has.
    for (const p of parts) expect(p.subarray(p.length - 5)).toEqual(Uint8Array.of(0, 0, 0, 0xff, 0xff));
    // A plain inflater (no dictionary needed: nothing refers to it) …
    const all = zlib.inflateSync(Buffer.concat(parts), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    expect(Buffer.from(all).equals(Buffer.concat(blocks))).toBe(true);
    // … and ours, with the dictionary, one block at a time.
    const inflater = new HeaderInflater();
    for (let i = 0; i < blocks.length; i++) expect(Buffer.from(await inflater.inflate(parts[i]!)).equals(Buffer.from(blocks[i]!))).toBe(true);
    inflater.close();
  });
});

describe("frames", () => {
  test("control frames encode and read back", () => {
    const r = new FrameReader();
    const hb = bytes("compressed-headers");
    const frames = r.push(
      Buffer.concat([
        encodeSynStream({ streamId: 5, associatedTo: 3, priority: 7, flags: FLAG_FIN, headerBlock: hb }),
        encodeSynReply(5, hb),
        encodeRstStream(7, 5),
        encodePing(9),
        encodeGoAway(11, 1),
        encodeWindowUpdate(5, 65536),
      ]),
    );
    expect(frames.map((f) => (f.kind === "control" ? [f.version, f.type, f.flags] : f.kind))).toEqual([
      [3, FrameType.SynStream, FLAG_FIN],
      [3, FrameType.SynReply, 0],
      [3, FrameType.RstStream, 0],
      [3, FrameType.Ping, 0],
      [3, FrameType.GoAway, 0],
      [3, FrameType.WindowUpdate, 0],
    ]);
    const p = frames.map((f) => (f.kind === "control" ? f.payload : new Uint8Array()));
    expect(readSynStream(p[0]!)).toEqual({ streamId: 5, associatedTo: 3, priority: 7, headerBlock: hb });
    expect(readSynReply(p[1]!)).toEqual({ streamId: 5, headerBlock: hb });
    expect(readRstStream(p[2]!)).toEqual({ streamId: 7, status: 5 });
    expect(readPing(p[3]!)).toEqual({ id: 9 });
    expect(readGoAway(p[4]!)).toEqual({ lastGoodStreamId: 11, status: 1 });
    expect(readWindowUpdate(p[5]!)).toEqual({ streamId: 5, delta: 65536 });
    expect(() => readRstStream(new Uint8Array(3))).toThrow(SpdyProtocolError);
  });

  test("a byte stream cut anywhere yields the same frames", () => {
    const wire = Buffer.concat([encodeData(1, bytes("hello")), encodePing(1), encodeData(3, new Uint8Array(0), FLAG_FIN), encodeData(1, bytes("world"))]);
    for (let cut = 0; cut <= wire.length; cut++) {
      const r = new FrameReader();
      const frames = [...r.push(wire.subarray(0, cut)), ...r.push(wire.subarray(cut))];
      expect(r.pending).toBe(0);
      expect(frames.map((f) => (f.kind === "data" ? `${f.streamId}:${f.flags}:${new TextDecoder().decode(f.data)}` : `c${f.type}`))).toEqual(["1:0:hello", "c6", "3:1:", "1:0:world"]);
    }
    // One byte at a time.
    const r = new FrameReader();
    let n = 0;
    for (const b of wire) n += r.push(Uint8Array.of(b)).length;
    expect(n).toBe(4);
  });

  test("data larger than a frame is split, FIN only on the last", () => {
    const big = new Uint8Array(MAX_FRAME_PAYLOAD + 10).fill(7);
    const frames = new FrameReader().push(encodeData(3, big, FLAG_FIN));
    expect(frames.map((f) => (f.kind === "data" ? [f.streamId, f.flags, f.data.length] : []))).toEqual([
      [3, 0, MAX_FRAME_PAYLOAD],
      [3, FLAG_FIN, 10],
    ]);
  });
});
